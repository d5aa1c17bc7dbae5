/**
 * A pure-JavaScript {@link MemoryStore} that keeps everything in process memory: for tests and demos. It follows
 * the seam's contract exactly (it runs the shared conformance suite): filters through `matchesFilter`, dense
 * search by dot product of the (normalised) vectors, keyword search by BM25 computed like FTS5
 * (`keyword-index.ts`), and all-or-nothing `apply` by copy-on-write. Nothing survives `close()`.
 */

import { randomUUID } from 'node:crypto';
import { NotFoundError, StoreError } from '../core/errors.js';
import type { FilterNode } from '../core/filters.js';
import { matchesFilter } from '../core/filters.js';
import { keywordText } from '../core/reply-context.js';
import { isWithinScope, pickScope } from '../core/scope.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../core/types.js';
import { SCOPE_KEYS } from '../core/types.js';
import {
  addMilliseconds,
  assertDimension,
  assertLimit,
  assertScope,
  assertStorableChanges,
  assertStorableItems,
  assertStorableQueueItem,
  checkEmbedder,
  decodeCursor,
  encodeCursor,
  historyByMemory,
  isVisible,
  notOpenError,
  patchedKeywordText,
  scopeEntries,
} from './common.js';
import { KeywordIndex } from './keyword-index.js';
import type {
  ClaimQueueOptions,
  DeadLetter,
  DenseHit,
  EmbedderIdentity,
  KeywordHit,
  MemoryChange,
  MemoryPatch,
  MemoryStore,
  NewHistoryEvent,
  QueueItem,
  StoreCapabilities,
  StoreStats,
  TemporalOptions,
} from './types.js';

interface StoredEvent {
  event: HistoryEvent;
  scope: Scope;
}

interface StoredQueueItem {
  item: QueueItem;
  sequence: number;
  leasedUntil?: string;
}

/** Everything the store holds; `apply` works on a copy and swaps it in when every change succeeded. */
interface State {
  records: Map<string, MemoryRecord>;
  vectors: Map<string, Float32Array>;
  keywords: KeywordIndex;
  history: StoredEvent[];
  queue: Map<string, StoredQueueItem>;
  queueSequence: number;
  /** Dead letters in the order they were dead-lettered. */
  deadLetters: Map<string, DeadLetter>;
}

function emptyState(): State {
  return {
    records: new Map(),
    vectors: new Map(),
    keywords: new KeywordIndex(),
    history: [],
    queue: new Map(),
    queueSequence: 0,
    deadLetters: new Map(),
  };
}

function cloneState(state: State): State {
  return {
    records: new Map(state.records),
    vectors: new Map(state.vectors),
    keywords: state.keywords.clone(),
    history: [...state.history],
    queue: new Map(state.queue),
    queueSequence: state.queueSequence,
    deadLetters: new Map(state.deadLetters),
  };
}

const PATCH_KEYS = [
  'memory',
  'hash',
  'metadata',
  'updatedAt',
  'validFrom',
  'validTo',
  'supersededBy',
  'expiresAt',
  'topic',
  'kind',
] as const satisfies ReadonlyArray<keyof MemoryPatch>;

