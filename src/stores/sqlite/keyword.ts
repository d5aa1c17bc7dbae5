/**
 * The SQLite engine's keyword search: FTS5 BM25 over `memory_fts` (text in the `memory` column, hashed scope
 * tokens in the `scope` column, rowid = `seq`), joined with the visible rows of `memories`.
 *
 * Cost model, measured at 100k memories of one user: FTS5's `bm25()` first counts every phrase of the MATCH
 * over the whole table (about 45 ns per row holding it), then scores every matching row (about 0.4 us each).
 * The scope's tokens are phrases too: they narrow a small scope's matches cheaply, but for a scope holding
 * most of the table their count alone costs more than the search (4.5 of 10 ms). So the scope's tokens go into
 * the MATCH only when they narrow it: a scope of one user id that holds at least {@link WHOLE_TABLE_SHARE} of
 * the table's rows is searched without them. The scope is applied by the join in every case, so the results
 * and their scores are the same either way (the `scope` column has weight 0: its phrases add nothing to BM25).
 */
import type { FilterNode } from '../../core/filters.js';
import type { Scope } from '../../core/types.js';
import { rowToRecord } from '../core/rows.js';
import { scopeEntries, type Visibility } from '../core/visibility.js';
import type { PostingHit } from '../keyword-postings.js';
import { SqlConditions, sqliteDialect } from '../sql-filter.js';
import type { KeywordHit } from '../types.js';
import type { KeywordMirror } from './keyword-mirror.js';
import { kindToken, MEMORY_COLUMNS, type SqliteMemoryRow, scopeTokens } from './rows.js';
import type { Prepare } from './writes.js';

/** Share of the table's rows from which one user's scope is searched without its tokens in the MATCH. */
export const WHOLE_TABLE_SHARE = 0.75;

/** Best-ranked FTS5 matches taken before the scope's rows are read (see {@link selectKeyword}). */
const KEYWORD_POOL_PER_RESULT = 2;
const KEYWORD_POOL_MIN = 100;

/**
 * The kinds a filter admits when it says so at its top level: `kind` equal to, or in, a list of strings (alone or
 * as a child of an `and`). Undefined when the filter does not pin the kind that way (then any kind may pass).
 */
export function filterKinds(filter: FilterNode | undefined): string[] | undefined {
  if (filter === undefined) return undefined;
  if (filter.op === 'and') {
    for (const child of filter.children) {
      const kinds = filterKinds(child);
      if (kinds !== undefined) return kinds;
    }
    return undefined;
  }
  if (filter.op !== 'compare' || filter.field.kind !== 'column' || filter.field.name !== 'kind')
    return undefined;
  const values =
    filter.operator === 'eq' ? [filter.value] : filter.operator === 'in' ? filter.value : undefined;
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) return undefined;
  return [...new Set(values as string[])];
}

/** The terms FTS5 is given, in order: distinct, NULs removed; a term without a letter or digit is dropped. */
function usableTerms(terms: readonly string[]): string[] {
  return [...new Set(terms)]
    .map((term) => term.replaceAll('\u0000', ''))
    .filter((term) => /[\p{L}\p{N}]/u.test(term));
}

/** {@link usableTerms} as FTS5 strings: double-quoted, quotes doubled. */
function quotedTerms(terms: readonly string[]): string[] {
  return usableTerms(terms).map((term) => `"${term.replaceAll('"', '""')}"`);
}

/**
 * FTS5 MATCH text: `terms` (ORed, in the `memory` column), and in the `scope` column the scope's tokens (ANDed)
 * unless `withScope` is false, and any of the kind tokens of `kinds` when given. Each term becomes a double-quoted
 * string (quotes doubled), so FTS5 operators and syntax characters in terms are literal text; terms without a
 * letter or digit can match nothing and are dropped. Undefined when no term is left.
 */
