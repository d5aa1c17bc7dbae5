/**
 * PostgreSQL SessionStore (`pg`). Two tables, named from `?table=` (default `mneme_sessions`):
 * - `<table>_entries(project_key, session_id, subpath, seq, uuid, entry json)`, primary key
 *   `(project_key, session_id, subpath, seq)` (the load order) and a unique index on
 *   `(project_key, session_id, subpath, uuid)` (the idempotency key). `subpath` is `''` for the main transcript.
 *   `entry` is `json`, not `jsonb`, so entries round-trip as written (jsonb would reject `\u0000` in strings).
 * - `<table>(project_key, session_id, mtime, summary json)`: one row per session with a main transcript.
 * Both are created on first use (under an advisory lock, so concurrent first uses do not race).
 *
 * Each append is one transaction holding a per-session advisory lock (`pg_advisory_xact_lock`), so appends to
 * one session from any number of processes serialize: `seq` continues from the transcript's maximum,
 * `INSERT ... ON CONFLICT DO NOTHING RETURNING` tells which entries were new, those are folded into the summary
 * and `mtime` is stamped from the server clock (`clock_timestamp()`), always after the previous stamp.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { ConfigError } from '../core/errors.js';
import type { AppendBatch } from './append.js';
import { LazyConnection } from './connection.js';
import { type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { importOptional, KeyedMutex } from './internal.js';
import { entryUuid, newEntryIndexes } from './keys.js';
import { nextMtime, parseStoredSummary, toSummaryEntry } from './summaries.js';
import type { SessionKey, SessionStoreEntry, SessionSummaryEntry } from './types.js';
import { splitConnectionUrl } from './urls.js';

/** Options of {@link PostgresSessionStore}. */
export interface PostgresSessionStoreOptions {
  /** `postgres://user:password@host:5432/database`; a `table` query parameter is read and removed. */
  connectionString: string;
  /**
   * Sessions table, `name` or `schema.name` (letters, digits, `_`; at most 48 characters each); entries go in
   * `<name>_entries`. URL `?table=`. @default 'mneme_sessions'
   */
  table?: string;
  /** Connections in the pool. @default 4 */
  poolSize?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** The PostgreSQL-backed SessionStore. Create it with `createSessionStore('postgres://...?table=name')` or directly. */
export class PostgresSessionStore extends SessionStoreFrame<'postgres'> {
  /** The sessions table as written in SQL (quoted, maybe schema-qualified). */
  readonly table: string;
  readonly #entries: string;
  readonly #indexName: string;
  readonly #tableName: string;
  readonly #connectionString: string;
  readonly #poolSize: number;
  /** Keeps this process's appends to one session in call order (the advisory lock orders processes). */
  readonly #mutex = new KeyedMutex();
  readonly #pool: LazyConnection<Pool>;

