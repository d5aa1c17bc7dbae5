/**
 * The durable ingestion queue in PostgreSQL. Items carry their scope (so `eraseScope` removes them) and a
 * lease: a claim sets `leased_until`, and only items whose lease has ended can be claimed again. Claims use
 * `FOR UPDATE SKIP LOCKED`, so workers on many servers claiming at once never block on, or double-claim, an item.
 * An item that failed past its retries moves to `dead_letters` (with its error) until requeued or deleted.
 */
import { randomUUID } from 'node:crypto';
import type { Scope } from '../../core/types.js';
import { type DeadLetterRow, rowToDeadLetter } from '../common.js';
import type { DeadLetter, QueueItem } from '../types.js';
import type { Queryable } from './pool.js';
import { QUEUE_COLUMNS, type QueueRow, rowToQueueItem } from './rows.js';
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
    [
      randomUUID(),
      scope.userId ?? null,
      scope.agentId ?? null,
      scope.runId ?? null,
      scope.appId ?? null,
      JSON.stringify(payload ?? null),
      now,
    ],
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
  const { rows } = await client.query<QueueRow & { seq: string }>(
    `UPDATE ${names.queue} q SET leased_until = $1 WHERE q.seq IN (
       SELECT seq FROM ${names.queue} WHERE available_at <= $2 AND (leased_until IS NULL OR leased_until <= $2)
       ${ids === undefined ? '' : 'AND id = ANY($4::text[])'}
       ORDER BY available_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING q.seq::text AS seq, ${QUEUE_COLUMNS.split(', ')
       .map((column) => `q.${column}`)
       .join(', ')}`,
    ids === undefined ? [leasedUntil, now, limit] : [leasedUntil, now, limit, [...ids]],
  );
  // RETURNING has no defined order.
  rows.sort((left, right) =>
    left.available_at === right.available_at
      ? Number(left.seq) - Number(right.seq)
      : left.available_at < right.available_at
        ? -1
        : 1,
  );
  return rows.map(rowToQueueItem);
}

/** Records a failed attempt and releases the lease. @returns the number of items changed (0 or 1). */
export async function failItem(
  client: Queryable,
  names: SchemaNames,
  id: string,
  error: string,
  retryAt: string,
): Promise<number> {
  const result = await client.query(
    `UPDATE ${names.queue} SET attempts = attempts + 1, last_error = $1, available_at = $2, leased_until = NULL
     WHERE id = $3`,
    [error, retryAt, id],
  );
  return result.rowCount ?? 0;
}

const DEAD_LETTER_COLUMNS =
  'id, user_id, agent_id, run_id, app_id, payload, attempts, error, enqueued_at, failed_at';

/** Moves an item from the queue to the dead letters with `reason` as its error, in one statement. @returns 0 or 1. */
export async function deadLetterItem(
  client: Queryable,
  names: SchemaNames,
  id: string,
  reason: string,
  now: string,
): Promise<number> {
  const result = await client.query(
    `WITH moved AS (DELETE FROM ${names.queue} WHERE id = $1
       RETURNING id, user_id, agent_id, run_id, app_id, payload, attempts, enqueued_at)
     INSERT INTO ${names.deadLetters} (${DEAD_LETTER_COLUMNS})
     SELECT id, user_id, agent_id, run_id, app_id, payload, attempts, $2, enqueued_at, $3 FROM moved`,
    [id, reason, now],
  );
  return result.rowCount ?? 0;
}

/** Dead letters, oldest first. */
export async function selectDeadLetters(
  client: Queryable,
  names: SchemaNames,
  limit: number,
): Promise<DeadLetter[]> {
  const { rows } = await client.query<DeadLetterRow>(
    `SELECT ${DEAD_LETTER_COLUMNS} FROM ${names.deadLetters} ORDER BY failed_at, seq LIMIT $1`,
    [limit],
  );
  return rows.map(rowToDeadLetter);
}

/** Moves a dead letter back into the queue as a fresh item claimable from `now`, in one statement. */
export async function requeueDeadLetter(
  client: Queryable,
  names: SchemaNames,
  id: string,
  now: string,
): Promise<QueueItem | undefined> {
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
}

/** Deletes a dead letter. @returns the number deleted (0 or 1). */
export async function deleteDeadLetterRow(
  client: Queryable,
  names: SchemaNames,
  id: string,
): Promise<number> {
  const result = await client.query(`DELETE FROM ${names.deadLetters} WHERE id = $1`, [id]);
  return result.rowCount ?? 0;
}

/** The item with `id` while it is queued, or null. */
export async function selectItem(
  client: Queryable,
  names: SchemaNames,
  id: string,
): Promise<QueueItem | null> {
  const { rows } = await client.query<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM ${names.queue} WHERE id = $1`, [
    id,
  ]);
  const [row] = rows;
  return row ? rowToQueueItem(row) : null;
}
