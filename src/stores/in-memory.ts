/**
 * The in-memory backend (`memory://`): a {@link StoreEngine} over plain JavaScript maps, for tests and demos, and
 * the smallest complete example of an engine. The store core (`core/store.ts`) does everything else, so this file
 * says only how the data is kept:
 * - a {@link State} of maps: records, vectors, a keyword index that ranks like FTS5 (`keyword-index.ts`),
 *   history with the scope each event was recorded in, the queue and the dead letters;
 * - transactions by copy-on-write: `write` runs the program on a copy of the state and swaps it in only when the
 *   program finished, so a failed change list leaves nothing behind and a held state is a snapshot (`apply`,
 *   erase and restore never mutate the state they replace; queue operations, single steps, change it in place);
 * - filters by `matchesFilter` (`core/filters.ts`), the temporal rule by `isVisible`, dense similarity as the dot
 *   product of the (normalised) vectors.
 * Every write copies the whole state, so it suits up to a few thousand memories. Nothing survives `close()`.
 */

import { randomUUID } from 'node:crypto';
import { matchesFilter } from '../core/filters.js';
import { isWithinScope, pickScope } from '../core/scope.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../core/types.js';
import { SCOPE_KEYS } from '../core/types.js';
import type { EraseTarget, QueueEngine, ScopedId, StoreEngine, WriteSteps } from './core/engine.js';
import { historyByMemory } from './core/history.js';
import { type Program, runSync } from './core/program.js';
import { claimOrder } from './core/queue-rows.js';
import { byNewest, pageOf, topHits } from './core/results.js';
import { StoreCore } from './core/store.js';
import { isVisible, type PageKey, scopeEntries, type Visibility } from './core/visibility.js';
import { KeywordIndex, outsideTextTokens } from './keyword-index.js';
import type { DeadLetter, DenseHit, KeywordHit, MemoryPatch, QueueItem, StoreStats } from './types.js';

interface StoredEvent {
  event: HistoryEvent;
  scope: Scope;
}

interface StoredQueueItem {
  item: QueueItem;
  sequence: number;
  leasedUntil?: string;
}

/** Everything the store holds; `write` works on a copy and swaps it in when the program succeeded. */
interface State {
  records: Map<string, MemoryRecord>;
  vectors: Map<string, Float32Array>;
  keywords: KeywordIndex;
  history: StoredEvent[];
  /** Ids of `history`, built on the first look-up of a transaction (restore). */
  eventIds?: Set<string>;
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

function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index += 1) sum += (left[index] ?? 0) * (right[index] ?? 0);
  return sum;
}

/** The memory `id` of `state` when it is within `scope` (when given). */
function findRecord(state: State, id: string, scope: Scope | undefined): MemoryRecord | undefined {
  const record = state.records.get(id);
  return record && (scope === undefined || isWithinScope(record, scope)) ? record : undefined;
}

/** True for an erase target's memory or event `memoryId` recorded in scope `owner`. */
function targets(target: EraseTarget, memoryId: string, owner: Scope): boolean {
  return (target.id === undefined || memoryId === target.id) && isWithinScope(owner, target.scope ?? {});
}

function removeRecord(state: State, record: MemoryRecord): void {
  state.records.delete(record.id);
  state.vectors.delete(record.id);
  state.keywords.delete(record.id);
}

