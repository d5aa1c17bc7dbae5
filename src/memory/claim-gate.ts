/**
 * The store as one Memory instance's queue workers see it: every method is the store's own, except that
 * `claimQueue` asks `gate` first. The gate returns `null` to claim nothing (a closing instance stops taking
 * work), a list of ids to claim only those items (the drain at close: what this instance enqueued), or
 * undefined for the store's usual claim. The worker (src/ingest/queue-worker.ts) needs no knowledge of it.
 */
import type { ClaimQueueOptions, MemoryStore, QueueItem } from '../stores/types.js';

/** What a gated store may claim now: nothing (`null`), only these ids, or anything (undefined). */
export type ClaimGate = () => readonly string[] | null | undefined;

/** `store` with its `claimQueue` narrowed by `gate` (see the module comment). */
export function gateClaims(store: MemoryStore, gate: ClaimGate): MemoryStore {
  const claimQueue = async (options: ClaimQueueOptions): Promise<QueueItem[]> => {
    const ids = gate();
    if (ids === null) return [];
    return store.claimQueue(ids === undefined ? options : { ...options, ids });
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'claimQueue') return claimQueue;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
