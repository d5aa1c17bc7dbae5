/**
 * Reads a Mem0 OSS store as written by the `mem0ai` npm package's `Memory` class (`mem0ai/oss`, 3.x) with its
 * default `memory` vector store and `sqlite` history store. Two SQLite files, both opened read-only:
 *
 * - The vector store, `vectorStore.config.dbPath` (default `~/.mem0/vector_store.db`): table
 *   `vectors (id TEXT PRIMARY KEY, vector BLOB, payload TEXT)`, one row per live memory. `payload` is JSON:
 *   `data` (the text), `hash` (md5), `textLemmatized`, `createdAt`, `updatedAt` (ISO), `user_id` /
 *   `agent_id` / `run_id` (older rows may hold them camelCased), `expiration_date` (YYYY-MM-DD),
 *   `attributedTo`, and every key of the memory's metadata, flattened in. Vectors are not read: mneme re-embeds.
 * - The history store, `historyDbPath` (default `memory.db` in the process's working directory): table
 *   `memory_history (id INTEGER, memory_id, previous_value, new_value, action, created_at, updated_at,
 *   is_deleted)` with one row per ADD (created_at), UPDATE (created_at of the memory, updated_at of the change)
 *   and DELETE (no dates, is_deleted 1). Its `messages` table (recent messages for inference) holds no memories.
 *
 * A deleted memory is only in the history, which keeps no user, agent or run: it cannot be scoped, so it is
 * reported in `deleted`, not imported. History rows of a memory that is neither in the vector store nor deleted
 * (a store reset, a history file of another store) are bad rows. The `_entities.db` file next to the vector
 * store holds extracted entities, not memories, and is not read.
 */

import Database from 'better-sqlite3';
import { ValidationError } from '../core/errors.js';
import type { Mem0HistoryRow, Mem0Memory, Mem0Read } from './mem0-memory.js';

/** Columns of the vector store's payload that are not the memory's metadata (Mem0's own exclusion list). */
const PAYLOAD_FIELDS = new Set([
  'data',
  'hash',
  'textLemmatized',
  'createdAt',
  'updatedAt',
  'user_id',
  'agent_id',
  'run_id',
  'userId',
  'agentId',
  'runId',
  'attributedTo',
  'expiration_date',
]);

/** Which kind of Mem0 SQLite file `path` is, from its tables; `undefined` when it is neither. */
export function mem0FileKind(path: string): 'vector-store' | 'history' | undefined {
  return withDatabase(path, 'source', (database) => {
    const tables = new Set(
      (
        database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
          name: string;
        }>
      ).map((row) => row.name),
    );
    if (tables.has('vectors')) return 'vector-store';
    if (tables.has('memory_history')) return 'history';
    return undefined;
  });
}

/** Reads the vector store at `vectorStore` and, when given, the history DB at `history`. */
export function readMem0Oss(files: { vectorStore: string; history?: string }): Mem0Read {
  const read: Mem0Read = { rows: [], deleted: [] };
  const seen = new Set<string>();
  const rows = withDatabase(files.vectorStore, 'source', (database) => {
    assertTable(database, 'vectors', files.vectorStore, 'source', 'a Mem0 vector store (vector_store.db)');
    return database.prepare('SELECT id, payload FROM vectors ORDER BY rowid').all() as Array<{
      id: unknown;
      payload: unknown;
    }>;
  });
  const history = files.history ? readHistory(files.history) : new Map<string, Mem0HistoryRow[]>();
  for (const row of rows) {
    const at = `${files.vectorStore}: vectors id ${String(row.id)}`;
    seen.add(String(row.id));
    let payload: unknown;
    try {
      payload = JSON.parse(String(row.payload));
    } catch {
      read.rows.push({ bad: { at, reason: 'payload: is not valid JSON; the row is damaged' } });
      continue;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      read.rows.push({ bad: { at, reason: 'payload: expected a JSON object' } });
      continue;
    }
    const fields = payload as Record<string, unknown>;
    const memory: Mem0Memory = {
      at,
      format: 'oss',
      id: row.id,
      text: fields.data,
      userId: fields.user_id ?? fields.userId,
      agentId: fields.agent_id ?? fields.agentId,
      runId: fields.run_id ?? fields.runId,
      appId: undefined,
      metadata: Object.fromEntries(Object.entries(fields).filter(([key]) => !PAYLOAD_FIELDS.has(key))),
      categories: undefined,
      createdAt: fields.createdAt,
      updatedAt: fields.updatedAt,
      expirationDate: fields.expiration_date,
      extra: { attributedTo: fields.attributedTo },
      history: history.get(String(row.id)) ?? [],
    };
    read.rows.push({ memory });
  }
  for (const [memoryId, events] of history) {
    if (seen.has(memoryId)) continue;
    if (events.some((event) => event.action === 'DELETE')) read.deleted.push(memoryId);
    else
      read.rows.push({
        bad: {
          at: `${files.history}: memory_history rows for memory ${memoryId}`,
          reason:
            'the memory is not in the vector store and was never deleted: is --history the history DB of this ' +
            'vector store (not of one that was reset)?',
        },
      });
  }
  return read;
}

/** The history rows by memory id, oldest first. */
function readHistory(path: string): Map<string, Mem0HistoryRow[]> {
  const rows = withDatabase(path, 'history', (database) => {
    assertTable(database, 'memory_history', path, 'history', "Mem0's history DB (memory.db)");
    return database
      .prepare(
        'SELECT id, memory_id, previous_value, new_value, action, created_at, updated_at FROM memory_history ORDER BY id',
      )
      .all() as Array<Record<string, unknown>>;
  });
  const byMemory = new Map<string, Mem0HistoryRow[]>();
  for (const row of rows) {
    const memoryId = String(row.memory_id);
    const events = byMemory.get(memoryId) ?? [];
    events.push({
      at: `${path}: memory_history id ${String(row.id)}`,
      action: row.action,
      previousValue: row.previous_value,
      newValue: row.new_value,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
    byMemory.set(memoryId, events);
  }
  return byMemory;
}

function withDatabase<T>(path: string, field: string, read: (database: Database.Database) => T): T {
  let database: Database.Database;
  try {
    database = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ValidationError(field, `cannot open ${path} as SQLite: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return read(database);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(field, `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    database.close();
  }
}

function assertTable(
  database: Database.Database,
  table: string,
  path: string,
  field: string,
  expected: string,
): void {
  const found = database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
  if (found === undefined) {
    throw new ValidationError(field, `${path} has no \`${table}\` table; expected ${expected}`);
  }
}