/** The write steps on a copy of the state (see `write`); a found row is the stored record. */
const inMemoryWrites: WriteSteps<State, MemoryRecord> = {
  findForUpdate: findRecord,

  current: (record) => ({
    id: record.id,
    memory: record.memory,
    scope: pickScope(record),
    metadata: () => record.metadata,
  }),

  insert(state, record, embedding, keywordText) {
    if (state.records.has(record.id)) return false;
    state.records.set(record.id, copy(record));
    state.vectors.set(record.id, Float32Array.from(embedding));
    state.keywords.set(record.id, keywordText, outsideTextTokens(scopeEntries(record).length));
    return true;
  },

  update(state, record, update) {
    state.records.set(record.id, applyPatch(record, update.patch));
    if (update.embedding !== undefined) state.vectors.set(record.id, Float32Array.from(update.embedding));
    if (update.keywordText !== undefined) {
      state.keywords.set(record.id, update.keywordText, outsideTextTokens(scopeEntries(record).length));
    }
  },

  remove: removeRecord,

  appendEvent(state, event, scope) {
    state.history.push({ event: copy(event), scope: pickScope(scope) });
    state.eventIds?.add(event.id);
  },

  completeQueueItem: (state, id) => state.queue.delete(id),

  eraseMemories(state, target) {
    const erased: ScopedId[] = [];
    for (const record of state.records.values()) {
      if (!targets(target, record.id, record)) continue;
      removeRecord(state, record);
      erased.push({ id: record.id, scope: pickScope(record) });
    }
    return erased;
  },

  stripHistory(state, target) {
    const touched = new Map<string, Scope>();
    state.history = state.history.map((stored) => {
      const { previousValue, newValue, reason, ...kept } = stored.event;
      if (!targets(target, stored.event.memoryId, stored.scope)) return stored;
      if (previousValue === undefined && newValue === undefined && reason === undefined) return stored;
      touched.set(stored.event.memoryId, stored.scope);
      return { event: kept, scope: stored.scope };
    });
    return [...touched].map(([id, scope]) => ({ id, scope }));
  },

  eraseQueue(state, scope) {
    for (const [id, stored] of state.queue)
      if (isWithinScope(stored.item.scope, scope)) state.queue.delete(id);
    for (const [id, letter] of state.deadLetters) {
      if (isWithinScope(letter.scope, scope)) state.deadLetters.delete(id);
    }
  },

  restore: {
    memoryExists: (state, id) => state.records.has(id),
    eventExists(state, id) {
      state.eventIds ??= new Set(state.history.map((stored) => stored.event.id));
      return state.eventIds.has(id);
    },
  },
};

/** How the in-memory backend keeps its data: the engine under {@link InMemoryStore}. */
class InMemoryEngine implements StoreEngine<State, MemoryRecord> {
  readonly name = 'memory';
  readonly capabilities = { persistent: false, multiProcess: false };
  private state = emptyState();

  async open(): Promise<void> {}

  async close(): Promise<void> {
    this.state = emptyState();
  }

  async write<T>(_action: string, program: (tx: State) => Program<T>): Promise<T> {
    const next = cloneState(this.state);
    const result = runSync(program(next));
    this.state = next;
    return result;
  }

  readonly steps: WriteSteps<State, MemoryRecord> = inMemoryWrites;

  /** Visible records of `visibility`, in storage order (not copied). */
  private visible(state: State, visibility: Visibility): MemoryRecord[] {
    const { scope, temporal, filter } = visibility;
    const records: MemoryRecord[] = [];
    for (const record of state.records.values()) {
      if (isWithinScope(record, scope) && isVisible(record, temporal) && matchesFilter(record, filter)) {
        records.push(record);
      }
    }
    return records;
  }

  async get(id: string, scope: Scope | undefined): Promise<MemoryRecord | undefined> {
    const record = findRecord(this.state, id, scope);
    return record && structuredClone(record);
  }

  async findByValues(
    visibility: Visibility,
    column: 'hash' | 'topic',
    values: readonly string[],
  ): Promise<MemoryRecord[]> {
    const wanted = new Set(values);
    return this.visible(this.state, visibility)
      .filter((record) => {
        const value = record[column];
        return value !== undefined && wanted.has(value);
      })
      .sort(byNewest)
      .map((record) => structuredClone(record));
  }

