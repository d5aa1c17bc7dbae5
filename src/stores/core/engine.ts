/**
 * The StoreEngine seam: what a backend says about its engine, and nothing else. The store core (`store.ts`)
 * implements the whole {@link MemoryStore} contract (`../types.ts`) on top of one engine: it validates every
 * argument, enforces open/closed state, decodes cursors, assembles pages, raises the NotFound errors and runs the
 * multi-step write programs (`changes.ts`, `erase.ts`, `restore.ts`). An engine only says how its storage stores
 * and queries: SQL text, transactions, its indexes.
 *
 * Contract for every engine:
 * - Arguments arrive validated: scopes name at least one field, limits are positive integers, vectors have the
 *   dimension of the open store, `values`/`terms` may repeat. An engine never validates again and never throws
 *   NotFoundError itself; it answers `undefined` / `false` and the core raises the error.
 * - Every read and write is confined to the scope it is given (scope columns equal every named field); an
 *   id-addressed read with a scope answers as if the id were missing when the row is outside it.
 * - Temporal rule and filters: as `core/visibility.ts` and `core/filters.ts` define them; SQL engines compile
 *   both with `../sql-filter.ts`.
 * - Ordering: `list`/export pages newest `createdAt` first, ties by id descending; `scan` by id ascending;
 *   history oldest first; dense hits by similarity and keyword hits by BM25, both descending, ties by id.
 * - Writes: {@link StoreEngine.write} runs a program (`program.ts`) in ONE all-or-nothing transaction, durable
 *   when the promise resolves; any throw rolls everything back. The steps it calls ({@link WriteSteps}) run only
 *   inside such a program. Single-statement queue writes are atomic on their own ({@link QueueEngine}).
 * - Errors: engine failures are StoreErrors (`retryable` for busy/locked/connection errors); mneme's own errors
 *   pass through unchanged.
 *
 * Adding a backend: one file implementing this interface, a `StoreCore` subclass (or `new StoreCore(engine)`) as
 * its factory, a test file running `test/conformance/memory-store-suite.ts`, and one row in `../registry.ts`.
 * `../in-memory.ts` is the smallest complete example.
 */
import type { HistoryEvent, MemoryRecord, Scope } from '../../core/types.js';
import type {
  DeadLetter,
  DenseHit,
  EmbedderIdentity,
  KeywordHit,
  MemoryPatch,
  QueueItem,
  StoreCapabilities,
  StoreStats,
} from '../types.js';
import type { Awaitable, Program } from './program.js';
import type { ScanItem } from './results.js';
import type { PageKey, Visibility } from './visibility.js';

/** The action names (in error messages) of the two look-ups behind `StoreEngine.findByValues`. */
export const FIND_ACTIONS = { hash: 'findByHash', topic: 'findByTopic' } as const;

/** What an erase removes: every memory of `scope` (at least one field), or the one memory `id` (within `scope`). */
export type EraseTarget = { scope: Scope; id?: undefined } | { id: string; scope?: Scope };

/** A memory id with the scope its row (or its history) was recorded in. */
export interface ScopedId {
  id: string;
  scope: Scope;
}

/** What a write program needs to know about a row it found. */
export interface CurrentMemory {
  id: string;
  memory: string;
  scope: Scope;
  /** The row's metadata (read only when the program needs it). */
  metadata(): MemoryRecord['metadata'];
}

/** What an update writes: the patch, the new keyword text (when it changed), the new vector (when given). */
export interface RowUpdate {
  patch: MemoryPatch;
  keywordText?: string | undefined;
  embedding?: Float32Array | undefined;
}

/**
 * The steps of the write programs, on transaction handle `Tx` (a prepared-statement cache, a client, a copy of the
 * state) and the engine's handle `Row` for a found memory. Each may answer synchronously or with a promise.
 */
