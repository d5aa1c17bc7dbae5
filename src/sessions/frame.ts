/**
 * The frame of every session store: one class, {@link SessionStoreFrame}, implements the SessionStore seam
 * (`./types.ts`) around a backend's engine, so that the seam's rules for keys, batches, `close()` and errors hold
 * alike in every backend and a backend file says only how its engine stores and loads.
 *
 * What the frame does on every call, before and after the engine:
 * 1. Validates. Keys with `validateSessionKey` (for `listSessions` / `listSessionSummaries` the `projectKey`, for
 *    `listSubkeys` the `projectKey` and `sessionId`), throwing `ValidationError` naming the field. `append` also
 *    validates the entries and serializes each to one JSON line, once, and loads the SDK's summary folder for a
 *    main transcript (`prepareAppend` in `./append.ts`); an empty batch never reaches the engine.
 * 2. Refuses work after `close()`: a `StoreError` "`<name>` session store: used after close()".
 * 3. Translates errors ({@link toStoreError}): whatever the engine throws that is not already a mneme error becomes
 *    a `StoreError` "`<name>` session store: `<operation>` failed: `<detail>`", with the original as `cause` and
 *    `retryable` true for transient failures ({@link isTransient}). mneme's own errors pass through unchanged:
 *    `ValidationError`, `MissingDependencyError`, and a `StoreError` the engine raised with its own code
 *    (`store_corrupt`, `store_locked`, `store_conflict`).
 *
 * What a backend provides: a class that extends {@link SessionStoreFrame}, passes its `name` and `capabilities`
 * (data: the conformance suite reads them to decide skips) to the frame's constructor, and implements
 * - `writeEntries(key, batch)`: appends the entries of `batch` whose `uuid` the transcript does not hold yet (and
 *   every entry without one), in batch order, writing `batch.lines[i]` for `batch.entries[i]`; for a main
 *   transcript (`batch.fold` set) folds the entries it added into the session's summary and stamps the session's
 *   mtime with the backend's write clock. Durable when it resolves, as the backend documents. Concurrent calls
 *   for one transcript keep their call order and lose nothing: serialize them in process (`KeyedMutex`) and
 *   across processes with the engine's own lock or atomic operation.
 * - `readEntries(key)`: the transcript's entries in append order, or `null` when it has none;
 * - `readSessions(projectKey)`, `readSummaries(projectKey)`: the sessions with a main transcript and their mtimes;
 *   the stored summaries;
 * - `removeEntries(key)`: the delete cascade (a main key: the session, its summary and every subpath transcript);
 *   a missing key is not an error;
 * - `readSubpaths(session)`: the subpaths holding transcripts under a session;
 * - `releaseEngine()`: releases connections, handles and caches; called by every `close()`, so idempotent.
 * Keys reach the engine validated but otherwise raw: a backend that builds names from them (paths, object keys,
 * Redis keys) encodes each part with `encodeKeyPart` (`./keys.ts`) so that no two keys share storage.
 * Engine methods may throw anything; the frame translates it (point 3). A driver package is loaded lazily with
 * `importOptional` (`./internal.ts`), a connection opened on first use with `LazyConnection` (`./connection.ts`).
 *
 * So a new backend is one file extending this class, a test file running the shared conformance suite
 * (`test/conformance/session-store-suite.ts`), and, if it has a URL scheme, one row in `./index.ts`.
 */
import { MnemeError, StoreError } from '../core/errors.js';
import { type AppendBatch, prepareAppend } from './append.js';
import { validateKeyPart, validateSessionKey } from './keys.js';
import type {
  SessionKey,
  SessionStore,
  SessionStoreCapabilities,
  SessionStoreEntry,
  SessionSummaryEntry,
} from './types.js';

/** One `listSessions` result: a session with a main transcript and its mtime (integer Unix ms). */
export interface SessionMtime {
  sessionId: string;
  mtime: number;
}

/** A session, without a subpath: what `listSubkeys` lists under. */
export type SessionOfProject = Omit<SessionKey, 'subpath'>;

/**
 * The SessionStore seam around a backend's engine; see the module comment for what a backend provides.
 * `Name` is the backend's name as a literal type (`'file'`, `'postgres'`...).
 */
export abstract class SessionStoreFrame<Name extends string = string> implements SessionStore {
  /** The backend's name, in every error it raises. */
  readonly name: Name;
  readonly capabilities: SessionStoreCapabilities;
  #closed = false;

