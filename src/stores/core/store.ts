/**
 * The store core: the one implementation of the {@link MemoryStore} contract (`../types.ts`), on top of a
 * {@link StoreEngine} that says how a backend stores and queries. For every method the core
 * - checks the store is open (a StoreError `store_not_open` before `open()` and after `close()`);
 * - validates the arguments (`validate.ts`) before the engine sees them;
 * - enforces the scope rules that are not queries (an optional scope on id-addressed calls; queue items outside
 *   the given scope read as missing);
 * - turns engine answers into the seam's results (pages and cursors, `results.ts`) and errors (`errors.ts`);
 * - runs the multi-step writes as programs in one engine transaction (`changes.ts`, `erase.ts`, `restore.ts`).
 * Backends subclass it to add their own extras (diagnostics, migrate) or construct it with an engine.
 */

import type { FilterNode } from '../../core/filters.js';
import { isWithinScope } from '../../core/scope.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../../core/types.js';
import type {
  ClaimQueueOptions,
  DeadLetter,
  DenseHit,
  EmbedderIdentity,
  KeywordHit,
  MemoryChange,
  MemoryStore,
  PageOptions,
  QueueItem,
  StoreCapabilities,
  StoreStats,
  TemporalOptions,
} from '../types.js';
import { applyChanges } from './changes.js';
import { addMilliseconds, decodePageCursor, decodeScanCursor } from './cursor.js';
import type { EraseTarget, StoreEngine } from './engine.js';
import { eraseTarget } from './erase.js';
import { deadLetterNotFound, notOpenError, queueItemNotFound } from './errors.js';
import { restoreItems } from './restore.js';
import { type ScanItem, scanPageOf } from './results.js';
import {
  assertDimension,
  assertLimit,
  assertOptionalScope,
  assertScope,
  assertStorableChanges,
  assertStorableItems,
  assertStorableQueueItem,
  checkEmbedder,
} from './validate.js';

/** Memories per page of `exportScope` (every page read inside one snapshot). */
const EXPORT_PAGE_SIZE = 200;

/**
 * A {@link MemoryStore} over one engine `E` (with transaction handle `Tx` and row handle `Row`). Prefer a
 * backend's `create*Store()` factory.
 */
