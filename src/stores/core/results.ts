/**
 * Ranking and result assembly, the same for every engine:
 * - `list` pages are newest `createdAt` first, ties by id descending ({@link byNewest}); an engine returns up to
 *   `limit + 1` records and {@link pageOf} cuts the page and makes `nextCursor` from its last record when more
 *   followed;
 * - `scan` pages are by id ascending, each memory with its vector and its history oldest first ({@link scanPageOf});
 * - export pages are `list` pages (no filter) with each memory's history recorded in the scope ({@link withHistory});
 * - dense hits rank by similarity descending, keyword hits by BM25 descending, ties by id ascending
 *   ({@link topHits} for engines that rank in JavaScript; SQL engines ORDER BY the same keys). A SQL cosine
 *   distance `d` is the similarity `1 - d` ({@link denseHitsOf}).
 */
import type { HistoryEvent, MemoryRecord } from '../../core/types.js';
import type { DenseHit } from '../types.js';
import { encodeCursor } from './cursor.js';
import { historyByMemory } from './history.js';
import { type MemoryRow, rowToRecord } from './rows.js';

/** Newest `createdAt` first, ties by id descending (the order of `list` and `exportScope`). */
export function byNewest(left: MemoryRecord, right: MemoryRecord): number {
  if (left.createdAt !== right.createdAt) return left.createdAt < right.createdAt ? 1 : -1;
  return left.id < right.id ? 1 : left.id > right.id ? -1 : 0;
}

/** Ascending id order. */
export function byId(left: { id: string }, right: { id: string }): number {
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

/** A `list` page from up to `limit + 1` records in page order. */
export function pageOf(
  records: MemoryRecord[],
  limit: number,
): { records: MemoryRecord[]; nextCursor?: string } {
  if (records.length <= limit) return { records };
  const page = records.slice(0, limit);
  const last = page.at(-1);
  return last ? { records: page, nextCursor: encodeCursor([last.createdAt, last.id]) } : { records: page };
}

/** One memory of `scan` or `restore`: the record, its vector, its history oldest first. */
export interface ScanItem {
  record: MemoryRecord;
  embedding: Float32Array;
  history: HistoryEvent[];
}

/** A `scan` page from up to `limit + 1` memories (by id) and the history of those memories, oldest first. */
export function scanPageOf(
  memories: ReadonlyArray<{ record: MemoryRecord; embedding: Float32Array }>,
  events: Iterable<HistoryEvent>,
  limit: number,
): { items: ScanItem[]; nextCursor?: string } {
  const byMemory = historyByMemory(events);
  const items = memories.slice(0, limit).map(({ record, embedding }) => ({
    record,
    embedding,
    history: byMemory.get(record.id) ?? [],
  }));
  const last = items.at(-1);
  return memories.length > limit && last ? { items, nextCursor: encodeCursor([last.record.id]) } : { items };
}

/** Each of `records` with its events (given oldest first) attached. */
export function withHistory(
  records: readonly MemoryRecord[],
  events: Iterable<HistoryEvent>,
): Array<{ record: MemoryRecord; history: HistoryEvent[] }> {
  const byMemory = historyByMemory(events);
  return records.map((record) => ({ record, history: byMemory.get(record.id) ?? [] }));
}

/** Dense hits from SQL rows carrying a cosine `distance`. */
export function denseHitsOf(rows: ReadonlyArray<MemoryRow & { distance: number }>): DenseHit[] {
  return rows.map((row) => ({ record: rowToRecord(row), similarity: 1 - row.distance }));
}

/** The best `limit` of `hits` by `score` descending, ties by record id ascending. Sorts `hits` in place. */
export function topHits<Hit extends { record: MemoryRecord }>(
  hits: Hit[],
  limit: number,
  score: (hit: Hit) => number,
): Hit[] {
  return hits
    .sort((left, right) => score(right) - score(left) || byId(left.record, right.record))
    .slice(0, limit);
}
