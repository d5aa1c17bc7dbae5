/**
 * The scale-out {@link MemoryStore}: PostgreSQL with pgvector, shared by any number of stateless mneme servers.
 * Same seam and conformance suite as the SQLite store, same hybrid fusion (in the Memory service) over the same
 * candidate signals:
 * - dense: pgvector cosine distance (`<=>`, similarity = 1 - distance). Scopes up to `exactScanMaxRows`
 *   memories are scanned exactly (as SQLite does); larger ones use the HNSW index with `hnsw.ef_search` raised
 *   and iterative scans (pgvector 0.8+), and fall back to an exact scan if the index still returns fewer rows
 *   than asked for (a selective scope or filter can starve an approximate index scan);
 * - keyword: a generated tsvector over mneme's own tokens (FTS5's tokenizer, reimplemented) with a GIN index,
 *   scored with FTS5's BM25 formula in SQL (see `postgres/reads.ts`).
 *
 * Operations: versioned migrations on open inside an advisory-locked transaction; a `pg.Pool` with
 * `statement_timeout`; every multi-row write in one transaction; serialization failures and deadlocks (40001,
 * 40P01) retried with back-off; connection errors surface as retryable {@link StoreError}s. Tenant isolation:
 * every statement is filtered by scope columns with bound parameters (row-level security is not used).
 *
 * URL: `postgres://user:password@host:5432/database?schema=mneme` (also `postgresql:`). mneme's parameters
 * (`schema`, `poolSize`, `statementTimeoutMs`, `connectTimeoutMs`, `exactScanMaxRows`) are removed before the URL reaches `pg`;
 * the others (`sslmode`, ...) pass through. `pg` is an optional peer dependency, loaded on first use.
 */
import type { Pool } from 'pg';
import {
  ConfigError,
  EmbedderMismatchError,
  NotFoundError,
  StoreError,
  ValidationError,
} from '../core/errors.js';
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
  decodeCursor,
  notOpenError,
} from './common.js';
import {
  createPool,
  inTransaction,
  type OperationContext,
  type Queryable,
  type RetryOptions,
  type SnapshotClient,
  withClient,
} from './postgres/pool.js';
import {
  claimItems,
  deadLetterItem,
  deleteDeadLetterRow,
  enqueueItem,
  failItem,
  requeueDeadLetter,
  selectDeadLetters,
  selectItem,
} from './postgres/queue.js';
import {
  countScope,
  exportSnapshot,
  findRow,
  scanPage,
  selectByValues,
  selectDenseApproximate,
  selectDenseExact,
  selectHistory,
  selectKeyword,
  selectPage,
  selectScopes,
} from './postgres/reads.js';
import { rowToRecord } from './postgres/rows.js';
import {
  bindEmbedder,
  currentVersion,
  ensureVector,
  lockMigrations,
  type MigrationResult,
  migrate,
  PGVECTOR_MISSING,
  SCHEMA_VERSION,
  type SchemaNames,
  schemaNames,
  supportsIterativeScan,
  type VectorNames,
} from './postgres/schema.js';
import { applyChanges, eraseRows, restoreItems, type WriteContext } from './postgres/writes.js';
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

/** Options for {@link createPostgresStore}. Explicit options win over the URL's parameters. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database[?schema=mneme&...]` (option `store` / env MNEME_STORE). */
  connectionString: string;
  /** Schema holding mneme's tables, created if missing. URL `?schema=`. @default 'mneme' */
  schema?: string;
  /** Connections in the pool (per process). URL `?poolSize=`. @default 10 */
  poolSize?: number;
  /** Server-side `statement_timeout` in ms; 0 disables it. URL `?statementTimeoutMs=`. @default 30000 */
  statementTimeoutMs?: number;
  /**
   * How long to wait for a connection, in ms: to connect, or for a pooled one to come free when all `poolSize`
   * are busy (then the operation fails with a retryable StoreError, code `store_pool_exhausted`, and the HTTP
   * server answers 503 with Retry-After). URL `?connectTimeoutMs=`. @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * Scopes with at most this many memories get an exact dense scan; larger ones use the HNSW index.
   * URL `?exactScanMaxRows=`. @default 20000
   */
  exactScanMaxRows?: number;
  /** Use pgvector's iterative index scans (0.8+) so filtered HNSW scans keep looking. @default true */
  iterativeScan?: boolean;
  /** Attempts (the first included) for a transaction hitting a serialization failure or deadlock. @default 5 */
  retryAttempts?: number;
}

