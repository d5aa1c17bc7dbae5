/**
 * Scores no-LLM supersession on labelled statement pairs (bench/data/supersession-pairs.ts): for each pair, a
 * fresh memory stores `earlier`, then `later` arrives a day after; the outcome is `supersede` when the earlier
 * memory is no longer current, `noop` when the later statement was recognised as known, else `keep_both`. Each
 * pair runs through the real `memory.add` pipeline, so the figures measure what users get.
 *
 * The set is split by a fixed rule (the number in the pair's id: odd = dev, even = held out) so rules tuned on
 * dev can be checked on pairs they were not tuned on.
 */
import { createMemory, type Memory } from '../../src/memory/memory.js';
import type { SupersessionPair } from '../data/supersession-pairs.js';

/** What happened to one pair. */
export interface PairOutcome {
  pair: SupersessionPair;
  outcome: 'supersede' | 'keep_both' | 'noop' | 'earlier_not_stored';
  reason?: string;
}

/** Precision and recall of `supersede`, and how many pairs got exactly their label. */
export interface SupersessionScores {
  pairs: number;
  precision: number;
  recall: number;
  /** Pairs labelled noop that were recognised as restated. */
  noopRecall: number;
  accuracy: number;
  falsePositives: number;
  falseNegatives: number;
}

/** A fresh memory for one pair: the in-memory store, the local embedder, no LLM, ingestion inline. */
export function openPairMemory(): Promise<Memory> {
  return createMemory({
    store: 'memory://',
    embedder: 'local',
    llm: null,
    env: {},
    ingestion: { background: false },
  });
}

/** Runs every pair through a fresh memory from `open` (closed after each pair). */
export async function runPairs(
  pairs: readonly SupersessionPair[],
  open: () => Promise<Memory>,
): Promise<PairOutcome[]> {
  const outcomes: PairOutcome[] = [];
  for (const pair of pairs) {
    const memory = await open();
    try {
      outcomes.push(await runPair(memory, pair));
    } finally {
      await memory.close();
    }
  }
  return outcomes;
}

async function runPair(memory: Memory, pair: SupersessionPair): Promise<PairOutcome> {
  const scope = { userId: 'pair-user' };
  const first = await memory.add(pair.earlier, { ...scope, observedAt: '2026-01-01T09:00:00Z' });
  const stored = first.results.find((item) => item.event === 'ADD');
  if (!stored)
    return {
      pair,
      outcome: 'earlier_not_stored',
      reason: first.skipped.map((item) => item.reason).join(','),
    };
  const second = await memory.add(pair.later, { ...scope, observedAt: '2026-01-02T09:00:00Z' });
  const earlier = await memory.get(stored.id);
  if (earlier?.validTo) {
    const item = second.results.find((result) => result.previous?.id === stored.id);
    return { pair, outcome: 'supersede', ...(item?.reason ? { reason: item.reason } : {}) };
  }
  const noop = second.results.find((item) => item.event === 'NOOP' && item.id === stored.id);
  if (noop) return { pair, outcome: 'noop', ...(noop.reason ? { reason: noop.reason } : {}) };
  return { pair, outcome: 'keep_both' };
}

/** Scores outcomes. A pair whose earlier statement was not stored counts as a miss of its label. */
export function scoreOutcomes(outcomes: readonly PairOutcome[]): SupersessionScores {
  const predicted = outcomes.filter((item) => item.outcome === 'supersede');
  const truePositives = predicted.filter((item) => item.pair.expected === 'supersede').length;
  const expected = outcomes.filter((item) => item.pair.expected === 'supersede').length;
  const noops = outcomes.filter((item) => item.pair.expected === 'noop');
  return {
    pairs: outcomes.length,
    precision: predicted.length === 0 ? 1 : truePositives / predicted.length,
    recall: expected === 0 ? 1 : truePositives / expected,
    noopRecall:
      noops.length === 0 ? 1 : noops.filter((item) => item.outcome === 'noop').length / noops.length,
    accuracy:
      outcomes.filter((item) => item.outcome === item.pair.expected).length / Math.max(1, outcomes.length),
    falsePositives: predicted.length - truePositives,
    falseNegatives: expected - truePositives,
  };
}

/** The fixed dev / held-out split (see the module comment). */
export function splitPairs(pairs: readonly SupersessionPair[]): {
  dev: SupersessionPair[];
  heldOut: SupersessionPair[];
} {
  const number = (pair: SupersessionPair) => Number(/(\d+)$/.exec(pair.id)?.[1] ?? '0');
  return {
    dev: pairs.filter((pair) => number(pair) % 2 === 1),
    heldOut: pairs.filter((pair) => number(pair) % 2 === 0),
  };
}