export interface WriteSteps<Tx, Row> {
  /** The memory `id` within `scope` (when given), locked for the rest of the transaction where the engine locks. */
  findForUpdate(tx: Tx, id: string, scope: Scope | undefined): Awaitable<Row | undefined>;
  /** The id, text, scope and metadata of a found row. */
  current(row: Row): CurrentMemory;
  /**
   * Inserts a memory with its vector and keyword entry (`keywordText`, see `core/reply-context.ts`).
   * @returns false, writing nothing, when a memory with this id exists.
   */
  insert(tx: Tx, record: MemoryRecord, embedding: Float32Array, keywordText: string): Awaitable<boolean>;
  /** Applies an update to a found row (its columns, and its keyword entry and vector when given). */
  update(tx: Tx, row: Row, update: RowUpdate): Awaitable<void>;
  /** Deletes a found row with its vector and keyword entry (its history stays). */
  remove(tx: Tx, row: Row): Awaitable<void>;
  /** Appends a history event (id and memory id set) recorded in `scope`. */
  appendEvent(tx: Tx, event: HistoryEvent, scope: Scope): Awaitable<void>;
  /** Removes queue item `id`. @returns false when it is not queued. */
  completeQueueItem(tx: Tx, id: string): Awaitable<boolean>;
  /** Deletes the target's memories with their vectors and keyword entries. @returns the deleted ids. */
  eraseMemories(tx: Tx, target: EraseTarget): Awaitable<ScopedId[]>;
  /**
   * Clears `previousValue`, `newValue` and `reason` of the target's history events.
   * @returns the memories (with the scope their events were recorded in) that had any of that text.
   */
  stripHistory(tx: Tx, target: EraseTarget): Awaitable<ScopedId[]>;
  /** Deletes the queue items and dead letters of `scope`. */
  eraseQueue(tx: Tx, scope: Scope): Awaitable<void>;
  /** How `restore` writes (see {@link RestoreSteps}). */
  readonly restore: RestoreSteps<Tx>;
}

/**
 * How an engine restores scanned items: in bulk (`batch`: validated items, only the first of each id, written
 * verbatim skipping ids that exist, with the history of those written skipping event ids that exist; returns how
 * many memories were written), or item by item, the core asking whether each id exists and inserting with the
 * steps of {@link WriteSteps}.
 */
export type RestoreSteps<Tx> =
  | { batch(tx: Tx, items: ScanItem[]): Awaitable<number> }
  | {
      /** Whether a memory with this id exists (any scope). */
      memoryExists(tx: Tx, id: string): Awaitable<boolean>;
      /** Whether a history event with this id exists. */
      eventExists(tx: Tx, id: string): Awaitable<boolean>;
    };

/** The durable queue, as single atomic operations (see `queue-rows.ts` for the tables). */
export interface QueueEngine {
  /** Inserts an item with a new id, claimable from `now`; `payload` is stored as JSON. */
  enqueue(scope: Scope, payload: unknown, now: string): Promise<QueueItem>;
  /**
   * Leases up to `limit` items (among `ids` when given, never empty) whose `availableAt <= now` and whose lease has
   * ended, until `leasedUntil`; oldest `availableAt` first, then queue order. Concurrent claimers never share one.
   */
  claim(
    limit: number,
    now: string,
    leasedUntil: string,
    ids: readonly string[] | undefined,
  ): Promise<QueueItem[]>;
  /** Counts a failed attempt, stores `error`, releases the lease until `retryAt`. @returns false when not queued. */
  fail(id: string, error: string, retryAt: string): Promise<boolean>;
  /** Moves an item to the dead letters (`error = reason`, `failedAt = now`). @returns false when not queued. */
  deadLetter(id: string, reason: string, now: string): Promise<boolean>;
  /** The queued item `id`, or null. */
  get(id: string): Promise<QueueItem | null>;
  /** Dead letters, oldest `failedAt` first (then the order they were dead-lettered in), at most `limit`. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Moves a dead letter back into the queue (attempts 0, no error, claimable from `now`). undefined if unknown. */
  requeue(id: string, now: string): Promise<QueueItem | undefined>;
  /** Deletes a dead letter. @returns false when unknown. */
  deleteDeadLetter(id: string): Promise<boolean>;
  /** Items still queued. */
  size(): Promise<number>;
}

