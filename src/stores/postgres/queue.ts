/**
 * The durable ingestion queue in PostgreSQL. Items carry their scope (so `eraseScope` removes them) and a
 * lease: a claim sets `leased_until`, and only items whose lease has ended can be claimed again. Claims use
 * `FOR UPDATE SKIP LOCKED`, so workers on many servers claiming at once never block on, or double-claim, an item.
 * An item that failed past its retries moves to `dead_letters` (with its error) until requeued or deleted.
 */
import { randomUUID } from 'node:crypto';
import type { Scope } from '../../core/types.js';
import type { QueueEngine } from '../core/engine.js';
import {
  DEAD_LETTER_COLUMNS,
  type DeadLetterRow,
  QUEUE_COLUMNS,
  type QueueRow,
  rowToDeadLetter,
  rowToQueueItem,
  sortClaimed,
} from '../core/queue-rows.js';
import { scopeValues } from '../core/rows.js';
import type { QueueItem } from '../types.js';
import type { Queryable } from './pool.js';
import type { SchemaNames } from './schema.js';

/** Inserts an item, claimable from `now`. */
export async function enqueueItem(
  client: Queryable,
  names: SchemaNames,
  scope: Scope,
  payload: unknown,
  now: string,
): Promise<QueueItem> {
  const { rows } = await client.query<QueueRow>(
    `INSERT INTO ${names.queue} (id, user_id, agent_id, run_id, app_id, payload, enqueued_at, available_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${QUEUE_COLUMNS}`,
    [randomUUID(), ...scopeValues(scope), JSON.stringify(payload ?? null), now],
  );
  const [row] = rows;
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return rowToQueueItem(row);
}

/** Leases up to `limit` available items (among `ids`, when given) until `leasedUntil`, oldest available first. */
export async function claimItems(
  client: Queryable,
  names: SchemaNames,
  limit: number,
  now: string,
  leasedUntil: string,
  ids: readonly string[] | undefined,
): Promise<QueueItem[]> {
  const { rows } = await client.query<QueueRow>(
    `UPDATE ${names.queue} q SET leased_until = $1 WHERE q.seq IN (
       SELECT seq FROM ${names.queue} WHERE available_at <= $2 AND (leased_until IS NULL OR leased_until <= $2)
       ${ids === undefined ? '' : 'AND id = ANY($4::text[])'}
       ORDER BY available_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING q.seq::text AS seq, ${QUEUE_COLUMNS.split(', ')
       .map((column) => `q.${column}`)
       .join(', ')}`,
    ids === undefined ? [leasedUntil, now, limit] : [leasedUntil, now, limit, [...ids]],
  );
  return sortClaimed(rows);
}

/** Runs `work` on one pooled connection, outside an explicit transaction. */
export type RunOnClient = <T>(action: string, work: (client: Queryable) => Promise<T>) => Promise<T>;

/** Whether a statement changed a row. */
async function changedRow(client: Queryable, sql: string, values: readonly unknown[]): Promise<boolean> {
  return ((await client.query(sql, values)).rowCount ?? 0) > 0;
}

/** The queue operations of the tables in `names`, each ONE statement (atomic without a transaction). */
export function postgresQueue(names: SchemaNames, run: RunOnClient): QueueEngine {
  return {
    enqueue: (scope, payload, now) =>
      run('enqueue', (client) => enqueueItem(client, names, scope, payload, now)),
    claim: (limit, now, leasedUntil, ids) =>
      run('claimQueue', (client) => claimItems(client, names, limit, now, leasedUntil, ids)),
    fail: (id, error, retryAt) =>
      run('failQueueItem', (client) =>
        changedRow(
          client,
          `UPDATE ${names.queue} SET attempts = attempts + 1, last_error = $1, available_at = $2, leased_until = NULL
           WHERE id = $3`,
          [error, retryAt, id],
        ),
      ),
    // Moves the item to the dead letters with `reason` as its error.
    deadLetter: (id, reason, now) =>
      run('dropQueueItem', (client) =>
        changedRow(
          client,
          `WITH moved AS (DELETE FROM ${names.queue} WHERE id = $1
             RETURNING id, user_id, agent_id, run_id, app_id, payload, attempts, enqueued_at)
           INSERT INTO ${names.deadLetters} (${DEAD_LETTER_COLUMNS})
           SELECT id, user_id, agent_id, run_id, app_id, payload, attempts, $2, enqueued_at, $3 FROM moved`,
          [id, reason, now],
        ),
      ),
    get: (id) =>
      run('getQueueItem', async (client) => {
        const { rows } = await client.query<QueueRow>(
          `SELECT ${QUEUE_COLUMNS} FROM ${names.queue} WHERE id = $1`,
          [id],
        );
        const [row] = rows;
        return row ? rowToQueueItem(row) : null;
      }),
    deadLetters: (limit) =>
      run('listDeadLetters', async (client) => {
        const { rows } = await client.query<DeadLetterRow>(
          `SELECT ${DEAD_LETTER_COLUMNS} FROM ${names.deadLetters} ORDER BY failed_at, seq LIMIT $1`,
          [limit],
        );
        return rows.map(rowToDeadLetter);
      }),
    // Moves the dead letter back into the queue as a fresh item claimable from `now`.
    requeue: (id, now) =>
      run('retryDeadLetter', async (client) => {
        const { rows } = await client.query<QueueRow>(
          `WITH moved AS (DELETE FROM ${names.deadLetters} WHERE id = $1
             RETURNING id, user_id, agent_id, run_id, app_id, payload, enqueued_at)
           INSERT INTO ${names.queue} (id, user_id, agent_id, run_id, app_id, payload, enqueued_at, available_at)
           SELECT id, user_id, agent_id, run_id, app_id, payload, enqueued_at, $2 FROM moved
           RETURNING ${QUEUE_COLUMNS}`,
          [id, now],
        );
        const [row] = rows;
        return row === undefined ? undefined : rowToQueueItem(row);
      }),
    deleteDeadLetter: (id) =>
      run('deleteDeadLetter', (client) =>
        changedRow(client, `DELETE FROM ${names.deadLetters} WHERE id = $1`, [id]),
      ),
    size: () =>
      run('queueSize', async (client) => {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::integer AS n FROM ${names.queue}`,
        );
        return rows[0]?.n ?? 0;
      }),
  };
}
