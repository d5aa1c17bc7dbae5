/**
 * The PostgreSQL store's queries. Each builds its WHERE clause from the scope, the temporal rule and the filter
 * with bound parameters only (`sql-filter.ts`, PostgreSQL dialect with the schema's JavaScript-exact text
 * functions), and maps rows to the seam's objects.
 *
 * Keyword scores are FTS5's BM25 (k1 = 1.2, b = 0.75, idf floored at 1e-6, each term a phrase, terms ORed),
 * computed in SQL over the same tokens SQLite indexes, with the corpus statistics (document count, average
 * length, documents per term) taken over the memories of the searched scope. A document's length counts its
 * text tokens plus one per scope field and one for its kind, as FTS5 counts the SQLite store's second (`scope`)
 * column (`keyword-index.ts` outsideTextTokens). On a store
 * holding one scope's memories this equals SQLite's `bm25()`; with many tenants SQLite counts the whole file,
 * PostgreSQL only the tenant (so scores never depend on, or reveal, other tenants' data).
 */

import type { Pool } from 'pg';
import type { HistoryEvent, MemoryRecord, Scope } from '../../core/types.js';
import { notOpenError } from '../core/errors.js';
import { exportPages } from '../core/export.js';
import { denseHitsOf, pageOf, withHistory } from '../core/results.js';
import { HISTORY_COLUMNS, type HistoryRow, rowScope, rowToEvent, rowToRecord } from '../core/rows.js';
import { type PageKey, scopeEntries, type Visibility } from '../core/visibility.js';
import { keywordTokens } from '../keyword-index.js';
import { createPostgresDialect, SQL_COLUMNS, SqlConditions, type SqlDialect } from '../sql-filter.js';
import type { DenseHit, KeywordHit, TemporalOptions } from '../types.js';
import {
  checkout,
  type OperationContext,
  type Queryable,
  type SnapshotClient,
  toStoreError,
} from './pool.js';
import { MEMORY_COLUMNS, type PostgresMemoryRow, textToVector, vectorToText } from './rows.js';
import { documentLength, type SchemaNames, type VectorNames } from './schema.js';

export type { Visibility };

/**
 * The PostgreSQL filter dialect with JavaScript-exact `contains` (the schema's `mneme_lower`) and string order
 * (`mneme_compare_text`, UTF-16 code units) in place of `lower()` and `COLLATE "C"`.
 */
export function storeDialect(names: SchemaNames, alias = 'm'): SqlDialect {
  return {
    ...createPostgresDialect(alias),
    contains: (haystack, needle) =>
      `(strpos(${names.fn('mneme_lower')}(${haystack}), ${names.fn('mneme_lower')}(${needle}::text)) > 0)`,
    compareText: (left, operator, right) =>
      `(${names.fn('mneme_compare_text')}(${left}, ${right}::text) ${operator} 0)`,
  };
}

const where = (conditions: SqlConditions, visibility: Visibility): string => conditions.visible(visibility);

/** The memory row with `id` (inside `scope` when given), or undefined; `forUpdate` locks it. */
export async function findRow(
  client: Queryable,
  names: SchemaNames,
  id: string,
  scope: Scope | undefined,
  forUpdate = false,
): Promise<PostgresMemoryRow | undefined> {
  const conditions = new SqlConditions(storeDialect(names));
  let sql = `SELECT ${MEMORY_COLUMNS} FROM ${names.memories} m WHERE m.id = ${conditions.bind(id)}`;
  if (scope !== undefined) sql += ` AND ${conditions.scope(scope)}`;
  if (forUpdate) sql += ' FOR UPDATE';
  return (await client.query<PostgresMemoryRow>(sql, conditions.params)).rows[0];
}

/** Visible memories whose `column` is one of `values`, newest first. */
export async function selectByValues(
  client: Queryable,
  names: SchemaNames,
  visibility: Visibility,
  column: 'hash' | 'topic',
  values: readonly string[],
): Promise<MemoryRecord[]> {
  const conditions = new SqlConditions(storeDialect(names));
  const clause = where(conditions, visibility);
  const list = values.map((value) => conditions.bind(value)).join(', ');
  const sql = `SELECT ${MEMORY_COLUMNS} FROM ${names.memories} m WHERE ${clause} AND m.${column} IN (${list})
    ORDER BY m.created_at DESC, m.id DESC`;
  return (await client.query<PostgresMemoryRow>(sql, conditions.params)).rows.map(rowToRecord);
}

