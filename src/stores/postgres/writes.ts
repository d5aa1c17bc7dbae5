/**
 * The PostgreSQL engine's write steps (`../core/engine.ts` `WriteSteps`), run by the core's programs inside the
 * store's transaction: memories (with their vector and keyword tokens in the same row), history, queue
 * completion, erasure, and a bulk restore. Any throw rolls the whole transaction back. Rows addressed by id are
 * locked (`FOR UPDATE`) before they change, so concurrent writers to one memory serialize.
 */

import type { WriteSteps } from '../core/engine.js';
import type { ScanItem } from '../core/results.js';
import {
  HISTORY_INSERT_COLUMNS,
  historyValues,
  patchAssignments,
  rowScope,
  type ScopeColumns,
  scopedIds,
} from '../core/rows.js';
import { eraseCondition, SqlConditions } from '../sql-filter.js';
import type { Queryable } from './pool.js';
import { findRow, storeDialect } from './reads.js';
import {
  keywordColumns,
  type PostgresMemoryRow,
  RECORD_INSERT_COLUMNS,
  RECORD_INSERT_TYPES,
  recordValues,
  vectorToText,
} from './rows.js';
import type { SchemaNames, VectorNames } from './schema.js';

/** What the write steps need: the transaction's client and the open store's names. */
export interface WriteContext {
  client: Queryable;
  names: SchemaNames;
  vector: VectorNames;
}

const INSERT_COLUMN_COUNT = RECORD_INSERT_COLUMNS.split(',').length;
const HISTORY_COLUMN_LIST = HISTORY_INSERT_COLUMNS.split(',').map((column) => column.trim());

/** Column arrays for an `unnest` bulk insert: `columns[i]` holds the i-th value of every row. */
function transpose(rows: ReadonlyArray<readonly unknown[]>, width: number): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) {
    for (const [index, value] of row.entries()) columns[index]?.push(value);
  }
  return columns;
}

/**
 * Writes checked scan items (distinct ids) verbatim in two statements, memories then their history, skipping ids
 * that exist. @returns how many memories were written.
 */
async function restoreBatch(context: WriteContext, items: readonly ScanItem[]): Promise<number> {
  const { client, names, vector } = context;
  const insertColumns = RECORD_INSERT_COLUMNS.split(',').map((column) => column.trim());
  const columns = transpose(
    items.map((item) => [...recordValues(item.record), vectorToText(item.embedding)]),
    INSERT_COLUMN_COUNT + 1,
  );
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

  const events = items
    .filter((item) => written.has(item.record.id))
    .flatMap((item) =>
      item.history.map((event) => historyValues({ ...event, memoryId: item.record.id }, item.record)),
    );
  if (events.length > 0) {
    await client.query(
      `INSERT INTO ${names.history} (${HISTORY_INSERT_COLUMNS})
       SELECT ${HISTORY_COLUMN_LIST.map((column) => `t.${column}`).join(', ')}
       FROM unnest(${HISTORY_COLUMN_LIST.map((_, index) => `$${index + 1}::text[]`).join(', ')})
         WITH ORDINALITY AS t(${HISTORY_COLUMN_LIST.join(', ')}, ordinal)
       ORDER BY t.ordinal
       ON CONFLICT (id) DO NOTHING`,
      transpose(events, HISTORY_COLUMN_LIST.length),
    );
  }
  return written.size;
}

/** The write steps on a transaction's client; a found row is its `memories` row, locked `FOR UPDATE`. */
export const postgresWrites: WriteSteps<WriteContext, PostgresMemoryRow> = {
  findForUpdate: (context, id, scope) => findRow(context.client, context.names, id, scope, true),

  current: (row) => ({ id: row.id, memory: row.memory, scope: rowScope(row), metadata: () => row.metadata }),

  async insert(context, record, embedding, keywordText) {
    const placeholders = Array.from({ length: INSERT_COLUMN_COUNT }, (_, index) => `$${index + 1}`).join(
      ', ',
    );
    const inserted = await context.client.query(
      `INSERT INTO ${context.names.memories} (${RECORD_INSERT_COLUMNS}, embedding)
       VALUES (${placeholders}, $${INSERT_COLUMN_COUNT + 1}::${context.vector.type})
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [...recordValues(record, keywordText), vectorToText(embedding)],
    );
    return inserted.rowCount !== 0;
  },

  /** One statement: the row's columns, keyword tokens and vector. */
  async update(context, row, update) {
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown, cast = '') => {
      values.push(value);
      sets.push(`${column} = $${values.length}${cast}`);
    };
    for (const [column, value] of patchAssignments(update.patch)) set(column, value);
    if (update.keywordText !== undefined) {
      const keyword = keywordColumns(update.keywordText);
      set('keyword_tokens', keyword.tokens);
      set('keyword_length', keyword.length);
    }
    if (update.embedding !== undefined) {
      set('embedding', vectorToText(update.embedding), `::${context.vector.type}`);
    }
    if (sets.length === 0) return;
    values.push(row.id);
    await context.client.query(
      `UPDATE ${context.names.memories} SET ${sets.join(', ')} WHERE id = $${values.length}`,
      values,
    );
  },

  /** The row, with its vector and keyword tokens (columns of it). */
  async remove(context, row) {
    await context.client.query(`DELETE FROM ${context.names.memories} WHERE id = $1`, [row.id]);
  },

  async appendEvent(context, event, scope) {
    await context.client.query(
      `INSERT INTO ${context.names.history} (${HISTORY_INSERT_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      historyValues(event, scope),
    );
  },

  async completeQueueItem(context, id) {
    const deleted = await context.client.query(`DELETE FROM ${context.names.queue} WHERE id = $1`, [id]);
    return deleted.rowCount !== 0;
  },

  async eraseMemories({ client, names }, target) {
    const memories = new SqlConditions(storeDialect(names));
    const { rows } = await client.query<ScopeColumns & { id: string }>(
      `DELETE FROM ${names.memories} m WHERE ${eraseCondition(memories, target, 'm', 'id')}
       RETURNING m.id, m.user_id, m.agent_id, m.run_id, m.app_id`,
      memories.params,
    );
    return scopedIds(rows);
  },

  async stripHistory({ client, names }, target) {
    const history = new SqlConditions(storeDialect(names));
    const historyScope = eraseCondition(history, target, 'h', 'memory_id');
    const { rows } = await client.query<ScopeColumns & { id: string }>(
      `SELECT DISTINCT ON (h.memory_id) h.memory_id AS id, h.user_id, h.agent_id, h.run_id, h.app_id
       FROM ${names.history} h WHERE ${historyScope}
       AND (h.previous_value IS NOT NULL OR h.new_value IS NOT NULL OR h.reason IS NOT NULL)
       ORDER BY h.memory_id, h.seq`,
      history.params,
    );
    await client.query(
      `UPDATE ${names.history} h SET previous_value = NULL, new_value = NULL, reason = NULL WHERE ${historyScope}
       AND (h.previous_value IS NOT NULL OR h.new_value IS NOT NULL OR h.reason IS NOT NULL)`,
      history.params,
    );
    return scopedIds(rows);
  },

  async eraseQueue({ client, names }, scope) {
    for (const table of [names.queue, names.deadLetters]) {
      const items = new SqlConditions(storeDialect(names));
      await client.query(
        `DELETE FROM ${table} q WHERE ${eraseCondition(items, { scope }, 'q', 'id')}`,
        items.params,
      );
    }
  },

  restore: { batch: restoreBatch },
};
