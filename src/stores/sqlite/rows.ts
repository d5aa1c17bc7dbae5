/**
 * Conversions between SQLite rows and the seam's objects: memory records, history events, queue items and
 * float32 vector BLOBs. NULL columns become absent properties.
 */

import { createHash } from 'node:crypto';
import type {
  HistoryEvent,
  HistoryEventType,
  MemoryKind,
  MemoryRecord,
  Metadata,
  Role,
  Scope,
  ScopeKey,
} from '../../core/types.js';
import { rowScope, scopeEntries } from '../common.js';
import type { QueueItem } from '../types.js';

/** The columns of `memories` read into a record, prefixed with the table alias `m`. */
export const MEMORY_COLUMNS =
  'm.seq, m.id, m.memory, m.user_id, m.agent_id, m.run_id, m.app_id, m.role, m.speaker, m.kind, m.topic, ' +
  'm.metadata, m.hash, m.created_at, m.updated_at, m.observed_at, m.valid_from, m.valid_to, m.superseded_by, ' +
  'm.expires_at';

/** The columns of `history` read into an event. */
export const HISTORY_COLUMNS =
  'id, memory_id, event, previous_value, new_value, reason, actor, related_id, created_at';

/** A row of `memories`. */
export interface MemoryRow {
  seq: number;
  id: string;
  memory: string;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
  role: string | null;
  speaker: string | null;
  kind: string;
  topic: string | null;
  metadata: string;
  hash: string;
  created_at: string;
  updated_at: string;
  observed_at: string;
  valid_from: string | null;
  valid_to: string | null;
  superseded_by: string | null;
  expires_at: string | null;
}

/** A row of `history`. */
export interface HistoryRow {
  id: string;
  memory_id: string;
  event: string;
  previous_value: string | null;
  new_value: string | null;
  reason: string | null;
  actor: string;
  related_id: string | null;
  created_at: string;
}

/** A row of `queue`. */
export interface QueueRow {
  seq: number;
  id: string;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
  payload: string;
  attempts: number;
  last_error: string | null;
  enqueued_at: string;
  available_at: string;
}

/** The scope columns of a row as a Scope (shared by every SQL backend). */
export { rowScope };

/** A record read from a `memories` row. */
export function rowToRecord(row: MemoryRow): MemoryRecord {
  const record: MemoryRecord = {
    id: row.id,
    memory: row.memory,
    ...rowScope(row),
    kind: row.kind as MemoryKind,
    metadata: JSON.parse(row.metadata) as Metadata,
    hash: row.hash,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    observedAt: row.observed_at,
  };
  if (row.role !== null) record.role = row.role as Role;
  if (row.speaker !== null) record.speaker = row.speaker;
  if (row.topic !== null) record.topic = row.topic;
  if (row.valid_from !== null) record.validFrom = row.valid_from;
  if (row.valid_to !== null) record.validTo = row.valid_to;
  if (row.superseded_by !== null) record.supersededBy = row.superseded_by;
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  return record;
}

/** The column values of a record, in the order of {@link RECORD_INSERT_COLUMNS}. */
export function recordValues(record: MemoryRecord): Array<string | null> {
  return [
    record.id,
    record.memory,
    record.userId ?? null,
    record.agentId ?? null,
    record.runId ?? null,
    record.appId ?? null,
    record.role ?? null,
    record.speaker ?? null,
    record.kind,
    record.topic ?? null,
    JSON.stringify(record.metadata ?? {}),
    record.hash,
    record.createdAt,
    record.updatedAt,
    record.observedAt,
    record.validFrom ?? null,
    record.validTo ?? null,
    record.supersededBy ?? null,
    record.expiresAt ?? null,
  ];
}

/** The `memories` columns written by an insert, matching {@link recordValues}. */
export const RECORD_INSERT_COLUMNS =
  'id, memory, user_id, agent_id, run_id, app_id, role, speaker, kind, topic, metadata, hash, created_at, ' +
  'updated_at, observed_at, valid_from, valid_to, superseded_by, expires_at';

/** A history event read from a `history` row. */
export function rowToEvent(row: HistoryRow): HistoryEvent {
  const event: HistoryEvent = {
    id: row.id,
    memoryId: row.memory_id,
    event: row.event as HistoryEventType,
    actor: row.actor,
    createdAt: row.created_at,
  };
  if (row.previous_value !== null) event.previousValue = row.previous_value;
  if (row.new_value !== null) event.newValue = row.new_value;
  if (row.reason !== null) event.reason = row.reason;
  if (row.related_id !== null) event.relatedId = row.related_id;
  return event;
}

/** A queue item read from a `queue` row. */
export function rowToQueueItem(row: QueueRow): QueueItem {
  const item: QueueItem = {
    id: row.id,
    scope: rowScope(row),
    payload: JSON.parse(row.payload) as unknown,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    availableAt: row.available_at,
  };
  if (row.last_error !== null) item.lastError = row.last_error;
  return item;
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
