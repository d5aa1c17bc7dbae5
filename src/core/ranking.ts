/**
 * Hybrid ranking: fuses the dense (embedding) and keyword (BM25) candidate lists plus a recency prior into one
 * score per memory. Both SQL stores and the in-memory store feed the same function, so a query ranks the same
 * way on every backend.
 *
 * score = w_dense · dense + w_keyword · keyword + w_recency · recency + w_rrf · rrf, where
 * - dense   = max(0, cosine similarity)                         in [0, 1]
 * - keyword = bm25 / (bm25 + keywordSaturation)                 in [0, 1) (absolute, so `threshold` is stable)
 * - recency = 0.5 ^ (age in days / recencyHalfLifeDays)         in (0, 1], age from `observedAt` to the query time
 * - rrf     = Σ over lists of 1 / (rrfK + rank), normalised so rank 1 in both lists = 1
 * Weights are normalised to sum to 1, so `score` is in [0, 1]. A memory found by only one list gets 0 for the
 * other signal (both lists are drawn wide, see `denseCandidates` / `keywordCandidates`, so that is rare for
 * relevant ones).
 *
 * Default weights (dense 0.25, keyword 0.70, recency 0.05, rrf 0) lean on BM25 because the bundled embedder
 * (Universal Sentence Encoder Lite) separates relevant from unrelated texts weakly: both land at cosine 0.3-0.7,
 * so a large dense weight mostly adds noise, while BM25 with a saturation of 8 keeps exact-term matches on top
 * and the dense term reorders and rescues paraphrases. Rank fusion (rrf) scored below this score fusion in
 * measurement, so it is off by default. With a stronger embedder, raise `denseWeight`. Measurements behind these
 * defaults: BENCHMARKS.md (`npm run bench -- locomo`).
 */
import { ConfigError } from './errors.js';
import type { MemoryRecord, SearchResult } from './types.js';

export interface RankingOptions {
  /** @default 0.25 */
  denseWeight: number;
  /** @default 0.7 */
  keywordWeight: number;
  /** @default 0.05 */
  recencyWeight: number;
  /** @default 0 */
  rrfWeight: number;
  /** BM25 value that maps to keyword = 0.5. @default 8 */
  keywordSaturation: number;
  /** @default 60 */
  rrfK: number;
  /** @default 90 */
  recencyHalfLifeDays: number;
  /** Dense candidates fetched per query: max(limit · 10, this). @default 200 */
  denseCandidates: number;
  /** Keyword candidates fetched per query: max(limit · 10, this). @default 200 */
  keywordCandidates: number;
}

export const DEFAULT_RANKING: RankingOptions = {
  denseWeight: 0.25,
  keywordWeight: 0.7,
  recencyWeight: 0.05,
  rrfWeight: 0,
  keywordSaturation: 8,
  rrfK: 60,
  recencyHalfLifeDays: 90,
  denseCandidates: 200,
  keywordCandidates: 200,
};

const DAY_MS = 86_400_000;

/** Fuses candidate lists into ranked results (best first, ties broken by newer `observedAt`, then id). */
export function fuseCandidates(options: {
  dense: Array<{ record: MemoryRecord; similarity: number }>;
  keyword: Array<{ record: MemoryRecord; bm25: number }>;
  now: string;
  ranking: RankingOptions;
}): SearchResult[] {
  const { ranking } = options;
  const totalWeight = ranking.denseWeight + ranking.keywordWeight + ranking.recencyWeight + ranking.rrfWeight;
  const weight = (value: number) => (totalWeight > 0 ? value / totalWeight : 0);
  const nowMs = Date.parse(options.now);
  const entries = new Map<string, { record: MemoryRecord; dense: number; keyword: number; rrf: number }>();
  const entryFor = (record: MemoryRecord) => {
    let entry = entries.get(record.id);
    if (!entry) {
      entry = { record, dense: 0, keyword: 0, rrf: 0 };
      entries.set(record.id, entry);
    }
    return entry;
  };
  const rrfScale = 2 / (ranking.rrfK + 1);
  options.dense.forEach((hit, index) => {
    const entry = entryFor(hit.record);
    entry.dense = Math.max(0, Math.min(1, hit.similarity));
    entry.rrf += 1 / (ranking.rrfK + index + 1) / rrfScale;
  });
  options.keyword.forEach((hit, index) => {
    const entry = entryFor(hit.record);
    const bm25 = Math.max(0, hit.bm25);
    entry.keyword = bm25 / (bm25 + ranking.keywordSaturation);
    entry.rrf += 1 / (ranking.rrfK + index + 1) / rrfScale;
  });
  const results: SearchResult[] = [];
  for (const entry of entries.values()) {
    const ageDays = Math.max(0, (nowMs - Date.parse(entry.record.observedAt)) / DAY_MS);
    const recency = ranking.recencyHalfLifeDays > 0 ? 0.5 ** (ageDays / ranking.recencyHalfLifeDays) : 0;
    const score =
      weight(ranking.denseWeight) * entry.dense +
      weight(ranking.keywordWeight) * entry.keyword +
      weight(ranking.recencyWeight) * recency +
      weight(ranking.rrfWeight) * entry.rrf;
    results.push({
      ...entry.record,
      score: round(score),
      scores: {
        dense: round(entry.dense),
        keyword: round(entry.keyword),
        recency: round(recency),
        rrf: round(entry.rrf),
      },
    });
  }
  return results.sort(
    (a, b) => b.score - a.score || b.observedAt.localeCompare(a.observedAt) || a.id.localeCompare(b.id),
  );
}

/** Merges caller overrides with defaults and validates them. */
export function resolveRanking(overrides: Partial<RankingOptions> = {}): RankingOptions {
  const merged = { ...DEFAULT_RANKING, ...overrides };
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`ranking.${key} must be a finite number >= 0`);
    }
  }
  return merged;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
