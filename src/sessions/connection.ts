/**
 * The connection of a session store (SQLite database, PostgreSQL pool, Redis client, S3 client): opened on first
 * use, shared by every caller, opened again after a failed open, and refused once the store is closed.
 */
import { StoreError } from '../core/errors.js';
import { toStoreError } from './frame.js';

/** Options of {@link LazyConnection}. */
export interface LazyConnectionOptions<T> {
  /** The backend's name, as in its errors: `sqlite`, `postgres`, `redis`, `s3`. */
  backend: string;
  /** Opens the connection. Called on first use, and again after a failed open. */
  open: () => Promise<T>;
  /** Releases an opened connection (close the database, end the pool, quit the client). */
  dispose: (connection: T) => Promise<void> | void;
  /**
   * What opening is called in errors (`connect to redis://host:6379/0`, password redacted). When set, a failed
   * open rejects with `toStoreError(backend, operation, error)`; when omitted, with the open's own error.
   */
  operation?: string;
}

/** A connection opened on first use and closed once; see the module comment. */
export class LazyConnection<T> {
  readonly #options: LazyConnectionOptions<T>;
  #opening: Promise<T> | undefined;
  #closed = false;

  constructor(options: LazyConnectionOptions<T>) {
    this.#options = options;
  }

  /**
   * The connection, opening it on first use. Concurrent callers share one open; a failed open is forgotten, so
   * the next call tries again.
   * @throws StoreError when the store was closed, or (with `operation`) when opening failed.
   */
  get(): Promise<T> {
    const { backend, operation } = this.#options;
    if (this.#closed) return Promise.reject(new StoreError(`${backend} session store: used after close()`));
    this.#opening ??= this.#options.open().catch((error: unknown) => {
      this.#opening = undefined;
      throw operation === undefined ? error : toStoreError(backend, operation, error);
    });
    return this.#opening;
  }

  /** Refuses further use and disposes the connection if one opened (an open that failed is ignored). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening === undefined) return;
    const opened = await opening.catch(() => undefined);
    if (opened !== undefined) await this.#options.dispose(opened);
  }
}
