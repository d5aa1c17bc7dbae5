/**
 * The SessionStore seam: durable homes for Claude Agent SDK session transcripts, passed to `query()` as
 * `options.sessionStore` so that `resume` and `continue` work across processes and machines.
 *
 * These types mirror the SDK's own (`SessionStore`, `SessionKey`, `SessionStoreEntry`, `SessionSummaryEntry` in
 * `@anthropic-ai/claude-agent-sdk`), so a mneme store is assignable to the SDK's type without mneme's public
 * types depending on the SDK package. Backends: `file.ts`, `sqlite.ts`, `redis.ts`, `postgres.ts`, `s3.ts`, each
 * built in the shared frame (`frame.ts`: validation, `close()`, error translation) and each running the shared
 * conformance suite in `test/conformance/session-store-suite.ts`.
 *
 * Contract for every backend:
 * - Keys. `projectKey`, `sessionId` and `subpath` are opaque strings, validated by `validateSessionKey`
 *   (non-empty, at most 1024 characters, no NUL, well-formed Unicode) and otherwise stored exactly: no two
 *   distinct keys ever share storage, and no key can address anything outside the store (no path traversal).
 * - `append` is idempotent by entry `uuid`: an entry whose `uuid` the transcript already holds is skipped
 *   (the SDK retries failed batches). Entries keep the order of their first appearance; entries without a
 *   `uuid` are always appended, in order. An empty batch, or one holding only known uuids, changes nothing.
 *   Appends from several processes to one transcript lose nothing and keep each writer's order.
 * - `load` returns exactly the entries appended (deep-equal, not byte-equal) or `null` for a key never
 *   written. A `subpath` transcript (e.g. `subagents/agent-<id>`) is separate from the main transcript.
 * - A session exists in `listSessions` once its main transcript has entries. Its `mtime` (integer Unix ms) is
 *   the store's own write clock, stamped by the last `append` that added entries to the main transcript, and
 *   equals the `mtime` of its summary when the summary is current (the SDK treats a lower summary mtime as stale).
 * - Summaries are kept by `append` with the SDK's `foldSessionSummary`, folding only the entries the append
 *   added; read-fold-write is serialized per session. Only main transcripts have summaries.
 * - `delete` of a main key removes the session, its summary and every subpath transcript; `delete` with a
 *   `subpath` removes that transcript only. Deleting a missing key is not an error.
 * - Errors: invalid keys or entries throw `ValidationError`; backend failures throw `StoreError`
 *   (`retryable` for transient ones); a missing driver package throws `MissingDependencyError`.
 */

/**
 * Identifies a session transcript. Main transcripts have no `subpath`; subagent transcripts carry one such
 * as `subagents/agent-<id>`, mirroring the SDK's on-disk layout.
 */
export interface SessionKey {
  /** Caller-defined scope, by default the SDK's sanitized cwd; multi-tenant hosts set a tenant or user id. */
  projectKey: string;
  sessionId: string;
  /** Omitted for the main transcript. The empty string is invalid. */
  subpath?: string;
}

/** One JSONL transcript line. Opaque JSON: stores persist it verbatim and never interpret it beyond `uuid`. */
export interface SessionStoreEntry {
  type: string;
  /** The idempotency key; entries without one are never deduplicated. */
  uuid?: string;
  timestamp?: string;
  [key: string]: unknown;
}

/** An incrementally maintained summary of a session, for listing sessions without loading them. */
export interface SessionSummaryEntry {
  sessionId: string;
  /** The store's write time (integer Unix ms) of the last fold; same clock as `listSessions().mtime`. */
  mtime: number;
  /** SDK-owned state from `foldSessionSummary`, persisted verbatim. */
  data: Record<string, unknown>;
}

/** What a backend can do; the conformance suite reads this to decide (and print) skips. */
export interface SessionStoreCapabilities {
  /** Several processes (or machines) may append to the same session at once without losing entries. */
  multiProcess: boolean;
}

/** A production SessionStore: the SDK's full interface plus `name`, `capabilities` and `close`. */
export interface SessionStore {
  /** The backend's name: `file`, `sqlite`, `redis`, `postgres` or `s3`. */
  readonly name: string;
  readonly capabilities: SessionStoreCapabilities;

  /**
   * Appends a batch to a transcript, skipping entries whose `uuid` it already holds, and (main transcripts)
   * folds the added entries into the session's summary. Durable when the promise resolves (subject to the
   * backend's documented sync policy).
   * @throws ValidationError for a bad key or an entry that is not a JSON object.
   * @throws StoreError when the backend fails.
   */
  append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void>;

  /** All entries of a transcript in append order, or `null` when the key was never written (or was deleted). */
  load(key: SessionKey): Promise<SessionStoreEntry[] | null>;

  /** Every session of a project with a main transcript, once each, with its mtime. Order unspecified. */
  listSessions(projectKey: string): Promise<Array<{ sessionId: string; mtime: number }>>;

  /** The stored summary of every session of a project that has one. Order unspecified. */
  listSessionSummaries(projectKey: string): Promise<SessionSummaryEntry[]>;

  /** Deletes a transcript; for a main key also its summary and every subpath transcript (cascade). */
  delete(key: SessionKey): Promise<void>;

  /** The subpaths holding transcripts under a session (e.g. `subagents/agent-1`). Order unspecified. */
  listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]>;

  /** Releases connections and handles. The store must not be used afterwards. Idempotent. */
  close(): Promise<void>;
}
