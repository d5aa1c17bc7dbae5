/**
 * The default {@link MemoryStore}: one SQLite file (better-sqlite3) holding memories, float32 vectors ranked
 * with sqlite-vec's `vec_distance_cosine`, an FTS5 keyword index (BM25), history and the durable ingestion
 * queue. Schema and pragmas live in `sqlite/schema.ts`.
 *
 * Dense search is exact (every visible row of the scope) when the scope has no user id or the user has at most
 * `exactScanMaxRows` vectors; above that it ranks the user's binary codes by Hamming distance and re-ranks the
 * nearest candidates exactly (`sqlite/vector-index.ts`), falling back to the exact scan when fewer than `limit`
 * candidates pass the scope, temporal rule and filter.
 *
 * Durability and concurrency: WAL with `synchronous = FULL` (a resolved write survives power loss), writes in
 * `BEGIN IMMEDIATE` transactions, `busy_timeout` plus a bounded retry so SQLITE_BUSY never reaches callers when
 * several processes share the file. better-sqlite3 is synchronous: each call blocks the event loop for its
 * duration (sub-millisecond to a few ms at per-user sizes).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { ConfigError, StoreError } from '../core/errors.js';
import type { HistoryEvent, MemoryRecord } from '../core/types.js';
import { FIND_ACTIONS, type StoreEngine } from './core/engine.js';
import { notOpenError } from './core/errors.js';
import { exportPages } from './core/export.js';
import { type Program, runSync, singleStep } from './core/program.js';
import { rowToRecord } from './core/rows.js';
import { StoreCore } from './core/store.js';
import type { PageKey, Visibility } from './core/visibility.js';
import { type BusyRetryOptions, isBusy, toStoreError, withBusyRetry } from './sqlite/errors.js';
import { createHammingKernel } from './sqlite/hamming-kernel.js';
import * as keyword from './sqlite/keyword.js';
import { KeywordMirror, MIRROR_MAX_ROWS } from './sqlite/keyword-mirror.js';
import { sqliteQueue } from './sqlite/queue.js';
import * as reads from './sqlite/reads.js';
import type { SqliteMemoryRow } from './sqlite/rows.js';
import { configureConnection, migrate } from './sqlite/schema.js';
import { CodeBlockCache, candidatePoolSize, listBlocks, nearestCodes } from './sqlite/vector-index.js';
import { findRow, type Prepare, sqliteWrites } from './sqlite/writes.js';
import type { DenseHit, EmbedderIdentity, StoreCapabilities, StoreStats } from './types.js';

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file (created with its parent directories), or `:memory:` for a private in-memory database. */
  path: string;
  /** How long a statement waits for another connection's lock before failing, in ms. @default 5000 */
  busyTimeoutMs?: number;
  /** Attempts (first included) for an operation that still hits SQLITE_BUSY after the timeout. @default 4 */
  busyAttempts?: number;
  /**
   * Users with at most this many vectors get an exact dense scan; larger ones use the binary index with an
   * exact re-rank (`Infinity`: always exact). @default 4096
   */
  exactScanMaxRows?: number;
  /**
   * Memory for binary-index blocks kept between searches, in MiB (7.2 MiB per 100k vectors of 512
   * dimensions); least recently used blocks are dropped beyond it. @default 256
   */
  codeCacheMb?: number;
  /**
   * The largest keyword index (rows of `memory_fts`) this process copies into memory to rank the keyword search
   * of a user holding most of the file (about 100 bytes per row; `sqlite/keyword-mirror.ts`); 0: never, FTS5
   * ranks every search. @default 500000
   */
  keywordMirrorMaxRows?: number;
}

/** Connection settings and versions, for `mneme doctor` and tests. */
export interface SqliteDiagnostics {
  path: string;
  journalMode: string;
  /** 2 = FULL. */
  synchronous: number;
  foreignKeys: boolean;
  secureDelete: boolean;
  busyTimeoutMs: number;
  schemaVersion: number;
  sqliteVersion: string;
  sqliteVecVersion: string;
  /** Result of `PRAGMA quick_check` ("ok" when the file is sound). */
  quickCheck: string;
  /**
   * An erase could not empty the WAL yet (another connection held a read snapshot): the TRUNCATE checkpoint
   * is retried after the next write and at close.
   */
  pendingWalCleanup: boolean;
  /** How dense searches were answered since open: exact scans, binary-index scans, and those that fell back. */
  densePlans: { exact: number; approximate: number; fallback: number };
}

const STATEMENT_CACHE_SIZE = 200;
/** Longest an erase waits (with back-off, never blocking the event loop) for readers to let its checkpoint run. */
const ERASE_CHECKPOINT_WAIT_MS = 1000;

type Engine = StoreEngine<Prepare, SqliteMemoryRow>;

