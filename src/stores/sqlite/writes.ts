/**
 * The SQLite engine's write steps (`../core/engine.ts` `WriteSteps`), run by the core's programs inside the
 * store's `BEGIN IMMEDIATE` transaction: memories with their vector (`memory_vectors`, by `seq`) and FTS5 entry
 * (`memory_fts`, rowid = `seq`), history, queue completion, erasure, and the look-ups of an item-by-item restore.
 * Any throw rolls the whole transaction back.
 */

import type Database from 'better-sqlite3';
import type { Scope } from '../../core/types.js';
import type { WriteSteps } from '../core/engine.js';
import {
  HISTORY_INSERT_COLUMNS,
  historyValues,
  patchAssignments,
  RECORD_COLUMNS,
  recordValues,
  rowMetadata,
  rowScope,
  type ScopeColumns,
  scopedIds,
} from '../core/rows.js';
import { eraseCondition, SqlConditions, sqliteDialect } from '../sql-filter.js';
import { keywordScopeColumn, MEMORY_COLUMNS, type SqliteMemoryRow, vectorToBlob } from './rows.js';

/** Returns a prepared (cached) statement for `sql` on the store's connection. */
export type Prepare = (sql: string) => Database.Statement;

const RECORD_INSERT_COLUMNS = RECORD_COLUMNS.join(', ');
const INSERT_PLACEHOLDERS = RECORD_COLUMNS.map(() => '?').join(', ');

/** The memory row with `id` (inside `scope` when given), or undefined. */
export function findRow(prepare: Prepare, id: string, scope: Scope | undefined): SqliteMemoryRow | undefined {
  const conditions = new SqlConditions(sqliteDialect);
  let sql = `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.id = ${conditions.bind(id)}`;
  if (scope !== undefined) sql += ` AND ${conditions.scope(scope)}`;
  return prepare(sql).get(...conditions.params) as SqliteMemoryRow | undefined;
}

function memoryExists(prepare: Prepare, id: string): boolean {
  return prepare('SELECT 1 FROM memories WHERE id = ?').get(id) !== undefined;
}

/**
 * Records that the `memory_fts` rows of `seqs` (or, with `where`, of the memories matching that SQL condition
 * over alias `m`) were written or deleted in the current transaction. Call beside every write to `memory_fts`: the
 * keyword mirror (`keyword-mirror.ts`) of every process reads them to stay current.
 */
export function noteKeywordChanges(
  prepare: Prepare,
  seqs: readonly number[] | { where: string; params: readonly unknown[] },
): void {
  const next = '(SELECT COALESCE(MAX(generation), 0) + 1 FROM keyword_changes)';
  const upsert = 'ON CONFLICT (seq) DO UPDATE SET generation = excluded.generation';
  if (Array.isArray(seqs)) {
    const statement = prepare(`INSERT INTO keyword_changes (seq, generation) VALUES (?, ${next}) ${upsert}`);
    for (const seq of seqs) statement.run(seq);
    return;
  }
  const { where, params } = seqs as { where: string; params: readonly unknown[] };
  // WHERE true: SQLite's parser needs it to tell an upsert's ON CONFLICT from a join's ON.
  prepare(
    `INSERT INTO keyword_changes (seq, generation) SELECT m.seq, ${next} FROM memories m WHERE ${where} ${upsert}`,
  ).run(...params);
}

