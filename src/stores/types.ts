/**
 * The MemoryStore seam: where memories, their vectors, their keyword index, their history and the durable
 * ingestion queue live. Backends: `sqlite.ts` (default), `in-memory.ts` (tests), `postgres.ts` (scale-out), each
 * an engine (`core/engine.ts`) under the one implementation of this contract, `StoreCore` (`core/store.ts`).
 * Every backend runs the shared conformance suite in `test/conformance/memory-store-suite.ts`.
 *
 * Contract for every backend:
 * - Scoping. Every read and write names a {@link Scope} with at least one field, and only touches rows whose
 *   scope columns equal every named field. Id-addressed operations take an optional scope: when given, a row
 *   outside it behaves exactly like a missing row (null / NotFoundError), so existence never leaks.
 *   Metadata can never change a row's scope: scope lives in its own columns.
 * - Atomicity. {@link MemoryStore.apply} applies all its changes (rows, vectors, keyword index, history,
 *   queue completion) in one transaction: all or nothing, durable when the promise resolves.
 * - Vectors are L2-normalised Float32Arrays of the dimension recorded by {@link MemoryStore.open}.
 * - Filters arrive as a validated AST (`core/filters.ts`) and are compiled with bound parameters only.
 * - Temporal visibility: by default reads return current memories only (no `validTo` at or before `now`, no
 *   `expiresAt` at or before `now`). `asOf` returns what was current at that instant; `includeSuperseded`
 *   and `includeExpired` lift the respective rule.
 * - Errors: backend failures are {@link StoreError} (`retryable` for busy/locked/connection errors);
 *   id-addressed writes to a missing or out-of-scope row throw {@link NotFoundError}.
 */
import type { FilterNode } from '../core/filters.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../core/types.js';

/** What a backend can do; the conformance suite reads this to decide (and print) skips. */
export interface StoreCapabilities {
  /** Data survives `close()` and a new process (false for the in-memory store). */
  persistent: boolean;
  /** Several processes may open the same store at once. */
  multiProcess: boolean;
}

/** The embedder a store was (or is about to be) written by. */
export interface EmbedderIdentity {
  id: string;
  dimension: number;
}

/** Which memories a read may see with respect to time. */
export interface TemporalOptions {
  /** The current instant (ISO). Stores never read the clock themselves. */
  now: string;
  /** Answer as of this instant (ISO) instead of `now`. */
  asOf?: string;
  /** Also return memories that were superseded (have `validTo`). */
  includeSuperseded?: boolean;
  /** Also return memories past their `expiresAt`. */
  includeExpired?: boolean;
}

/** A page request. `cursor` is opaque and comes from a previous page's `nextCursor`. */
export interface PageOptions {
  limit: number;
  cursor?: string;
}

/** One change inside {@link MemoryStore.apply}. Each carries the history event it records. */
export type MemoryChange =
  | { type: 'insert'; record: MemoryRecord; embedding: Float32Array; event: NewHistoryEvent }
  | {
      type: 'update';
      id: string;
      scope?: Scope;
      /** Fields to set; absent fields are left alone. `validTo: null` clears it. */
      patch: MemoryPatch;
      /** New vector when the text changed. */
      embedding?: Float32Array;
      event: NewHistoryEvent;
    }
  | { type: 'delete'; id: string; scope?: Scope; event: NewHistoryEvent }
  /** Records a history event (e.g. NOOP) without changing the row. */
  | { type: 'note'; id: string; scope?: Scope; event: NewHistoryEvent };

/** Updatable fields of a memory. Scope fields are deliberately absent. */
export interface MemoryPatch {
  memory?: string;
  hash?: string;
  metadata?: MemoryRecord['metadata'];
  updatedAt?: string;
  validFrom?: string | null;
  validTo?: string | null;
  supersededBy?: string | null;
  expiresAt?: string | null;
  topic?: string | null;
  kind?: MemoryRecord['kind'];
}

/** A history event before the store assigns its id and memory id. */
export type NewHistoryEvent = Omit<HistoryEvent, 'id' | 'memoryId'>;

/** A dense-search candidate: `similarity` is the cosine similarity in [-1, 1]. */
export interface DenseHit {
  record: MemoryRecord;
  similarity: number;
}