  async listPage(
    visibility: Visibility,
    limit: number,
    after: PageKey | undefined,
  ): Promise<{ records: MemoryRecord[]; nextCursor?: string }> {
    let records = this.visible(this.state, visibility).sort(byNewest);
    if (after !== undefined) {
      records = records.filter(
        (record) =>
          record.createdAt < after.createdAt ||
          (record.createdAt === after.createdAt && record.id < after.id),
      );
    }
    return pageOf(
      records.slice(0, limit + 1).map((record) => structuredClone(record)),
      limit,
    );
  }

  async searchDense(visibility: Visibility, embedding: Float32Array, limit: number): Promise<DenseHit[]> {
    const hits: DenseHit[] = [];
    for (const record of this.visible(this.state, visibility)) {
      const vector = this.state.vectors.get(record.id);
      if (vector) hits.push({ record, similarity: dot(vector, embedding) });
    }
    return topHits(hits, limit, (hit) => hit.similarity).map((hit) => ({
      record: structuredClone(hit.record),
      similarity: hit.similarity,
    }));
  }

  async searchKeyword(
    visibility: Visibility,
    terms: readonly string[],
    limit: number,
  ): Promise<KeywordHit[]> {
    const candidates = new Map(this.visible(this.state, visibility).map((record) => [record.id, record]));
    const hits: KeywordHit[] = [];
    const scores = this.state.keywords.score([...new Set(terms)], (candidate) => candidates.has(candidate));
    for (const [id, bm25] of scores) {
      const record = candidates.get(id);
      if (record) hits.push({ record, bm25 });
    }
    return topHits(hits, limit, (hit) => hit.bm25).map((hit) => ({
      record: structuredClone(hit.record),
      bm25: hit.bm25,
    }));
  }

  async history(id: string, scope: Scope | undefined): Promise<HistoryEvent[]> {
    return this.state.history
      .filter(
        (stored) =>
          stored.event.memoryId === id && (scope === undefined || isWithinScope(stored.scope, scope)),
      )
      .map((stored) => structuredClone(stored.event));
  }

