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
import type { AppendBatch } from './append.js';
import { LazyConnection } from './connection.js';
import { type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { importOptional } from './internal.js';
import { entryUuid } from './keys.js';
import { nextMtime, parseStoredSummary, toSummaryEntry } from './summaries.js';
import type { SessionKey, SessionStoreEntry, SessionSummaryEntry } from './types.js';
import { type FsyncPolicy, requireOption } from './urls.js';

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

/** An open database and its prepared statements. */
interface Database {
  db: BetterSqlite3.Database;
  statements: Statements;
}

/** The SQLite-backed SessionStore. Create it with `createSessionStore('sqlite:///path.db')` or directly. */
export class SqliteSessionStore extends SessionStoreFrame<'sqlite'> {
  readonly path: string;
  readonly #fsync: FsyncPolicy;
  readonly #busyTimeoutMs: number;
  readonly #database: LazyConnection<Database>;

  constructor(options: SqliteSessionStoreOptions) {
    super('sqlite', { multiProcess: true });
    const path = requireOption(
      options.path,
      'path',
      'the SQLite session store needs a database file (sqlite:///path/sessions.db)',
    );
    this.path = path === ':memory:' ? path : resolve(path);
    this.#fsync = options.fsync ?? 'always';
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    this.#database = new LazyConnection({
      backend: 'sqlite',
      operation: `open ${this.path}`,
      open: () => this.#connect(),
      dispose: ({ db }) => {
        db.close();
      },
    });
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const { db, statements } = await this.#database.get();
    const subpath = key.subpath ?? '';
    const write = db.transaction(() => {
      const added: SessionStoreEntry[] = [];
      lines.forEach((line, index) => {
        const entry = entries[index] as SessionStoreEntry;
        const uuid = entryUuid(entry) ?? null;
        const result = statements.insert.run(key.projectKey, key.sessionId, subpath, uuid, line);
        if (result.changes === 1) added.push(entry);
      });
      if (fold === undefined || added.length === 0) return;
      const row = statements.session.get(key.projectKey, key.sessionId);
      const previous = parseStoredSummary(row?.mtime, row?.summary, 'sqlite');
      const summary = fold(previous, key, added, nextMtime(Date.now(), previous?.mtime));
      const data = JSON.stringify(summary.data);
      statements.upsertSession.run(key.projectKey, key.sessionId, summary.mtime, data);
    });
    write.immediate();
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const { statements } = await this.#database.get();
    const rows = statements.load.all(key.projectKey, key.sessionId, key.subpath ?? '');
    return rows.length === 0 ? null : rows.map((row) => JSON.parse(row.entry) as SessionStoreEntry);
  }

  protected override async readSessions(projectKey: string): Promise<SessionMtime[]> {
    const { statements } = await this.#database.get();
    const rows = statements.listSessions.all(projectKey);
    return rows.map((row) => ({ sessionId: row.session_id, mtime: row.mtime }));
  }

  protected override async readSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const { statements } = await this.#database.get();
    const rows = statements.listSessions.all(projectKey);
    return rows.map((row) => toSummaryEntry(row.session_id, row.mtime, row.summary, 'sqlite'));
  }

  protected override async removeEntries(key: SessionKey): Promise<void> {
    const { db, statements } = await this.#database.get();
    const remove = db.transaction(() => {
      if (key.subpath === undefined) {
        statements.deleteSessionEntries.run(key.projectKey, key.sessionId);
        statements.deleteSession.run(key.projectKey, key.sessionId);
      } else {
        statements.deleteTranscript.run(key.projectKey, key.sessionId, key.subpath);
      }
    });
    remove.immediate();
  }

  protected override async readSubpaths(session: SessionOfProject): Promise<string[]> {
    const { statements } = await this.#database.get();
    return statements.subkeys.all(session.projectKey, session.sessionId).map((row) => row.subpath);
  }

  protected override async releaseEngine(): Promise<void> {
    await this.#database.close();
  }

  async #connect(): Promise<Database> {
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
