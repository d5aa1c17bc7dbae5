/**
 * Conversions between PostgreSQL rows and the seam's objects (memory records, history events, queue items),
 * pgvector's text format, and the keyword tokens stored beside each memory. NULL columns become absent
 * properties.
 */

import { keywordText } from '../../core/reply-context.js';
import type {
  HistoryEvent,
  HistoryEventType,
  MemoryKind,
  MemoryRecord,
  Metadata,
  Role,
} from '../../core/types.js';
import { rowScope } from '../common.js';
import { keywordTokens } from '../keyword-index.js';
import type { QueueItem } from '../types.js';

/** The columns of `memories` read into a record, prefixed with the table alias `m`. */
export const MEMORY_COLUMNS =
  'm.id, m.memory, m.user_id, m.agent_id, m.run_id, m.app_id, m.role, m.speaker, m.kind, m.topic, m.metadata, ' +
  'm.hash, m.created_at, m.updated_at, m.observed_at, m.valid_from, m.valid_to, m.superseded_by, m.expires_at';

/** The `memories` columns written by an insert, matching {@link recordValues}. */
export const RECORD_INSERT_COLUMNS =
  'id, memory, user_id, agent_id, run_id, app_id, role, speaker, kind, topic, metadata, hash, created_at, ' +
  'updated_at, observed_at, valid_from, valid_to, superseded_by, expires_at, keyword_tokens, keyword_length';

/** The SQL types of {@link RECORD_INSERT_COLUMNS}, for `unnest($n::type[])` bulk inserts. */
export const RECORD_INSERT_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'jsonb',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'integer',
] as const;

/** The columns of `history` read into an event. */
export const HISTORY_COLUMNS =
  'id, memory_id, event, previous_value, new_value, reason, actor, related_id, created_at';

/** A row of `memories` as read with {@link MEMORY_COLUMNS} (`metadata` arrives parsed from jsonb). */
export interface MemoryRow {
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
  metadata: Metadata;
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

/** The columns of `queue` read into an item. */
export const QUEUE_COLUMNS =
  'id, user_id, agent_id, run_id, app_id, payload, attempts, last_error, enqueued_at, available_at';

/** The scope columns of a row as a Scope (shared by every SQL backend). */
export { rowScope };

/** A record read from a `memories` row. */
export function rowToRecord(row: MemoryRow): MemoryRecord {
  const record: MemoryRecord = {
    id: row.id,
    memory: row.memory,
    ...rowScope(row),
    kind: row.kind as MemoryKind,
    metadata: row.metadata,
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

/** The keyword tokens of `text` (space-separated) and their count, as stored in `keyword_tokens`. */
export function keywordColumns(text: string): { tokens: string; length: number } {
  const tokens = keywordTokens(text);
  return { tokens: tokens.join(' '), length: tokens.length };
}

/** The column values of a record, in the order of {@link RECORD_INSERT_COLUMNS}. */
export function recordValues(record: MemoryRecord): Array<string | number | null> {
  const keyword = keywordColumns(keywordText(record));
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
    keyword.tokens,
    keyword.length,
  ];
}

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