function applyPatch(record: MemoryRecord, patch: MemoryPatch): MemoryRecord {
  const next: Record<string, unknown> = { ...record };
  for (const key of PATCH_KEYS) {
    const value = patch[key];
    if (value === undefined) continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return copy(next) as unknown as MemoryRecord;
}

/** A deep copy without `undefined` properties, so records read back like the SQL stores return them. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function byNewest(left: MemoryRecord, right: MemoryRecord): number {
  if (left.createdAt !== right.createdAt) return left.createdAt < right.createdAt ? 1 : -1;
  return left.id < right.id ? 1 : left.id > right.id ? -1 : 0;
}

function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index += 1) sum += (left[index] ?? 0) * (right[index] ?? 0);
  return sum;
}

/** Options for {@link createInMemoryStore}. Currently none; kept for symmetry with the other backends. */
export type InMemoryStoreOptions = Record<string, never>;

/** The in-memory backend. Prefer {@link createInMemoryStore} or `createStore('memory://')`. */
export class InMemoryStore implements MemoryStore {
  readonly name = 'memory';
  readonly capabilities: StoreCapabilities = { persistent: false, multiProcess: false };
  private state = emptyState();
  private embedder: EmbedderIdentity | undefined;
  private closed = false;

  async open(options: { embedder: EmbedderIdentity }): Promise<void> {
    if (this.closed) throw notOpenError(this.name, true);
    this.embedder = checkEmbedder(options.embedder, this.embedder);
  }

  async apply(options: { changes: MemoryChange[]; completeQueueItem?: string }): Promise<void> {
    const dimension = this.requireOpen();
    assertStorableChanges(options.changes);
    const next = cloneState(this.state);
    for (const [index, change] of options.changes.entries()) {
      this.applyChange(next, change, dimension, `changes[${index}]`);
    }
    if (options.completeQueueItem !== undefined && !next.queue.delete(options.completeQueueItem)) {
      throw new NotFoundError(
        `queue item ${options.completeQueueItem} not found (already completed, dropped or erased); nothing was applied`,
      );
    }
    this.state = next;
  }

  private applyChange(state: State, change: MemoryChange, dimension: number, field: string): void {
    if (change.type === 'insert') {
      const record = change.record;
      assertScope(pickScope(record), `${field}.record`);
      assertDimension(change.embedding, dimension, `${field}.embedding`);
      if (state.records.has(record.id)) {
        throw new StoreError(`memory ${record.id} already exists: inserts need a new id`, {
          code: 'conflict',
        });
      }
      state.records.set(record.id, copy(record));
      state.vectors.set(record.id, Float32Array.from(change.embedding));
      state.keywords.set(record.id, keywordText(record), scopeEntries(record).length);
      this.pushEvent(state, record, change.event);
      return;
    }
    const current = this.findRecord(state, change.id, change.scope);
    if (!current) {
      throw new NotFoundError(`memory ${change.id} not found${change.scope ? ' in this scope' : ''}`);
    }
    if (change.type === 'update') {
      const updated = applyPatch(current, change.patch);
      state.records.set(current.id, updated);
      if (change.embedding !== undefined) {
        assertDimension(change.embedding, dimension, `${field}.embedding`);
        state.vectors.set(current.id, Float32Array.from(change.embedding));
      }
      const indexed = patchedKeywordText(
        { memory: current.memory, metadata: () => current.metadata },
        change.patch,
      );
      if (indexed !== undefined) state.keywords.set(current.id, indexed, scopeEntries(current).length);
    } else if (change.type === 'delete') {
      state.records.delete(current.id);
      state.vectors.delete(current.id);
      state.keywords.delete(current.id);
    }
    this.pushEvent(state, current, change.event);
  }

  private pushEvent(state: State, record: MemoryRecord, event: NewHistoryEvent): void {
    state.history.push({
      event: copy({ ...event, id: randomUUID(), memoryId: record.id }),
      scope: pickScope(record),
    });
  }

  private findRecord(state: State, id: string, scope: Scope | undefined): MemoryRecord | undefined {
    if (scope !== undefined) assertScope(scope);
    const record = state.records.get(id);
    if (!record || (scope !== undefined && !isWithinScope(record, scope))) return undefined;
    return record;
  }

  async get(options: { id: string; scope?: Scope }): Promise<MemoryRecord | null> {
    this.requireOpen();
    const record = this.findRecord(this.state, options.id, options.scope);
    return record ? structuredClone(record) : null;
  }

  private visible(scope: Scope, temporal: TemporalOptions, filter?: FilterNode): MemoryRecord[] {
    assertScope(scope);
    const records: MemoryRecord[] = [];
    for (const record of this.state.records.values()) {
      if (isWithinScope(record, scope) && isVisible(record, temporal) && matchesFilter(record, filter)) {
        records.push(record);
      }
    }
    return records;
  }

  async findByHash(options: {
    scope: Scope;
    hashes: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]> {
    this.requireOpen();
    const hashes = new Set(options.hashes);
    return this.visible(options.scope, options.temporal)
      .filter((record) => hashes.has(record.hash))
      .sort(byNewest)
      .map((record) => structuredClone(record));
  }

  async findByTopic(options: {
    scope: Scope;
    topics: string[];
    temporal: TemporalOptions;
  }): Promise<MemoryRecord[]> {
    this.requireOpen();
    const topics = new Set(options.topics);
    return this.visible(options.scope, options.temporal)
      .filter((record) => record.topic !== undefined && topics.has(record.topic))
      .sort(byNewest)
      .map((record) => structuredClone(record));
  }

  async list(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    page: { limit: number; cursor?: string };
  }): Promise<{ records: MemoryRecord[]; nextCursor?: string }> {
    this.requireOpen();
    assertLimit(options.page.limit, 'page.limit');
    let records = this.visible(options.scope, options.temporal, options.filter).sort(byNewest);
    if (options.page.cursor !== undefined) {
      const [createdAt = '', id = ''] = decodeCursor(options.page.cursor, 2, 'page.cursor');
      records = records.filter(
        (record) => record.createdAt < createdAt || (record.createdAt === createdAt && record.id < id),
      );
    }
    const page = records.slice(0, options.page.limit);
    const last = page.at(-1);
    const result: { records: MemoryRecord[]; nextCursor?: string } = {
      records: page.map((record) => structuredClone(record)),
    };
    if (records.length > page.length && last) result.nextCursor = encodeCursor([last.createdAt, last.id]);
    return result;
  }

  async searchDense(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    embedding: Float32Array;
    limit: number;
  }): Promise<DenseHit[]> {
    const dimension = this.requireOpen();
    assertLimit(options.limit, 'limit');
    assertDimension(options.embedding, dimension, 'embedding');
    const hits: DenseHit[] = [];
    for (const record of this.visible(options.scope, options.temporal, options.filter)) {
      const vector = this.state.vectors.get(record.id);
      if (vector) hits.push({ record, similarity: dot(vector, options.embedding) });
    }
    return hits
      .sort((left, right) => right.similarity - left.similarity || compareIds(left.record, right.record))
      .slice(0, options.limit)
      .map((hit) => ({ record: structuredClone(hit.record), similarity: hit.similarity }));
  }

  async searchKeyword(options: {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
    terms: string[];
    limit: number;
  }): Promise<KeywordHit[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    const candidates = new Map(
      this.visible(options.scope, options.temporal, options.filter).map((record) => [record.id, record]),
    );
    const terms = [...new Set(options.terms)];
    const hits: KeywordHit[] = [];
    for (const [id, bm25] of this.state.keywords.score(terms, (candidate) => candidates.has(candidate))) {
      const record = candidates.get(id);
      if (record) hits.push({ record, bm25 });
    }
    return hits
      .sort((left, right) => right.bm25 - left.bm25 || compareIds(left.record, right.record))
      .slice(0, options.limit)
      .map((hit) => ({ record: structuredClone(hit.record), bm25: hit.bm25 }));
  }

  async history(options: { id: string; scope?: Scope }): Promise<HistoryEvent[]> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    const { scope } = options;
    return this.state.history
      .filter(
        (stored) =>
          stored.event.memoryId === options.id && (scope === undefined || isWithinScope(stored.scope, scope)),
      )
      .map((stored) => structuredClone(stored.event));
  }

  async *exportScope(options: {
    scope: Scope;
    temporal: TemporalOptions;
  }): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
    this.requireOpen();
    // `apply` and `eraseScope` swap in a new state and never mutate the old one's records or history, so
    // holding this state (and copying on the way out) is a point-in-time snapshot.
    const { history } = this.state;
    const records = this.visible(options.scope, options.temporal).sort(byNewest);
    const events = historyByMemory(
      history.filter((stored) => isWithinScope(stored.scope, options.scope)).map((stored) => stored.event),
    );
    for (const record of records) {
      this.requireOpen();
      yield {
        record: structuredClone(record),
        history: (events.get(record.id) ?? []).map((event) => structuredClone(event)),
      };
    }
  }

  async eraseScope(options: { scope: Scope; now: string; actor: string }): Promise<number> {
    this.requireOpen();
    assertScope(options.scope);
    return this.erase({ scope: options.scope }, options).deleted;
  }

  async eraseMemory(options: { id: string; scope?: Scope; now: string; actor: string }): Promise<boolean> {
    this.requireOpen();
    if (options.scope !== undefined) assertScope(options.scope);
    return this.erase({ id: options.id, scope: options.scope }, options).tombstones > 0;
  }

  /**
   * Erases every memory in `target.scope` (or the one memory `target.id` within it): records, vectors, keyword
   * entries and history text, with one ERASE tombstone per memory erased; a scope erase also drops the scope's
   * queue items and dead letters.
   */
  private erase(
    target: { id?: string | undefined; scope?: Scope | undefined },
    options: { now: string; actor: string },
  ): { deleted: number; tombstones: number } {
    const scope = target.scope ?? {};
    const matches = (memoryId: string, owner: Scope) =>
      (target.id === undefined || memoryId === target.id) && isWithinScope(owner, scope);
    const next = cloneState(this.state);
    const erased = new Map<string, Scope>();
    for (const record of this.state.records.values()) {
      if (!matches(record.id, record)) continue;
      next.records.delete(record.id);
      next.vectors.delete(record.id);
      next.keywords.delete(record.id);
      erased.set(record.id, pickScope(record));
    }
    const touched = new Map<string, Scope>();
    next.history = next.history.map((stored) => {
      const { previousValue, newValue, reason, ...kept } = stored.event;
      if (!matches(stored.event.memoryId, stored.scope)) return stored;
      if (previousValue === undefined && newValue === undefined && reason === undefined) return stored;
      touched.set(stored.event.memoryId, stored.scope);
      return { event: kept, scope: stored.scope };
    });
    const tombstones = new Map([...touched, ...erased]);
    for (const [memoryId, owner] of tombstones) {
      next.history.push({
        event: { id: randomUUID(), memoryId, event: 'ERASE', actor: options.actor, createdAt: options.now },
        scope: owner,
      });
    }
    if (target.id === undefined) {
      for (const [id, stored] of this.state.queue) {
        if (isWithinScope(stored.item.scope, scope)) next.queue.delete(id);
      }
      for (const [id, letter] of this.state.deadLetters) {
        if (isWithinScope(letter.scope, scope)) next.deadLetters.delete(id);
      }
    }
    this.state = next;
    return { deleted: erased.size, tombstones: tombstones.size };
  }

  async listScopes(options: { within?: Scope }): Promise<Array<Scope & { count: number }>> {
    this.requireOpen();
    const counts = new Map<string, Scope & { count: number }>();
    for (const record of this.state.records.values()) {
      if (options.within !== undefined && !isWithinScope(record, options.within)) continue;
      const scope = pickScope(record);
      const key = JSON.stringify(SCOPE_KEYS.map((name) => scope[name] ?? null));
      const entry = counts.get(key) ?? { ...scope, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    return [...counts.entries()].sort(([left], [right]) => (left < right ? -1 : 1)).map(([, entry]) => entry);
  }

  async enqueue(options: { scope: Scope; payload: unknown; now: string }): Promise<QueueItem> {
    this.requireOpen();
    assertScope(options.scope);
    assertStorableQueueItem(options);
    const item: QueueItem = {
      id: randomUUID(),
      scope: pickScope(options.scope),
      payload: JSON.parse(JSON.stringify(options.payload ?? null)),
      attempts: 0,
      enqueuedAt: options.now,
      availableAt: options.now,
    };
    this.state.queueSequence += 1;
    this.state.queue.set(item.id, { item, sequence: this.state.queueSequence });
    return structuredClone(item);
  }

  async claimQueue(options: ClaimQueueOptions): Promise<QueueItem[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    const leasedUntil = addMilliseconds(options.now, options.leaseMs);
    const among = options.ids === undefined ? undefined : new Set(options.ids);
    const claimable = [...this.state.queue.values()]
      .filter(
        (stored) =>
          (among === undefined || among.has(stored.item.id)) &&
          stored.item.availableAt <= options.now &&
          (stored.leasedUntil === undefined || stored.leasedUntil <= options.now),
      )
      .sort(
        (left, right) =>
          (left.item.availableAt < right.item.availableAt
            ? -1
            : left.item.availableAt > right.item.availableAt
              ? 1
              : 0) || left.sequence - right.sequence,
      )
      .slice(0, options.limit);
    for (const stored of claimable) stored.leasedUntil = leasedUntil;
    return claimable.map((stored) => structuredClone(stored.item));
  }

  async failQueueItem(options: { id: string; error: string; retryAt: string }): Promise<void> {
    this.requireOpen();
    const stored = this.state.queue.get(options.id);
    if (!stored) throw new NotFoundError(`queue item ${options.id} not found`);
    stored.item = {
      ...stored.item,
      attempts: stored.item.attempts + 1,
      lastError: options.error,
      availableAt: options.retryAt,
    };
    delete stored.leasedUntil;
  }

  async dropQueueItem(options: { id: string; reason: string; now: string }): Promise<void> {
    this.requireOpen();
    const stored = this.state.queue.get(options.id);
    if (!stored) throw new NotFoundError(`queue item ${options.id} not found`);
    this.state.queue.delete(options.id);
    const { item } = stored;
    this.state.deadLetters.set(item.id, {
      id: item.id,
      scope: item.scope,
      payload: item.payload,
      attempts: item.attempts,
      error: options.reason,
      enqueuedAt: item.enqueuedAt,
      failedAt: options.now,
    });
  }

  async listDeadLetters(options: { limit: number }): Promise<DeadLetter[]> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    // Stable sort: equal failedAt keep the order they were dead-lettered in (the SQL stores' seq).
    return [...this.state.deadLetters.values()]
      .sort((left, right) => (left.failedAt < right.failedAt ? -1 : left.failedAt > right.failedAt ? 1 : 0))
      .slice(0, options.limit)
      .map((letter) => structuredClone(letter));
  }

  async retryDeadLetter(options: { id: string; now: string }): Promise<QueueItem> {
    this.requireOpen();
    const letter = this.state.deadLetters.get(options.id);
    if (!letter) throw new NotFoundError(`dead letter ${options.id} not found`);
    this.state.deadLetters.delete(options.id);
    const item: QueueItem = {
      id: letter.id,
      scope: letter.scope,
      payload: letter.payload,
      attempts: 0,
      enqueuedAt: letter.enqueuedAt,
      availableAt: options.now,
    };
    this.state.queueSequence += 1;
    this.state.queue.set(item.id, { item, sequence: this.state.queueSequence });
    return structuredClone(item);
  }

  async deleteDeadLetter(options: { id: string }): Promise<void> {
    this.requireOpen();
    if (!this.state.deadLetters.delete(options.id)) {
      throw new NotFoundError(`dead letter ${options.id} not found`);
    }
  }

  async getQueueItem(options: { id: string; scope?: Scope }): Promise<QueueItem | null> {
    this.requireOpen();
    const stored = this.state.queue.get(options.id);
    if (!stored || (options.scope && !isWithinScope(stored.item.scope, options.scope))) return null;
    return structuredClone(stored.item);
  }

  async queueSize(): Promise<number> {
    this.requireOpen();
    return this.state.queue.size;
  }

  async stats(): Promise<StoreStats> {
    this.requireOpen();
    return {
      memories: this.state.records.size,
      vectors: this.state.vectors.size,
      keywordEntries: this.state.keywords.size,
      historyEvents: this.state.history.length,
      queueItems: this.state.queue.size,
      deadLetters: this.state.deadLetters.size,
    };
  }

  async scan(options: { cursor?: string; limit: number }): Promise<{
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
    nextCursor?: string;
  }> {
    this.requireOpen();
    assertLimit(options.limit, 'limit');
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, 1, 'cursor')[0];
    const ids = [...this.state.records.keys()].filter((id) => after === undefined || id > after).sort();
    const page = ids.slice(0, options.limit);
    const items = page.map((id) => {
      const record = this.state.records.get(id) as MemoryRecord;
      return {
        record: structuredClone(record),
        embedding: Float32Array.from(this.state.vectors.get(id) ?? []),
        history: this.state.history
          .filter((stored) => stored.event.memoryId === id)
          .map((stored) => structuredClone(stored.event)),
      };
    });
    const last = page.at(-1);
    return ids.length > page.length && last !== undefined
      ? { items, nextCursor: encodeCursor([last]) }
      : { items };
  }

  async restore(options: {
    items: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }>;
  }): Promise<number> {
    const dimension = this.requireOpen();
    assertStorableItems(options.items);
    const next = cloneState(this.state);
    const eventIds = new Set(next.history.map((stored) => stored.event.id));
    let written = 0;
    for (const [index, item] of options.items.entries()) {
      const { record } = item;
      if (next.records.has(record.id)) continue;
      assertScope(pickScope(record), `items[${index}].record`);
      assertDimension(item.embedding, dimension, `items[${index}].embedding`);
      next.records.set(record.id, copy(record));
      next.vectors.set(record.id, Float32Array.from(item.embedding));
      next.keywords.set(record.id, keywordText(record), scopeEntries(record).length);
      for (const event of item.history) {
        if (eventIds.has(event.id)) continue;
        eventIds.add(event.id);
        next.history.push({
          event: copy({ ...event, memoryId: record.id }),
          scope: pickScope(record),
        });
      }
      written += 1;
    }
    this.state = next;
    return written;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = emptyState();
  }

  /** Throws unless open; returns the vector dimension. */
  private requireOpen(): number {
    if (this.closed || !this.embedder) throw notOpenError(this.name, this.closed);
    return this.embedder.dimension;
  }
}

function compareIds(left: MemoryRecord, right: MemoryRecord): number {
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

/** Creates an empty in-memory store (`memory://`). Call `open({ embedder })` before use. */
export function createInMemoryStore(_options: InMemoryStoreOptions = {}): InMemoryStore {
  return new InMemoryStore();
}
