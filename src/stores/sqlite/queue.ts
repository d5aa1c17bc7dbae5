/**
 * The durable ingestion queue in SQLite. Items carry their scope (so `eraseScope` removes them) and a lease:
 * a claim sets `leased_until`, and only items whose lease has ended can be claimed again. An item that failed
 * past its retries moves to `dead_letters` (with its error) until it is requeued or deleted.
 */
import { randomUUID } from 'node:crypto';
import type { Scope } from '../../core/types.js';
import type { QueueEngine } from '../core/engine.js';
import {
  DEAD_LETTER_COLUMNS,
  type DeadLetterRow,
  type QueueRow,
  rowToDeadLetter,
  rowToQueueItem,
  sortClaimed,
} from '../core/queue-rows.js';
import { scopeValues } from '../core/rows.js';
import type { QueueItem } from '../types.js';
import type { Prepare } from './writes.js';

/** Inserts an item, claimable from `now`. */
export function enqueueItem(prepare: Prepare, scope: Scope, payload: unknown, now: string): QueueItem {
  const row = prepare(
    `INSERT INTO queue (id, user_id, agent_id, run_id, app_id, payload, enqueued_at, available_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  ).get(randomUUID(), ...scopeValues(scope), JSON.stringify(payload ?? null), now, now) as QueueRow;
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
  return sortClaimed(rows);
}

/** Runs `operation` on the store's prepared statements (a read, or a `BEGIN IMMEDIATE` transaction). */
export type RunOnConnection = <T>(action: string, operation: (prepare: Prepare) => T) => Promise<T>;

/** The queue operations, each a read or one write transaction (moving an item takes two statements). */
export function sqliteQueue(read: RunOnConnection, write: RunOnConnection): QueueEngine {
  return {
    enqueue: (scope, payload, now) =>
      write('enqueue', (prepare) => enqueueItem(prepare, scope, payload, now)),
    claim: (limit, now, leasedUntil, ids) =>
      write('claimQueue', (prepare) => claimItems(prepare, limit, now, leasedUntil, ids)),
    fail: (id, error, retryAt) =>
      write(
        'failQueueItem',
        (prepare) =>
          prepare(
            `UPDATE queue SET attempts = attempts + 1, last_error = ?, available_at = ?, leased_until = NULL
             WHERE id = ?`,
          ).run(error, retryAt, id).changes > 0,
      ),
    deadLetter: (id, reason, now) =>
      write('dropQueueItem', (prepare) => {
        prepare(
          `INSERT INTO dead_letters (${DEAD_LETTER_COLUMNS})
           SELECT id, user_id, agent_id, run_id, app_id, payload, attempts, ?, enqueued_at, ? FROM queue WHERE id = ?`,
        ).run(reason, now, id);
        return prepare('DELETE FROM queue WHERE id = ?').run(id).changes > 0;
      }),
    get: (id) =>
      read('getQueueItem', (prepare) => {
        const row = prepare('SELECT * FROM queue WHERE id = ?').get(id) as QueueRow | undefined;
        return row ? rowToQueueItem(row) : null;
      }),
    deadLetters: (limit) =>
      read('listDeadLetters', (prepare) =>
        (
          prepare('SELECT * FROM dead_letters ORDER BY failed_at, seq LIMIT ?').all(limit) as DeadLetterRow[]
        ).map(rowToDeadLetter),
      ),
    requeue: (id, now) =>
      write('retryDeadLetter', (prepare) => {
        const row = prepare(
          `INSERT INTO queue (id, user_id, agent_id, run_id, app_id, payload, enqueued_at, available_at)
           SELECT id, user_id, agent_id, run_id, app_id, payload, enqueued_at, ? FROM dead_letters WHERE id = ?
           RETURNING *`,
        ).get(now, id) as QueueRow | undefined;
        if (row === undefined) return undefined;
        prepare('DELETE FROM dead_letters WHERE id = ?').run(id);
        return rowToQueueItem(row);
      }),
    deleteDeadLetter: (id) =>
      write(
        'deleteDeadLetter',
        (prepare) => prepare('DELETE FROM dead_letters WHERE id = ?').run(id).changes > 0,
      ),
    size: () =>
      read('queueSize', (prepare) => (prepare('SELECT COUNT(*) AS n FROM queue').get() as { n: number }).n),
  };
}