/** One backend's engine. `Tx` and `Row` are its own handles (see {@link WriteSteps}). */
export interface StoreEngine<Tx, Row> {
  /** Backend name, e.g. `sqlite` (becomes `MemoryStore.name`). */
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /** The steps of the write programs (see {@link WriteSteps}). */
  readonly steps: WriteSteps<Tx, Row>;
  readonly queue: QueueEngine;

  /**
   * Connects (once; concurrent calls share the connection), runs migrations, records `embedder` on first use
   * and checks it afterwards. @throws EmbedderMismatchError for a store written by another embedder.
   */
  open(embedder: EmbedderIdentity): Promise<void>;
  /** Releases connections and file handles and ends open exports. Idempotent. */
  close(): Promise<void>;

  /** Runs `program(tx)` in one all-or-nothing transaction (`action` names it in errors); may run it again on a
   * busy/serialization retry, so the program must start from scratch each time. */
  write<T>(action: string, program: (tx: Tx) => Program<T>): Promise<T>;
  /** Called after an erase committed: drop caches derived from erased data, make erased bytes leave the disk. */
  afterErase?(): Promise<void>;

  /** The memory `id` (within `scope` when given), or undefined. Ignores time. */
  get(id: string, scope: Scope | undefined): Promise<MemoryRecord | undefined>;
  /** Visible memories whose `column` is one of `values` (non-empty, distinct), newest first. */
  findByValues(
    visibility: Visibility,
    column: 'hash' | 'topic',
    values: readonly string[],
  ): Promise<MemoryRecord[]>;
  /** One page of at most `limit` visible memories after `after` when given (assembled by `results.ts` `pageOf`). */
  listPage(
    visibility: Visibility,
    limit: number,
    after: PageKey | undefined,
  ): Promise<{ records: MemoryRecord[]; nextCursor?: string }>;
  /** Up to `limit` visible memories by cosine similarity to `embedding` (exact, or approximate with a fallback). */
  searchDense(visibility: Visibility, embedding: Float32Array, limit: number): Promise<DenseHit[]>;
  /** Up to `limit` visible memories by BM25 for any of `terms` (see `MemoryStore.searchKeyword`). */
  searchKeyword(visibility: Visibility, terms: readonly string[], limit: number): Promise<KeywordHit[]>;
  /** History of memory `id`, oldest first, only events recorded in `scope` when given. */
  history(id: string, scope: Scope | undefined): Promise<HistoryEvent[]>;
  /**
   * Every visible memory of `visibility.scope` (no filter), newest first, each with its history recorded in the
   * scope, as one point-in-time snapshot that never blocks writers (see `MemoryStore.exportScope`); pages of
   * `pageSize` may be read lazily. Abandoning the iteration releases the snapshot.
   */
  exportScope(
    visibility: Visibility,
    pageSize: number,
  ): AsyncIterable<{ record: MemoryRecord; history: HistoryEvent[] }>;
  /** Distinct scopes holding memories, with counts, within `within` when it names a field. */
  listScopes(within: Scope | undefined): Promise<Array<Scope & { count: number }>>;
  /**
   * Up to `limit + 1` memories with their vectors by id after `after` (the extra one tells that more follow), and
   * the history of the first `limit`, oldest first.
   */
  scanPage(
    after: string,
    limit: number,
  ): Promise<{ memories: Array<{ record: MemoryRecord; embedding: Float32Array }>; events: HistoryEvent[] }>;
  /** Row counts. */
  stats(): Promise<StoreStats>;
}
