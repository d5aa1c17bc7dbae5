/**
 * SQLite SessionStore (better-sqlite3): one database file, shared safely by several processes on one machine.
 *
 * Tables (prefixed so the file may also hold other data):
 * - `mneme_session_entries(seq, project_key, session_id, subpath, uuid, entry)`: one row per entry; `subpath`
 *   is `''` for the main transcript (a real subpath is never empty); a unique index on
 *   `(project_key, session_id, subpath, uuid)` makes `uuid` the idempotency key; `seq` (AUTOINCREMENT) is the
 *   append order.
 * - `mneme_sessions(project_key, session_id, mtime, summary)`: one row per session with a main transcript.
 *
 * Each append runs in one `BEGIN IMMEDIATE` transaction (inserts with `OR IGNORE`, summary fold, session row),
 * so concurrent writers serialize on the database lock (waiting up to `busyTimeoutMs`). WAL journal;
 * `fsync: 'always'` (default) is `synchronous=FULL`, `'never'` is `synchronous=NORMAL` (a power loss may roll
 * back the last transactions, never corrupt the file).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError, ValidationError } from '../core/errors.js';
import { prepareAppend } from './append.js';
import type { FsyncPolicy } from './file.js';
import { importOptional, toStoreError } from './internal.js';
import { entryUuid, validateKeyPart, validateSessionKey } from './keys.js';
import { nextMtime, parseStoredSummary, toSummaryEntry } from './summaries.js';
import type {
  SessionKey,
  SessionStore,
  SessionStoreCapabilities,
  SessionStoreEntry,
  SessionSummaryEntry,
} from './types.js';

/** Options of {@link SqliteSessionStore}. */
export interface SqliteSessionStoreOptions {
  /** Database file (created if missing) or `:memory:`. URL: `sqlite:///var/lib/app/sessions.db`. */
  path: string;
  /** Durability policy. URL `?fsync=always|never`. @default 'always' */
  fsync?: FsyncPolicy;
  /** How long a write waits for another process's transaction before failing (retryable). @default 10000 */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS mneme_session_entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  project_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  subpath TEXT NOT NULL,
  uuid TEXT,
  entry TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS mneme_session_entries_uuid
  ON mneme_session_entries (project_key, session_id, subpath, uuid) WHERE uuid IS NOT NULL;
CREATE INDEX IF NOT EXISTS mneme_session_entries_order
  ON mneme_session_entries (project_key, session_id, subpath, seq);
CREATE TABLE IF NOT EXISTS mneme_sessions (
  project_key TEXT NOT NULL,
  session_id TEXT NOT NULL,
  mtime INTEGER NOT NULL,
  summary TEXT NOT NULL,
  PRIMARY KEY (project_key, session_id)
) WITHOUT ROWID;
`;

interface Statements {
  insert: BetterSqlite3.Statement<[string, string, string, string | null, string]>;
  session: BetterSqlite3.Statement<[string, string], { mtime: number; summary: string }>;
  upsertSession: BetterSqlite3.Statement<[string, string, number, string]>;
  load: BetterSqlite3.Statement<[string, string, string], { entry: string }>;
  listSessions: BetterSqlite3.Statement<[string], { session_id: string; mtime: number; summary: string }>;
  deleteSession: BetterSqlite3.Statement<[string, string]>;
  deleteSessionEntries: BetterSqlite3.Statement<[string, string]>;
  deleteTranscript: BetterSqlite3.Statement<[string, string, string]>;
  subkeys: BetterSqlite3.Statement<[string, string], { subpath: string }>;
}

/** The SQLite-backed SessionStore. Create it with `createSessionStore('sqlite:///path.db')` or directly. */
export class SqliteSessionStore implements SessionStore {
  readonly name = 'sqlite';
  readonly capabilities: SessionStoreCapabilities = { multiProcess: true };
  readonly path: string;
  readonly #fsync: FsyncPolicy;
  readonly #busyTimeoutMs: number;
  #opening: Promise<{ db: BetterSqlite3.Database; statements: Statements }> | undefined;
  #closed = false;

  constructor(options: SqliteSessionStoreOptions) {
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new ValidationError(
        'path',
        'the SQLite session store needs a database file (sqlite:///path/sessions.db)',
      );
    }
    this.path = options.path === ':memory:' ? options.path : resolve(options.path);
    this.#fsync = options.fsync ?? 'always';
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    const prepared = await prepareAppend(key, entries);
    if (prepared === undefined) return;
    const { lines, fold } = prepared;
    const { db, statements } = await this.#open();
    const subpath = key.subpath ?? '';
    try {
      const write = db.transaction(() => {
        const added: SessionStoreEntry[] = [];
        lines.forEach((line, index) => {
          const entry = entries[index] as SessionStoreEntry;
          const result = statements.insert.run(
            key.projectKey,
            key.sessionId,
            subpath,
            entryUuid(entry) ?? null,
            line,
          );
          if (result.changes === 1) added.push(entry);
        });
        if (fold === undefined || added.length === 0) return;
        const row = statements.session.get(key.projectKey, key.sessionId);
        const previous = parseStoredSummary(row?.mtime, row?.summary, 'sqlite');
        const summary = fold(previous, key, added, nextMtime(Date.now(), previous?.mtime));
        statements.upsertSession.run(
          key.projectKey,
          key.sessionId,
          summary.mtime,
          JSON.stringify(summary.data),
        );
      });
      write.immediate();
    } catch (error) {
      throw toStoreError('sqlite', `append to session ${JSON.stringify(key.sessionId)}`, error);
    }
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    validateSessionKey(key);
    const { statements } = await this.#open();
    try {
      const rows = statements.load.all(key.projectKey, key.sessionId, key.subpath ?? '');
      return rows.length === 0 ? null : rows.map((row) => JSON.parse(row.entry) as SessionStoreEntry);
    } catch (error) {
      throw toStoreError('sqlite', `load session ${JSON.stringify(key.sessionId)}`, error);
    }
  }

  async listSessions(projectKey: string): Promise<Array<{ sessionId: string; mtime: number }>> {
    validateKeyPart('projectKey', projectKey);
    const { statements } = await this.#open();
    try {
      return statements.listSessions
        .all(projectKey)
        .map((row) => ({ sessionId: row.session_id, mtime: row.mtime }));
    } catch (error) {
      throw toStoreError('sqlite', 'listSessions', error);
    }
  }

  async listSessionSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    validateKeyPart('projectKey', projectKey);
    const { statements } = await this.#open();
    try {
      return statements.listSessions
        .all(projectKey)
        .map((row) => toSummaryEntry(row.session_id, row.mtime, row.summary, 'sqlite'));
    } catch (error) {
      throw toStoreError('sqlite', 'listSessionSummaries', error);
    }
  }

  async delete(key: SessionKey): Promise<void> {
    validateSessionKey(key);
    const { db, statements } = await this.#open();
    try {
      const remove = db.transaction(() => {
        if (key.subpath === undefined) {
          statements.deleteSessionEntries.run(key.projectKey, key.sessionId);
          statements.deleteSession.run(key.projectKey, key.sessionId);
        } else {
          statements.deleteTranscript.run(key.projectKey, key.sessionId, key.subpath);
        }
      });
      remove.immediate();
    } catch (error) {
      throw toStoreError('sqlite', `delete session ${JSON.stringify(key.sessionId)}`, error);
    }
  }

  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    validateSessionKey({ projectKey: key.projectKey, sessionId: key.sessionId });
    const { statements } = await this.#open();
    try {
      return statements.subkeys.all(key.projectKey, key.sessionId).map((row) => row.subpath);
    } catch (error) {
      throw toStoreError('sqlite', 'listSubkeys', error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening !== undefined) (await opening).db.close();
  }

  #open(): Promise<{ db: BetterSqlite3.Database; statements: Statements }> {
    if (this.#closed) return Promise.reject(new StoreError('sqlite session store: used after close()'));
    this.#opening ??= this.#connect().catch((error: unknown) => {
      this.#opening = undefined;
      throw toStoreError('sqlite', `open ${this.path}`, error);
    });
    return this.#opening;
  }

  async #connect(): Promise<{ db: BetterSqlite3.Database; statements: Statements }> {
    const module = await importOptional<{ default: typeof BetterSqlite3 }>(
      'better-sqlite3',
      'The SQLite session store (sqlite:// URLs)',
    );
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    const db = new module.default(this.path, { timeout: this.#busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.#fsync === 'always' ? 'FULL' : 'NORMAL'}`);
      db.exec(SCHEMA);
      const statements: Statements = {
        insert: db.prepare(
          'INSERT OR IGNORE INTO mneme_session_entries (project_key, session_id, subpath, uuid, entry) ' +
            'VALUES (?, ?, ?, ?, ?)',
        ),
        session: db.prepare(
          'SELECT mtime, summary FROM mneme_sessions WHERE project_key = ? AND session_id = ?',
        ),
        upsertSession: db.prepare(
          'INSERT INTO mneme_sessions (project_key, session_id, mtime, summary) VALUES (?, ?, ?, ?) ' +
            'ON CONFLICT (project_key, session_id) DO UPDATE SET mtime = excluded.mtime, summary = excluded.summary',
        ),
        load: db.prepare(
          'SELECT entry FROM mneme_session_entries WHERE project_key = ? AND session_id = ? AND subpath = ? ' +
            'ORDER BY seq',
        ),
        listSessions: db.prepare(
          'SELECT session_id, mtime, summary FROM mneme_sessions WHERE project_key = ?',
        ),
        deleteSession: db.prepare('DELETE FROM mneme_sessions WHERE project_key = ? AND session_id = ?'),
        deleteSessionEntries: db.prepare(
          'DELETE FROM mneme_session_entries WHERE project_key = ? AND session_id = ?',
        ),
        deleteTranscript: db.prepare(
          'DELETE FROM mneme_session_entries WHERE project_key = ? AND session_id = ? AND subpath = ?',
        ),
        subkeys: db.prepare(
          "SELECT DISTINCT subpath FROM mneme_session_entries WHERE project_key = ? AND session_id = ? AND subpath <> ''",
        ),
      };
      return { db, statements };
    } catch (error) {
      db.close();
      throw error;
    }
  }
}