/** One page of visible memories, newest `createdAt` first (ties by id, descending), after `cursor`. */
export async function selectPage(
  client: Queryable,
  names: SchemaNames,
  visibility: Visibility,
  limit: number,
  after: PageKey | undefined,
): Promise<{ records: MemoryRecord[]; nextCursor?: string }> {
  const conditions = new SqlConditions(storeDialect(names));
  let clause = where(conditions, visibility);
  if (after) {
    clause += ` AND (m.created_at, m.id) < (${conditions.bind(after.createdAt)}, ${conditions.bind(after.id)})`;
  }
  const sql = `SELECT ${MEMORY_COLUMNS} FROM ${names.memories} m WHERE ${clause}
    ORDER BY m.created_at DESC, m.id DESC LIMIT ${conditions.bind(limit + 1)}`;
  return pageOf((await client.query<PostgresMemoryRow>(sql, conditions.params)).rows.map(rowToRecord), limit);
}

/**
 * How many memories `scope` holds, from `keyword_stats` (exact, kept by the writing transactions; a partial scope
 * sums the exact scopes it covers), in one index look-up whatever the scope's size.
 */
export async function countScope(client: Queryable, names: SchemaNames, scope: Scope): Promise<number> {
  const conditions = new SqlConditions(storeDialect(names));
  const sql = `SELECT COALESCE(sum(s.documents), 0)::float8 AS n FROM ${names.keywordStats} s
    WHERE ${conditions.scope(scope, (key) => `s.${SQL_COLUMNS[key]}`)}`;
  return (await client.query<{ n: number }>(sql, conditions.params)).rows[0]?.n ?? 0;
}

/**
 * A cosine distance that is 1 (similarity 0) where pgvector returns NaN: a zero vector has no direction, and
 * the seam ranks it between the positive and the negative similarities.
 */
function safeDistance(distance: string): string {
  return `COALESCE(NULLIF(${distance}, 'NaN'::float8), 1)`;
}

/**
 * Exact dense search: cosine distance to every visible row, best first (ties by id). The candidates are a
 * MATERIALIZED CTE, so the planner cannot answer the ORDER BY from the HNSW index (which could return fewer).
 */
export async function selectDenseExact(
  client: Queryable,
  names: SchemaNames,
  vector: VectorNames,
  visibility: Visibility,
  embedding: Float32Array,
  limit: number,
): Promise<DenseHit[]> {
  const conditions = new SqlConditions(storeDialect(names));
  const query = conditions.bind(vectorToText(embedding));
  const sql = `WITH candidates AS MATERIALIZED (
      SELECT ${MEMORY_COLUMNS}, m.embedding FROM ${names.memories} m WHERE ${where(conditions, visibility)})
    SELECT ${MEMORY_COLUMNS.replaceAll('m.', 'c.')},
      ${safeDistance(`c.embedding ${vector.cosineDistance} ${query}::${vector.type}`)} AS distance
    FROM candidates c ORDER BY distance ASC, c.id ASC LIMIT ${conditions.bind(limit)}`;
  return denseHitsOf(
    (await client.query<PostgresMemoryRow & { distance: number }>(sql, conditions.params)).rows,
  );
}

/**
 * Approximate dense search through the HNSW index (`ORDER BY embedding <=> query LIMIT n`), within the
 * caller's transaction (which sets `hnsw.ef_search` and, where supported, `hnsw.iterative_scan`). With a
 * selective scope or filter the index can return fewer than `limit` rows: the caller checks and falls back.
 */
