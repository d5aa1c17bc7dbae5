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
import { ConfigError, StoreError } from '../core/errors.js';
import { FIND_ACTIONS, type QueueEngine, type StoreEngine } from './core/engine.js';
import { notOpenError } from './core/errors.js';
import { type Program, runAsync } from './core/program.js';
import { rowToRecord } from './core/rows.js';
import { StoreCore } from './core/store.js';
import type { Visibility } from './core/visibility.js';
import {
  createPool,
  inTransaction,
  type OperationContext,
  type Queryable,
  type RetryOptions,
  type SnapshotClient,
  withClient,
} from './postgres/pool.js';
import { postgresQueue } from './postgres/queue.js';
import * as reads from './postgres/reads.js';
import type { PostgresMemoryRow } from './postgres/rows.js';
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
import { postgresWrites, type WriteContext } from './postgres/writes.js';
import type { DenseHit, EmbedderIdentity, StoreCapabilities, StoreStats } from './types.js';

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

const MNEME_PARAMETERS = [
  'schema',
  'poolSize',
  'statementTimeoutMs',
  'connectTimeoutMs',
  'exactScanMaxRows',
] as const;

type Engine = StoreEngine<WriteContext, PostgresMemoryRow>;

/** How the PostgreSQL backend stores and queries: the engine under {@link PostgresStore}. */
class PostgresEngine implements Engine {
  readonly name = 'postgres';
  readonly capabilities: StoreCapabilities = { persistent: true, multiProcess: true };
  readonly names: SchemaNames;
  readonly where: string;
  private readonly connectionString: string;
  private readonly poolSize: number;
  private readonly statementTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly exactScanMaxRows: number;
  private readonly iterativeScan: boolean;
  private readonly retry: RetryOptions;
  private pool: Pool | undefined;
  state: OpenState | undefined;
  private closed = false;
  /** Connections of open `exportScope` snapshots, ended by `close()`. */
  private readonly snapshots = new Set<SnapshotClient>();
  readonly densePlans = { exact: 0, approximate: 0, fallback: 0 };

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
    this.queue = postgresQueue(this.names, (action, work) => this.read(action, work));
  }

  async open(embedder: EmbedderIdentity): Promise<void> {
    const pool = await this.requirePool();
    this.state = await inTransaction(pool, this.context('opening (migrations)'), async (client) => {
      await lockMigrations(client);
      const vector = await ensureVector(client, this.where);
      await migrate(client, this.names, this.where);
      const { hnsw } = await bindEmbedder(client, this.names, vector, embedder);
      return { dimension: embedder.dimension, vector, hnsw };
    });
  }

  /** Applies pending migrations without binding an embedder (see {@link PostgresStore.migrate}). */
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

  readonly steps = postgresWrites;

  /** Runs the program in one transaction (all or nothing), retried on serialization failures and deadlocks. */
  write<T>(action: string, program: (tx: WriteContext) => Program<T>): Promise<T> {
    const { vector } = this.requireState();
    return this.transaction(action, (client) => runAsync(program({ client, names: this.names, vector })));
  }

  readonly get: Engine['get'] = (id, scope) =>
    this.read('get', async (client) => {
      const row = await reads.findRow(client, this.names, id, scope);
      return row === undefined ? undefined : rowToRecord(row);
    });
  readonly findByValues: Engine['findByValues'] = (visibility, column, values) =>
    this.read(FIND_ACTIONS[column], (client) =>
      reads.selectByValues(client, this.names, visibility, column, values),
    );
  readonly listPage: Engine['listPage'] = (visibility, limit, after) =>
    this.read('list', (client) => reads.selectPage(client, this.names, visibility, limit, after));

  searchDense(visibility: Visibility, embedding: Float32Array, limit: number): Promise<DenseHit[]> {
    const state = this.requireState();
    return this.transaction('searchDense', async (client) => {
      if (state.hnsw) {
        const size = await reads.countScope(client, this.names, visibility.scope);
        if (size > this.exactScanMaxRows) {
          // ef_search bounds how many rows one index scan can return (pgvector allows 1..1000).
          const efSearch = Math.min(1000, Math.max(40, limit * 2));
          const iterative = this.iterativeScan && supportsIterativeScan(state.vector.version);
          await client.query(
            `SELECT set_config('hnsw.ef_search', $1, true)${iterative ? ", set_config('hnsw.iterative_scan', 'strict_order', true)" : ''}`,
            [String(efSearch)],
          );
          const hits = await reads.selectDenseApproximate(
            client,
            this.names,
            state.vector,
            visibility,
            embedding,
            limit,
          );
          if (hits.length >= limit) {
            this.densePlans.approximate += 1;
            return hits;
          }
          this.densePlans.fallback += 1;
          return reads.selectDenseExact(client, this.names, state.vector, visibility, embedding, limit);
        }
      }
      this.densePlans.exact += 1;
      return reads.selectDenseExact(client, this.names, state.vector, visibility, embedding, limit);
    });
  }

  readonly searchKeyword: Engine['searchKeyword'] = (visibility, terms, limit) =>
    this.read('searchKeyword', (client) => reads.selectKeyword(client, this.names, visibility, terms, limit));
  readonly history: Engine['history'] = (id, scope) =>
    this.read('history', (client) => reads.selectHistory(client, this.names, id, scope));

  readonly exportScope: Engine['exportScope'] = (visibility, pageSize) =>
    reads.exportSnapshot(this.requirePoolSync(), this.context('exportScope'), this.names, {
      ...visibility,
      pageSize,
      open: this.snapshots,
    });
  readonly listScopes: Engine['listScopes'] = (within) =>
    this.read('listScopes', (client) => reads.selectScopes(client, this.names, within));
  readonly scanPage: Engine['scanPage'] = (after, limit) =>
    this.transaction('scan', (client) => reads.scanPage(client, this.names, after, limit));

  async stats(): Promise<StoreStats> {
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

  readonly queue: QueueEngine;

  /** Reports versions, settings and how dense searches were answered. */
  diagnostics(): Promise<PostgresDiagnostics> {
    const state = this.requireState();
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

  private requireState(): OpenState {
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

  /** Runs `work` on one pooled connection, outside an explicit transaction (single statements). */
  private read<T>(action: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    return withClient(this.requirePoolSync(), this.context(action), work);
  }

  /** Runs `work` in one transaction (all or nothing), retried on serialization failures and deadlocks. */
  private transaction<T>(action: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.requirePoolSync(), this.context(action), work);
  }
}

/** The PostgreSQL backend. Prefer {@link createPostgresStore} or `createStore('postgres://...')`. */
export class PostgresStore extends StoreCore<WriteContext, PostgresMemoryRow, PostgresEngine> {
  /** Qualified names of the store's tables. */
  readonly names: SchemaNames = this.engine.names;
  /** The server, database and schema, password removed (for messages). */
  readonly where: string = this.engine.where;

  constructor(options: PostgresStoreOptions) {
    super(new PostgresEngine(options));
  }

  /**
   * Applies pending migrations without binding an embedder (for `mneme migrate` and deployment scripts). Works
   * without pgvector; reports whether the server has it, since {@link PostgresStore.open} needs it.
   */
  migrate(): Promise<MigrationResult & { pgvectorAvailable: boolean }> {
    return this.engine.migrate();
  }

  /** Reports versions, settings and how dense searches were answered. */
  async diagnostics(): Promise<PostgresDiagnostics> {
    this.requireOpen();
    return this.engine.diagnostics();
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