/** The write steps on a connection's prepared statements; a found row is its `memories` row (with `seq`). */
export const sqliteWrites: WriteSteps<Prepare, SqliteMemoryRow> = {
  findForUpdate: findRow,

  current: (row) => ({
    id: row.id,
    memory: row.memory,
    scope: rowScope(row),
    metadata: () => rowMetadata(row),
  }),

  insert(prepare, record, embedding, keywordText) {
    if (memoryExists(prepare, record.id)) return false;
    const { seq } = prepare(
      `INSERT INTO memories (${RECORD_INSERT_COLUMNS}) VALUES (${INSERT_PLACEHOLDERS}) RETURNING seq`,
    ).get(...recordValues(record)) as { seq: number };
    prepare('INSERT INTO memory_vectors (seq, embedding) VALUES (?, ?)').run(seq, vectorToBlob(embedding));
    prepare('INSERT INTO memory_fts (rowid, memory, scope) VALUES (?, ?, ?)').run(
      seq,
      keywordText,
      keywordScopeColumn(record, record.kind),
    );
    noteKeywordChanges(prepare, [seq]);
    return true;
  },

  /** The row's columns, then its keyword entry and vector when they change. */
  update(prepare, row, update) {
    const assignments = patchAssignments(update.patch);
    if (assignments.length > 0) {
      const sets = assignments.map(([column]) => `${column} = ?`).join(', ');
      prepare(`UPDATE memories SET ${sets} WHERE seq = ?`).run(
        ...assignments.map(([, value]) => value),
        row.seq,
      );
    }
    const newKind =
      update.patch.kind !== undefined && update.patch.kind !== row.kind ? update.patch.kind : undefined;
    if (update.keywordText !== undefined) {
      prepare('UPDATE memory_fts SET memory = ? WHERE rowid = ?').run(update.keywordText, row.seq);
    }
    if (newKind !== undefined) {
      prepare('UPDATE memory_fts SET scope = ? WHERE rowid = ?').run(
        keywordScopeColumn(rowScope(row), newKind),
        row.seq,
      );
    }
    if (update.keywordText !== undefined || newKind !== undefined) noteKeywordChanges(prepare, [row.seq]);
    if (update.embedding !== undefined) {
      prepare('UPDATE memory_vectors SET embedding = ? WHERE seq = ?').run(
        vectorToBlob(update.embedding),
        row.seq,
      );
    }
  },

  /** The row and its keyword entry (its vector goes by cascade). */
  remove(prepare, row) {
    prepare('DELETE FROM memory_fts WHERE rowid = ?').run(row.seq);
    noteKeywordChanges(prepare, [row.seq]);
    prepare('DELETE FROM memories WHERE seq = ?').run(row.seq);
  },

  appendEvent(prepare, event, scope) {
    prepare(
      `INSERT INTO history (${HISTORY_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...historyValues(event, scope));
  },

  completeQueueItem: (prepare, id) => prepare('DELETE FROM queue WHERE id = ?').run(id).changes > 0,

  eraseMemories(prepare, target) {
    const memories = new SqlConditions(sqliteDialect);
    const memoryScope = eraseCondition(memories, target, 'm', 'id');
    const rows = prepare(
      `SELECT m.id, m.user_id, m.agent_id, m.run_id, m.app_id FROM memories m WHERE ${memoryScope}`,
    ).all(...memories.params) as Array<ScopeColumns & { id: string }>;
    prepare(`DELETE FROM memory_fts WHERE rowid IN (SELECT m.seq FROM memories m WHERE ${memoryScope})`).run(
      ...memories.params,
    );
    noteKeywordChanges(prepare, { where: memoryScope, params: memories.params });
    prepare(`DELETE FROM memories AS m WHERE ${memoryScope}`).run(...memories.params);
    // No FTS5 'optimize' needed: the index was created with 'secure-delete', which removes a deleted row's
    // tokens from the index at once (an 'optimize' would rewrite the whole index, every user's).
    return scopedIds(rows);
  },

  stripHistory(prepare, target) {
    const history = new SqlConditions(sqliteDialect);
    const historyScope = eraseCondition(history, target, 'h', 'memory_id');
    const touched = prepare(
      `SELECT h.memory_id AS id, h.user_id, h.agent_id, h.run_id, h.app_id FROM history h WHERE ${historyScope}
       AND (h.previous_value IS NOT NULL OR h.new_value IS NOT NULL OR h.reason IS NOT NULL) GROUP BY h.memory_id`,
    ).all(...history.params) as Array<ScopeColumns & { id: string }>;
    prepare(
      `UPDATE history AS h SET previous_value = NULL, new_value = NULL, reason = NULL WHERE ${historyScope}`,
    ).run(...history.params);
    return scopedIds(touched);
  },

  eraseQueue(prepare, scope) {
    for (const table of ['queue', 'dead_letters']) {
      const items = new SqlConditions(sqliteDialect);
      prepare(`DELETE FROM ${table} AS q WHERE ${eraseCondition(items, { scope }, 'q', 'id')}`).run(
        ...items.params,
      );
    }
  },

  restore: {
    memoryExists,
    eventExists: (prepare, id) => prepare('SELECT 1 FROM history WHERE id = ?').get(id) !== undefined,
  },
};