/** How the SQLite backend stores and queries: the engine under {@link SqliteStore}. */
class SqliteEngine implements Engine {
  readonly name = 'sqlite';
  readonly capabilities: StoreCapabilities;
  readonly path: string;
  private db: Database.Database | undefined;
  /** The pending connection, so concurrent `open()` calls share one. */
  private connecting: Promise<Database.Database> | undefined;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly busyTimeoutMs: number;
  private readonly retry: BusyRetryOptions;
  /** Read-only connections of open `exportScope` snapshots, closed by `close()`. */
  private readonly readers = new Set<Database.Database>();
  /** An erase's TRUNCATE checkpoint was blocked by readers; retried after each write and at close. */
  pendingCheckpoint = false;
  private readonly exactScanMaxRows: number;
  readonly densePlans = { exact: 0, approximate: 0, fallback: 0 };
  /** Binary-index blocks read by earlier searches (checked against their version on every use). */
  private readonly codeBlocks: CodeBlockCache;
  /** Counts the binary index's Hamming distances (see sqlite/hamming-kernel.ts). */
  private readonly hamming = createHammingKernel();
  private readonly keywordMirror: KeywordMirror;
  /** See {@link SqliteStore.keywordMirrorStatus}. */
  get keywordMirrorStatus(): 'none' | 'building' | 'ready' {
    return this.keywordMirror.status;
  }

  constructor(options: SqliteStoreOptions) {
    const inMemory = options.path === ':memory:';
    this.path = inMemory ? ':memory:' : resolve(options.path);
    this.capabilities = { persistent: !inMemory, multiProcess: !inMemory };
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.retry = { attempts: options.busyAttempts ?? 4, initialDelayMs: 25 };
    this.exactScanMaxRows = options.exactScanMaxRows ?? 4096;
    this.codeBlocks = new CodeBlockCache((options.codeCacheMb ?? 256) * 2 ** 20);
    this.keywordMirror = new KeywordMirror(options.keywordMirrorMaxRows ?? MIRROR_MAX_ROWS);
    if (!(this.exactScanMaxRows >= 0)) {
      throw new ConfigError(
        `SQLite store option exactScanMaxRows must be a number >= 0 (Infinity: always exact), got ${String(options.exactScanMaxRows)}`,
      );
    }
  }

  async open(embedder: EmbedderIdentity): Promise<void> {
    this.connecting ??= this.connect();
    let db: Database.Database;
    try {
      db = await this.connecting;
    } catch (error) {
      this.connecting = undefined;
      throw error;
    }
    await withBusyRetry(() => migrate(db, embedder, this.path), {
      path: this.path,
      action: 'opening (migrations)',
      retry: this.retry,
    });
  }

