/**
 * The durable ingestion queue in SQLite. Items carry their scope (so `eraseScope` removes them) and a lease:
 * a claim sets `leased_until`, and only items whose lease has ended can be claimed again. An item that failed
 * past its retries moves to `dead_letters` (with its error) until it is requeued or deleted.
 */
import { randomUUID } from 'node:crypto';
import type { Scope } from '../../core/types.js';
import { type DeadLetterRow, rowToDeadLetter } from '../common.js';
import type { DeadLetter, QueueItem } from '../types.js';
import { type QueueRow, rowToQueueItem } from './rows.js';
import type { Prepare } from './writes.js';

/** Inserts an item, claimable from `now`. */
export function enqueueItem(prepare: Prepare, scope: Scope, payload: unknown, now: string): QueueItem {
  const row = prepare(
    `INSERT INTO queue (id, user_id, agent_id, run_id, app_id, payload, enqueued_at, available_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  ).get(
    randomUUID(),
    scope.userId ?? null,
    scope.agentId ?? null,
    scope.runId ?? null,
    scope.appId ?? null,
    JSON.stringify(payload ?? null),
    now,
    now,
  ) as QueueRow;
  return rowToQueueItem(row);
}

/** Leases up to `limit` available items (among `ids`, when given) until `leasedUntil`, oldest available first. */
export function claimItems(
  prepare: Prepare,
  limit: number,
  now: string,
  leasedUntil: string,
  ids: readonly string[] | undefined,
): QueueItem[] {
  const among = ids === undefined ? '' : 'AND id IN (SELECT value FROM json_each(?))';
  const rows = prepare(
    `UPDATE queue SET leased_until = ? WHERE seq IN (
       SELECT seq FROM queue WHERE available_at <= ? AND (leased_until IS NULL OR leased_until <= ?) ${among}
       ORDER BY available_at, seq LIMIT ?)
     RETURNING *`,
  ).all(leasedUntil, now, now, ...(ids === undefined ? [] : [JSON.stringify(ids)]), limit) as QueueRow[];
  // RETURNING has no defined order.
  rows.sort((left, right) =>
    left.available_at === right.available_at
      ? left.seq - right.seq
      : left.available_at < right.available_at
        ? -1
        : 1,
  );
  return rows.map(rowToQueueItem);
}

/** Records a failed attempt and releases the lease. @returns the number of items changed (0 or 1). */
export function failItem(prepare: Prepare, id: string, error: string, retryAt: string): number {
  return prepare(
    `UPDATE queue SET attempts = attempts + 1, last_error = ?, available_at = ?, leased_until = NULL
     WHERE id = ?`,
  ).run(error, retryAt, id).changes;
}

/**
 * Moves an item from the queue to `dead_letters` with `reason` as its error (run inside the caller's
 * transaction). @returns the number of items moved (0 or 1).
 */
export function deadLetterItem(prepare: Prepare, id: string, reason: string, now: string): number {
  prepare(
    `INSERT INTO dead_letters (id, user_id, agent_id, run_id, app_id, payload, attempts, error, enqueued_at, failed_at)
     SELECT id, user_id, agent_id, run_id, app_id, payload, attempts, ?, enqueued_at, ? FROM queue WHERE id = ?`,
  ).run(reason, now, id);
  return prepare('DELETE FROM queue WHERE id = ?').run(id).changes;
}

/** The item with `id` while it is queued, or null. */
export function selectItem(prepare: Prepare, id: string): QueueItem | null {
  const row = prepare('SELECT * FROM queue WHERE id = ?').get(id) as QueueRow | undefined;
  return row ? rowToQueueItem(row) : null;
}

/** Dead letters, oldest first. */
export function selectDeadLetters(prepare: Prepare, limit: number): DeadLetter[] {
  const rows = prepare('SELECT * FROM dead_letters ORDER BY failed_at, seq LIMIT ?').all(
    limit,
  ) as DeadLetterRow[];
  return rows.map(rowToDeadLetter);
}

/**
 * Moves a dead letter back into the queue as a fresh item claimable from `now` (inside the caller's
 * transaction). @returns the item, or undefined for an unknown id.
 */
export function requeueDeadLetter(prepare: Prepare, id: string, now: string): QueueItem | undefined {
  const row = prepare(
    `INSERT INTO queue (id, user_id, agent_id, run_id, app_id, payload, enqueued_at, available_at)
     SELECT id, user_id, agent_id, run_id, app_id, payload, enqueued_at, ? FROM dead_letters WHERE id = ?
     RETURNING *`,
  ).get(now, id) as QueueRow | undefined;
  if (row === undefined) return undefined;
  prepare('DELETE FROM dead_letters WHERE id = ?').run(id);
  return rowToQueueItem(row);
}

/** Deletes a dead letter. @returns the number deleted (0 or 1). */
export function deleteDeadLetterRow(prepare: Prepare, id: string): number {
  return prepare('DELETE FROM dead_letters WHERE id = ?').run(id).changes;
}