  async *exportScope(
    visibility: Visibility,
  ): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
    // Writes swap in a new state and never change this one's records or history: holding it is the snapshot.
    const state = this.state;
    const records = this.visible(state, visibility).sort(byNewest);
    const events = historyByMemory(
      state.history
        .filter((stored) => isWithinScope(stored.scope, visibility.scope))
        .map((stored) => stored.event),
    );
    for (const record of records) {
      yield {
        record: structuredClone(record),
        history: (events.get(record.id) ?? []).map((event) => structuredClone(event)),
      };
    }
  }

  async listScopes(within: Scope | undefined): Promise<Array<Scope & { count: number }>> {
    const counts = new Map<string, Scope & { count: number }>();
    for (const record of this.state.records.values()) {
      if (within !== undefined && !isWithinScope(record, within)) continue;
      const scope = pickScope(record);
      const key = JSON.stringify(SCOPE_KEYS.map((name) => scope[name] ?? null));
      const entry = counts.get(key) ?? { ...scope, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    return [...counts.entries()].sort(([left], [right]) => (left < right ? -1 : 1)).map(([, entry]) => entry);
  }

  async scanPage(
    after: string,
    limit: number,
  ): Promise<{ memories: Array<{ record: MemoryRecord; embedding: Float32Array }>; events: HistoryEvent[] }> {
    const ids = [...this.state.records.keys()].filter((id) => id > after).sort();
    const fetched = ids.slice(0, limit + 1);
    const memories = fetched.map((id) => ({
      record: structuredClone(this.state.records.get(id) as MemoryRecord),
      embedding: Float32Array.from(this.state.vectors.get(id) ?? []),
    }));
    const page = new Set(fetched.slice(0, limit));
    const events = this.state.history
      .filter((stored) => page.has(stored.event.memoryId))
      .map((stored) => structuredClone(stored.event));
    return { memories, events };
  }

  async stats(): Promise<StoreStats> {
    return {
      memories: this.state.records.size,
      vectors: this.state.vectors.size,
      keywordEntries: this.state.keywords.size,
      historyEvents: this.state.history.length,
      queueItems: this.state.queue.size,
      deadLetters: this.state.deadLetters.size,
    };
  }

  /** Queue operations change the state in place: each is a single step that cannot fail half-way. */
  readonly queue: QueueEngine = {
    enqueue: async (scope, payload, now) =>
      this.queueItem({
        id: randomUUID(),
        scope: pickScope(scope),
        payload: JSON.parse(JSON.stringify(payload ?? null)),
        attempts: 0,
        enqueuedAt: now,
        availableAt: now,
      }),
    claim: async (limit, now, leasedUntil, ids) => {
      const among = ids === undefined ? undefined : new Set(ids);
      const claimable = [...this.state.queue.values()]
        .filter(
          (stored) =>
            (among === undefined || among.has(stored.item.id)) &&
            stored.item.availableAt <= now &&
            (stored.leasedUntil === undefined || stored.leasedUntil <= now),
        )
        .sort((left, right) =>
          claimOrder(
            { availableAt: left.item.availableAt, sequence: left.sequence },
            { availableAt: right.item.availableAt, sequence: right.sequence },
          ),
        )
        .slice(0, limit);
      for (const stored of claimable) stored.leasedUntil = leasedUntil;
      return claimable.map((stored) => structuredClone(stored.item));
    },
    fail: async (id, error, retryAt) => {
      const stored = this.state.queue.get(id);
      if (!stored) return false;
      stored.item = {
        ...stored.item,
        attempts: stored.item.attempts + 1,
        lastError: error,
        availableAt: retryAt,
      };
      delete stored.leasedUntil;
      return true;
    },
    deadLetter: async (id, reason, now) => {
      const stored = this.state.queue.get(id);
      if (!stored) return false;
      this.state.queue.delete(id);
      const { item } = stored;
      this.state.deadLetters.set(item.id, {
        id: item.id,
        scope: item.scope,
        payload: item.payload,
        attempts: item.attempts,
        error: reason,
        enqueuedAt: item.enqueuedAt,
        failedAt: now,
      });
      return true;
    },
    get: async (id) => {
      const stored = this.state.queue.get(id);
      return stored ? structuredClone(stored.item) : null;
    },
    // Stable sort: equal failedAt keep the order they were dead-lettered in (the SQL stores' seq).
    deadLetters: async (limit) =>
      [...this.state.deadLetters.values()]
        .sort((left, right) => (left.failedAt < right.failedAt ? -1 : left.failedAt > right.failedAt ? 1 : 0))
        .slice(0, limit)
        .map((letter) => structuredClone(letter)),
    requeue: async (id, now) => {
      const letter = this.state.deadLetters.get(id);
      if (!letter) return undefined;
      this.state.deadLetters.delete(id);
      const { error: _error, failedAt: _failedAt, ...kept } = letter;
      return this.queueItem({ ...kept, attempts: 0, availableAt: now });
    },
    deleteDeadLetter: async (id) => this.state.deadLetters.delete(id),
    size: async () => this.state.queue.size,
  };

  /** Adds `item` to the queue, after every item queued so far. @returns a copy. */
  private queueItem(item: QueueItem): QueueItem {
    this.state.queueSequence += 1;
    this.state.queue.set(item.id, { item, sequence: this.state.queueSequence });
    return structuredClone(item);
  }
}

/** Options for {@link createInMemoryStore}. Currently none; kept for symmetry with the other backends. */
export type InMemoryStoreOptions = Record<string, never>;

/** The in-memory backend. Prefer {@link createInMemoryStore} or `createStore('memory://')`. */
export class InMemoryStore extends StoreCore<State, MemoryRecord> {
  constructor() {
    super(new InMemoryEngine());
  }
}

/** Creates an empty in-memory store (`memory://`). Call `open({ embedder })` before use. */
export function createInMemoryStore(_options: InMemoryStoreOptions = {}): InMemoryStore {
  return new InMemoryStore();
}
