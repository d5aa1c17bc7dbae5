/**
 * Hybrid ranking: fuses the dense (embedding) and keyword (BM25) candidate lists plus a recency prior into one
 * score per memory. Both SQL stores and the in-memory store feed the same function, so a query ranks the same
 * way on every backend.
 *
 * score = w_dense · dense + w_keyword · keyword + w_recency · recency + w_rrf · rrf + w_session · session
 *         + w_speaker · speaker, where
 * - dense   = max(0, cosine similarity)                         in [0, 1]
 * - keyword = bm25 / (bm25 + keywordSaturation)                 in [0, 1) (absolute, so `threshold` is stable)
 * - recency = 0.5 ^ (age in days / recencyHalfLifeDays)         in (0, 1], age from `observedAt` to the query time
 * - rrf     = Σ over lists of 1 / (rrfK + rank), normalised so rank 1 in both lists = 1
 * - session = for a memory the keyword search found, the best base score (the four signals above, weighted)
 *             among the candidates of its conversation session, itself included; for any other memory its own
 *             base score                                                                           in [0, 1]
 * - speaker = 1 when the query names who said the memory (its `speaker`, see below), else 0     in {0, 1}
 * Weights are normalised to sum to 1, so `score` is in [0, 1]. The speaker signal takes part only in a query that
 * names the speaker of at least one candidate; in any other query its weight is left out of the sum, so scores
 * where no speaker is named (a user's own memories, most agent use) are exactly what they would be without it.
 * A memory found by only one list gets 0 for the other signal (both lists are drawn wide, see `denseCandidates` /
 * `keywordCandidates`, so that is rare for relevant ones).
 *
 * A conversation session is a run of candidates with the same exact scope (user, agent, run, app) whose
 * `observedAt` times lie at most `sessionGapHours` apart, one after the other. The session signal lifts the
 * memories that were said in the same sitting as a strong match: what a question asks about is often spread over
 * a few turns of one conversation, and only one of them shares the question's most telling words. Only memories
 * that share a word with the query are lifted, so the filler of a sitting ("thanks, that worked") does not ride
 * on its neighbour; a memory alone in its session keeps its base score. It needs no store read: it is computed
 * over the candidate lists alone, so every backend ranks the same way.
 *
 * The speaker signal serves transcripts of named people (messages with a `name`): a question that names one of
 * them ("What did Melanie paint?") is almost always about what that person said (98% of the LoCoMo dev evidence
 * turns of such questions). A name counts when its words appear in order among the query's words, ignoring
 * case and accents (`namesIn`, `core/text.ts`); every candidate spoken by a named person gets 1, so a query
 * naming both people of a conversation lifts both alike. Like the session signal it needs no store read.
 *
 * Default weights (dense 0.25, keyword 0.70, recency 0.05, rrf 0, session 0.3, speaker 0.2) lean on BM25 because
 * the bundled embedder (Universal Sentence Encoder Lite) separates relevant from unrelated texts weakly: both land
 * at cosine 0.3-0.7, so a large dense weight mostly adds noise, while BM25 with a saturation of 8 keeps exact-term
 * matches on top and the dense term reorders and rescues paraphrases. Rank fusion (rrf) scored below this score
 * fusion in measurement, so it is off by default. The session weight lifted LoCoMo turn recall@5 and @10 by about
 * one point over the same fusion without it; the speaker weight lifted recall@10 from 0.744 to 0.776 (flat from
 * 0.1 to 0.5) and cut the adversarial category's from 0.875 to 0.526 (BENCHMARKS.md, "what was tried"). With a
 * stronger embedder, raise `denseWeight`. Measurements behind these defaults: BENCHMARKS.md
 * (`npm run bench -- locomo`).
 */
import { ConfigError } from './errors.js';
import { namesIn } from './text.js';
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
  /** Weight of the conversation-session signal (see the module comment). @default 0.3 */
  sessionWeight: number;
  /** Candidates observed further apart than this (in the same scope) are in different sessions. @default 6 */
  sessionGapHours: number;
  /** Weight of the speaker signal, in queries that name a candidate's speaker (see the module comment). @default 0.2 */
  speakerWeight: number;
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
  sessionWeight: 0.3,
  sessionGapHours: 6,
  speakerWeight: 0.2,
  keywordSaturation: 8,
  rrfK: 60,
  recencyHalfLifeDays: 90,
  denseCandidates: 200,
  keywordCandidates: 200,
};

const DAY_MS = 86_400_000;

/**
 * Fuses candidate lists into ranked results (best first, ties broken by newer `observedAt`, then id): the first
 * `limit` (default all) of those scoring at least `threshold` (default 0). Only the results returned are built,
 * so a search drawing hundreds of candidates for ten results copies ten records.
 */
