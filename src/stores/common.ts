/**
 * Helpers every MemoryStore backend shares so they agree exactly: scope checks, temporal visibility, opaque
 * cursors and argument validation. Backends compile the same rules to SQL; the in-memory store calls these.
 */
import { EmbedderMismatchError, StoreError, ValidationError } from '../core/errors.js';
import { keywordText } from '../core/reply-context.js';
import type { HistoryEvent, MemoryRecord, Metadata, Scope, ScopeKey } from '../core/types.js';
import { SCOPE_KEYS } from '../core/types.js';
import { assertStorableText } from '../core/validate.js';
import type { DeadLetter, EmbedderIdentity, MemoryChange, MemoryPatch, TemporalOptions } from './types.js';

/** The named fields of a scope, in canonical order, as `[key, value]` pairs. */
export function scopeEntries(scope: Scope): Array<[ScopeKey, string]> {
  const entries: Array<[ScopeKey, string]> = [];
  for (const key of SCOPE_KEYS) {
    const value = scope[key];
    if (value !== undefined) entries.push([key, value]);
  }
  return entries;
}

/**
 * Checks that `scope` names at least one field with a string value.
 * @throws ValidationError naming `field` otherwise.
 */
export function assertScope(scope: Scope | undefined, field = 'scope'): asserts scope is Scope {
  if (typeof scope !== 'object' || scope === null) {
    throw new ValidationError(field, 'a scope object such as { userId: "alice" } is required');
  }
  for (const key of SCOPE_KEYS) {
    const value = scope[key];
    if (value !== undefined && typeof value !== 'string') {
      throw new ValidationError(`${field}.${key}`, 'scope fields must be strings');
    }
  }
  if (scopeEntries(scope).length === 0) {
    throw new ValidationError(field, `name at least one of ${SCOPE_KEYS.join(', ')}`);
  }
}

/**
 * The visibility rule of the seam, for instant `T = asOf ?? now`:
 * - unless `includeSuperseded`: no `validTo` at or before T;
 * - unless `includeExpired`: no `expiresAt` at or before T;
 * - with `asOf` only: the memory had begun by T (`validFrom`, or `observedAt` when unset, at or before T).
 * Instants are compared as ISO strings (all are `toISOString()` UTC, so text order is time order).
 */
export function isVisible(record: MemoryRecord, temporal: TemporalOptions): boolean {
  const instant = temporal.asOf ?? temporal.now;
  if (temporal.includeSuperseded !== true && record.validTo !== undefined && record.validTo <= instant) {
    return false;
  }
  if (temporal.includeExpired !== true && record.expiresAt !== undefined && record.expiresAt <= instant) {
    return false;
  }
  if (temporal.asOf !== undefined && (record.validFrom ?? record.observedAt) > temporal.asOf) return false;
  return true;
}

/**
 * Checks that a page or result limit is a positive integer.
 * @throws ValidationError naming `field`.
 */
export function assertLimit(limit: number, field: string): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(field, `expected a positive integer, got ${String(limit)}`);
  }
}

/** Encodes cursor parts as an opaque URL-safe string. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor} with exactly `length` parts.
 * @throws ValidationError naming `field` when the cursor is malformed.
 */
export function decodeCursor(cursor: string, length: number, field: string): string[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== length || !parts.every((part) => typeof part === 'string')) {
    throw new ValidationError(field, 'invalid cursor: pass the nextCursor of a previous page unchanged');
  }
  return parts as string[];
}

/** Adds `ms` milliseconds to an ISO instant. */
export function addMilliseconds(instant: string, ms: number): string {
  const time = Date.parse(instant);
  if (Number.isNaN(time)) throw new ValidationError('now', `expected an ISO-8601 instant, got "${instant}"`);
  return new Date(time + ms).toISOString();
}

/**
 * Checks that a vector has the dimension the store was opened with.
 * @throws ValidationError naming `field`.
 */
export function assertDimension(vector: Float32Array, dimension: number, field: string): void {
  if (!(vector instanceof Float32Array) || vector.length !== dimension) {
    const got = vector instanceof Float32Array ? `${vector.length} dimensions` : typeof vector;
    throw new ValidationError(field, `expected a Float32Array of ${dimension} dimensions, got ${got}`);
  }
}

