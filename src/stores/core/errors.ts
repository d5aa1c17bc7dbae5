/**
 * The errors every store throws for the same situation, with the same message, whatever its engine:
 * - {@link notOpenError}: a call before `open()` or after `close()` (StoreError `store_not_open`);
 * - {@link memoryNotFound}: an id-addressed change to a missing or out-of-scope memory (NotFoundError; the
 *   message does not say which, so existence never leaks);
 * - {@link memoryExists}: an insert whose id is taken (StoreError `conflict`);
 * - {@link queueItemNotFound}, {@link completedItemNotFound}, {@link deadLetterNotFound}: queue ids that are gone.
 */
import { NotFoundError, StoreError } from '../../core/errors.js';
import type { Scope } from '../../core/types.js';

/** The error for a call on a store that is not open (never opened, or closed). */
export function notOpenError(name: string, closed: boolean): StoreError {
  return new StoreError(
    closed
      ? `the ${name} store is closed: create a new store to keep using it`
      : `the ${name} store is not open: call open({ embedder }) before using it`,
    { code: 'store_not_open' },
  );
}

/** A change addressed a memory that is missing, or outside `scope` when one was given. */
export function memoryNotFound(id: string, scope: Scope | undefined): NotFoundError {
  return new NotFoundError(`memory ${id} not found${scope ? ' in this scope' : ''}`);
}

/** An insert reused the id of an existing memory. */
export function memoryExists(id: string): StoreError {
  return new StoreError(`memory ${id} already exists: inserts need a new id`, { code: 'conflict' });
}

/** A queue operation named an item that is not queued. */
export function queueItemNotFound(id: string): NotFoundError {
  return new NotFoundError(`queue item ${id} not found`);
}

/** `apply({ completeQueueItem })` named an item that is not queued any more; the whole apply is refused. */
export function completedItemNotFound(id: string): NotFoundError {
  return new NotFoundError(
    `queue item ${id} not found (already completed, dropped or erased); nothing was applied`,
  );
}

/** A dead-letter operation named an unknown id. */
export function deadLetterNotFound(id: string): NotFoundError {
  return new NotFoundError(`dead letter ${id} not found`);
}
