/**
 * What the SQLite engine adds to the shared row codec (`../core/rows.ts`): the `seq` rowid that links a memory to
 * its vector and its FTS5 entry, float32 vector BLOBs, and the scope and kind tokens of the keyword index.
 */

import { createHash } from 'node:crypto';
import type { Scope, ScopeKey } from '../../core/types.js';
import { type MemoryRow, memoryColumns } from '../core/rows.js';
import { scopeEntries } from '../core/visibility.js';

/** The columns of `memories` read into a record, with `seq`, prefixed with the table alias `m`. */
export const MEMORY_COLUMNS = `m.seq, ${memoryColumns('m')}`;

/** A row of `memories` as read with {@link MEMORY_COLUMNS}. */
export interface SqliteMemoryRow extends MemoryRow {
  seq: number;
  metadata: string;
}

/** A vector as the BLOB sqlite-vec reads (little-endian float32, which is every platform Node runs on). */
export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A float32 BLOB back as a vector (copied, so it is aligned and owned by the caller). */
export function blobToVector(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

const SCOPE_TOKEN_PREFIX: Record<ScopeKey, string> = { userId: 'u', agentId: 'g', runId: 'r', appId: 'p' };

/**
 * One keyword-index token per scope field of a memory (`u` + 16 hex digits of SHA-256 for a userId, ...),
 * stored in the FTS5 table's `scope` column so a keyword search reads only the scope's postings. The tokens
 * narrow the search; the exact scope conditions are still applied in SQL, so a hash collision cannot leak.
 */
export function scopeTokens(scope: Scope): string[] {
  return scopeEntries(scope).map(
    ([key, value]) =>
      SCOPE_TOKEN_PREFIX[key] +
      createHash('sha256').update(`${key}\u0000${value}`).digest('hex').slice(0, 16),
  );
}

/**
 * The keyword-index token of a memory kind: `k` + the kind's UTF-8 bytes in lower-case hex (`kind` values are
 * ASCII words; hex keeps `user_fact` one token). Migration 5 writes the same text in SQL
 * (`'k' || lower(hex(kind))`). It sits in the `scope` column beside the scope tokens, so a keyword search
 * filtered to a few kinds reads only their postings; the filter itself is still applied in SQL.
 */
export function kindToken(kind: string): string {
  return `k${Buffer.from(kind, 'utf8').toString('hex')}`;
}

/** The `scope` column of a memory's FTS5 entry: its scope tokens and its kind token. */
export function keywordScopeColumn(scope: Scope, kind: string): string {
  return [...scopeTokens(scope), kindToken(kind)].join(' ');
}
