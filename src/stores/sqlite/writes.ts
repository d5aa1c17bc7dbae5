/**
 * The SQLite store's write paths, run inside the caller's `BEGIN IMMEDIATE` transaction: applying a change
 * list (rows, vectors, keyword entries, history, queue completion), erasing a scope, restoring a scan.
 * Any throw rolls the whole transaction back.
 */

import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { NotFoundError, StoreError } from '../../core/errors.js';
import { keywordText } from '../../core/reply-context.js';
import { pickScope } from '../../core/scope.js';
import type { HistoryEvent, MemoryRecord, Metadata, Scope } from '../../core/types.js';
import { assertDimension, assertScope, patchedKeywordText } from '../common.js';
import { type EraseTarget, eraseCondition, SqlConditions, sqliteDialect } from '../sql-filter.js';
import type { MemoryChange, MemoryPatch, NewHistoryEvent } from '../types.js';
import {
  HISTORY_COLUMNS,
  MEMORY_COLUMNS,
  type MemoryRow,
  RECORD_INSERT_COLUMNS,
  recordValues,
  rowScope,
  scopeTokens,
  vectorToBlob,
} from './rows.js';

/** Returns a prepared (cached) statement for `sql` on the store's connection. */
export type Prepare = (sql: string) => Database.Statement;

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
const INSERT_PLACEHOLDERS = RECORD_INSERT_COLUMNS.split(',')
  .map(() => '?')
  .join(', ');

/** The memory row with `id` (inside `scope` when given), or undefined. */
export function findRow(prepare: Prepare, id: string, scope: Scope | undefined): MemoryRow | undefined {
  const conditions = new SqlConditions(sqliteDialect);
  let sql = `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.id = ${conditions.bind(id)}`;
  if (scope !== undefined) {
    assertScope(scope);
    sql += ` AND ${conditions.scope(scope)}`;
  }
  return prepare(sql).get(...conditions.params) as MemoryRow | undefined;
}

/**
 * Applies `changes` in order, then deletes `completeQueueItem`.
 * @throws NotFoundError for a missing or out-of-scope target or queue item (the caller's transaction rolls back).
 */
export function applyChanges(
  prepare: Prepare,
  changes: readonly MemoryChange[],
  dimension: number,
  completeQueueItem: string | undefined,
): void {
  for (const [index, change] of changes.entries())
    applyChange(prepare, change, dimension, `changes[${index}]`);
  if (
    completeQueueItem !== undefined &&
    prepare('DELETE FROM queue WHERE id = ?').run(completeQueueItem).changes === 0
  ) {
    throw new NotFoundError(
      `queue item ${completeQueueItem} not found (already completed, dropped or erased); nothing was applied`,
    );
  }
}

function applyChange(prepare: Prepare, change: MemoryChange, dimension: number, field: string): void {
  if (change.type === 'insert') {
    insertMemory(prepare, change.record, change.embedding, dimension, field);
    insertEvent(prepare, change.record.id, pickScope(change.record), change.event);
    return;
  }
  const row = findRow(prepare, change.id, change.scope);
  if (!row) throw new NotFoundError(`memory ${change.id} not found${change.scope ? ' in this scope' : ''}`);
  if (change.type === 'update') {
    const sets: string[] = [];
    const values: Array<string | null> = [];
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof MemoryPatch, string]>) {
      const value = change.patch[key];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(key === 'metadata' ? JSON.stringify(value) : (value as string | null));
    }
    if (sets.length > 0)
      prepare(`UPDATE memories SET ${sets.join(', ')} WHERE seq = ?`).run(...values, row.seq);
    const indexed = patchedKeywordText(
      { memory: row.memory, metadata: () => JSON.parse(row.metadata) as Metadata },
      change.patch,
    );
    if (indexed !== undefined) {
      prepare('UPDATE memory_fts SET memory = ? WHERE rowid = ?').run(indexed, row.seq);
    }
    if (change.embedding !== undefined) {
      assertDimension(change.embedding, dimension, `${field}.embedding`);
      prepare('UPDATE memory_vectors SET embedding = ? WHERE seq = ?').run(
        vectorToBlob(change.embedding),
        row.seq,
      );
    }
  } else if (change.type === 'delete') {
    prepare('DELETE FROM memory_fts WHERE rowid = ?').run(row.seq);
    prepare('DELETE FROM memories WHERE seq = ?').run(row.seq);
  }
  insertEvent(prepare, row.id, rowScope(row), change.event);
}

