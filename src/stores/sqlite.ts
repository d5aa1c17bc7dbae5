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
import { ConfigError, NotFoundError, StoreError } from '../core/errors.js';
import type { FilterNode } from '../core/filters.js';
import { isWithinScope } from '../core/scope.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../core/types.js';
import {
  addMilliseconds,
  assertDimension,
  assertLimit,
  assertScope,
  assertStorableChanges,
  assertStorableItems,
  assertStorableQueueItem,
  checkEmbedder,
  decodeCursor,
  notOpenError,
} from './common.js';
import type { EraseTarget } from './sql-filter.js';
import { type BusyRetryOptions, isBusy, toStoreError, withBusyRetry } from './sqlite/errors.js';
import {
  claimItems,
  deadLetterItem,
  deleteDeadLetterRow,
  enqueueItem,
  failItem,
  requeueDeadLetter,
  selectDeadLetters,
  selectItem,
} from './sqlite/queue.js';
import {
  exportPage,
  scanPage,
  selectByValues,
  selectDense,
  selectHistory,
  selectKeyword,
  selectPage,
  selectScopes,
} from './sqlite/reads.js';
import { rowToRecord } from './sqlite/rows.js';
import { configureConnection, migrate } from './sqlite/schema.js';
import { CodeBlockCache, candidatePoolSize, listBlocks, nearestCodes } from './sqlite/vector-index.js';
import { applyChanges, eraseRows, findRow, type Prepare, restoreItems } from './sqlite/writes.js';
import type {
  ClaimQueueOptions,
  DeadLetter,
  DenseHit,
  EmbedderIdentity,
  KeywordHit,
  MemoryChange,
  MemoryStore,
  QueueItem,
  StoreCapabilities,
  StoreStats,
  TemporalOptions,
} from './types.js';

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
/** Memories per page of `exportScope` (all pages read in one read transaction). */
const EXPORT_PAGE_SIZE = 200;
/** Longest an erase waits (with back-off, never blocking the event loop) for readers to let its checkpoint run. */
const ERASE_CHECKPOINT_WAIT_MS = 1000;

/** The SQLite backend. Prefer {@link createSqliteStore} or `createStore('sqlite://./mneme.db')`. */
export class SqliteStore implements MemoryStore {
  readonly name = 'sqlite';
  readonly capabilities: StoreCapabilities;
  /** Absolute path of the database file, or `:memory:`. */
  readonly path: string;
  private db: Database.Database | undefined;
  /** The pending connection, so concurrent `open()` calls share one. */
  private connecting: Promise<Database.Database> | undefined;
  private embedder: EmbedderIdentity | undefined;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly busyTimeoutMs: number;
  private readonly retry: BusyRetryOptions;
  /** Read-only connections of open `exportScope` snapshots, closed by `close()`. */
  private readonly readers = new Set<Database.Database>();
  /** An erase's TRUNCATE checkpoint was blocked by readers; retried after each write and at close. */
  private pendingCheckpoint = false;
  private readonly exactScanMaxRows: number;
  private readonly densePlans = { exact: 0, approximate: 0, fallback: 0 };
  /** Binary-index blocks read by earlier searches (checked against their version on every use). */
  private readonly codeBlocks: CodeBlockCache;

  constructor(options: SqliteStoreOptions) {
    const inMemory = options.path === ':memory:';
    this.path = inMemory ? ':memory:' : resolve(options.path);
    this.capabilities = { persistent: !inMemory, multiProcess: !inMemory };
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.retry = { attempts: options.busyAttempts ?? 4, initialDelayMs: 25 };
    this.exactScanMaxRows = options.exactScanMaxRows ?? 4096;
    this.codeBlocks = new CodeBlockCache((options.codeCacheMb ?? 256) * 2 ** 20);
    if (!(this.exactScanMaxRows >= 0)) {
      throw new ConfigError(
        `SQLite store option exactScanMaxRows must be a number >= 0 (Infinity: always exact), got ${String(options.exactScanMaxRows)}`,
      );
    }
  }

