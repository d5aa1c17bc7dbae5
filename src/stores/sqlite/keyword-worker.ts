/**
 * The body of the SQLite store's keyword thread (see `keyword-thread.ts`): one read-only connection to the
 * store's file on a worker thread, answering `{ id, visibility, terms, limit }` with the hits of
 * `selectKeyword` (`keyword.ts`) on that connection, or with the error.
 *
 * Contract:
 * - The connection is opened read-only with the store's busy timeout and SQL functions, and never holds a
 *   transaction between requests: each statement runs in autocommit, so it sees every write committed before
 *   the request was posted (WAL), and keeps no snapshot that would block an erase's checkpoint.
 * - First message: `{ status: 'ready' }` once the connection is open, or `{ status: 'failed', reason }` (the
 *   thread then exits).
 * - Requests are answered in order, one at a time; statements are prepared once per distinct SQL text.
 * - An error keeps its message and SQLite code (`SQLITE_BUSY`, ...), so the store's busy retry and error
 *   mapping work as on its own connection.
 * - The message `'close'` closes the connection and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Visibility } from '../core/visibility.js';
import type { KeywordHit } from '../types.js';
import { selectKeyword } from './keyword.js';
import { registerFunctions } from './schema.js';

/** What the store passes to the thread. */
export interface KeywordWorkerData {
  path: string;
  busyTimeoutMs: number;
}

/** One search. */
export interface KeywordRequest {
  id: number;
  visibility: Visibility;
  terms: readonly string[];
  limit: number;
}

/** The thread's first message. */
export type KeywordWorkerStatus = { status: 'ready' } | { status: 'failed'; reason: string };

/** One answer: the hits, or the error with its SQLite code. */
export type KeywordResponse =
  | { id: number; hits: KeywordHit[] }
  | { id: number; error: { message: string; code?: string } };

const STATEMENT_CACHE_SIZE = 64;

function openConnection(data: KeywordWorkerData): Database.Database {
  const db = new Database(data.path, { readonly: true, fileMustExist: true, timeout: data.busyTimeoutMs });
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(data.busyTimeoutMs))}`);
  db.pragma('mmap_size = 2147418112');
  registerFunctions(db);
  return db;
}

function errorOf(error: unknown): { message: string; code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

const port = parentPort;
if (port) {
  let db: Database.Database | undefined;
  try {
    db = openConnection(workerData as KeywordWorkerData);
  } catch (error) {
    const status: KeywordWorkerStatus = { status: 'failed', reason: errorOf(error).message };
    port.postMessage(status);
    port.close();
  }
  const connection = db;
  if (connection !== undefined) {
    const statements = new Map<string, Database.Statement>();
    const prepare = (sql: string): Database.Statement => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = connection.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    };
    port.on('message', (request: KeywordRequest | 'close') => {
      if (request === 'close') {
        connection.close();
        port.close();
        return;
      }
      let response: KeywordResponse;
      try {
        const hits = selectKeyword(prepare, request.visibility, request.terms, request.limit);
        response = { id: request.id, hits };
      } catch (error) {
        response = { id: request.id, error: errorOf(error) };
      }
      port.postMessage(response);
    });
    const ready: KeywordWorkerStatus = { status: 'ready' };
    port.postMessage(ready);
  }
}