/** Inserts a memory with its vector and keyword entry. @throws StoreError when the id already exists. */
function insertMemory(
  prepare: Prepare,
  record: MemoryRecord,
  embedding: Float32Array,
  dimension: number,
  field: string,
): void {
  assertScope(pickScope(record), `${field}.record`);
  assertDimension(embedding, dimension, `${field}.embedding`);
  if (prepare('SELECT 1 FROM memories WHERE id = ?').get(record.id) !== undefined) {
    throw new StoreError(`memory ${record.id} already exists: inserts need a new id`, { code: 'conflict' });
  }
  const { seq } = prepare(
    `INSERT INTO memories (${RECORD_INSERT_COLUMNS}) VALUES (${INSERT_PLACEHOLDERS}) RETURNING seq`,
  ).get(...recordValues(record)) as { seq: number };
  prepare('INSERT INTO memory_vectors (seq, embedding) VALUES (?, ?)').run(seq, vectorToBlob(embedding));
  prepare('INSERT INTO memory_fts (rowid, memory, scope) VALUES (?, ?, ?)').run(
    seq,
    keywordText(record),
    scopeTokens(record).join(' '),
  );
}

/** Appends a history event carrying the scope of its memory. */
function insertEvent(
  prepare: Prepare,
  memoryId: string,
  scope: Scope,
  event: NewHistoryEvent,
  id: string = randomUUID(),
): void {
  prepare(
    `INSERT INTO history (${HISTORY_COLUMNS}, user_id, agent_id, run_id, app_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
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
  );
}

type ScopedId = Pick<MemoryRow, 'id' | 'user_id' | 'agent_id' | 'run_id' | 'app_id'>;

/**
 * Erases the target's memories (rows, vectors by cascade, keyword entries), strips the text of their history
 * and appends one ERASE tombstone per memory whose rows or text were erased. A scope erase also deletes the
 * scope's queue items and dead letters (they belong to a scope, not to one memory).
 * @returns the number of memory rows deleted and of ERASE tombstones written (0 when nothing was left to erase).
 */
export function eraseRows(
  prepare: Prepare,
  target: EraseTarget,
  now: string,
  actor: string,
): { deleted: number; tombstones: number } {
  const memories = new SqlConditions(sqliteDialect);
  const memoryScope = eraseCondition(memories, target, 'm', 'id');
  const rows = prepare(
    `SELECT m.id, m.user_id, m.agent_id, m.run_id, m.app_id FROM memories m WHERE ${memoryScope}`,
  ).all(...memories.params) as ScopedId[];
  prepare(`DELETE FROM memory_fts WHERE rowid IN (SELECT m.seq FROM memories m WHERE ${memoryScope})`).run(
    ...memories.params,
  );
  prepare(`DELETE FROM memories AS m WHERE ${memoryScope}`).run(...memories.params);

  const history = new SqlConditions(sqliteDialect);
  const historyScope = eraseCondition(history, target, 'h', 'memory_id');
  const touched = prepare(
    `SELECT h.memory_id AS id, h.user_id, h.agent_id, h.run_id, h.app_id FROM history h WHERE ${historyScope}
     AND (h.previous_value IS NOT NULL OR h.new_value IS NOT NULL OR h.reason IS NOT NULL) GROUP BY h.memory_id`,
  ).all(...history.params) as ScopedId[];
  prepare(
    `UPDATE history AS h SET previous_value = NULL, new_value = NULL, reason = NULL WHERE ${historyScope}`,
  ).run(...history.params);
  const tombstones = new Map<string, Scope>();
  for (const row of [...touched, ...rows]) tombstones.set(row.id, rowScope(row));
  for (const [memoryId, memoryScope] of tombstones) {
    insertEvent(prepare, memoryId, memoryScope, { event: 'ERASE', actor, createdAt: now });
  }

  if (target.id === undefined) {
    for (const table of ['queue', 'dead_letters']) {
      const items = new SqlConditions(sqliteDialect);
      prepare(`DELETE FROM ${table} AS q WHERE ${eraseCondition(items, target, 'q', 'id')}`).run(
        ...items.params,
      );
    }
  }
  // No FTS5 'optimize' needed: the index was created with 'secure-delete', which removes a deleted row's
  // tokens from the index at once (an 'optimize' would rewrite the whole index, every user's).
  return { deleted: rows.length, tombstones: tombstones.size };
}

/** Writes scanned items verbatim, skipping ids that exist. @returns how many memories were written. */
export function restoreItems(
  prepare: Prepare,
  items: ReadonlyArray<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>,
  dimension: number,
): number {
  let written = 0;
  for (const [index, item] of items.entries()) {
    if (prepare('SELECT 1 FROM memories WHERE id = ?').get(item.record.id) !== undefined) continue;
    insertMemory(prepare, item.record, item.embedding, dimension, `items[${index}]`);
    const scope = pickScope(item.record);
    for (const event of item.history) {
      if (prepare('SELECT 1 FROM history WHERE id = ?').get(event.id) !== undefined) continue;
      const { id, memoryId: _memoryId, ...rest } = event;
      insertEvent(prepare, item.record.id, scope, rest, id);
    }
    written += 1;
  }
  return written;
}