  async open(options: { embedder: EmbedderIdentity }): Promise<void> {
    if (this.closed) throw notOpenError(this.name, true);
    const embedder = checkEmbedder(options.embedder, this.embedder);
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
    this.embedder = embedder;
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

  async apply(options: { changes: MemoryChange[]; completeQueueItem?: string }): Promise<void> {
    const dimension = this.requireOpen();
    assertStorableChanges(options.changes);
    await this.write('apply', () =>
      applyChanges(this.prepare, options.changes, dimension, options.completeQueueItem),
    );
  }

  async get(options: { id: string; scope?: Scope }): Promise<MemoryRecord | null> {
    this.requireOpen();
    const row = await this.read('get', () => findRow(this.prepare, options.id, options.scope));
    return row ? rowToRecord(row) : null;
  }

  async findByHash(options: {
    scope: Scope;
    hashes: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]> {
    this.requireOpen();
    assertScope(options.scope);
    return this.read('findByHash', () => selectByValues(this.prepare, options, 'hash', options.hashes));
  }

  async findByTopic(options: {
    scope: Scope;
    topics: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]> {
    this.requireOpen();
    assertScope(options.scope);
    return this.read('findByTopic', () => selectByValues(this.prepare, options, 'topic', options.topics));
  }

  async list(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    page: { limit: number; cursor?: string };
  }): Promise<{ records: MemoryRecord[]; nextCursor?: string }> {
    this.requireOpen();
    assertScope(options.scope);
    assertLimit(options.page.limit, 'page.limit');
    const { cursor, limit } = options.page;
    const [createdAt = '', id = ''] = cursor === undefined ? [] : decodeCursor(cursor, 2, 'page.cursor');
    const after = cursor === undefined ? undefined : { createdAt, id };
    return this.read('list', () => selectPage(this.prepare, options, limit, after));
  }

  async searchDense(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    embedding: Float32Array;
    limit: number;
  }): Promise<DenseHit[]> {
    const dimension = this.requireOpen();
    assertScope(options.scope);
    assertLimit(options.limit, 'limit');
    assertDimension(options.embedding, dimension, 'embedding');
    return this.read('searchDense', () => this.denseSearch(options, dimension));
  }

  /** Chooses the exact scan or the binary index for one dense search (see the file's comment). */
  private denseSearch(
    options: {
      scope: Scope;
      filter?: FilterNode;
      temporal: TemporalOptions;
      embedding: Float32Array;
      limit: number;
    },
    dimension: number,
  ): DenseHit[] {
    const { scope, embedding, limit } = options;
    const listing =
      scope.userId !== undefined && dimension % 32 === 0 && this.exactScanMaxRows < Number.POSITIVE_INFINITY
        ? listBlocks(this.prepare, scope.userId)
        : undefined;
    if (listing !== undefined && listing.live > this.exactScanMaxRows) {
      const { live } = listing;
      const pool = candidatePoolSize(live, limit);
      const candidates = nearestCodes(this.prepare, this.codeBlocks, listing, embedding, pool);
      const hits = selectDense(this.prepare, options, embedding, limit, candidates);
      if (hits.length >= limit || candidates.length >= live) {
        this.densePlans.approximate += 1;
        return hits;
      }
      this.densePlans.fallback += 1;
      return selectDense(this.prepare, options, embedding, limit);
    }
    this.densePlans.exact += 1;
    return selectDense(this.prepare, options, embedding, limit);
  }

  async searchKeyword(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    terms: string[];
    limit: number;
  }): Promise<KeywordHit[]> {
    this.requireOpen();
    assertScope(options.scope);
    assertLimit(options.limit, 'limit');
    return this.read('searchKeyword', () =>
      selectKeyword(this.prepare, options, options.terms, options.limit),
    );
  }

