/**
 * Translation of better-sqlite3 failures into {@link StoreError}s that say what to do, and the bounded retry
 * that keeps SQLITE_BUSY from reaching callers when several processes write to one file.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MnemeError, StoreError } from '../../core/errors.js';

/** The SQLite result code of an error thrown by better-sqlite3 (e.g. `SQLITE_BUSY_SNAPSHOT`), if any. */
export function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error as { code: unknown };
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** True for lock contention that may clear on its own (SQLITE_BUSY*, SQLITE_LOCKED*). */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Wraps any non-mneme error as a StoreError naming the database `path` and the next step. mneme's own errors
 * (NotFoundError, ValidationError, ...) pass through unchanged.
 */
export function toStoreError(error: unknown, path: string, action: string): MnemeError {
  if (error instanceof MnemeError) return error;
  const code = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const where = `SQLite store ${path}`;
  if (isBusy(error)) {
    return new StoreError(
      `${where}: ${action} failed because the database stayed locked by another connection (${code}). ` +
        'Retry later; if it persists, look for a process holding a long write transaction.',
      { cause: error, retryable: true, code: 'store_busy' },
    );
  }
  if (code?.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StoreError(
      `${where}: ${action} failed: the database file or its directory is read-only (${code}). Give this process ` +
        'write access to the file and its directory (SQLite also writes the -wal and -shm files next to it), or ' +
        'choose another path with option `store` / env MNEME_STORE.',
      { cause: error, code: 'store_read_only' },
    );
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code?.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      `${where}: ${action} failed: the file is not a valid mneme database or is corrupt (${code}: ${detail}). ` +
        'Run `mneme doctor` to check it; restore from a backup or `mneme export`, or point option `store` / env ' +
        'MNEME_STORE at a new file.',
      { cause: error, code: 'store_corrupt' },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code?.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError(
      `${where}: cannot open the database file (${code}). Check that the path is right and its directory exists ` +
        'and is writable (option `store` / env MNEME_STORE).',
      { cause: error, code: 'store_cannot_open' },
    );
  }
  if (code === 'SQLITE_FULL' || code?.startsWith('SQLITE_IOERR')) {
    return new StoreError(
      `${where}: ${action} failed with a disk error (${code}: ${detail}). Free disk space or check the volume, ` +
        'then run `mneme doctor`.',
      { cause: error, retryable: code === 'SQLITE_FULL', code: 'store_io' },
    );
  }
  return new StoreError(`${where}: ${action} failed: ${detail}. Run \`mneme doctor\` if it persists.`, {
    cause: error,
  });
}

/** Retry policy for lock contention beyond what `busy_timeout` already waits. */
export interface BusyRetryOptions {
  /** Attempts in total (the first included). */
  attempts: number;
  /** First back-off delay in ms; doubles per attempt, with jitter. */
  initialDelayMs: number;
}

/**
 * Runs `operation` (a synchronous better-sqlite3 call), retrying on SQLITE_BUSY / SQLITE_LOCKED with
 * exponential back-off. Any failure that remains is converted by {@link toStoreError}.
 */
export async function withBusyRetry<T>(
  operation: () => T,
  context: { path: string; action: string; retry: BusyRetryOptions },
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return operation();
    } catch (error) {
      if (!isBusy(error) || attempt >= context.retry.attempts)
        throw toStoreError(error, context.path, context.action);
      const base = context.retry.initialDelayMs * 2 ** (attempt - 1);
      await delay(base / 2 + Math.random() * base);
    }
  }
}
