/**
 * What the PostgreSQL engine adds to the shared row codec (`../core/rows.ts`): the keyword tokens stored beside
 * each memory (`keyword_tokens`, `keyword_length`, indexed by a generated tsvector), bulk-insert column types,
 * and pgvector's text format.
 */

import { keywordText } from '../../core/reply-context.js';
import type { MemoryRecord, Metadata } from '../../core/types.js';
import {
  recordValues as coreRecordValues,
  type MemoryRow,
  memoryColumns,
  RECORD_COLUMNS,
} from '../core/rows.js';
import { keywordTokens } from '../keyword-index.js';

/** The columns of `memories` read into a record, prefixed with the table alias `m`. */
export const MEMORY_COLUMNS = memoryColumns('m');

/** A row of `memories` as read with {@link MEMORY_COLUMNS} (`metadata` arrives parsed from jsonb). */
export interface PostgresMemoryRow extends MemoryRow {
  metadata: Metadata;
}

/** The `memories` columns written by an insert, matching {@link recordValues}. */
export const RECORD_INSERT_COLUMNS = `${RECORD_COLUMNS.join(', ')}, keyword_tokens, keyword_length`;

/** The SQL types of {@link RECORD_INSERT_COLUMNS}, for `unnest($n::type[])` bulk inserts. */
export const RECORD_INSERT_TYPES = [
  ...RECORD_COLUMNS.map((column) => (column === 'metadata' ? 'jsonb' : 'text')),
  'text',
  'integer',
];

/** The keyword tokens of `text` (space-separated) and their count, as stored in `keyword_tokens`. */
export function keywordColumns(text: string): { tokens: string; length: number } {
  const tokens = keywordTokens(text);
  return { tokens: tokens.join(' '), length: tokens.length };
}

/** The column values of a record, in the order of {@link RECORD_INSERT_COLUMNS}. */
export function recordValues(
  record: MemoryRecord,
  indexed: string = keywordText(record),
): Array<string | number | null> {
  const keyword = keywordColumns(indexed);
  return [...coreRecordValues(record), keyword.tokens, keyword.length];
}

/**
 * A vector in pgvector's text format. Each float32 is written as the shortest decimal of its exact double
 * value, which pgvector parses back to the same float32.
 */
export function vectorToText(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}

/** A vector read back from pgvector's text format. */
export function textToVector(text: string): Float32Array {
  const inner = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  if (inner.length === 0) return new Float32Array(0);
  return Float32Array.from(inner.split(','), Number);
}