export async function selectDenseApproximate(
  client: Queryable,
  names: SchemaNames,
  vector: VectorNames,
  visibility: Visibility,
  embedding: Float32Array,
  limit: number,
): Promise<DenseHit[]> {
  const conditions = new SqlConditions(storeDialect(names));
  const query = `${conditions.bind(vectorToText(embedding))}::${vector.type}`;
  // The distance is computed once per row, as the ORDER BY's own column (each computation reads the row's vector
  // from TOAST again), and made safe outside.
  const sql = `SELECT ${MEMORY_COLUMNS.replaceAll('m.', 'n.')}, ${safeDistance('n.raw_distance')} AS distance
    FROM (SELECT ${MEMORY_COLUMNS}, m.embedding ${vector.cosineDistance} ${query} AS raw_distance
      FROM ${names.memories} m WHERE ${where(conditions, visibility)}
      ORDER BY raw_distance LIMIT ${conditions.bind(limit)}) n`;
  const rows = (await client.query<PostgresMemoryRow & { distance: number }>(sql, conditions.params)).rows;
  rows.sort((left, right) => left.distance - right.distance || (left.id < right.id ? -1 : 1));
  return denseHitsOf(rows);
}

/** tsquery literals accept at most this many bytes per lexeme; longer tokens are not indexed either. */
const MAX_LEXEME_BYTES = 2046;

/**
 * The phrases (token lists) of keyword `terms`, as SQLite builds its FTS5 query: distinct terms, NULs removed,
 * terms without a letter or digit dropped, each term tokenized like the index (a multi-token term is a phrase).
 */
export function keywordPhrases(terms: readonly string[]): string[][] {
  return [...new Set(terms)]
    .map((term) => term.replaceAll('\u0000', ''))
    .filter((term) => /[\p{L}\p{N}]/u.test(term))
    .map((term) => keywordTokens(term))
    .filter(
      (tokens) =>
        tokens.length > 0 && tokens.every((token) => Buffer.byteLength(token, 'utf8') <= MAX_LEXEME_BYTES),
    );
}

