/**
 * The SQLite engine's queries. Each builds its WHERE clause from the scope, the temporal rule and the filter
 * with bound parameters only (`sql-filter.ts`); rows become the seam's objects through `../core/rows.ts`.
 */
import type { HistoryEvent, MemoryRecord, Scope } from '../../core/types.js';
import { denseHitsOf, pageOf, withHistory } from '../core/results.js';
import { HISTORY_COLUMNS, type HistoryRow, rowScope, rowToEvent, rowToRecord } from '../core/rows.js';
import type { PageKey, Visibility } from '../core/visibility.js';
import { scopeEntries } from '../core/visibility.js';
import { SQL_COLUMNS, SqlConditions, sqliteDialect } from '../sql-filter.js';
import type { DenseHit, KeywordHit } from '../types.js';
import { blobToVector, MEMORY_COLUMNS, type SqliteMemoryRow, scopeTokens, vectorToBlob } from './rows.js';
import type { Prepare } from './writes.js';

const where = (conditions: SqlConditions, visibility: Visibility): string => conditions.visible(visibility);

/** Visible memories whose `column` is one of `values` (distinct, non-empty), newest first. */
export function selectByValues(
  prepare: Prepare,
  visibility: Visibility,
  column: 'hash' | 'topic',
  values: readonly string[],
): MemoryRecord[] {
  const conditions = new SqlConditions(sqliteDialect);
  const clause = where(conditions, visibility);
  const list = values.map((value) => conditions.bind(value)).join(', ');
  // INDEXED BY: without statistics the planner prefers the scope's (user_id, created_at) index, which answers
  // the ORDER BY but walks every memory of the user (7 ms per look-up at 20k memories, against 0.15 ms here).
  const sql = `SELECT ${MEMORY_COLUMNS} FROM memories m INDEXED BY memories_${column}
    WHERE ${clause} AND m.${column} IN (${list}) ORDER BY m.created_at DESC, m.id DESC`;
  return (prepare(sql).all(...conditions.params) as SqliteMemoryRow[]).map(rowToRecord);
}

/** One page of visible memories, newest `createdAt` first (ties by id, descending), after `after`. */
export function selectPage(
  prepare: Prepare,
  visibility: Visibility,
  limit: number,
  after: PageKey | undefined,
): { records: MemoryRecord[]; nextCursor?: string } {
  const conditions = new SqlConditions(sqliteDialect);
  let clause = where(conditions, visibility);
  if (after) {
    const createdAt = conditions.bind(after.createdAt);
    const sameCreatedAt = conditions.bind(after.createdAt);
    clause += ` AND (m.created_at < ${createdAt} OR (m.created_at = ${sameCreatedAt} AND m.id < ${conditions.bind(after.id)}))`;
  }
  const sql = `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE ${clause}
    ORDER BY m.created_at DESC, m.id DESC LIMIT ${conditions.bind(limit + 1)}`;
  return pageOf((prepare(sql).all(...conditions.params) as SqliteMemoryRow[]).map(rowToRecord), limit);
}

/**
 * Dense search by `vec_distance_cosine` (similarity = 1 - distance), exact over the visible rows, or over the
 * visible rows among `candidates` (memory seqs, from the binary index) when given: then fewer than `limit`
 * hits come back when fewer candidates are visible.
 */
export function selectDense(
  prepare: Prepare,
  visibility: Visibility,
  embedding: Float32Array,
  limit: number,
  candidates?: readonly number[],
): DenseHit[] {
  const conditions = new SqlConditions(sqliteDialect);
  // The first placeholder is the query vector: a BLOB, which SqlConditions does not bind. A zero vector has no
  // cosine (sqlite-vec returns NULL); it counts as orthogonal (similarity 0), as in the in-memory store.
  const query = conditions.bind(null);
  // With candidates, CROSS JOIN makes their list the outer loop (row look-ups by seq); otherwise the planner
  // could walk the scope's index and test each row against the list.
  const from =
    candidates === undefined
      ? 'memories m'
      : `json_each(${conditions.bind(JSON.stringify(candidates))}) c CROSS JOIN memories m ON m.seq = c.value`;
  const sql = `SELECT ${MEMORY_COLUMNS}, COALESCE(vec_distance_cosine(v.embedding, ${query}), 1.0) AS distance
    FROM ${from} JOIN memory_vectors v ON v.seq = m.seq WHERE ${where(conditions, visibility)}
    ORDER BY distance ASC, m.id ASC LIMIT ${conditions.bind(limit)}`;
  const rows = prepare(sql).all(vectorToBlob(embedding), ...conditions.params.slice(1)) as Array<
    SqliteMemoryRow & { distance: number }
  >;
  return denseHitsOf(rows);
}