  private async connect(): Promise<Database.Database> {
    if (this.path !== ':memory:') {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
      } catch (error) {
        throw new StoreError(
          `SQLite store ${this.path}: cannot create its directory (${String(error)}). Choose a writable path ` +
            'with option `store` / env MNEME_STORE.',
          { cause: error, code: 'store_cannot_open' },
        );
      }
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(this.path, { timeout: this.busyTimeoutMs });
      sqliteVec.load(db);
      const connection = db;
      await withBusyRetry(() => configureConnection(connection, this.busyTimeoutMs), {
        path: this.path,
        action: 'opening',
        retry: this.retry,
      });
    } catch (error) {
      db?.close();
      throw toStoreError(error, this.path, 'opening');
    }
    if (this.closed) {
      db.close();
      throw notOpenError(this.name, true);
    }
    this.db = db;
    return db;
  }

  readonly steps = sqliteWrites;

  /** Runs the program in a `BEGIN IMMEDIATE` transaction (all or nothing), retrying on lock contention. */
  async write<T>(action: string, program: (tx: Prepare) => Program<T>): Promise<T> {
    const db = this.requireDb();
    const result = await withBusyRetry(
      () => db.transaction(() => runSync(program(this.prepare))).immediate(),
      { path: this.path, action, retry: this.retry },
    );
    // An erase's checkpoint was blocked by a reader: try again now (cheap when the WAL is small). The write has
    // committed, so a failed attempt must not fail it: the checkpoint stays pending (see diagnostics) and is
    // tried again after the next write and at close.
    if (this.pendingCheckpoint) {
      try {
        this.tryPendingCheckpoint();
      } catch {
        this.pendingCheckpoint = true;
      }
    }
    return result;
  }

  /** Makes the erased text leave the disk: drop cached blocks, checkpoint and truncate the WAL. */
  async afterErase(): Promise<void> {
    // The erased vectors' blocks are gone from the file; drop cached copies too (derived from the vectors), and
    // the keyword mirror, whose vocabulary still holds the erased words.
    this.codeBlocks.clear();
    this.hamming.clear();
    this.keywordMirror.drop();
    // Copy the zeroed pages into the main file and empty the WAL, so erased text leaves the disk now. A reader
    // holding an older snapshot (another process, an export) blocks that: retry with back-off, and if it still
    // cannot run, leave it pending for the next write or close.
    this.pendingCheckpoint = true;
    const deadline = Date.now() + Math.min(this.busyTimeoutMs, ERASE_CHECKPOINT_WAIT_MS);
    for (let wait = 5; !this.tryPendingCheckpoint() && Date.now() + wait <= deadline; wait *= 2) {
      await delay(wait);
    }
  }

  /**
   * Runs the pending TRUNCATE checkpoint once without waiting (busy_timeout 0 for the call: this runs on the
   * event loop). @returns true when none is pending any more.
   */
  private tryPendingCheckpoint(): boolean {
    const db = this.db;
    if (!this.pendingCheckpoint || !db?.open || this.path === ':memory:') {
      this.pendingCheckpoint = false;
      return true;
    }
    db.pragma('busy_timeout = 0');
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (result?.busy === 0) this.pendingCheckpoint = false;
    } catch (error) {
      if (!isBusy(error)) throw toStoreError(error, this.path, 'checkpointing the WAL after an erase');
    } finally {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
    }
    return !this.pendingCheckpoint;
  }

  readonly get: Engine['get'] = (id, scope) =>
    this.read('get', () => {
      const row = findRow(this.prepare, id, scope);
      return row === undefined ? undefined : rowToRecord(row);
    });
  readonly findByValues: Engine['findByValues'] = (visibility, column, values) =>
    this.read(FIND_ACTIONS[column], () => reads.selectByValues(this.prepare, visibility, column, values));
  readonly listPage: Engine['listPage'] = (visibility, limit, after) =>
    this.read('list', () => reads.selectPage(this.prepare, visibility, limit, after));

  searchDense(visibility: Visibility, embedding: Float32Array, limit: number): Promise<DenseHit[]> {
    return this.read('searchDense', () => this.denseSearch(visibility, embedding, limit));
  }

  /** Chooses the exact scan or the binary index for one dense search (see the file's comment). */
  private denseSearch(visibility: Visibility, embedding: Float32Array, limit: number): DenseHit[] {
    const { scope } = visibility;
    const listing =
      scope.userId !== undefined &&
      embedding.length % 32 === 0 &&
      this.exactScanMaxRows < Number.POSITIVE_INFINITY
        ? listBlocks(this.prepare, scope.userId)
        : undefined;
    if (listing !== undefined && listing.live > this.exactScanMaxRows) {
      const { live } = listing;
      const pool = candidatePoolSize(live, limit);
      const candidates = nearestCodes(this.prepare, this.codeBlocks, listing, embedding, pool, this.hamming);
      const hits = reads.selectDense(this.prepare, visibility, embedding, limit, candidates);
      if (hits.length >= limit || candidates.length >= live) {
        this.densePlans.approximate += 1;
        return hits;
      }
      this.densePlans.fallback += 1;
      return reads.selectDense(this.prepare, visibility, embedding, limit);
    }
    this.densePlans.exact += 1;
    return reads.selectDense(this.prepare, visibility, embedding, limit);
  }

  readonly searchKeyword: Engine['searchKeyword'] = (visibility, terms, limit) =>
    this.read('searchKeyword', () =>
      keyword.selectKeyword(this.prepare, visibility, terms, limit, this.keywordMirror),
    );
  readonly history: Engine['history'] = (id, scope) =>
    this.read('history', () => reads.selectHistory(this.prepare, id, scope));

  async *exportScope(
    visibility: Visibility,
    pageSize: number,
  ): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
    if (this.path === ':memory:') {
      // A private in-memory database has no second connection; one synchronous read of every page is the
      // snapshot (nothing else runs in between).
      yield* await this.read('exportScope', () => {
        const all: Array<{ record: MemoryRecord; history: HistoryEvent[] }> = [];
        for (let after: PageKey | undefined; ; ) {
          const page = reads.exportPage(this.prepare, visibility, pageSize, after);
          all.push(...page.items);
          const last = page.items.at(-1)?.record;
          if (!page.more || !last) return all;
          after = { createdAt: last.createdAt, id: last.id };
        }
      });
      return;
    }
    // A dedicated read-only connection holding one read transaction across pages: WAL keeps its snapshot while
    // this store's connection and other processes write, and the writers never wait for it.
    let reader: Database.Database;
    try {
      reader = new Database(this.path, { readonly: true, fileMustExist: true, timeout: this.busyTimeoutMs });
    } catch (error) {
      throw toStoreError(error, this.path, 'exportScope (opening a read connection)');
    }
    this.readers.add(reader);
    try {
      const prepare: Prepare = (sql) => reader.prepare(sql);
      yield* exportPages((after) =>
        this.read('exportScope', () => {
          if (after === undefined) reader.exec('BEGIN');
          return reads.exportPage(prepare, visibility, pageSize, after);
        }),
      );
    } finally {
      this.readers.delete(reader);
      if (reader.open) reader.close();
      // This snapshot may have been what blocked an erase's checkpoint.
      if (this.pendingCheckpoint && this.db?.open) this.tryPendingCheckpoint();
    }
  }

  readonly listScopes: Engine['listScopes'] = (within) =>
    this.read('listScopes', () => reads.selectScopes(this.prepare, within));
  readonly scanPage: Engine['scanPage'] = (after, limit) =>
    this.read('scan', () => reads.scanPage(this.prepare, after, limit));

  stats(): Promise<StoreStats> {
    const count = (table: string) =>
      (this.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return this.read('stats', () => ({
      memories: count('memories'),
      vectors: count('memory_vectors'),
      keywordEntries: count('memory_fts'),
      historyEvents: count('history'),
      queueItems: count('queue'),
      deadLetters: count('dead_letters'),
    }));
  }

  readonly queue = sqliteQueue(
    (action, operation) => this.read(action, () => operation(this.prepare)),
    (action, operation) => this.transaction(action, () => operation(this.prepare)),
  );

  /** Reports the connection's settings and runs `PRAGMA quick_check`. */
  diagnostics(): Promise<SqliteDiagnostics> {
    const db = this.requireDb();
    return this.read('diagnostics', () => {
      const pragma = (name: string) => db.pragma(name, { simple: true });
      const versions = db.prepare('SELECT sqlite_version() AS sqlite, vec_version() AS vec').get() as {
        sqlite: string;
        vec: string;
      };
      const schema = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
        | { value: string }
        | undefined;
      return {
        path: this.path,
        journalMode: String(pragma('journal_mode')),
        synchronous: Number(pragma('synchronous')),
        foreignKeys: Number(pragma('foreign_keys')) === 1,
        secureDelete: Number(pragma('secure_delete')) === 1,
        busyTimeoutMs: Number(pragma('busy_timeout')),
        schemaVersion: Number(schema?.value ?? 0),
        sqliteVersion: versions.sqlite,
        sqliteVecVersion: versions.vec,
        quickCheck: String(pragma('quick_check')),
        pendingWalCleanup: this.pendingCheckpoint,
        densePlans: { ...this.densePlans },
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const reader of this.readers) if (reader.open) reader.close();
    this.readers.clear();
    // Closing the last connection checkpoints by itself; with other processes still attached it does not.
    if (this.pendingCheckpoint && this.db?.open) this.tryPendingCheckpoint();
    this.statements.clear();
    this.codeBlocks.clear();
    this.hamming.clear();
    this.keywordMirror.drop();
    const db = this.db;
    this.db = undefined;
    if (db?.open) db.close();
  }

  private requireDb(): Database.Database {
    if (!this.db) throw notOpenError(this.name, this.closed);
    return this.db;
  }

  /** A prepared statement, cached (least recently used first out). */
  private readonly prepare: Prepare = (sql) => {
    const cached = this.statements.get(sql);
    if (cached) {
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const prepared = this.requireDb().prepare(sql);
    this.statements.set(sql, prepared);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
    return prepared;
  };

  private read<T>(action: string, operation: () => T): Promise<T> {
    return withBusyRetry(operation, { path: this.path, action, retry: this.retry });
  }

  /** A single queue operation in its own `BEGIN IMMEDIATE` transaction. */
  private transaction<T>(action: string, operation: () => T): Promise<T> {
    return this.write(action, () => singleStep(operation));
  }
}

/** The SQLite backend. Prefer {@link createSqliteStore} or `createStore('sqlite://./mneme.db')`. */
export class SqliteStore extends StoreCore<Prepare, SqliteMemoryRow, SqliteEngine> {
  /** Absolute path of the database file, or `:memory:`. */
  readonly path: string = this.engine.path;

  constructor(options: SqliteStoreOptions) {
    super(new SqliteEngine(options));
  }

  /** Reports the connection's settings and runs `PRAGMA quick_check`. */
  async diagnostics(): Promise<SqliteDiagnostics> {
    this.requireOpen();
    return this.engine.diagnostics();
  }

  /**
   * Where this process's keyword mirror stands (`sqlite/keyword-mirror.ts`): `ready` when a user holding most of
   * the file is ranked from memory, `building` while it is read in, `none` before any such search (or when off).
   */
  get keywordMirrorStatus(): 'none' | 'building' | 'ready' {
    return this.engine.keywordMirrorStatus;
  }
}

/** Creates a SQLite store on `options.path`. Call `open({ embedder })` before use. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