export class StoreCore<Tx, Row, E extends StoreEngine<Tx, Row> = StoreEngine<Tx, Row>>
  implements MemoryStore
{
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  private embedder: EmbedderIdentity | undefined;
  private closed = false;

  constructor(protected readonly engine: E) {
    this.name = engine.name;
    this.capabilities = engine.capabilities;
  }

  async open(options: { embedder: EmbedderIdentity }): Promise<void> {
    if (this.closed) throw notOpenError(this.name, true);
    const embedder = checkEmbedder(options.embedder, this.embedder);
    await this.engine.open(embedder);
    this.embedder = embedder;
  }

  async apply(options: { changes: MemoryChange[]; completeQueueItem?: string }): Promise<void> {
    const dimension = this.requireOpen();
    assertStorableChanges(options.changes);
    await this.engine.write('apply', (tx) =>
      applyChanges(this.engine.steps, tx, options.changes, dimension, options.completeQueueItem),
    );
  }

  async get(options: { id: string; scope?: Scope }): Promise<MemoryRecord | null> {
    this.requireOpen();
    assertOptionalScope(options.scope);
    return (await this.engine.get(options.id, options.scope)) ?? null;
  }

  async findByHash(options: Parameters<MemoryStore['findByHash']>[0]): Promise<MemoryRecord[]> {
    return this.findByValues(options, 'hash', options.hashes);
  }

  async findByTopic(options: Parameters<MemoryStore['findByTopic']>[0]): Promise<MemoryRecord[]> {
    return this.findByValues(options, 'topic', options.topics);
  }

  private async findByValues(
    visibility: { scope: Scope; temporal: TemporalOptions },
    column: 'hash' | 'topic',
    values: readonly string[],
  ): Promise<MemoryRecord[]> {
    this.requireOpen();
    assertScope(visibility.scope);
    const unique = [...new Set(values)];
    if (unique.length === 0) return [];
    return this.engine.findByValues(visibility, column, unique);
  }

  async list(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    page: PageOptions;
  }): Promise<{ records: MemoryRecord[]; nextCursor?: string }> {
    this.requireOpen();
    assertScope(options.scope);
    assertLimit(options.page.limit, 'page.limit');
    const after = decodePageCursor(options.page.cursor);
    return this.engine.listPage(options, options.page.limit, after);
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
    return this.engine.searchDense(options, options.embedding, options.limit);
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
    return this.engine.searchKeyword(options, options.terms, options.limit);
  }

  async history(options: { id: string; scope?: Scope }): Promise<HistoryEvent[]> {
    this.requireOpen();
    assertOptionalScope(options.scope);
    return this.engine.history(options.id, options.scope);
  }

  async *exportScope(options: {
    scope: Scope;
    temporal: TemporalOptions;
  }): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
    this.requireOpen();
    assertScope(options.scope);
    const visibility = { scope: options.scope, temporal: options.temporal };
    for await (const item of this.engine.exportScope(visibility, EXPORT_PAGE_SIZE)) {
      this.requireOpen();
      yield item;
    }
  }

  async eraseScope(options: { scope: Scope; now: string; actor: string }): Promise<number> {
    this.requireOpen();
    assertScope(options.scope);
    return (await this.erase('eraseScope', { scope: options.scope }, options)).deleted;
  }

  async eraseMemory(options: { id: string; scope?: Scope; now: string; actor: string }): Promise<boolean> {
    this.requireOpen();
    assertOptionalScope(options.scope);
    const target = { id: options.id, ...(options.scope ? { scope: options.scope } : {}) };
    return (await this.erase('eraseMemory', target, options)).tombstones > 0;
  }

  private async erase(
    action: string,
    target: EraseTarget,
    options: { now: string; actor: string },
  ): Promise<{ deleted: number; tombstones: number }> {
    const erased = await this.engine.write(action, (tx) =>
      eraseTarget(this.engine.steps, tx, target, options.now, options.actor),
    );
    await this.engine.afterErase?.();
    return erased;
  }

  async listScopes(options: { within?: Scope }): Promise<Array<Scope & { count: number }>> {
    this.requireOpen();
    return this.engine.listScopes(options.within);
  }

  async enqueue(options: { scope: Scope; payload: unknown; now: string }): Promise<QueueItem> {
    this.requireOpen();
    assertScope(options.scope);
    assertStorableQueueItem(options);
    return this.engine.queue.enqueue(options.scope, options.payload, options.now);
  }

  async claimQueue(options: ClaimQueueOptions): Promise<QueueItem[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    if (options.ids?.length === 0) return [];
    const leasedUntil = addMilliseconds(options.now, options.leaseMs);
    return this.engine.queue.claim(options.limit, options.now, leasedUntil, options.ids);
  }

  async failQueueItem(options: { id: string; error: string; retryAt: string }): Promise<void> {
    this.requireOpen();
    if (!(await this.engine.queue.fail(options.id, options.error, options.retryAt))) {
      throw queueItemNotFound(options.id);
    }
  }

  async dropQueueItem(options: { id: string; reason: string; now: string }): Promise<void> {
    this.requireOpen();
    if (!(await this.engine.queue.deadLetter(options.id, options.reason, options.now))) {
      throw queueItemNotFound(options.id);
    }
  }

  async getQueueItem(options: { id: string; scope?: Scope }): Promise<QueueItem | null> {
    this.requireOpen();
    const item = await this.engine.queue.get(options.id);
    return item && (!options.scope || isWithinScope(item.scope, options.scope)) ? item : null;
  }

  async listDeadLetters(options: { limit: number }): Promise<DeadLetter[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    return this.engine.queue.deadLetters(options.limit);
  }

  async retryDeadLetter(options: { id: string; now: string }): Promise<QueueItem> {
    this.requireOpen();
    const item = await this.engine.queue.requeue(options.id, options.now);
    if (item === undefined) throw deadLetterNotFound(options.id);
    return item;
  }

  async deleteDeadLetter(options: { id: string }): Promise<void> {
    this.requireOpen();
    if (!(await this.engine.queue.deleteDeadLetter(options.id))) throw deadLetterNotFound(options.id);
  }

  async queueSize(): Promise<number> {
    this.requireOpen();
    return this.engine.queue.size();
  }

  async stats(): Promise<StoreStats> {
    this.requireOpen();
    return this.engine.stats();
  }

  async scan(options: {
    cursor?: string;
    limit: number;
  }): Promise<{ items: ScanItem[]; nextCursor?: string }> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    const after = decodeScanCursor(options.cursor);
    const { memories, events } = await this.engine.scanPage(after, options.limit);
    return scanPageOf(memories, events, options.limit);
  }

  async restore(options: { items: ScanItem[] }): Promise<number> {
    const dimension = this.requireOpen();
    assertStorableItems(options.items);
    return this.engine.write('restore', (tx) =>
      restoreItems(this.engine.steps, tx, options.items, dimension),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.engine.close();
  }

  /** Throws unless open; returns the vector dimension. */
  protected requireOpen(): number {
    if (this.closed || !this.embedder) throw notOpenError(this.name, this.closed);
    return this.embedder.dimension;
  }
}