/**
 * FTS5 MATCH text: the scope's tokens (ANDed, in the `scope` column) and `terms` (ORed, in the `memory`
 * column). Each term becomes a double-quoted string (quotes doubled), so FTS5 operators and syntax characters
 * in terms are literal text; terms without a letter or digit can match nothing and are dropped. Undefined when
 * no term is left.
 */
export function ftsMatchExpression(scope: Scope, terms: readonly string[]): string | undefined {
  const quoted = [...new Set(terms)]
    .map((term) => term.replaceAll('\u0000', ''))
    .filter((term) => /[\p{L}\p{N}]/u.test(term))
    .map((term) => `"${term.replaceAll('"', '""')}"`);
  if (quoted.length === 0) return undefined;
  const scopeMatch = scopeTokens(scope)
    .map((token) => `"${token}"`)
    .join(' AND ');
  return `scope : (${scopeMatch}) AND memory : (${quoted.join(' OR ')})`;
}

/** Best-ranked FTS5 matches taken before the scope's rows are read (see {@link selectKeyword}). */
const KEYWORD_POOL_PER_RESULT = 2;
const KEYWORD_POOL_MIN = 100;

/**
 * Keyword search over the visible rows by FTS5 BM25 (returned positive: higher is better). FTS5 ranks the
 * scope's matches first and only the best `max(100, 2 x limit)` are joined with their rows and tested against
 * the temporal rule and filter: with a common term a large scope has tens of thousands of matches, and
 * reading each one's row doubled the cost (21 -> 10 ms p50 at 100k memories of one user). When fewer than
 * `limit` of those pass, the search runs again over every match.
 */
export function selectKeyword(
  prepare: Prepare,
  visibility: Visibility,
  terms: readonly string[],
  limit: number,
): KeywordHit[] {
  const match = ftsMatchExpression(visibility.scope, terms);
  if (match === undefined) return [];
  const pool = Math.max(KEYWORD_POOL_MIN, limit * KEYWORD_POOL_PER_RESULT);
  const pooled = rankKeyword(prepare, visibility, match, limit, pool);
  // Complete when enough passed, or when the pool held every match (nothing was cut off; a query whose pooled
  // matches all failed the filter cannot tell, and runs again).
  return pooled.hits.length >= limit || (pooled.ranked !== undefined && pooled.ranked < pool)
    ? pooled.hits
    : rankKeyword(prepare, visibility, match, limit, undefined).hits;
}

function rankKeyword(
  prepare: Prepare,
  visibility: Visibility,
  match: string,
  limit: number,
  pool: number | undefined,
): { hits: KeywordHit[]; ranked: number | undefined } {
  const conditions = new SqlConditions(sqliteDialect);
  const matchParam = conditions.bind(match);
  // The scope column has weight 0, so the score is the text's BM25 alone. CROSS JOIN keeps the FTS5 matches as
  // the outer loop (then row look-ups by seq); left to itself the planner may scan the scope's rows and re-run
  // the MATCH for each one (measured 25x slower at 50k rows).
  const ranked =
    pool === undefined
      ? `SELECT rowid AS seq, bm25(memory_fts, 1.0, 0.0) AS rank FROM memory_fts WHERE memory_fts MATCH ${matchParam}`
      : `SELECT rowid AS seq, bm25(memory_fts, 1.0, 0.0) AS rank FROM memory_fts WHERE memory_fts MATCH ${matchParam}
         ORDER BY rank ASC LIMIT ${conditions.bind(pool)}`;
  const sql = `WITH ranked AS MATERIALIZED (${ranked})
    SELECT ${MEMORY_COLUMNS}, ranked.rank, (SELECT COUNT(*) FROM ranked) AS ranked_count
    FROM ranked CROSS JOIN memories m ON m.seq = ranked.seq
    WHERE ${where(conditions, visibility)} ORDER BY ranked.rank ASC, m.id ASC LIMIT ${conditions.bind(limit)}`;
  const rows = prepare(sql).all(...conditions.params) as Array<
    SqliteMemoryRow & { rank: number; ranked_count: number }
  >;
  // FTS5's bm25() is negative (more negative is better) and never 0 for a hit.
  const hits = rows.map((row) => ({ record: rowToRecord(row), bm25: -row.rank }));
  return { hits, ranked: rows[0]?.ranked_count };
}

