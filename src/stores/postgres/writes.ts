/**
 * The PostgreSQL store's write paths, run inside the caller's transaction: applying a change list (rows,
 * vectors, keyword tokens, history, queue completion), erasing a scope, restoring a scan. Any throw rolls the
 * whole transaction back. Rows addressed by id are locked (`FOR UPDATE`) before they change, so concurrent
 * writers to one memory serialize.
 */

import { randomUUID } from 'node:crypto';
import { NotFoundError, StoreError } from '../../core/errors.js';
import { pickScope } from '../../core/scope.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../../core/types.js';
import { assertDimension, assertScope, patchedKeywordText } from '../common.js';
import { type EraseTarget, eraseCondition, SqlConditions } from '../sql-filter.js';
import type { MemoryChange, MemoryPatch, NewHistoryEvent } from '../types.js';
import type { Queryable } from './pool.js';
import { findRow, storeDialect } from './reads.js';
import {
  keywordColumns,
  RECORD_INSERT_COLUMNS,
  RECORD_INSERT_TYPES,
  recordValues,
  rowScope,
  vectorToText,
} from './rows.js';
import type { SchemaNames, VectorNames } from './schema.js';

/** What the write paths need to know about the open store. */
export interface WriteContext {
  client: Queryable;
  names: SchemaNames;
  vector: VectorNames;
  dimension: number;
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
const INSERT_COLUMN_COUNT = RECORD_INSERT_COLUMNS.split(',').length;
const HISTORY_INSERT_COLUMNS =
  'id, memory_id, event, previous_value, new_value, reason, actor, related_id, created_at, user_id, agent_id, ' +
  'run_id, app_id';

/**
 * Applies `changes` in order, then deletes `completeQueueItem`.
 * @throws NotFoundError for a missing or out-of-scope target or queue item (the transaction rolls back).
 */
export async function applyChanges(
  context: WriteContext,
  changes: readonly MemoryChange[],
  completeQueueItem: string | undefined,
): Promise<void> {
  for (const [index, change] of changes.entries()) await applyChange(context, change, `changes[${index}]`);
  if (completeQueueItem !== undefined) {
    const deleted = await context.client.query(`DELETE FROM ${context.names.queue} WHERE id = $1`, [
      completeQueueItem,
    ]);
    if (deleted.rowCount === 0) {
      throw new NotFoundError(
        `queue item ${completeQueueItem} not found (already completed, dropped or erased); nothing was applied`,
      );
    }
  }
}

async function applyChange(context: WriteContext, change: MemoryChange, field: string): Promise<void> {
  const { client, names } = context;
  if (change.type === 'insert') {
    await insertMemory(context, change.record, change.embedding, field);
    await insertEvent(client, names, change.record.id, pickScope(change.record), change.event);
    return;
  }
  if (change.scope !== undefined) assertScope(change.scope, `${field}.scope`);
  const row = await findRow(client, names, change.id, change.scope, true);
  if (!row) throw new NotFoundError(`memory ${change.id} not found${change.scope ? ' in this scope' : ''}`);
  if (change.type === 'update') {
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown, cast = '') => {
      values.push(value);
      sets.push(`${column} = $${values.length}${cast}`);
    };
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof MemoryPatch, string]>) {
      const value = change.patch[key];
      if (value === undefined) continue;
      set(column, key === 'metadata' ? JSON.stringify(value) : value);
    }
    const indexed = patchedKeywordText({ memory: row.memory, metadata: () => row.metadata }, change.patch);
    if (indexed !== undefined) {
      const keyword = keywordColumns(indexed);
      set('keyword_tokens', keyword.tokens);
      set('keyword_length', keyword.length);
    }
    if (change.embedding !== undefined) {
      assertDimension(change.embedding, context.dimension, `${field}.embedding`);
      set('embedding', vectorToText(change.embedding), `::${context.vector.type}`);
    }
    if (sets.length > 0) {
      values.push(row.id);
      await client.query(
        `UPDATE ${names.memories} SET ${sets.join(', ')} WHERE id = $${values.length}`,
        values,
      );
    }
  } else if (change.type === 'delete') {
    await client.query(`DELETE FROM ${names.memories} WHERE id = $1`, [row.id]);
  }
  await insertEvent(client, names, row.id, rowScope(row), change.event);
}