/** A keyword-search candidate: `bm25` is a non-negative BM25 score (higher is better). */
export interface KeywordHit {
  record: MemoryRecord;
  bm25: number;
}

/** An item of the durable ingestion queue. */
export interface QueueItem {
  id: string;
  scope: Scope;
  /** Caller-defined JSON payload (for `add`: the messages and options). */
  payload: unknown;
  attempts: number;
  /** Last failure message, if any. */
  lastError?: string;
  enqueuedAt: string;
  /** Not claimable before this instant (ISO). */
  availableAt: string;
}

/**
 * A queue item that failed past its retries: out of the queue (never claimed again) and kept, with the error
 * that ended it, until an operator retries it (back into the queue) or deletes it (`mneme queue`).
 */
export interface DeadLetter {
  id: string;
  scope: Scope;
  /** The item's payload, as enqueued. */
  payload: unknown;
  /** Failed attempts before it was dead-lettered. */
  attempts: number;
  /** Why it was dead-lettered (the last failure). */
  error: string;
  enqueuedAt: string;
  /** When it was dead-lettered (ISO). */
  failedAt: string;
}

/** Row counts for `mneme doctor` and tests. */
export interface StoreStats {
  memories: number;
  vectors: number;
  keywordEntries: number;
  historyEvents: number;
  queueItems: number;
  deadLetters: number;
}

/** Options of {@link MemoryStore.claimQueue}. */
export interface ClaimQueueOptions {
  limit: number;
  leaseMs: number;
  now: string;
  /** Claim only items with these ids. @default every item */
  ids?: readonly string[];
}

/** The storage seam. Methods are async and take one options object. */
export interface MemoryStore {
  /** Backend name, e.g. `sqlite`. */
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /**
   * Opens the store: runs migrations, records the embedder on first use and checks it afterwards.
   * @throws EmbedderMismatchError when the store was written by a different embedder id or dimension.
   */
  open(options: { embedder: EmbedderIdentity }): Promise<void>;

  /** Applies changes atomically; also completes (removes) `completeQueueItem` in the same transaction. */
  apply(options: { changes: MemoryChange[]; completeQueueItem?: string }): Promise<void>;

  /** Returns the memory, or null when missing or outside `scope`. Ignores temporal visibility. */
  get(options: { id: string; scope?: Scope }): Promise<MemoryRecord | null>;

  /** Memories in `scope` with any of `hashes` (current ones only), for exact-duplicate detection. */
  findByHash(options: { scope: Scope; hashes: string[]; temporal: TemporalOptions }): Promise<MemoryRecord[]>;

  /** Current memories in `scope` with one of `topics`, for superseding (newest first). */
  findByTopic(options: {
    scope: Scope;
    topics: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]>;

  /** Memories in `scope` matching `filter`, newest `createdAt` first (ties by id), paginated. */
  list(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    page: PageOptions;
  }): Promise<{ records: MemoryRecord[]; nextCursor?: string }>;

