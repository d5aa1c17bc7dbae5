/**
 * `npm run bench -- supersession [--split dev|heldout|all] [--json]`: no-LLM supersession on the labelled statement
 * pairs (bench/data/supersession-pairs.ts) through the real `memory.add` pipeline on the in-memory store and the
 * local embedder (bench/supersession/evaluate.ts). Prints precision and recall of SUPERSEDE, NOOP recall and the
 * accuracy per category, for the dev half (the one rules are tuned on) and the held-out half, and lists the
 * misclassified pairs.
 */
import { normaliseText } from '../src/core/text.js';
import { SUPERSESSION_PAIRS } from './data/supersession-pairs.js';
import {
  openPairMemory,
  type PairOutcome,
  runPairs,
  type SupersessionScores,
  scoreOutcomes,
  splitPairs,
} from './supersession/evaluate.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { log } from './support/progress.js';
import { markdownTable } from './support/table.js';

export interface SupersessionBenchResult {
  machine: string;
  date: string;
  dev?: SupersessionScores;
  heldOut?: SupersessionScores;
  all: SupersessionScores;
  /** Exact repeats only, never a supersession: the same pairs, the same run. */
  baseline: SupersessionScores;
  byCategory: Record<string, { pairs: number; correct: number }>;
}

export async function runSupersessionBench(options: {
  split: 'dev' | 'heldout' | 'all';
}): Promise<SupersessionBenchResult> {
  const machine = describeMachine(machineInfo());
  const halves = splitPairs(SUPERSESSION_PAIRS);
  const pairs =
    options.split === 'dev'
      ? halves.dev
      : options.split === 'heldout'
        ? halves.heldOut
        : [...SUPERSESSION_PAIRS];
  log(`supersession: ${pairs.length} pairs (${options.split}) (${machine})`);
  const outcomes = await runPairs(pairs, openPairMemory);
  const devIds = new Set(halves.dev.map((pair) => pair.id));
  // The baseline, on the same pairs: a store that only recognises an exact repeat (what a plain vector memory
  // such as Mem0 OSS with infer: false does) and never supersedes.
  const baseline = scoreOutcomes(
    pairs.map((pair) => ({
      pair,
      outcome:
        normaliseText(pair.earlier) === normaliseText(pair.later)
          ? ('noop' as const)
          : ('keep_both' as const),
    })),
  );
  const result: SupersessionBenchResult = {
    machine,
    date: new Date().toISOString().slice(0, 10),
    all: scoreOutcomes(outcomes),
    baseline,
    byCategory: {},
  };
  const dev = outcomes.filter((item) => devIds.has(item.pair.id));
  const heldOut = outcomes.filter((item) => !devIds.has(item.pair.id));
  if (dev.length > 0) result.dev = scoreOutcomes(dev);
  if (heldOut.length > 0) result.heldOut = scoreOutcomes(heldOut);
  for (const item of outcomes) {
    const entry = result.byCategory[item.pair.category] ?? { pairs: 0, correct: 0 };
    result.byCategory[item.pair.category] = entry;
    entry.pairs += 1;
    if (item.outcome === item.pair.expected) entry.correct += 1;
  }
  process.stdout.write(`${report(result, outcomes)}\n`);
  return result;
}

function report(result: SupersessionBenchResult, outcomes: readonly PairOutcome[]): string {
  const halves: Array<[string, SupersessionScores | undefined]> = [
    ['dev (odd ids)', result.dev],
    ['held out (even ids)', result.heldOut],
    ['all', result.all],
    ['baseline: exact repeats only, all', result.baseline],
  ];
  const scores = markdownTable(
    ['pairs', 'n', 'precision', 'recall', 'noop recall', 'accuracy', 'false +', 'false -'],
    halves.flatMap(([name, score]) =>
      score
        ? [
            [
              name,
              score.pairs,
              score.precision,
              score.recall,
              score.noopRecall,
              score.accuracy,
              score.falsePositives,
              score.falseNegatives,
            ],
          ]
        : [],
    ),
  );
  const categories = markdownTable(
    ['category', 'pairs', 'correct'],
    Object.entries(result.byCategory).map(([name, entry]) => [name, entry.pairs, entry.correct]),
  );
  const wrong = outcomes
    .filter((item) => item.outcome !== item.pair.expected)
    .map(
      (item) =>
        `- ${item.pair.id} ${item.pair.category}: expected ${item.pair.expected}, got ${item.outcome}${item.reason ? ` (${item.reason})` : ''}: ${JSON.stringify(item.pair.earlier)} -> ${JSON.stringify(item.pair.later)}`,
    );
  return [
    scores,
    '',
    categories,
    '',
    wrong.length > 0 ? `misclassified:\n${wrong.join('\n')}` : 'no misclassified pair',
  ].join('\n');
}
