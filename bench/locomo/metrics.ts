/**
 * LLM-free retrieval metrics for LoCoMo-style evaluation, over a ranked list of retrieved units where each unit
 * covers one or more turns (dia_ids). A unit covering several turns counts toward k once per turn it covers:
 * the ranked units are expanded into "turn slots" (unit 1's turns, then unit 2's, ...) and every metric reads
 * the first k slots, so a system that returns big chunks cannot buy recall with fewer, longer results.
 *
 * For one question with evidence turns E:
 * - turn recall@k          = |E ∩ turns in the first k slots| / |E|
 * - session recall_any@5   = 1 when any session holding an evidence turn is among the first 5 distinct sessions of
 *                            the slot list (sessions ranked by their first appearance), else 0
 * - NDCG@10                = DCG / IDCG with binary gains: slot i (0-based) holding a not-yet-counted evidence turn
 *                            adds 1 / log2(i + 2); IDCG places min(|E|, 10) evidence turns first
 * Aggregates are plain means over questions (each question weighs the same), per category and over categories 1-4.
 */
import { sessionOf } from './data.js';

/** The five metric names of the output contract. */
export const METRIC_NAMES = [
  'turn_recall@5',
  'turn_recall@10',
  'turn_recall@20',
  'session_recall_any@5',
  'ndcg@10',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type MetricValues = Record<MetricName, number>;

/** Expands ranked units (each a list of dia_ids) into the first `k` turn slots. */
export function turnSlots(units: ReadonlyArray<readonly string[]>, k: number): string[] {
  const slots: string[] = [];
  for (const unit of units) {
    for (const turn of unit) {
      if (slots.length >= k) return slots;
      slots.push(turn);
    }
  }
  return slots;
}

/** |evidence ∩ first k slots| / |evidence|. @throws RangeError for empty evidence. */
export function turnRecallAt(
  units: ReadonlyArray<readonly string[]>,
  evidence: readonly string[],
  k: number,
): number {
  const wanted = evidenceSet(evidence);
  const found = new Set(turnSlots(units, k).filter((turn) => wanted.has(turn)));
  return found.size / wanted.size;
}

/** 1 when an evidence session is among the first `k` distinct sessions of the slot list, else 0. */
export function sessionRecallAnyAt(
  units: ReadonlyArray<readonly string[]>,
  evidence: readonly string[],
  k: number,
): number {
  const wanted = new Set([...evidenceSet(evidence)].map(sessionOf));
  const sessions: number[] = [];
  for (const unit of units) {
    for (const turn of unit) {
      const session = sessionOf(turn);
      if (!sessions.includes(session)) sessions.push(session);
      if (sessions.length >= k) return sessions.some((value) => wanted.has(value)) ? 1 : 0;
    }
  }
  return sessions.some((value) => wanted.has(value)) ? 1 : 0;
}

/** Binary-gain NDCG over the first `k` slots. */
export function ndcgAt(
  units: ReadonlyArray<readonly string[]>,
  evidence: readonly string[],
  k: number,
): number {
  const wanted = evidenceSet(evidence);
  const counted = new Set<string>();
  let dcg = 0;
  turnSlots(units, k).forEach((turn, index) => {
    if (wanted.has(turn) && !counted.has(turn)) {
      counted.add(turn);
      dcg += 1 / Math.log2(index + 2);
    }
  });
  let ideal = 0;
  for (let index = 0; index < Math.min(wanted.size, k); index += 1) ideal += 1 / Math.log2(index + 2);
  return dcg / ideal;
}

/** All five metrics for one question. */
export function scoreQuestion(
  units: ReadonlyArray<readonly string[]>,
  evidence: readonly string[],
): MetricValues {
  return {
    'turn_recall@5': turnRecallAt(units, evidence, 5),
    'turn_recall@10': turnRecallAt(units, evidence, 10),
    'turn_recall@20': turnRecallAt(units, evidence, 20),
    'session_recall_any@5': sessionRecallAnyAt(units, evidence, 5),
    'ndcg@10': ndcgAt(units, evidence, 10),
  };
}

/** Per-category means plus the mean over categories 1-4 (category 5 is kept apart). */
export interface MetricReport {
  cats1_4: MetricValues;
  categories: Record<string, MetricValues>;
  /** Questions scored per category. */
  counts: Record<string, number>;
}

/** Averages per-question scores. Categories without questions are omitted; an empty 1-4 set gives zeros. */
export function aggregate(scored: ReadonlyArray<{ category: number; values: MetricValues }>): MetricReport {
  const categories: Record<string, MetricValues> = {};
  const counts: Record<string, number> = {};
  const byCategory = new Map<number, MetricValues[]>();
  for (const item of scored) {
    const list = byCategory.get(item.category) ?? [];
    list.push(item.values);
    byCategory.set(item.category, list);
  }
  for (const category of [...byCategory.keys()].sort((a, b) => a - b)) {
    const list = byCategory.get(category) ?? [];
    categories[String(category)] = mean(list);
    counts[String(category)] = list.length;
  }
  const core = scored.filter((item) => item.category >= 1 && item.category <= 4).map((item) => item.values);
  return { cats1_4: mean(core), categories, counts };
}

function mean(list: readonly MetricValues[]): MetricValues {
  const result = Object.fromEntries(METRIC_NAMES.map((name) => [name, 0])) as MetricValues;
  if (list.length === 0) return result;
  for (const name of METRIC_NAMES) {
    result[name] =
      Math.round((list.reduce((sum, values) => sum + values[name], 0) / list.length) * 1e4) / 1e4;
  }
  return result;
}

function evidenceSet(evidence: readonly string[]): Set<string> {
  const set = new Set(evidence);
  if (set.size === 0) throw new RangeError('a question needs at least one evidence turn to be scored');
  return set;
}