export function ftsMatchExpression(
  scope: Scope,
  terms: readonly string[],
  withScope = true,
  kinds?: readonly string[],
): string | undefined {
  const quoted = quotedTerms(terms);
  if (quoted.length === 0) return undefined;
  const text = `memory : (${quoted.join(' OR ')})`;
  const narrowing = (withScope ? scopeTokens(scope) : []).map((token) => `"${token}"`);
  if (kinds !== undefined && kinds.length > 0) {
    narrowing.push(`(${kinds.map((kind) => `"${kindToken(kind)}"`).join(' OR ')})`);
  }
  if (narrowing.length === 0) return text;
  return `scope : (${narrowing.join(' AND ')}) AND ${text}`;
}

/**
 * The first varint of FTS5's averages record (rowid 1 of `memory_fts_data`): the table's row count. SQLite
 * varint: big-endian 7-bit groups, high bit set on all but the last, the ninth byte whole. Undefined when the
 * record is absent or malformed.
 */
export function ftsRowCount(averages: unknown): number | undefined {
  if (!(averages instanceof Uint8Array) || averages.length === 0) return undefined;
  let value = 0;
  for (let index = 0; index < 9 && index < averages.length; index += 1) {
    const byte = averages[index] ?? 0;
    if (index === 8) return value * 256 + byte;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return value;
  }
  return undefined;
}

/**
 * The share of the table's rows in `scope` when it is at least {@link WHOLE_TABLE_SHARE} (the search then
 * leaves the scope's tokens out), else undefined (they stay in: see the file's comment). Only a scope of exactly
 * one user id is measured (its vectors are counted per block in `vector_blocks`); any other keeps its tokens.
 */
function wholeTableShare(
  prepare: Prepare,
  scope: Scope,
  threshold: number,
): { share: number; tableRows: number } | undefined {
  if (scopeEntries(scope).length !== 1 || scope.userId === undefined) return undefined;
  const row = prepare(
    `SELECT (SELECT SUM(live) FROM vector_blocks WHERE user_id = ?) AS scope_rows,
       (SELECT block FROM memory_fts_data WHERE id = 1) AS averages`,
  ).get(scope.userId) as { scope_rows: number | null; averages: unknown } | undefined;
  const tableRows = ftsRowCount(row?.averages);
  const scopeRows = row?.scope_rows ?? 0;
  if (tableRows === undefined || tableRows === 0) return undefined;
  const share = Math.min(1, scopeRows / tableRows);
  return share >= threshold ? { share, tableRows } : undefined;
}

/**
 * Keyword search over the visible rows by FTS5 BM25 (returned positive: higher is better). The matches are
 * ranked first and only the best `max(100, 2 x limit)` are joined with their rows and tested against the
 * scope, the temporal rule and the filter: with a common term a large scope has tens of thousands of matches,
 * and reading each one's row doubled the cost (21 -> 10 ms p50 at 100k memories of one user). When fewer than
 * `limit` of those pass, the search runs again over every match. `wholeTable` is the share from which one
 * user's scope leaves its tokens out of the MATCH ({@link WHOLE_TABLE_SHARE}; above 1: never, for tests).
 *
 * Who ranks: for such a scope, with no kind in the filter and one token per term, `mirror` (the process's copy
 * of the index, `keyword-mirror.ts`) when it is current, else FTS5's `bm25()`. Both give the same scores.
 */
export function selectKeyword(
  prepare: Prepare,
  visibility: Visibility,
  terms: readonly string[],
  limit: number,
  mirror?: KeywordMirror,
  wholeTable = WHOLE_TABLE_SHARE,
): KeywordHit[] {
  const usable = usableTerms(terms);
  if (usable.length === 0) return [];
  const whole = wholeTableShare(prepare, visibility.scope, wholeTable);
  const kinds = filterKinds(visibility.filter);
  const match = ftsMatchExpression(visibility.scope, terms, whole === undefined, kinds) ?? '';
  // Without the scope's tokens the pool also holds other scopes' matches: enlarge it by the share they take.
  const pool = Math.ceil(Math.max(KEYWORD_POOL_MIN, limit * KEYWORD_POOL_PER_RESULT) / (whole?.share ?? 1));
  const mirrored =
    whole !== undefined && kinds === undefined && mirror?.request(prepare, whole.tableRows)
      ? mirror.top(prepare, usable, pool)
      : undefined;
  const pooled =
    mirrored !== undefined
      ? { hits: joinRanked(prepare, visibility, mirrored, limit), ranked: mirrored.length }
      : rankKeyword(prepare, visibility, match, limit, pool);
  // Complete when enough passed, or when the pool held every match (nothing was cut off; a query whose pooled
  // matches all failed the filter cannot tell, and runs again).
  return pooled.hits.length >= limit || (pooled.ranked !== undefined && pooled.ranked < pool)
    ? pooled.hits
    : rankKeyword(prepare, visibility, match, limit, undefined).hits;
}

