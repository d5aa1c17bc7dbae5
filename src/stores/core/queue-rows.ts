/**
 * The durable queue's row codec and claim bookkeeping, shared by the SQL engines.
 *
 * Tables (the same columns in SQLite and PostgreSQL):
 * - `queue`: one row per waiting, leased or retrying item: its scope columns (so a scope erase removes it), the
 *   JSON `payload`, `attempts`, `last_error`, `enqueued_at`, `available_at` (not claimable before) and
 *   `leased_until` (claimed until; claimable again once it has passed), ordered by an increasing `seq`.
 * - `dead_letters`: items that failed past their retries, with the `error` that ended them and `failed_at`.
 * A claim leases the oldest available items (`available_at`, then `seq`); `RETURNING` has no defined order, so
 * claimed rows are put back in that order by {@link sortClaimed}.
 */
import type { DeadLetter, QueueItem } from '../types.js';
import { rowScope, type ScopeColumns } from './rows.js';

/** The columns of `queue` read into an item. */
export const QUEUE_COLUMNS =
  'id, user_id, agent_id, run_id, app_id, payload, attempts, last_error, enqueued_at, available_at';

/** The columns of `dead_letters` read into a dead letter (and written when an item is dead-lettered). */
export const DEAD_LETTER_COLUMNS =
  'id, user_id, agent_id, run_id, app_id, payload, attempts, error, enqueued_at, failed_at';

/** A row of `queue` (`seq` when selected: a number in SQLite, text in PostgreSQL). */
export interface QueueRow extends ScopeColumns {
  seq?: number | string;
  id: string;
  payload: string;
  attempts: number;
  last_error: string | null;
  enqueued_at: string;
  available_at: string;
}

/** A row of `dead_letters`. */
export interface DeadLetterRow extends ScopeColumns {
  id: string;
  payload: string;
  attempts: number;
  error: string;
  enqueued_at: string;
  failed_at: string;
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

/** Compares two claimable items: oldest `availableAt` first, then the order they were queued in. */
export function claimOrder(
  left: { availableAt: string; sequence: number },
  right: { availableAt: string; sequence: number },
): number {
  if (left.availableAt !== right.availableAt) return left.availableAt < right.availableAt ? -1 : 1;
  return left.sequence - right.sequence;
}

/** Claimed rows (which must include `seq`) as items, in claim order. */
export function sortClaimed(rows: QueueRow[]): QueueItem[] {
  const ordered = rows
    .map((row) => ({ row, availableAt: row.available_at, sequence: Number(row.seq) }))
    .sort(claimOrder);
  return ordered.map((entry) => rowToQueueItem(entry.row));
}
