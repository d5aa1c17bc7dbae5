/**
 * The row codec of the SQL engines: the columns of `memories` and `history` (the same names and order in SQLite
 * and PostgreSQL), how a record or an event becomes column values, and how a row becomes a record or an event.
 *
 * - NULL columns become absent properties; absent properties are written as NULL.
 * - `metadata` is written as JSON text; it is read back as text (SQLite, parsed here) or already parsed (jsonb).
 * - Scope fields live in their own columns (`user_id`, `agent_id`, `run_id`, `app_id`) on every table that
 *   belongs to a scope, so metadata can never change a scope.
 * - A history row carries the scope of its memory (so a scope erase reaches history of deleted memories).
 * Engine-only columns (SQLite's `seq`, PostgreSQL's keyword tokens and vector) are added by each engine.
 */
import type {
  HistoryEvent,
  HistoryEventType,
  MemoryKind,
  MemoryRecord,
  Metadata,
  Role,
  Scope,
} from '../../core/types.js';
import type { MemoryPatch } from '../types.js';

/** The scope columns of a row. */
export interface ScopeColumns {
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
}

/** The scope columns of a row as a Scope (NULL columns absent). */
export function rowScope(row: ScopeColumns): Scope {
  const scope: Scope = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  if (row.app_id !== null) scope.appId = row.app_id;
  return scope;
}

/** Rows of memory ids with scope columns as ids with their scope (what the erase steps answer). */
export function scopedIds(
  rows: ReadonlyArray<ScopeColumns & { id: string }>,
): Array<{ id: string; scope: Scope }> {
  return rows.map((row) => ({ id: row.id, scope: rowScope(row) }));
}

/** The values of the scope columns, in the order `user_id, agent_id, run_id, app_id`. */
export function scopeValues(scope: Scope): [string | null, string | null, string | null, string | null] {
  return [scope.userId ?? null, scope.agentId ?? null, scope.runId ?? null, scope.appId ?? null];
}

/** A row of `memories` as read with {@link memoryColumns} (`metadata`: JSON text, or parsed jsonb). */
export interface MemoryRow extends ScopeColumns {
  id: string;
  memory: string;
  role: string | null;
  speaker: string | null;
  kind: string;
  topic: string | null;
  metadata: string | Metadata;
  hash: string;
  created_at: string;
  updated_at: string;
  observed_at: string;
  valid_from: string | null;
  valid_to: string | null;
  superseded_by: string | null;
  expires_at: string | null;
}

/** The `memories` columns of a record, in the order of {@link recordValues}. */
export const RECORD_COLUMNS = [
  'id',
  'memory',
  'user_id',
  'agent_id',
  'run_id',
  'app_id',
  'role',
  'speaker',
  'kind',
  'topic',
  'metadata',
  'hash',
  'created_at',
  'updated_at',
  'observed_at',
  'valid_from',
  'valid_to',
  'superseded_by',
  'expires_at',
] as const;

/** The record columns prefixed with a table alias, for SELECT lists: `m.id, m.memory, ...`. */
export function memoryColumns(alias: string): string {
  return RECORD_COLUMNS.map((column) => `${alias}.${column}`).join(', ');
}

/** The metadata of a row, parsed when it arrives as JSON text. */
export function rowMetadata(row: Pick<MemoryRow, 'metadata'>): Metadata {
  return typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Metadata) : row.metadata;
}

/** A record read from a `memories` row. */
export function rowToRecord(row: MemoryRow): MemoryRecord {
  const record: MemoryRecord = {
    id: row.id,
    memory: row.memory,
    ...rowScope(row),
    kind: row.kind as MemoryKind,
    metadata: rowMetadata(row),
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

/** The column values of a record, in the order of {@link RECORD_COLUMNS}. */
export function recordValues(record: MemoryRecord): Array<string | null> {
  return [
    record.id,
    record.memory,
    ...scopeValues(record),
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

const PATCH_COLUMNS: Record<keyof MemoryPatch, string> = {
  memory: 'memory',
  hash: 'hash',
  metadata: 'metadata',
  updatedAt: 'updated_at',
  validFrom: 'valid_from',
  validTo: 'valid_to',
  supersededBy: 'superseded_by',
  expiresAt: 'expires_at',
  topic: 'topic',
  kind: 'kind',
};

/** The `[column, value]` pairs an update writes for `patch` (absent fields skipped; `null` clears a column). */
export function patchAssignments(patch: MemoryPatch): Array<[column: string, value: string | null]> {
  const assignments: Array<[string, string | null]> = [];
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof MemoryPatch, string]>) {
    const value = patch[key];
    if (value === undefined) continue;
    assignments.push([column, key === 'metadata' ? JSON.stringify(value) : (value as string | null)]);
  }
  return assignments;
}

/** The columns of `history` read into an event. */
export const HISTORY_COLUMNS =
  'id, memory_id, event, previous_value, new_value, reason, actor, related_id, created_at';

/** The columns a history insert writes, in the order of {@link historyValues}. */
export const HISTORY_INSERT_COLUMNS = `${HISTORY_COLUMNS}, user_id, agent_id, run_id, app_id`;

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

/** The column values of an event recorded in `scope`, in the order of {@link HISTORY_INSERT_COLUMNS}. */
export function historyValues(event: HistoryEvent, scope: Scope): Array<string | null> {
  return [
    event.id,
    event.memoryId,
    event.event,
    event.previousValue ?? null,
    event.newValue ?? null,
    event.reason ?? null,
    event.actor,
    event.relatedId ?? null,
    event.createdAt,
    ...scopeValues(scope),
  ];
}