/** The error for a call on a store that is not open (never opened, or closed). */
export function notOpenError(name: string, closed: boolean): StoreError {
  return new StoreError(
    closed
      ? `the ${name} store is closed: create a new store to keep using it`
      : `the ${name} store is not open: call open({ embedder }) before using it`,
    { code: 'store_not_open' },
  );
}

/**
 * Validates the embedder passed to `open()` and, when the store instance is already open, checks it is the same.
 * @returns a copy to record.
 * @throws ValidationError for a malformed identity, EmbedderMismatchError for a different one.
 */
export function checkEmbedder(
  embedder: EmbedderIdentity,
  current: EmbedderIdentity | undefined,
): EmbedderIdentity {
  const { id, dimension } = embedder;
  if (typeof id !== 'string' || id.length === 0)
    throw new ValidationError('embedder.id', 'expected a string');
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new ValidationError('embedder.dimension', 'expected a positive integer');
  }
  if (current && (current.id !== id || current.dimension !== dimension)) {
    throw new EmbedderMismatchError(current, { id, dimension });
  }
  return { id, dimension };
}

/** `events` grouped by their memory id, each group in the order given (stores pass them oldest first). */
export function historyByMemory(events: Iterable<HistoryEvent>): Map<string, HistoryEvent[]> {
  const byMemory = new Map<string, HistoryEvent[]>();
  for (const event of events) {
    const list = byMemory.get(event.memoryId);
    if (list === undefined) byMemory.set(event.memoryId, [event]);
    else list.push(event);
  }
  return byMemory;
}

/** The scope columns of a row as a Scope (NULL columns absent). */
export function rowScope(row: {
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
}): Scope {
  const scope: Scope = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  if (row.app_id !== null) scope.appId = row.app_id;
  return scope;
}

/** A row of the `dead_letters` table (the same columns in SQLite and PostgreSQL). */
export interface DeadLetterRow {
  id: string;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
  payload: string;
  attempts: number;
  error: string;
  enqueued_at: string;
  failed_at: string;
}

/** A dead letter read from a `dead_letters` row. */
export function rowToDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    scope: rowScope(row),
    payload: JSON.parse(row.payload) as unknown,
    attempts: row.attempts,
    error: row.error,
    enqueuedAt: row.enqueued_at,
    failedAt: row.failed_at,
  };
}

/**
 * Applies the one rule for stored text (`assertStorableText` in core/validate.ts: no NUL, no lone surrogate) to
 * every string a batch of changes would write, before anything is written, so every store refuses the same input
 * with the same ValidationError.
 */
export function assertStorableChanges(changes: readonly MemoryChange[]): void {
  changes.forEach((change, index) => {
    const field = `changes[${index}]`;
    if (change.type === 'insert') assertStorableText(change.record, `${field}.record`);
    else {
      assertStorableText(change.id, `${field}.id`);
      assertStorableText(change.scope, `${field}.scope`);
      if (change.type === 'update') assertStorableText(change.patch, `${field}.patch`);
    }
    assertStorableText(change.event, `${field}.event`);
  });
}

/** The same rule for `restore`: each item's record and history. */
export function assertStorableItems(
  items: ReadonlyArray<{ record: MemoryRecord; history: HistoryEvent[] }>,
): void {
  items.forEach((item, index) => {
    assertStorableText(item.record, `items[${index}].record`);
    assertStorableText(item.history, `items[${index}].history`);
  });
}

/** The same rule for `enqueue`: the scope and every string of the payload. */
export function assertStorableQueueItem(options: { scope: Scope; payload: unknown }): void {
  assertStorableText(options.scope, 'scope');
  assertStorableText(options.payload, 'payload');
}

/**
 * What a memory's keyword entry must become after `patch` (its text and reply context, core/reply-context.ts
 * `keywordText`), or undefined when the patch leaves that text as it is (then the entry is not rewritten).
 * `metadata` is read only when the patch changes the text or the metadata.
 */
export function patchedKeywordText(
  current: { memory: string; metadata: () => Metadata },
  patch: MemoryPatch,
): string | undefined {
  if (patch.memory === undefined && patch.metadata === undefined) return undefined;
  const metadata = current.metadata();
  const before = keywordText({ memory: current.memory, metadata });
  const after = keywordText({ memory: patch.memory ?? current.memory, metadata: patch.metadata ?? metadata });
  return after === before ? undefined : after;
}