/** Settings and counters, for `mneme doctor`, tests and benchmarks. */
export interface PostgresDiagnostics {
  /** Where the store lives (password removed). */
  where: string;
  schema: string;
  schemaVersion: number;
  serverVersion: string;
  pgvectorVersion: string;
  /** Whether the HNSW index exists (not for dimensions above 2000). */
  hnswIndex: boolean;
  /** The server's `statement_timeout` for this pool's connections. */
  statementTimeout: string;
  /** How dense searches were answered since open: exact scans, HNSW scans, and HNSW scans that fell back. */
  densePlans: { exact: number; approximate: number; fallback: number };
}

interface OpenState {
  dimension: number;
  vector: VectorNames;
  hnsw: boolean;
}

/** Memories per page of `exportScope` (all pages read in one transaction). */
const EXPORT_PAGE_SIZE = 200;

const MNEME_PARAMETERS = [
  'schema',
  'poolSize',
  'statementTimeoutMs',
  'connectTimeoutMs',
  'exactScanMaxRows',
] as const;

/** The PostgreSQL backend. Prefer {@link createPostgresStore} or `createStore('postgres://...')`. */
export class PostgresStore implements MemoryStore {
  readonly name = 'postgres';
  readonly capabilities: StoreCapabilities = { persistent: true, multiProcess: true };
  /** Qualified names of the store's tables. */
  readonly names: SchemaNames;
  /** The server, database and schema, password removed (for messages). */
  readonly where: string;
  private readonly connectionString: string;
  private readonly poolSize: number;
  private readonly statementTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly exactScanMaxRows: number;
  private readonly iterativeScan: boolean;
  private readonly retry: RetryOptions;
  private pool: Pool | undefined;
  private state: OpenState | undefined;
  private embedder: EmbedderIdentity | undefined;
  private closed = false;
  /** Connections of open `exportScope` snapshots, ended by `close()`. */
  private readonly snapshots = new Set<SnapshotClient>();
  private readonly densePlans = { exact: 0, approximate: 0, fallback: 0 };

  constructor(options: PostgresStoreOptions) {
    const parsed = parsePostgresUrl(options.connectionString);
    this.connectionString = parsed.connectionString;
    this.names = schemaNames(options.schema ?? parsed.schema ?? 'mneme');
    this.where = `${parsed.display} (schema ${this.names.schema})`;
    this.poolSize = positive(options.poolSize ?? parsed.poolSize ?? 10, 'poolSize', 1);
    this.statementTimeoutMs = positive(
      options.statementTimeoutMs ?? parsed.statementTimeoutMs ?? 30_000,
      'statementTimeoutMs',
      0,
    );
    this.connectTimeoutMs = positive(
      options.connectTimeoutMs ?? parsed.connectTimeoutMs ?? 10_000,
      'connectTimeoutMs',
      1,
    );
    this.exactScanMaxRows = positive(
      options.exactScanMaxRows ?? parsed.exactScanMaxRows ?? 20_000,
      'exactScanMaxRows',
      0,
    );
    this.iterativeScan = options.iterativeScan ?? true;
    this.retry = { attempts: positive(options.retryAttempts ?? 5, 'retryAttempts', 1), initialDelayMs: 20 };
  }