  async history(options: { id: string; scope?: Scope }): Promise<HistoryEvent[]> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    return this.read('history', () => selectHistory(this.prepare, options.id, options.scope));
  }

  async eraseScope(options: { scope: Scope; now: string; actor: string }): Promise<number> {
    this.requireOpen();
    assertScope(options.scope);
    return (await this.erase('eraseScope', { scope: options.scope }, options)).deleted;
  }

  async eraseMemory(options: { id: string; scope?: Scope; now: string; actor: string }): Promise<boolean> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    const target = { id: options.id, ...(options.scope ? { scope: options.scope } : {}) };
    return (await this.erase('eraseMemory', target, options)).tombstones > 0;
  }

  /** Erases `target` in one write, then makes the erased text leave the disk (cached blocks, WAL). */
  private async erase(
    operation: string,
    target: EraseTarget,
    options: { now: string; actor: string },
  ): Promise<{ deleted: number; tombstones: number }> {
    const erased = await this.write(operation, () =>
      eraseRows(this.prepare, target, options.now, options.actor),
    );
    // The erased vectors' blocks are gone from the file; drop cached copies too (derived from the vectors).
    this.codeBlocks.clear();
    // Copy the zeroed pages into the main file and empty the WAL, so erased text leaves the disk now. A reader
    // holding an older snapshot (another process, an export) blocks that: retry with back-off, and if it still
    // cannot run, leave it pending for the next write or close.
    this.pendingCheckpoint = true;
    const deadline = Date.now() + Math.min(this.busyTimeoutMs, ERASE_CHECKPOINT_WAIT_MS);
    for (let wait = 5; !this.tryPendingCheckpoint() && Date.now() + wait <= deadline; wait *= 2) {
      await delay(wait);
    }
    return erased;
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

  async *exportScope(options: {
    scope: Scope;
    temporal: TemporalOptions;
  }): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
    this.requireOpen();
    assertScope(options.scope);
    const visibility = { scope: options.scope, temporal: options.temporal };
    if (this.path === ':memory:') {
      // A private in-memory database has no second connection; one synchronous read of every page is the
      // snapshot (nothing else runs in between).
      const items = await this.read('exportScope', () => {
        const all: Array<{ record: MemoryRecord; history: HistoryEvent[] }> = [];
        for (let after: { createdAt: string; id: string } | undefined; ; ) {
          const page = exportPage(this.prepare, visibility, EXPORT_PAGE_SIZE, after);
          all.push(...page.items);
          const last = page.items.at(-1)?.record;
          if (!page.more || !last) return all;
          after = { createdAt: last.createdAt, id: last.id };
        }
      });
      for (const item of items) {
        this.requireOpen();
        yield item;
      }
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
      let after: { createdAt: string; id: string } | undefined;
      let first = true;
      for (;;) {
        const page = await this.read('exportScope', () => {
          if (first) reader.exec('BEGIN');
          first = false;
          return exportPage(prepare, visibility, EXPORT_PAGE_SIZE, after);
        });
        for (const item of page.items) {
          this.requireOpen();
          yield item;
        }
        const last = page.items.at(-1)?.record;
        if (!page.more || !last) return;
        after = { createdAt: last.createdAt, id: last.id };
      }
    } finally {
      this.readers.delete(reader);
      if (reader.open) reader.close();
      // This snapshot may have been what blocked an erase's checkpoint.
      if (this.pendingCheckpoint && this.db?.open) this.tryPendingCheckpoint();
    }
  }

  async listScopes(options: { within?: Scope }): Promise<Array<Scope & { count: number }>> {
    this.requireOpen();
    return this.read('listScopes', () => selectScopes(this.prepare, options.within));
  }

  async enqueue(options: { scope: Scope; payload: unknown; now: string }): Promise<QueueItem> {
    this.requireOpen();
    assertScope(options.scope);
    assertStorableQueueItem(options);
    return this.write('enqueue', () =>
      enqueueItem(this.prepare, options.scope, options.payload, options.now),
    );
  }

  async claimQueue(options: ClaimQueueOptions): Promise<QueueItem[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    if (options.ids?.length === 0) return [];
    const leasedUntil = addMilliseconds(options.now, options.leaseMs);
    return this.write('claimQueue', () =>
      claimItems(this.prepare, options.limit, options.now, leasedUntil, options.ids),
    );
  }

  async failQueueItem(options: { id: string; error: string; retryAt: string }): Promise<void> {
    this.requireOpen();
    const changes = await this.write('failQueueItem', () =>
      failItem(this.prepare, options.id, options.error, options.retryAt),
    );
    if (changes === 0) throw new NotFoundError(`queue item ${options.id} not found`);
  }

  async dropQueueItem(options: { id: string; reason: string; now: string }): Promise<void> {
    this.requireOpen();
    const changes = await this.write('dropQueueItem', () =>
      deadLetterItem(this.prepare, options.id, options.reason, options.now),
    );
    if (changes === 0) throw new NotFoundError(`queue item ${options.id} not found`);
  }

  async getQueueItem(options: { id: string; scope?: Scope }): Promise<QueueItem | null> {
    this.requireOpen();
    const item = await this.read('getQueueItem', () => selectItem(this.prepare, options.id));
    return item && (!options.scope || isWithinScope(item.scope, options.scope)) ? item : null;
  }

  async listDeadLetters(options: { limit: number }): Promise<DeadLetter[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    return this.read('listDeadLetters', () => selectDeadLetters(this.prepare, options.limit));
  }

  async retryDeadLetter(options: { id: string; now: string }): Promise<QueueItem> {
    this.requireOpen();
    const item = await this.write('retryDeadLetter', () =>
      requeueDeadLetter(this.prepare, options.id, options.now),
    );
    if (item === undefined) throw new NotFoundError(`dead letter ${options.id} not found`);
    return item;
  }

  async deleteDeadLetter(options: { id: string }): Promise<void> {
    this.requireOpen();
    const changes = await this.write('deleteDeadLetter', () => deleteDeadLetterRow(this.prepare, options.id));
    if (changes === 0) throw new NotFoundError(`dead letter ${options.id} not found`);
  }

  async queueSize(): Promise<number> {
    this.requireOpen();
    return this.read(
      'queueSize',
      () => (this.prepare('SELECT COUNT(*) AS n FROM queue').get() as { n: number }).n,
    );
  }

  async stats(): Promise<StoreStats> {
    this.requireOpen();
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

  async scan(options: { cursor?: string; limit: number }): Promise<{
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
    nextCursor?: string;
  }> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    const after = options.cursor === undefined ? '' : (decodeCursor(options.cursor, 1, 'cursor')[0] ?? '');
    return this.read('scan', () => scanPage(this.prepare, after, options.limit));
  }

  async restore(options: {
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
  }): Promise<number> {
    const dimension = this.requireOpen();
    assertStorableItems(options.items);
    return this.write('restore', () => restoreItems(this.prepare, options.items, dimension));
  }

  /** Reports the connection's settings and runs `PRAGMA quick_check`. */
  async diagnostics(): Promise<SqliteDiagnostics> {
    this.requireOpen();
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
    const db = this.db;
    this.db = undefined;
    if (db?.open) db.close();
  }

  /** Throws unless open; returns the vector dimension. */
  private requireOpen(): number {
    if (this.closed || !this.db || !this.embedder) throw notOpenError(this.name, this.closed);
    return this.embedder.dimension;
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

  /** Runs `operation` in a `BEGIN IMMEDIATE` transaction (all or nothing), retrying on lock contention. */
  private async write<T>(action: string, operation: () => T): Promise<T> {
    const db = this.requireDb();
    const result = await withBusyRetry(() => db.transaction(operation).immediate(), {
      path: this.path,
      action,
      retry: this.retry,
    });
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
}

/** Creates a SQLite store on `options.path`. Call `open({ embedder })` before use. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