  constructor(options: PostgresSessionStoreOptions) {
    super('postgres', { multiProcess: true });
    const { url, value: fromUrl, redacted } = splitConnectionUrl(options.connectionString, 'table');
    this.#connectionString = url;
    const table = options.table ?? fromUrl ?? 'mneme_sessions';
    const parts = table.split('.');
    if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
      throw new ConfigError(
        `invalid PostgreSQL session table ${JSON.stringify(table)} (option \`table\` / URL \`?table=\`): use ` +
          'a name or schema.name made of letters, digits and _, starting with a letter or _, at most 48 characters',
      );
    }
    const name = parts[parts.length - 1] as string;
    const schema = parts.length === 2 ? `"${parts[0]}".` : '';
    this.#tableName = table;
    this.table = `${schema}"${name}"`;
    this.#entries = `${schema}"${name}_entries"`;
    this.#indexName = `"${name}_entries_uuid"`;
    this.#poolSize = options.poolSize ?? 4;
    this.#pool = new LazyConnection({
      backend: 'postgres',
      operation: `open ${table} at ${redacted}`,
      open: () => this.#openPool(),
      dispose: (pool) => pool.end(),
    });
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const indexes = newEntryIndexes(entries, () => false);
    const subpath = key.subpath ?? '';
    const lockKey = this.#lockKey(key);
    await this.#mutex.run(lockKey, () =>
      this.#transaction(lockKey, async (client) => {
        // One round trip: the transcript's last seq, the server clock and the session row, then the insert.
        // Under the session's advisory lock nobody else writes this session meanwhile.
        const result = await client.query<{
          base: string;
          now: string;
          mtime: string | null;
          summary: unknown;
          seqs: string[];
        }>(
          `WITH state AS (
             SELECT (SELECT coalesce(max(seq), 0) FROM ${this.#entries}
                      WHERE project_key = $1 AND session_id = $2 AND subpath = $3) AS base,
                    floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now,
                    s.mtime, s.summary
               FROM (SELECT 1) AS one
               LEFT JOIN ${this.table} AS s ON s.project_key = $1 AND s.session_id = $2
           ), inserted AS (
             INSERT INTO ${this.#entries} (project_key, session_id, subpath, seq, uuid, entry)
             SELECT $1, $2, $3, state.base + t.ord, t.uuid, t.entry::json
               FROM state, unnest($4::text[], $5::text[]) WITH ORDINALITY AS t(uuid, entry, ord)
             ON CONFLICT DO NOTHING
             RETURNING seq
           )
           SELECT state.base, state.now, state.mtime, state.summary,
                  (SELECT coalesce(array_agg(seq ORDER BY seq), '{}') FROM inserted) AS seqs
             FROM state`,
          [
            key.projectKey,
            key.sessionId,
            subpath,
            indexes.map((index) => entryUuid(entries[index] as SessionStoreEntry) ?? null),
            indexes.map((index) => lines[index]),
          ],
        );
        const row = result.rows[0];
        if (row === undefined) throw new Error('the append query returned no row');
        const base = Number(row.base);
        if (fold === undefined || row.seqs.length === 0) return;
        const added = row.seqs
          .map((seq) => Number(seq) - base - 1)
          .map((position) => entries[indexes[position] as number] as SessionStoreEntry);
        const previous = parseStoredSummary(row.mtime, row.summary, 'postgres');
        const summary = fold(previous, key, added, nextMtime(Number(row.now), previous?.mtime));
        await client.query(
          `INSERT INTO ${this.table} (project_key, session_id, mtime, summary) VALUES ($1, $2, $3, $4::json)
         ON CONFLICT (project_key, session_id) DO UPDATE SET mtime = excluded.mtime, summary = excluded.summary`,
          [key.projectKey, key.sessionId, summary.mtime, JSON.stringify(summary.data)],
        );
      }),
    );
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const pool = await this.#pool.get();
    const result = await pool.query<{ entry: SessionStoreEntry }>(
      `SELECT entry FROM ${this.#entries} WHERE project_key = $1 AND session_id = $2 AND subpath = $3 ORDER BY seq`,
      [key.projectKey, key.sessionId, key.subpath ?? ''],
    );
    return result.rows.length === 0 ? null : result.rows.map((row) => row.entry);
  }

  protected override async readSessions(projectKey: string): Promise<SessionMtime[]> {
    const pool = await this.#pool.get();
    const result = await pool.query<{ session_id: string; mtime: string }>(
      `SELECT session_id, mtime FROM ${this.table} WHERE project_key = $1`,
      [projectKey],
    );
    return result.rows.map((row) => ({ sessionId: row.session_id, mtime: Number(row.mtime) }));
  }

  protected override async readSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const pool = await this.#pool.get();
    const result = await pool.query<{ session_id: string; mtime: string; summary: unknown }>(
      `SELECT session_id, mtime, summary FROM ${this.table} WHERE project_key = $1`,
      [projectKey],
    );
    return result.rows.map((row) => toSummaryEntry(row.session_id, row.mtime, row.summary, 'postgres'));
  }

  protected override async removeEntries(key: SessionKey): Promise<void> {
    const lockKey = this.#lockKey(key);
    await this.#mutex.run(lockKey, () =>
      this.#transaction(lockKey, async (client) => {
        const session = [key.projectKey, key.sessionId];
        if (key.subpath === undefined) {
          await client.query(
            `DELETE FROM ${this.#entries} WHERE project_key = $1 AND session_id = $2`,
            session,
          );
          await client.query(`DELETE FROM ${this.table} WHERE project_key = $1 AND session_id = $2`, session);
        } else {
          await client.query(
            `DELETE FROM ${this.#entries} WHERE project_key = $1 AND session_id = $2 AND subpath = $3`,
            [...session, key.subpath],
          );
        }
      }),
    );
  }

  protected override async readSubpaths(session: SessionOfProject): Promise<string[]> {
    const pool = await this.#pool.get();
    const result = await pool.query<{ subpath: string }>(
      `SELECT DISTINCT subpath FROM ${this.#entries} WHERE project_key = $1 AND session_id = $2 AND subpath <> ''`,
      [session.projectKey, session.sessionId],
    );
    return result.rows.map((row) => row.subpath);
  }

  protected override async releaseEngine(): Promise<void> {
    await this.#pool.close();
  }

  /** Drops both tables (tests and `mneme` maintenance). */
  async dropTables(): Promise<void> {
    const pool = await this.#pool.get();
    await pool.query(`DROP TABLE IF EXISTS ${this.#entries}, ${this.table}`);
  }

  /** A 64-bit advisory lock key per (table, project, session); a hash collision only serializes more. */
  #lockKey(key: { projectKey: string; sessionId: string }): string {
    const digest = createHash('sha256')
      .update(JSON.stringify([this.#tableName, key.projectKey, key.sessionId]))
      .digest();
    return digest.readBigInt64BE(0).toString();
  }

  async #transaction(lockKey: string, work: (client: PoolClient) => Promise<void>): Promise<void> {
    const pool = await this.#pool.get();
    const client = await pool.connect();
    let broken = false;
    try {
      // The key is a decimal integer computed here, so it is safe to inline (saves a round trip).
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${lockKey})`);
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection is unusable; it is destroyed below and the original error is what the caller needs.
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async #openPool(): Promise<Pool> {
    const module = await importOptional<{ Pool: new (config: PoolConfig) => Pool }>(
      'pg',
      'The PostgreSQL session store (postgres:// URLs)',
    );
    const pool = new module.Pool({ connectionString: this.#connectionString, max: this.#poolSize });
    // An idle client's network error must not crash the process; the next query reports it.
    pool.on('error', () => {});
    try {
      await this.#createTables(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return pool;
  }

  async #createTables(pool: Pool): Promise<void> {
    const client = await pool.connect();
    try {
      const ddlLock = createHash('sha256')
        .update(`mneme-session-ddl:${this.#tableName}`)
        .digest()
        .readBigInt64BE(0);
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${ddlLock.toString()})`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.#entries} (
          project_key text NOT NULL,
          session_id text NOT NULL,
          subpath text NOT NULL,
          seq bigint NOT NULL,
          uuid text,
          entry json NOT NULL,
          PRIMARY KEY (project_key, session_id, subpath, seq)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ${this.#indexName}
          ON ${this.#entries} (project_key, session_id, subpath, uuid) WHERE uuid IS NOT NULL;
        CREATE TABLE IF NOT EXISTS ${this.table} (
          project_key text NOT NULL,
          session_id text NOT NULL,
          mtime bigint NOT NULL,
          summary json NOT NULL,
          PRIMARY KEY (project_key, session_id)
        )`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
