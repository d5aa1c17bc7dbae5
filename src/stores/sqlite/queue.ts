/**
 * The durable ingestion queue in SQLite. Items carry their scope (so `eraseScope` removes them) and a lease:
 * a claim sets `leased_until`, and only items whose lease has ended can be claimed again.
 */
import { randomUUID } from 'node:crypto';
import type { Scope } from '../../core/types.js';
import type { QueueItem } from '../types.js';
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

/** Leases up to `limit` available items until `leasedUntil`, oldest available first. */
export function claimItems(prepare: Prepare, limit: number, now: string, leasedUntil: string): QueueItem[] {
  const rows = prepare(
    `UPDATE queue SET leased_until = ? WHERE seq IN (
       SELECT seq FROM queue WHERE available_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
       ORDER BY available_at, seq LIMIT ?)
     RETURNING *`,
  ).all(leasedUntil, now, now, limit) as QueueRow[];
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

/** Deletes an item. @returns the number of items deleted (0 or 1). */
export function dropItem(prepare: Prepare, id: string): number {
  return prepare('DELETE FROM queue WHERE id = ?').run(id).changes;
}

/** The item with `id` while it is queued, or null. */
export function selectItem(prepare: Prepare, id: string): QueueItem | null {
  const row = prepare('SELECT * FROM queue WHERE id = ?').get(id) as QueueRow | undefined;
  return row ? rowToQueueItem(row) : null;
}