export function fuseCandidates(options: {
  dense: Array<{ record: MemoryRecord; similarity: number }>;
  keyword: Array<{ record: MemoryRecord; bm25: number }>;
  now: string;
  ranking: RankingOptions;
  /** The query as the user wrote it, for the speaker signal; without it no speaker is named. */
  query?: string;
  limit?: number;
  threshold?: number;
}): SearchResult[] {
  const { ranking } = options;
  const baseWeight = ranking.denseWeight + ranking.keywordWeight + ranking.recencyWeight + ranking.rrfWeight;
  const named =
    ranking.speakerWeight > 0 && options.query !== undefined
      ? namesIn(options.query, speakersOf(options.dense, options.keyword))
      : new Set<string>();
  const speakerWeight = named.size > 0 ? ranking.speakerWeight : 0;
  const totalWeight = baseWeight + ranking.sessionWeight + speakerWeight;
  const weight = (value: number) => (totalWeight > 0 ? value / totalWeight : 0);
  const nowMs = Date.parse(options.now);
  const entries = new Map<string, Candidate>();
  const entryFor = (record: MemoryRecord) => {
    let entry = entries.get(record.id);
    if (!entry) {
      const speaker = record.speaker !== undefined && named.has(record.speaker) ? 1 : 0;
      entry = { record, dense: 0, keyword: 0, rrf: 0, recency: 0, base: 0, session: 0, speaker };
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
  const baseShare = (value: number) => (baseWeight > 0 ? value / baseWeight : 0);
  for (const entry of entries.values()) {
    const ageDays = Math.max(0, (nowMs - Date.parse(entry.record.observedAt)) / DAY_MS);
    entry.recency = ranking.recencyHalfLifeDays > 0 ? 0.5 ** (ageDays / ranking.recencyHalfLifeDays) : 0;
    entry.base =
      baseShare(ranking.denseWeight) * entry.dense +
      baseShare(ranking.keywordWeight) * entry.keyword +
      baseShare(ranking.recencyWeight) * entry.recency +
      baseShare(ranking.rrfWeight) * entry.rrf;
  }
  const candidates = [...entries.values()];
  if (ranking.sessionWeight > 0) assignSessionScores(candidates, ranking.sessionGapHours);
  const threshold = options.threshold ?? 0;
  const scored: Array<{ entry: Candidate; score: number }> = [];
  for (const entry of candidates) {
    const score = round(
      weight(baseWeight) * entry.base +
        weight(ranking.sessionWeight) * entry.session +
        weight(speakerWeight) * entry.speaker,
    );
    if (score >= threshold) scored.push({ entry, score });
  }
  scored.sort(
    (a, b) =>
      b.score - a.score ||
      b.entry.record.observedAt.localeCompare(a.entry.record.observedAt) ||
      a.entry.record.id.localeCompare(b.entry.record.id),
  );
  return scored.slice(0, options.limit ?? scored.length).map(({ entry, score }) => ({
    ...entry.record,
    score,
    scores: {
      dense: round(entry.dense),
      keyword: round(entry.keyword),
      recency: round(entry.recency),
      rrf: round(entry.rrf),
      session: round(entry.session),
      speaker: entry.speaker,
    },
  }));
}

/** The distinct speakers of the candidates in `lists`. */
function speakersOf(...lists: ReadonlyArray<ReadonlyArray<{ record: MemoryRecord }>>): Set<string> {
  const speakers = new Set<string>();
  for (const hits of lists)
    for (const { record } of hits) if (record.speaker !== undefined) speakers.add(record.speaker);
  return speakers;
}

/**
 * One memory of the candidate lists, with its signals; `base` is the weighted sum without the session and speaker
 * signals.
 */
interface Candidate {
  record: MemoryRecord;
  dense: number;
  keyword: number;
  rrf: number;
  recency: number;
  base: number;
  session: number;
  speaker: number;
}

/**
 * Sets each candidate's `session`: for one with a keyword match, the best `base` among the candidates of its
 * conversation session (same exact scope, consecutive `observedAt` times, sorted, no more than `gapHours` apart);
 * for any other, its own `base`.
 */
function assignSessionScores(candidates: Candidate[], gapHours: number): void {
  const gapMs = gapHours * 3_600_000;
  const scopeKey = (record: MemoryRecord) =>
    JSON.stringify([
      record.userId ?? null,
      record.agentId ?? null,
      record.runId ?? null,
      record.appId ?? null,
    ]);
  const keyed = candidates.map((candidate) => ({
    candidate,
    scope: scopeKey(candidate.record),
    at: Date.parse(candidate.record.observedAt),
  }));
  keyed.sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.at - b.at));
  let start = 0;
  for (let index = 1; index <= keyed.length; index += 1) {
    const previous = keyed[index - 1];
    const current = keyed[index];
    const sameSession =
      current !== undefined &&
      previous !== undefined &&
      current.scope === previous.scope &&
      current.at - previous.at <= gapMs;
    if (sameSession) continue;
    let best = 0;
    for (let member = start; member < index; member += 1)
      best = Math.max(best, keyed[member]?.candidate.base ?? 0);
    for (let member = start; member < index; member += 1) {
      const item = keyed[member];
      if (item) item.candidate.session = item.candidate.keyword > 0 ? best : item.candidate.base;
    }
    start = index;
  }
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