  /** @param name the backend's name; @param capabilities what it can do (the conformance suite reads them). */
  constructor(name: Name, capabilities: SessionStoreCapabilities) {
    this.name = name;
    this.capabilities = capabilities;
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    this.#assertOpen();
    const batch = await prepareAppend(key, entries);
    if (batch === undefined) return;
    await this.#engine(
      () => `append to ${describeKey(key)}`,
      () => this.writeEntries(key, batch),
    );
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    return this.#onKey('load', key, () => this.readEntries(key));
  }

  async listSessions(projectKey: string): Promise<SessionMtime[]> {
    return this.#listProject('listSessions', projectKey, () => this.readSessions(projectKey));
  }

  async listSessionSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    return this.#listProject('listSessionSummaries', projectKey, () => this.readSummaries(projectKey));
  }

  async delete(key: SessionKey): Promise<void> {
    await this.#onKey('delete', key, () => this.removeEntries(key));
  }

  async listSubkeys(key: SessionOfProject): Promise<string[]> {
    const session = { projectKey: key.projectKey, sessionId: key.sessionId };
    return this.#onKey('listSubkeys of', session, () => this.readSubpaths(session));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.releaseEngine();
  }

  /** Appends a validated, non-empty batch; see the module comment. */
  protected abstract writeEntries(key: SessionKey, batch: AppendBatch): Promise<void>;
  /** The transcript of a validated key in append order, or `null` when it holds no entries. */
  protected abstract readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null>;
  /** Every session of a validated project with a main transcript, once each. */
  protected abstract readSessions(projectKey: string): Promise<SessionMtime[]>;
  /** The stored summary of every session of a validated project that has one. */
  protected abstract readSummaries(projectKey: string): Promise<SessionSummaryEntry[]>;
  /** Deletes a validated key's transcript (a main key: with its summary and subpath transcripts). */
  protected abstract removeEntries(key: SessionKey): Promise<void>;
  /** The subpaths holding transcripts under a validated session. */
  protected abstract readSubpaths(session: SessionOfProject): Promise<string[]>;
  /** Releases the engine's connections, handles and caches. Called by every `close()`: idempotent. */
  protected abstract releaseEngine(): Promise<void>;

  /** Work on one key: the key validated, the engine's failure named `<operation> session "s" of project "p"`. */
  async #onKey<T>(operation: string, key: SessionKey, work: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    validateSessionKey(key);
    return this.#engine(() => `${operation} ${describeKey(key)}`, work);
  }

  /** A listing of one project: the `projectKey` validated, the engine's failure named `<method> of project "p"`. */
  async #listProject<T>(method: string, projectKey: string, work: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    validateKeyPart('projectKey', projectKey);
    return this.#engine(() => `${method} of project ${JSON.stringify(projectKey)}`, work);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError(`${this.name} session store: used after close()`);
  }

  /** Runs engine work, translating its failure into a StoreError that names this backend and the operation. */
  async #engine<T>(operation: () => string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(this.name, operation(), error);
    }
  }
}

/** A key as error messages name it: session, project and (when set) subpath, each JSON-quoted. */
function describeKey(key: { projectKey: string; sessionId: string; subpath?: string }): string {
  return `session ${JSON.stringify(key.sessionId)} of project ${JSON.stringify(key.projectKey)}${
    key.subpath === undefined ? '' : ` (subpath ${JSON.stringify(key.subpath)})`
  }`;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EBUSY',
  'EAGAIN',
  'EMFILE',
  'ENFILE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  // PostgreSQL: serialization failure, deadlock, too many connections, admin shutdown, cannot connect now.
  '40001',
  '40P01',
  '53300',
  '57P01',
  '57P03',
]);

/** True for failures that usually clear up on retry (connection resets, timeouts, busy databases). */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'SlowDown' || name === 'ServiceUnavailable') return true;
  // ioredis: retries of a command or of the connection were exhausted while the server was unreachable.
  if (name === 'MaxRetriesPerRequestError') return true;
  return error instanceof Error && error.message === 'Connection is closed.';
}

/**
 * Wraps a backend failure as a {@link StoreError} naming the backend and operation, `retryable` when
 * {@link isTransient}; mneme's own errors (validation, missing dependency, an already wrapped store error) pass
 * through unchanged.
 */
export function toStoreError(backend: string, operation: string, error: unknown): MnemeError {
  if (error instanceof MnemeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(`${backend} session store: ${operation} failed: ${detail}`, {
    cause: error,
    retryable: isTransient(error),
  });
}
