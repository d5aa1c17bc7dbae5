/**
 * No-LLM supersession on the 244 labelled statement pairs (bench/data/supersession-pairs.ts) through the real
 * `memory.add` pipeline, in-memory store, local embedder: the same run as `npm run bench -- supersession`. The
 * floors are the figures BENCHMARKS.md reports, rounded down: a change that loses precision or recall fails here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUPERSESSION_PAIRS } from '../../bench/data/supersession-pairs.js';
import { openPairMemory, runPairs, scoreOutcomes, splitPairs } from '../../bench/supersession/evaluate.js';

test('supersession on the labelled pairs keeps its precision and recall (dev and held-out halves)', async () => {
  assert.ok(SUPERSESSION_PAIRS.length >= 150, 'the labelled set has at least 150 pairs');
  const outcomes = await runPairs(SUPERSESSION_PAIRS, openPairMemory);
  const halves = splitPairs(SUPERSESSION_PAIRS);
  const devIds = new Set(halves.dev.map((pair) => pair.id));
  const all = scoreOutcomes(outcomes);
  const dev = scoreOutcomes(outcomes.filter((item) => devIds.has(item.pair.id)));
  const heldOut = scoreOutcomes(outcomes.filter((item) => !devIds.has(item.pair.id)));
  console.log(`# supersession: all ${JSON.stringify(all)}`);
  console.log(`# supersession: dev ${JSON.stringify(dev)} held out ${JSON.stringify(heldOut)}`);
  const wrong = outcomes
    .filter((item) => item.outcome === 'supersede' && item.pair.expected !== 'supersede')
    .map((item) => `${item.pair.id}: ${item.pair.earlier} -> ${item.pair.later} (${item.reason})`);
  assert.ok(all.precision >= 0.96, `precision ${all.precision}; false positives:\n${wrong.join('\n')}`);
  assert.ok(all.recall >= 0.78, `recall ${all.recall}`);
  assert.ok(heldOut.precision >= 0.93, `held-out precision ${heldOut.precision}`);
  assert.ok(heldOut.recall >= 0.7, `held-out recall ${heldOut.recall}`);
  assert.ok(all.noopRecall >= 0.6, `restated pairs recognised ${all.noopRecall}`);
  // Statements about someone else never replace the user's own.
  const thirdParty = outcomes.filter((item) => item.pair.category === 'third_party');
  assert.ok(thirdParty.filter((item) => item.outcome === 'supersede').length <= 2);
});