  async open(options: { embedder: EmbedderIdentity }): Promise<void> {
    if (this.closed) throw notOpenError(this.name, true);
    const { id, dimension } = options.embedder;
    if (typeof id !== 'string' || id.length === 0)
      throw new ValidationError('embedder.id', 'expected a string');
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new ValidationError('embedder.dimension', 'expected a positive integer');
    }
    if (this.embedder && (this.embedder.id !== id || this.embedder.dimension !== dimension)) {
      throw new EmbedderMismatchError(this.embedder, { id, dimension });
    }
    const pool = await this.requirePool();
    const state = await inTransaction(pool, this.context('opening (migrations)'), async (client) => {
      await lockMigrations(client);
      const vector = await ensureVector(client, this.where);
      await migrate(client, this.names, this.where);
      const { hnsw } = await bindEmbedder(client, this.names, vector, { id, dimension });
      return { dimension, vector, hnsw };
    });
    this.state = state;
    this.embedder = { id, dimension };
  }

  /**
   * Applies pending migrations without binding an embedder (for `mneme migrate` and deployment scripts). Works
   * without pgvector; reports whether the server has it, since {@link PostgresStore.open} needs it.
   */
  async migrate(): Promise<MigrationResult & { pgvectorAvailable: boolean }> {
    if (this.closed) throw notOpenError(this.name, true);
    const pool = await this.requirePool();
    return inTransaction(pool, this.context('migrating'), async (client) => {
      await lockMigrations(client);
      const result = await migrate(client, this.names, this.where);
      const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
      return { ...result, pgvectorAvailable: available.rows.length > 0 };
    });
  }

  async apply(options: { changes: MemoryChange[]; completeQueueItem?: string }): Promise<void> {
    this.requireOpen();
    assertStorableChanges(options.changes);
    await this.transaction('apply', (client) =>
      applyChanges(this.writeContext(client), options.changes, options.completeQueueItem),
    );
  }

  async get(options: { id: string; scope?: Scope }): Promise<MemoryRecord | null> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    const row = await this.read('get', (client) => findRow(client, this.names, options.id, options.scope));
    return row ? rowToRecord(row) : null;
  }

  async findByHash(options: {
    scope: Scope;
    hashes: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]> {
    this.requireOpen();
    assertScope(options.scope);
    return this.read('findByHash', (client) =>
      selectByValues(client, this.names, options, 'hash', options.hashes),
    );
  }

  async findByTopic(options: {
    scope: Scope;
    topics: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]> {
    this.requireOpen();
    assertScope(options.scope);
    return this.read('findByTopic', (client) =>
      selectByValues(client, this.names, options, 'topic', options.topics),
    );
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
    return this.read('list', (client) => selectPage(client, this.names, options, limit, after));
  }

  async searchDense(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    embedding: Float32Array;
    limit: number;
  }): Promise<DenseHit[]> {
    const state = this.requireOpen();
    assertScope(options.scope);
    assertLimit(options.limit, 'limit');
    assertDimension(options.embedding, state.dimension, 'embedding');
    const { embedding, limit } = options;
    return this.transaction('searchDense', async (client) => {
      if (state.hnsw) {
        const size = await countScope(client, this.names, options.scope, this.exactScanMaxRows + 1);
        if (size > this.exactScanMaxRows) {
          // ef_search bounds how many rows one index scan can return (pgvector allows 1..1000).
          const efSearch = Math.min(1000, Math.max(40, limit * 2));
          await client.query("SELECT set_config('hnsw.ef_search', $1, true)", [String(efSearch)]);
          if (this.iterativeScan && supportsIterativeScan(state.vector.version)) {
            await client.query("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)");
          }
          const hits = await selectDenseApproximate(
            client,
            this.names,
            state.vector,
            options,
            embedding,
            limit,
          );
          if (hits.length >= limit) {
            this.densePlans.approximate += 1;
            return hits;
          }
          this.densePlans.fallback += 1;
          return selectDenseExact(client, this.names, state.vector, options, embedding, limit);
        }
      }
      this.densePlans.exact += 1;
      return selectDenseExact(client, this.names, state.vector, options, embedding, limit);
    });
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
    return this.read('searchKeyword', (client) =>
      selectKeyword(client, this.names, options, options.terms, options.limit),
    );
  }

  async history(options: { id: string; scope?: Scope }): Promise<HistoryEvent[]> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    return this.read('history', (client) => selectHistory(client, this.names, options.id, options.scope));
  }

  async *exportScope(options: {
    scope: Scope;
    temporal: TemporalOptions;
  }): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
    this.requireOpen();
    assertScope(options.scope);
    yield* exportSnapshot(this.requirePoolSync(), this.context('exportScope'), this.names, {
      ...options,
      pageSize: EXPORT_PAGE_SIZE,
      open: this.snapshots,
    });
  }

  async eraseScope(options: { scope: Scope; now: string; actor: string }): Promise<number> {
    this.requireOpen();
    assertScope(options.scope);
    const target = { scope: options.scope };
    const erased = await this.transaction('eraseScope', (client) =>
      eraseRows(client, this.names, target, options.now, options.actor),
    );
    return erased.deleted;
  }

  async eraseMemory(options: { id: string; scope?: Scope; now: string; actor: string }): Promise<boolean> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    const target = { id: options.id, ...(options.scope ? { scope: options.scope } : {}) };
    const erased = await this.transaction('eraseMemory', (client) =>
      eraseRows(client, this.names, target, options.now, options.actor),
    );
    return erased.tombstones > 0;
  }

  async listScopes(options: { within?: Scope }): Promise<Array<Scope & { count: number }>> {
    this.requireOpen();
    return this.read('listScopes', (client) => selectScopes(client, this.names, options.within));
  }

  async enqueue(options: { scope: Scope; payload: unknown; now: string }): Promise<QueueItem> {
    this.requireOpen();
    assertScope(options.scope);
    assertStorableQueueItem(options);
    return this.read('enqueue', (client) =>
      enqueueItem(client, this.names, options.scope, options.payload, options.now),
    );
  }

  async claimQueue(options: ClaimQueueOptions): Promise<QueueItem[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    if (options.ids?.length === 0) return [];
    const leasedUntil = addMilliseconds(options.now, options.leaseMs);
    return this.read('claimQueue', (client) =>
      claimItems(client, this.names, options.limit, options.now, leasedUntil, options.ids),
    );
  }

  async failQueueItem(options: { id: string; error: string; retryAt: string }): Promise<void> {
    this.requireOpen();
    const changed = await this.read('failQueueItem', (client) =>
      failItem(client, this.names, options.id, options.error, options.retryAt),
    );
    if (changed === 0) throw new NotFoundError(`queue item ${options.id} not found`);
  }

  async dropQueueItem(options: { id: string; reason: string; now: string }): Promise<void> {
    this.requireOpen();
    const dropped = await this.read('dropQueueItem', (client) =>
      deadLetterItem(client, this.names, options.id, options.reason, options.now),
    );
    if (dropped === 0) throw new NotFoundError(`queue item ${options.id} not found`);
  }

  async getQueueItem(options: { id: string; scope?: Scope }): Promise<QueueItem | null> {
    this.requireOpen();
    const item = await this.read('getQueueItem', (client) => selectItem(client, this.names, options.id));
    return item && (!options.scope || isWithinScope(item.scope, options.scope)) ? item : null;
  }

  async listDeadLetters(options: { limit: number }): Promise<DeadLetter[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    return this.read('listDeadLetters', (client) => selectDeadLetters(client, this.names, options.limit));
  }

  async retryDeadLetter(options: { id: string; now: string }): Promise<QueueItem> {
    this.requireOpen();
    const item = await this.read('retryDeadLetter', (client) =>
      requeueDeadLetter(client, this.names, options.id, options.now),
    );
    if (item === undefined) throw new NotFoundError(`dead letter ${options.id} not found`);
    return item;
  }

  async deleteDeadLetter(options: { id: string }): Promise<void> {
    this.requireOpen();
    const deleted = await this.read('deleteDeadLetter', (client) =>
      deleteDeadLetterRow(client, this.names, options.id),
    );
    if (deleted === 0) throw new NotFoundError(`dead letter ${options.id} not found`);
  }

  async queueSize(): Promise<number> {
    this.requireOpen();
    const rows = await this.read('queueSize', async (client) => {
      return (await client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM ${this.names.queue}`))
        .rows;
    });
    return rows[0]?.n ?? 0;
  }

  async stats(): Promise<StoreStats> {
    this.requireOpen();
    const { memories, history, queue, deadLetters } = this.names;
    const rows = await this.read('stats', async (client) => {
      const query = `SELECT (SELECT count(*) FROM ${memories})::integer AS memories,
        (SELECT count(embedding) FROM ${memories})::integer AS vectors,
        (SELECT count(keyword) FROM ${memories})::integer AS "keywordEntries",
        (SELECT count(*) FROM ${history})::integer AS "historyEvents",
        (SELECT count(*) FROM ${queue})::integer AS "queueItems",
        (SELECT count(*) FROM ${deadLetters})::integer AS "deadLetters"`;
      return (await client.query<StoreStats>(query)).rows;
    });
    const [row] = rows;
    if (!row) throw new StoreError(`PostgreSQL store ${this.where}: stats returned no row`);
    return row;
  }

  async scan(options: { cursor?: string; limit: number }): Promise<{
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
    nextCursor?: string;
  }> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    const after = options.cursor === undefined ? '' : (decodeCursor(options.cursor, 1, 'cursor')[0] ?? '');
    return this.transaction('scan', (client) => scanPage(client, this.names, after, options.limit));
  }

  async restore(options: {
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
  }): Promise<number> {
    this.requireOpen();
    assertStorableItems(options.items);
    return this.transaction('restore', (client) => restoreItems(this.writeContext(client), options.items));
  }

  /** Reports versions, settings and how dense searches were answered. */
  async diagnostics(): Promise<PostgresDiagnostics> {
    const state = this.requireOpen();
    return this.read('diagnostics', async (client) => {
      const { rows } = await client.query<{ server: string; timeout: string }>(
        "SELECT current_setting('server_version') AS server, current_setting('statement_timeout') AS timeout",
      );
      return {
        where: this.where,
        schema: this.names.schema,
        schemaVersion: await currentVersion(client, this.names),
        serverVersion: rows[0]?.server ?? '',
        pgvectorVersion: state.vector.version,
        hnswIndex: state.hnsw,
        statementTimeout: rows[0]?.timeout ?? '',
        densePlans: { ...this.densePlans },
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = undefined;
    // Abandoned exports would keep their connections checked out and make pool.end() wait: end them.
    for (const client of this.snapshots) client.release(new Error('store closed during an export'));
    this.snapshots.clear();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.end();
  }

  /** Throws unless open; returns the open state. */
  private requireOpen(): OpenState {
    if (this.closed || !this.pool || !this.state) throw notOpenError(this.name, this.closed);
    return this.state;
  }

  private requirePoolSync(): Pool {
    if (!this.pool) throw notOpenError(this.name, this.closed);
    return this.pool;
  }

  private async requirePool(): Promise<Pool> {
    if (this.pool) return this.pool;
    const pool = await createPool(
      {
        connectionString: this.connectionString,
        poolSize: this.poolSize,
        statementTimeoutMs: this.statementTimeoutMs,
        connectTimeoutMs: this.connectTimeoutMs,
      },
      // An idle connection dropped (server restart, network): the pool discards it and the next query
      // reconnects or fails with a retryable StoreError, so nothing is lost by not rethrowing here.
      () => undefined,
    );
    if (this.closed) {
      await pool.end();
      throw notOpenError(this.name, true);
    }
    this.pool = pool;
    return pool;
  }

  private context(action: string): OperationContext {
    return { where: this.where, action, retry: this.retry };
  }

  private writeContext(client: Queryable): WriteContext {
    const state = this.requireOpen();
    return { client, names: this.names, vector: state.vector, dimension: state.dimension };
  }

  /** Runs `work` on one pooled connection, outside an explicit transaction (single statements). */
  private read<T>(action: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    return withClient(this.requirePoolSync(), this.context(action), work);
  }

  /** Runs `work` in one transaction (all or nothing), retried on serialization failures and deadlocks. */
  private transaction<T>(action: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.requirePoolSync(), this.context(action), work);
  }
}

/** The parts of a store URL: what `pg` receives, mneme's own parameters, and a password-free display form. */
export interface ParsedPostgresUrl {
  connectionString: string;
  display: string;
  schema?: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  exactScanMaxRows?: number;
}

/**
 * Splits a `postgres:` / `postgresql:` URL into the connection string for `pg` and mneme's parameters.
 * @throws ConfigError for a malformed URL or parameter, naming option `store` / env MNEME_STORE.
 */
export function parsePostgresUrl(url: string): ParsedPostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch (error) {
    throw new ConfigError(
      'invalid PostgreSQL store URL (option `store` / env MNEME_STORE): expected ' +
        'postgres://user:password@host:5432/database?schema=mneme',
      { cause: error, code: 'store_url_invalid' },
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`not a PostgreSQL URL (scheme ${parsed.protocol}): use postgres://...`, {
      code: 'store_url_invalid',
    });
  }
  const result: ParsedPostgresUrl = { connectionString: '', display: '' };
  for (const key of MNEME_PARAMETERS) {
    const value = parsed.searchParams.get(key);
    parsed.searchParams.delete(key);
    if (value === null) continue;
    if (key === 'schema') {
      result.schema = value;
      continue;
    }
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) {
      throw new ConfigError(
        `PostgreSQL store URL parameter \`${key}\` must be a non-negative integer, got "${value}" ` +
          '(option `store` / env MNEME_STORE)',
        { code: 'store_url_invalid' },
      );
    }
    result[key] = number;
  }
  result.connectionString = parsed.toString();
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
  result.display = `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
  return result;
}

function positive(value: number, name: string, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new ConfigError(
      `PostgreSQL store option \`${name}\` must be an integer >= ${minimum}, got ${value}`,
    );
  }
  return value;
}

/** Creates a PostgreSQL store. Call `open({ embedder })` next (or `migrate()` to only apply migrations). */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options);
}

export { PGVECTOR_MISSING, SCHEMA_VERSION };
