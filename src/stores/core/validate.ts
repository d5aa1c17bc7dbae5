/**
 * Argument validation every store applies before its engine sees a call, so every backend refuses the same input
 * with the same ValidationError (naming the field and what to pass instead):
 * - scopes name at least one of userId / agentId / runId / appId, with string values ({@link assertScope});
 * - limits are positive integers ({@link assertLimit});
 * - vectors are Float32Arrays of the dimension the store was opened with ({@link assertDimension});
 * - an inserted memory has a scope and a vector of that dimension ({@link assertInsertable});
 * - every string a write would store passes `assertStorableText` (core/validate.ts: no NUL, no lone surrogate),
 *   checked for the whole batch before anything is written ({@link assertStorableChanges} and friends);
 * - the embedder given to `open()` is well-formed and, on an instance already open, the same
 *   ({@link checkEmbedder}; a different one is an EmbedderMismatchError).
 */
import { EmbedderMismatchError, ValidationError } from '../../core/errors.js';
import { pickScope } from '../../core/scope.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../../core/types.js';
import { SCOPE_KEYS } from '../../core/types.js';
import { assertStorableText } from '../../core/validate.js';
import type { EmbedderIdentity, MemoryChange } from '../types.js';
import { scopeEntries } from './visibility.js';

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

/** Checks an optional scope (id-addressed calls): absent, or a valid scope. */
export function assertOptionalScope(scope: Scope | undefined, field = 'scope'): void {
  if (scope !== undefined) assertScope(scope, field);
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

/** Checks a memory about to be inserted (by `apply` or `restore`) at `field`: its scope and its vector. */
export function assertInsertable(
  record: MemoryRecord,
  embedding: Float32Array,
  dimension: number,
  field: string,
): void {
  assertScope(pickScope(record), `${field}.record`);
  assertDimension(embedding, dimension, `${field}.embedding`);
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

/** The stored-text rule for every string a batch of changes would write. */
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