/**
 * The best `limit` visible rows among `ranked` (the mirror's pool, best first), ordered as FTS5's query orders
 * them: by score, ties by id. The pool goes in as `[seq, tie group]` pairs (equal scores share a group), so
 * SQLite sorts and cuts without the scores passing through SQL text.
 */
function joinRanked(
  prepare: Prepare,
  visibility: Visibility,
  ranked: readonly PostingHit[],
  limit: number,
): KeywordHit[] {
  if (ranked.length === 0) return [];
  const scores = new Map<number, number>();
  const pairs: Array<[number, number]> = [];
  let group = 0;
  ranked.forEach((hit, index) => {
    if (index > 0 && hit.score !== ranked[index - 1]?.score) group += 1;
    scores.set(hit.id, hit.score);
    pairs.push([hit.id, group]);
  });
  const conditions = new SqlConditions(sqliteDialect);
  const pool = conditions.bind(JSON.stringify(pairs));
  const rows = prepare(
    `SELECT ${MEMORY_COLUMNS} FROM json_each(${pool}) j CROSS JOIN memories m ON m.seq = j.value ->> 0
     WHERE ${conditions.visible(visibility)} ORDER BY j.value ->> 1, m.id LIMIT ${conditions.bind(limit)}`,
  ).all(...conditions.params) as SqliteMemoryRow[];
  return rows.map((row) => ({ record: rowToRecord(row), bm25: scores.get(row.seq) ?? 0 }));
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
  // the MATCH for each one (measured 25x slower at 50k rows). The pooled pass ranks first and reads the pool's
  // rows; the pass over every match tests each match's row first, so `bm25()` runs only for the rows that pass
  // (a filter that passes few of them: 49 -> 34 ms at 100k memories of one user).
  const sql =
    pool === undefined
      ? `SELECT ${MEMORY_COLUMNS}, bm25(memory_fts, 1.0, 0.0) AS rank, NULL AS ranked_count
         FROM memory_fts CROSS JOIN memories m ON m.seq = memory_fts.rowid
         WHERE memory_fts MATCH ${matchParam} AND ${conditions.visible(visibility)}
         ORDER BY rank ASC, m.id ASC LIMIT ${conditions.bind(limit)}`
      : `WITH ranked AS MATERIALIZED (
           SELECT rowid AS seq, bm25(memory_fts, 1.0, 0.0) AS rank FROM memory_fts WHERE memory_fts MATCH ${matchParam}
           ORDER BY rank ASC LIMIT ${conditions.bind(pool)})
         SELECT ${MEMORY_COLUMNS}, ranked.rank, (SELECT COUNT(*) FROM ranked) AS ranked_count
         FROM ranked CROSS JOIN memories m ON m.seq = ranked.seq
         WHERE ${conditions.visible(visibility)} ORDER BY ranked.rank ASC, m.id ASC LIMIT ${conditions.bind(limit)}`;
  const rows = prepare(sql).all(...conditions.params) as Array<
    SqliteMemoryRow & { rank: number; ranked_count: number | null }
  >;
  // FTS5's bm25() is negative (more negative is better) and never 0 for a hit.
  const hits = rows.map((row) => ({ record: rowToRecord(row), bm25: -row.rank }));
  return { hits, ranked: rows[0]?.ranked_count ?? undefined };
}
