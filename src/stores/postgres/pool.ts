/**
 * The PostgreSQL store's connection layer: loading the optional `pg` driver, the connection pool, transactions,
 * the bounded retry on serialization failures and deadlocks, and the translation of driver errors into
 * {@link StoreError}s that say what to do.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { MissingDependencyError, MnemeError, StoreError, ValidationError } from '../../core/errors.js';

/** Something that runs a parameterised statement: the pool or a client inside a transaction. */
export interface Queryable {
  query<Row extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/** Settings of {@link createPool}. */
export interface PoolSettings {
  /** Connection string without mneme's own query parameters. */
  connectionString: string;
  /** Connections in the pool. */
  poolSize: number;
  /** Server-side `statement_timeout`, in ms (0 = none). */
  statementTimeoutMs: number;
  /** How long to wait for a connection, in ms. */
  connectTimeoutMs: number;
}

/**
 * Imports `pg` (an optional peer dependency) lazily.
 * @throws MissingDependencyError when it is not installed.
 */
export async function loadPg(): Promise<typeof import('pg')> {
  try {
    const module = (await import('pg')) as typeof import('pg') & { default?: typeof import('pg') };
    return module.default ?? module;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(error).includes("'pg'")) {
      throw new MissingDependencyError('pg', 'the PostgreSQL memory store (store URL postgres://...)', error);
    }
    throw error;
  }
}

/**
 * Creates the pool. A connection that breaks (a server restart, `pg_terminate_backend`, the network) is reported to
 * `onIdleError`, not thrown: the statement running on it fails (a retryable StoreError), the pool discards it, and
 * the next query reconnects.
 */
export async function createPool(settings: PoolSettings, onIdleError: (error: Error) => void): Promise<Pool> {
  const pg = await loadPg();
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'mneme',
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
  });
  pool.on('error', onIdleError);
  // pg emits 'error' on a client whose connection ends unexpectedly, even after failing the statement it ran.
  // pg-pool listens only while the client is idle; a checked-out client (between statements, or not yet released
  // after the failure) would raise an uncaught exception and take the process down. This listener stays for the
  // client's life: the failure itself reaches the caller through the failed statement.
  pool.on('connect', (client) => {
    client.on('error', onIdleError);
  });
  return pool;
}

/** Retry policy for serialization failures, deadlocks and failed connection attempts. */
export interface RetryOptions {
  /** Attempts in total, the first included. */
  attempts: number;
  /** First back-off delay in ms; doubles per attempt, with jitter. */
  initialDelayMs: number;
}

/** Context of an operation, for error messages. */
export interface OperationContext {
  /** The server and schema, password redacted, e.g. `postgres://app@db:5432/mneme (schema mneme)`. */
  where: string;
  /** What was being done, e.g. `searchDense`. */
  action: string;
  retry: RetryOptions;
}

const SERIALIZATION_CODES = new Set(['40001', '40P01']);
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/** The SQLSTATE or Node error code of a driver error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a serialization failure (40001) or a deadlock (40P01): the transaction was rolled back, retry it. */
export function isSerializationFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && SERIALIZATION_CODES.has(code);
}

/**
 * True when every pooled connection stayed busy for the whole `connectTimeoutMs`: pg-pool's checkout wait timed
 * out (a new connection timing out is reported differently, as a connection error).
 */
export function isPoolExhausted(error: unknown): boolean {
  return error instanceof Error && error.message === 'timeout exceeded when trying to connect';
}

/** True for errors of reaching the server (refused, reset, timed out, shutting down, too many connections). */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message,
  );
}

/**
 * Wraps a driver failure as a StoreError naming the server and the next step; mneme's own errors pass through.
 * Connection errors, timeouts, serialization failures and deadlocks are `retryable`.
 */