  /** Up to `limit` memories by descending cosine similarity to `embedding`. */
  searchDense(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    embedding: Float32Array;
    limit: number;
  }): Promise<DenseHit[]>;

  /**
   * Up to `limit` memories by descending BM25 for any of `terms` (lower-case word tokens, OR semantics).
   * An empty `terms` returns no hits.
   */
  searchKeyword(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    terms: string[];
    limit: number;
  }): Promise<KeywordHit[]>;

  /** History of a memory, oldest first; empty when missing or outside `scope`. */
  history(options: { id: string; scope?: Scope }): Promise<HistoryEvent[]>;

  /**
   * Every memory in `scope` visible under `temporal`, each with its history (oldest first), as ONE
   * point-in-time snapshot: the state when the iteration started, however long it takes. Writes (by this
   * store, other connections or processes) go on meanwhile and are never blocked; rows inserted, changed or
   * deleted after the snapshot began are seen in their state at the snapshot (or not at all when new). Order
   * is stable: newest `createdAt` first, ties by id descending (as {@link MemoryStore.list}).
   *
   * The snapshot holds resources (SQLite: a read-only connection with an open read transaction; PostgreSQL: one
   * pooled connection in a `REPEATABLE READ READ ONLY` transaction) until the iteration ends, throws, or is
   * abandoned (`break` / `return()`), so consume it promptly. {@link MemoryStore.close} ends open snapshots:
   * their next step throws StoreError. An empty scope is a ValidationError (on the first step).
   */
  exportScope(options: { scope: Scope; temporal: TemporalOptions }): AsyncIterable<{
    record: MemoryRecord;
    history: HistoryEvent[];
  }>;

  /**
   * Erases every memory in `scope` (which must name at least one field): rows, vectors, keyword entries,
   * queue items, dead letters, and the text of their history (an ERASE tombstone with ids and times is kept).
   * @returns the number of memories erased.
   */
  eraseScope(options: { scope: Scope; now: string; actor: string }): Promise<number>;

  /**
   * Erases one memory (within `scope` when given) as {@link MemoryStore.eraseScope} erases a scope: its row,
   * vector and keyword entry, and the text of every event in its history (also when the memory was deleted
   * before), then appends one ERASE tombstone. Other memories, queue items and dead letters are untouched.
   * @returns true when something was erased (a row, or history text); false when the id is unknown in `scope`
   *   or already erased (then nothing is written).
   */
  eraseMemory(options: { id: string; scope?: Scope; now: string; actor: string }): Promise<boolean>;

  /** Distinct scopes that hold memories (for the Mem0 `/v1/entities/` route). Admin only: unscoped. */
  listScopes(options: { within?: Scope }): Promise<Array<Scope & { count: number }>>;

  /** Adds an item to the durable ingestion queue; durable when the promise resolves. */
  enqueue(options: { scope: Scope; payload: unknown; now: string }): Promise<QueueItem>;

  /**
   * Claims up to `limit` items whose `availableAt <= now` and whose lease has expired, leasing them until
   * `now + leaseMs`. A claimed item is invisible to other claimers until its lease ends. With `ids`, only items
   * among those ids are claimed (none for an empty list): how a process drains just what it enqueued.
   */
  claimQueue(options: ClaimQueueOptions): Promise<QueueItem[]>;

  /** Records a failed attempt: increments `attempts`, stores `error`, makes it claimable at `retryAt`. */
  failQueueItem(options: { id: string; error: string; retryAt: string }): Promise<void>;

  /**
   * Dead-letters an item (the worker does this after too many attempts): in one transaction it leaves the
   * queue, applying nothing, and becomes a {@link DeadLetter} with `error = reason` and `failedAt = now`.
   * @throws NotFoundError when no queued item has this id (completed, dropped or erased meanwhile).
   */
  dropQueueItem(options: { id: string; reason: string; now: string }): Promise<void>;

  /**
   * The queued item with `id` when it is still queued (waiting, leased or waiting for a retry) and within
   * `scope` (when given), else null. Completed and dropped items are gone. For the Mem0 event route.
   */
  getQueueItem(options: { id: string; scope?: Scope }): Promise<QueueItem | null>;

  /** Dead letters, oldest `failedAt` first, at most `limit`. Admin only: unscoped. */
  listDeadLetters(options: { limit: number }): Promise<DeadLetter[]>;

  /**
   * Puts a dead letter back into the queue as a fresh item (same id, scope and payload; `attempts` 0, no
   * error, claimable from `now`), in one transaction. @throws NotFoundError for an unknown id.
   */
  retryDeadLetter(options: { id: string; now: string }): Promise<QueueItem>;

  /** Deletes a dead letter for good. @throws NotFoundError for an unknown id. */
  deleteDeadLetter(options: { id: string }): Promise<void>;

  /** Items still queued (for flush, doctor and tests). */
  queueSize(): Promise<number>;

  /** Row counts, for integrity checks. */
  stats(): Promise<StoreStats>;

  /**
   * Iterates every memory with its vector and history, for `mneme copy` and `mneme export --all`.
   * Admin only: unscoped. Order is stable (by id).
   */
  scan(options: { cursor?: string; limit: number }): Promise<{
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
    nextCursor?: string;
  }>;

  /**
   * Writes items produced by {@link MemoryStore.scan} verbatim (ids, times, history), for import and copy.
   * Idempotent: items whose id already exists are skipped. @returns how many were written.
   */
  restore(options: {
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
  }): Promise<number>;

  /** Releases connections and file handles. Idempotent. */
  close(): Promise<void>;
}