/** History of memory `id`, oldest first, limited to events recorded in `scope` when given. */
export function selectHistory(prepare: Prepare, id: string, scope: Scope | undefined): HistoryEvent[] {
  const conditions = new SqlConditions(sqliteDialect);
  let sql = `SELECT ${HISTORY_COLUMNS} FROM history h WHERE h.memory_id = ${conditions.bind(id)}`;
  if (scope !== undefined) sql += ` AND ${conditions.scope(scope, (key) => `h.${SQL_COLUMNS[key]}`)}`;
  return (prepare(`${sql} ORDER BY h.seq`).all(...conditions.params) as HistoryRow[]).map(rowToEvent);
}

/** Distinct scopes holding memories, with counts, optionally within a scope. */
export function selectScopes(prepare: Prepare, within: Scope | undefined): Array<Scope & { count: number }> {
  const conditions = new SqlConditions(sqliteDialect);
  const clause =
    within !== undefined && scopeEntries(within).length > 0 ? `WHERE ${conditions.scope(within)}` : '';
  const sql = `SELECT m.user_id, m.agent_id, m.run_id, m.app_id, COUNT(*) AS count FROM memories m ${clause}
    GROUP BY m.user_id, m.agent_id, m.run_id, m.app_id ORDER BY m.user_id, m.agent_id, m.run_id, m.app_id`;
  const rows = prepare(sql).all(...conditions.params) as Array<
    Pick<SqliteMemoryRow, 'user_id' | 'agent_id' | 'run_id' | 'app_id'> & { count: number }
  >;
  return rows.map((row) => ({ ...rowScope(row), count: row.count }));
}

/** Up to `limit + 1` memories with their vectors, by id after id `after`, and the history of the first `limit`. */
export function scanPage(
  prepare: Prepare,
  after: string,
  limit: number,
): { memories: Array<{ record: MemoryRecord; embedding: Float32Array }>; events: HistoryEvent[] } {
  const rows = prepare(
    `SELECT ${MEMORY_COLUMNS}, v.embedding FROM memories m JOIN memory_vectors v ON v.seq = m.seq
     WHERE m.id > ? ORDER BY m.id LIMIT ?`,
  ).all(after, limit + 1) as Array<SqliteMemoryRow & { embedding: Buffer }>;
  const page = rows.slice(0, limit);
  const events =
    page.length === 0
      ? []
      : (
          prepare(
            `SELECT ${HISTORY_COLUMNS} FROM history WHERE memory_id IN (${page.map(() => '?').join(', ')}) ORDER BY seq`,
          ).all(...page.map((row) => row.id)) as HistoryRow[]
        ).map(rowToEvent);
  const memories = rows.map((row) => ({ record: rowToRecord(row), embedding: blobToVector(row.embedding) }));
  return { memories, events };
}

/**
 * One page of {@link selectPage} (no filter) with each memory's history recorded in the scope, oldest first:
 * the unit of `exportScope`, which runs every page inside one read transaction.
 */
export function exportPage(
  prepare: Prepare,
  visibility: Visibility,
  limit: number,
  after: PageKey | undefined,
): { items: Array<{ record: MemoryRecord; history: HistoryEvent[] }>; more: boolean } {
  const visible = { scope: visibility.scope, temporal: visibility.temporal };
  const { records: page, nextCursor } = selectPage(prepare, visible, limit, after);
  let events: HistoryEvent[] = [];
  if (page.length > 0) {
    const conditions = new SqlConditions(sqliteDialect);
    const list = page.map((record) => conditions.bind(record.id)).join(', ');
    const scope = conditions.scope(visibility.scope, (key) => `h.${SQL_COLUMNS[key]}`);
    const sql = `SELECT ${HISTORY_COLUMNS} FROM history h WHERE h.memory_id IN (${list}) AND ${scope} ORDER BY h.seq`;
    events = (prepare(sql).all(...conditions.params) as HistoryRow[]).map(rowToEvent);
  }
  return { items: withHistory(page, events), more: nextCursor !== undefined };
}