export function toStoreError(error: unknown, context: { where: string; action: string }): MnemeError {
  if (error instanceof MnemeError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const where = `PostgreSQL store ${context.where}`;
  if (isPoolExhausted(error)) {
    return new StoreError(
      `${where}: ${context.action} waited for a connection, but every pooled connection stayed busy for ` +
        "connectTimeoutMs. Retry later; if it persists, raise URL parameter `poolSize` (within the server's " +
        'max_connections), add replicas, or look for slow statements.',
      { cause: error, retryable: true, code: 'store_pool_exhausted' },
    );
  }
  if (isConnectionError(error)) {
    return new StoreError(
      `${where}: ${context.action} failed: cannot reach the server (${code ?? detail}). Check that PostgreSQL is ` +
        'running and the URL (option `store` / env MNEME_STORE) is right; retry later.',
      { cause: error, retryable: true, code: 'store_unavailable' },
    );
  }
  if (isSerializationFailure(error)) {
    return new StoreError(
      `${where}: ${context.action} kept conflicting with concurrent transactions (${code}: ${detail}); retry it.`,
      { cause: error, retryable: true, code: 'store_busy' },
    );
  }
  if (code === '57014') {
    return new StoreError(
      `${where}: ${context.action} was cancelled by statement_timeout (${detail}). Retry; if it persists, raise ` +
        'the timeout with URL parameter `statementTimeoutMs` or check the server load.',
      { cause: error, retryable: true, code: 'store_timeout' },
    );
  }
  if (code === '22021' || code === '22P05') {
    return new ValidationError(
      'record',
      `PostgreSQL cannot store this text (${detail}): remove NUL characters (U+0000) from the memory and metadata`,
      { cause: error },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new StoreError(
      `${where}: authentication failed (${detail}). Fix the user and password in the URL (option \`store\` / env ` +
        'MNEME_STORE).',
      { cause: error, code: 'store_auth' },
    );
  }
  if (code === '3D000') {
    return new StoreError(
      `${where}: the database does not exist (${detail}). Create it (createdb) or fix the URL (option \`store\` / ` +
        'env MNEME_STORE).',
      { cause: error, code: 'store_cannot_open' },
    );
  }
  if (code === '42501') {
    return new StoreError(
      `${where}: ${context.action} failed: permission denied (${detail}). Grant the user rights on the schema, or ` +
        'let an administrator run `mneme migrate --store URL` once.',
      { cause: error, code: 'store_permission' },
    );
  }
  return new StoreError(
    `${where}: ${context.action} failed: ${detail}${code ? ` (SQLSTATE ${code})` : ''}.`,
    { cause: error, retryable: false },
  );
}

/**
 * Runs `operation`, retrying the whole of it on a serialization failure or deadlock (its transaction was rolled
 * back, so it is safe to run again) and when a connection could not be obtained, with exponential back-off.
 * Any failure that remains is converted by {@link toStoreError}.
 */
export async function withRetry<T>(operation: () => Promise<T>, context: OperationContext): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      const cause = error instanceof ConnectFailure ? error.cause : error;
      // An exhausted pool already waited connectTimeoutMs: waiting again would turn a 503 into a hang.
      const retryable =
        isSerializationFailure(error) || (error instanceof ConnectFailure && !isPoolExhausted(cause));
      if (!retryable || attempt >= context.retry.attempts) throw toStoreError(cause, context);
      const base = context.retry.initialDelayMs * 2 ** (attempt - 1);
      await delay(base / 2 + Math.random() * base);
    }
  }
}

/** A failure to obtain a connection: nothing was sent, so retrying is always safe. */
class ConnectFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('could not obtain a connection');
  }
}

/** Checks out a client, marking a failure as a {@link ConnectFailure}. */
async function connect(pool: Pool): Promise<PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new ConnectFailure(error);
  }
}

/**
 * Checks out one pooled client for work that spans several calls (an export snapshot), retried like
 * {@link withRetry} when no connection could be obtained. The caller must release it.
 */
export async function checkout(pool: Pool, context: OperationContext): Promise<SnapshotClient> {
  const client = await withRetry(() => connect(pool), context);
  return client as unknown as SnapshotClient;
}

/** A checked-out client: query, then release once (an error discards the connection). */
export interface SnapshotClient extends Queryable {
  release(error?: Error | boolean): void;
}

/** Checks out a client, runs `use` on it and releases it: discarded when `use` reported it broken. */
async function onClient<T>(
  pool: Pool,
  use: (client: Queryable, broke: (error: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  try {
    return await use(client as unknown as Queryable, (error) => {
      broken = error;
    });
  } finally {
    client.release(broken);
  }
}

/**
 * Runs `work` on one pooled connection without an explicit transaction (each statement commits on its own),
 * retried like {@link withRetry}.
 */
export async function withClient<T>(
  pool: Pool,
  context: OperationContext,
  work: (client: Queryable) => Promise<T>,
): Promise<T> {
  return withRetry(() => onClient(pool, work), context);
}

/**
 * Runs `work` inside `BEGIN ... COMMIT` on one connection (all or nothing), retried as a whole on a
 * serialization failure or deadlock. A client whose connection broke is discarded, not returned to the pool.
 */
export async function inTransaction<T>(
  pool: Pool,
  context: OperationContext,
  work: (client: Queryable) => Promise<T>,
): Promise<T> {
  return withRetry(
    () =>
      onClient(pool, async (client, broke) => {
        try {
          await client.query('BEGIN');
          const result = await work(client);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackError) {
            broke(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)));
          }
          throw error;
        }
      }),
    context,
  );
}