/** A tsquery literal matching any of `phrases` (each a `<->` chain of quoted lexemes). Bound, never spliced. */
export function tsqueryText(phrases: readonly string[][]): string {
  const lexeme = (token: string) => `'${token.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  return phrases.map((tokens) => `(${tokens.map(lexeme).join(' <-> ')})`).join(' | ');
}

/**
 * Keyword search over the visible rows, scored by BM25 as described in the module comment.
 *
 * The corpus statistics come from `keyword_stats` (kept by triggers in every writing transaction, one row per
 * exact scope; a partial scope sums the rows it covers). One pass over the scope's matches (GIN index) takes,
 * on a narrow projection, each phrase's document count and each visible row's phrase frequencies and length;
 * the visible rows are scored with one inline term per phrase (the same float operations, in the same order, as
 * summing the terms), and only the best `limit` are joined back for their full rows.
 */
export async function selectKeyword(
  client: Queryable,
  names: SchemaNames,
  visibility: Visibility,
  terms: readonly string[],
  limit: number,
): Promise<KeywordHit[]> {
  const phrases = keywordPhrases(terms);
  if (phrases.length === 0) return [];
  const conditions = new SqlConditions(storeDialect(names));
  const corpusScope = conditions.scope(visibility.scope, (key) => `s.${SQL_COLUMNS[key]}`);
  // A single token's frequency: how often ` token ` occurs in the tokens with every separator doubled (so
  // neighbouring occurrences do not share a space), by byte length, which costs less than splitting the text
  // into an array. A single token is in the tsvector exactly when it is in the token list (phrase tokens are
  // indexable), so rows without it skip the count; a longer phrase's positions may be capped in the tsvector,
  // so its frequency is always counted on the token list.
  const spaced = `(' ' || replace(m.keyword_tokens, ' ', '  ') || ' ')`;
  const columns = phrases.map((tokens, index) => {
    const query = `${conditions.bind(tsqueryText([tokens]))}::tsquery`;
    const framed = ` ${tokens.join(' ')} `;
    const frequency =
      tokens.length === 1
        ? `CASE WHEN m.keyword @@ ${query} THEN (octet_length(${spaced}) - octet_length(replace(${spaced}, ${conditions.bind(framed)}, ''))) / ${Buffer.byteLength(framed, 'utf8')} ELSE 0 END`
        : `${names.fn('mneme_phrase_frequency')}(string_to_array(m.keyword_tokens, ' '), string_to_array(${conditions.bind(tokens.join(' '))}, ' '))`;
    return `m.keyword @@ ${query} AS has_${index}, ${frequency}::float8 AS frequency_${index}`;
  });
  const anyPhrase = `${conditions.bind(tsqueryText(phrases))}::tsquery`;
  const visible = where(conditions, visibility);
  const scope = conditions.scope(visibility.scope);
  const hits = phrases.map((_, index) => `count(*) FILTER (WHERE x.has_${index})::float8 AS hits_${index}`);
  const idfs = phrases.map((_, index) => {
    const idf = `ln((c.documents - h.hits_${index} + 0.5) / (h.hits_${index} + 0.5))`;
    return `CASE WHEN ${idf} <= 0 THEN 1e-6 ELSE ${idf} END AS idf_${index}`;
  });
  const score = phrases
    .map(
      (_, index) =>
        `w.idf_${index} * x.frequency_${index} * 2.2 / (x.frequency_${index} + 1.2 * (0.25 + x.scaled_length / (c.tokens / c.documents)))`,
    )
    .join(' + ');
  const sql = `WITH corpus AS MATERIALIZED (
      SELECT COALESCE(sum(s.documents), 0)::float8 AS documents, COALESCE(sum(s.tokens), 0)::float8 AS tokens
      FROM ${names.keywordStats} s WHERE ${corpusScope}),
    matches AS MATERIALIZED (
      SELECT m.id, ${visible} AS visible, 0.75::float8 * ${documentLength('m')} AS scaled_length, ${columns.join(', ')}
      FROM ${names.memories} m WHERE m.keyword @@ ${anyPhrase} AND ${scope}),
    weights AS MATERIALIZED (
      SELECT ${idfs.join(', ')} FROM corpus c CROSS JOIN (SELECT ${hits.join(', ')} FROM matches x) h),
    best AS MATERIALIZED (
      SELECT x.id, ${score} AS score FROM matches x CROSS JOIN corpus c CROSS JOIN weights w
      WHERE x.visible ORDER BY score DESC, x.id ASC LIMIT ${conditions.bind(limit)})
    SELECT ${MEMORY_COLUMNS}, b.score FROM best b JOIN ${names.memories} m ON m.id = b.id
    ORDER BY b.score DESC, b.id ASC`;
  const rows = (await client.query<PostgresMemoryRow & { score: number }>(sql, conditions.params)).rows;
  return rows.map((row) => ({ record: rowToRecord(row), bm25: row.score }));
}

/** History of memory `id`, oldest first, limited to events recorded in `scope` when given. */
export async function selectHistory(
  client: Queryable,
  names: SchemaNames,
  id: string,
  scope: Scope | undefined,
): Promise<HistoryEvent[]> {
  const conditions = new SqlConditions(storeDialect(names));
  let sql = `SELECT ${HISTORY_COLUMNS} FROM ${names.history} h WHERE h.memory_id = ${conditions.bind(id)}`;
  if (scope !== undefined) sql += ` AND ${conditions.scope(scope, (key) => `h.${SQL_COLUMNS[key]}`)}`;
  const rows = (await client.query<HistoryRow>(`${sql} ORDER BY h.seq`, conditions.params)).rows;
  return rows.map(rowToEvent);
}

/** Distinct scopes holding memories, with counts, optionally within a scope. */
export async function selectScopes(
  client: Queryable,
  names: SchemaNames,
  within: Scope | undefined,
): Promise<Array<Scope & { count: number }>> {
  const conditions = new SqlConditions(storeDialect(names));
  const clause =
    within !== undefined && scopeEntries(within).length > 0 ? `WHERE ${conditions.scope(within)}` : '';
  const sql = `SELECT m.user_id, m.agent_id, m.run_id, m.app_id, count(*)::integer AS count
    FROM ${names.memories} m ${clause}
    GROUP BY m.user_id, m.agent_id, m.run_id, m.app_id ORDER BY m.user_id, m.agent_id, m.run_id, m.app_id`;
  const rows = (
    await client.query<
      Pick<PostgresMemoryRow, 'user_id' | 'agent_id' | 'run_id' | 'app_id'> & { count: number }
    >(sql, conditions.params)
  ).rows;
  return rows.map((row) => ({ ...rowScope(row), count: row.count }));
}

/** Up to `limit + 1` memories with their vectors, by id after id `after`, and the history of the first `limit`. */
export async function scanPage(
  client: Queryable,
  names: SchemaNames,
  after: string,
  limit: number,
): Promise<{ memories: Array<{ record: MemoryRecord; embedding: Float32Array }>; events: HistoryEvent[] }> {
  const rows = (
    await client.query<PostgresMemoryRow & { embedding_text: string }>(
      `SELECT ${MEMORY_COLUMNS}, m.embedding::text AS embedding_text FROM ${names.memories} m
       WHERE m.id > $1 ORDER BY m.id LIMIT $2`,
      [after, limit + 1],
    )
  ).rows;
  const page = rows.slice(0, limit);
  const events =
    page.length === 0
      ? []
      : (
          await client.query<HistoryRow>(
            `SELECT ${HISTORY_COLUMNS} FROM ${names.history} WHERE memory_id = ANY ($1::text[]) ORDER BY seq`,
            [page.map((row) => row.id)],
          )
        ).rows.map(rowToEvent);
  const memories = rows.map((row) => ({
    record: rowToRecord(row),
    embedding: textToVector(row.embedding_text),
  }));
  return { memories, events };
}

/**
 * One page of {@link selectPage} (no filter) with each memory's history recorded in the scope, oldest first:
 * the unit of `exportScope`, which runs every page inside one `REPEATABLE READ READ ONLY` transaction.
 */
export async function exportPage(
  client: Queryable,
  names: SchemaNames,
  visibility: Visibility,
  limit: number,
  after: PageKey | undefined,
): Promise<{ items: Array<{ record: MemoryRecord; history: HistoryEvent[] }>; more: boolean }> {
  const visible = { scope: visibility.scope, temporal: visibility.temporal };
  const page = await selectPage(client, names, visible, limit, after);
  let events: HistoryEvent[] = [];
  if (page.records.length > 0) {
    const conditions = new SqlConditions(storeDialect(names));
    const ids = page.records.map((record) => conditions.bind(record.id)).join(', ');
    const scope = conditions.scope(visibility.scope, (key) => `h.${SQL_COLUMNS[key]}`);
    const sql = `SELECT ${HISTORY_COLUMNS} FROM ${names.history} h
      WHERE h.memory_id IN (${ids}) AND ${scope} ORDER BY h.seq`;
    events = (await client.query<HistoryRow>(sql, conditions.params)).rows.map(rowToEvent);
  }
  return { items: withHistory(page.records, events), more: page.nextCursor !== undefined };
}

/**
 * `exportScope`: every visible memory of `scope` with its history, newest first, read page by page on ONE
 * pooled connection inside `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, so all pages see the snapshot
 * taken by the first query while writers go on unblocked. The connection is in `open` while checked out
 * (so the store's `close()` can end it) and is released when the iteration ends, throws or is abandoned.
 */
export async function* exportSnapshot(
  pool: Pool,
  context: OperationContext,
  names: SchemaNames,
  options: { scope: Scope; temporal: TemporalOptions; pageSize: number; open: Set<SnapshotClient> },
): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
  const client = await checkout(pool, context);
  options.open.add(client);
  let failed = false;
  try {
    const readPage = async (after: PageKey | undefined) => {
      try {
        if (after === undefined) await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        return await exportPage(client, names, options, options.pageSize, after);
      } catch (error) {
        failed = true;
        throw toStoreError(error, context);
      }
    };
    yield* exportPages(readPage, () => {
      if (!options.open.has(client)) throw notOpenError('postgres', true);
    });
  } finally {
    // Not in `open` any more when the store's close() already ended the connection.
    if (options.open.delete(client)) {
      let broken: Error | undefined;
      try {
        // Read only, so COMMIT and ROLLBACK are alike; an aborted transaction takes only ROLLBACK.
        await client.query(failed ? 'ROLLBACK' : 'COMMIT');
      } catch (error) {
        broken = error instanceof Error ? error : new Error(String(error));
      }
      client.release(broken);
    }
  }
}