/** Inserts a memory with its vector and keyword tokens. @throws StoreError when the id already exists. */
async function insertMemory(
  context: WriteContext,
  record: MemoryRecord,
  embedding: Float32Array,
  field: string,
): Promise<void> {
  assertScope(pickScope(record), `${field}.record`);
  assertDimension(embedding, context.dimension, `${field}.embedding`);
  const placeholders = Array.from({ length: INSERT_COLUMN_COUNT }, (_, index) => `$${index + 1}`).join(', ');
  const inserted = await context.client.query(
    `INSERT INTO ${context.names.memories} (${RECORD_INSERT_COLUMNS}, embedding)
     VALUES (${placeholders}, $${INSERT_COLUMN_COUNT + 1}::${context.vector.type})
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [...recordValues(record), vectorToText(embedding)],
  );
  if (inserted.rowCount === 0) {
    throw new StoreError(`memory ${record.id} already exists: inserts need a new id`, { code: 'conflict' });
  }
}

/** Appends a history event carrying the scope of its memory. */
async function insertEvent(
  client: Queryable,
  names: SchemaNames,
  memoryId: string,
  scope: Scope,
  event: NewHistoryEvent,
  id: string = randomUUID(),
): Promise<void> {
  await client.query(
    `INSERT INTO ${names.history} (${HISTORY_INSERT_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      id,
      memoryId,
      event.event,
      event.previousValue ?? null,
      event.newValue ?? null,
      event.reason ?? null,
      event.actor,
      event.relatedId ?? null,
      event.createdAt,
      scope.userId ?? null,
      scope.agentId ?? null,
      scope.runId ?? null,
      scope.appId ?? null,
    ],
  );
}

type ScopedId = {
  id: string;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  app_id: string | null;
};

/**
 * Erases the target's memories (rows with their vectors and keyword entries), strips the text of their history
 * and appends one ERASE tombstone per memory whose rows or text were erased. A scope erase also deletes the
 * scope's queue items and dead letters (they belong to a scope, not to one memory).
 * @returns the number of memory rows deleted and of ERASE tombstones written (0 when nothing was left to erase).
 */
export async function eraseRows(
  client: Queryable,
  names: SchemaNames,
  target: EraseTarget,
  now: string,
  actor: string,
): Promise<{ deleted: number; tombstones: number }> {
  const memories = new SqlConditions(storeDialect(names));
  const deleted = (
    await client.query<ScopedId>(
      `DELETE FROM ${names.memories} m WHERE ${eraseCondition(memories, target, 'm', 'id')}
       RETURNING m.id, m.user_id, m.agent_id, m.run_id, m.app_id`,
      memories.params,
    )
  ).rows;

  const history = new SqlConditions(storeDialect(names));
  const historyScope = eraseCondition(history, target, 'h', 'memory_id');
  const touched = (
    await client.query<ScopedId>(
      `SELECT DISTINCT ON (h.memory_id) h.memory_id AS id, h.user_id, h.agent_id, h.run_id, h.app_id
       FROM ${names.history} h WHERE ${historyScope}
       AND (h.previous_value IS NOT NULL OR h.new_value IS NOT NULL OR h.reason IS NOT NULL)
       ORDER BY h.memory_id, h.seq`,
      history.params,
    )
  ).rows;
  await client.query(
    `UPDATE ${names.history} h SET previous_value = NULL, new_value = NULL, reason = NULL WHERE ${historyScope}
     AND (h.previous_value IS NOT NULL OR h.new_value IS NOT NULL OR h.reason IS NOT NULL)`,
    history.params,
  );
  const tombstones = new Map<string, Scope>();
  for (const row of [...touched, ...deleted]) tombstones.set(row.id, rowScope(row));
  for (const [memoryId, memoryScope] of tombstones) {
    await insertEvent(client, names, memoryId, memoryScope, { event: 'ERASE', actor, createdAt: now });
  }

  if (target.id === undefined) {
    for (const table of [names.queue, names.deadLetters]) {
      const items = new SqlConditions(storeDialect(names));
      await client.query(
        `DELETE FROM ${table} q WHERE ${eraseCondition(items, target, 'q', 'id')}`,
        items.params,
      );
    }
  }
  return { deleted: deleted.length, tombstones: tombstones.size };
}

/**
 * Writes scanned items verbatim in two statements (memories, then their history), skipping ids that exist.
 * @returns how many memories were written.
 */
export async function restoreItems(
  context: WriteContext,
  items: ReadonlyArray<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>,
): Promise<number> {
  const { client, names, vector } = context;
  const firstById = new Map<string, (typeof items)[number]>();
  for (const [index, item] of items.entries()) {
    assertScope(pickScope(item.record), `items[${index}].record`);
    assertDimension(item.embedding, context.dimension, `items[${index}].embedding`);
    if (!firstById.has(item.record.id)) firstById.set(item.record.id, item);
  }
  const unique = [...firstById.values()];
  if (unique.length === 0) return 0;

  const columns: unknown[][] = Array.from({ length: INSERT_COLUMN_COUNT + 1 }, () => []);
  for (const item of unique) {
    [...recordValues(item.record), vectorToText(item.embedding)].forEach((value, index) => {
      columns[index]?.push(value);
    });
  }
  const insertColumns = RECORD_INSERT_COLUMNS.split(',').map((column) => column.trim());
  const arrays = [...RECORD_INSERT_TYPES, 'text'].map((type, index) => `$${index + 1}::${type}[]`).join(', ');
  const selected = [...insertColumns.map((column) => `t.${column}`), `t.embedding::${vector.type}`].join(
    ', ',
  );
  const inserted = (
    await client.query<{ id: string }>(
      `INSERT INTO ${names.memories} (${RECORD_INSERT_COLUMNS}, embedding)
       SELECT ${selected} FROM unnest(${arrays}) WITH ORDINALITY AS t(${insertColumns.join(', ')}, embedding, ordinal)
       ORDER BY t.ordinal
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      columns,
    )
  ).rows;
  const written = new Set(inserted.map((row) => row.id));

  const events: unknown[][] = Array.from({ length: 13 }, () => []);
  for (const item of unique) {
    if (!written.has(item.record.id)) continue;
    const scope = pickScope(item.record);
    for (const event of item.history) {
      [
        event.id,
        item.record.id,
        event.event,
        event.previousValue ?? null,
        event.newValue ?? null,
        event.reason ?? null,
        event.actor,
        event.relatedId ?? null,
        event.createdAt,
        scope.userId ?? null,
        scope.agentId ?? null,
        scope.runId ?? null,
        scope.appId ?? null,
      ].forEach((value, index) => {
        events[index]?.push(value);
      });
    }
  }
  if ((events[0]?.length ?? 0) > 0) {
    const historyColumns = HISTORY_INSERT_COLUMNS.split(',').map((column) => column.trim());
    await client.query(
      `INSERT INTO ${names.history} (${HISTORY_INSERT_COLUMNS})
       SELECT ${historyColumns.map((column) => `t.${column}`).join(', ')}
       FROM unnest(${historyColumns.map((_, index) => `$${index + 1}::text[]`).join(', ')})
         WITH ORDINALITY AS t(${historyColumns.join(', ')}, ordinal)
       ORDER BY t.ordinal
       ON CONFLICT (id) DO NOTHING`,
      events,
    );
  }
  return written.size;
}
