/**
 * Small helpers shared by the session store backends: lazy loading of optional driver packages, a per-key
 * in-process mutex, bounded-concurrency mapping, a bounded cache and sleeping. (Error translation is the frame's:
 * `./frame.ts`.)
 */
import { MissingDependencyError } from '../core/errors.js';

/**
 * Imports an optional peer dependency, or throws a {@link MissingDependencyError} that says what to install.
 * Other import failures (a broken install) are rethrown as they are.
 */
export async function importOptional<T>(packageName: string, feature: string): Promise<T> {
  try {
    return (await import(packageName)) as T;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String(error).includes(packageName)
    ) {
      throw new MissingDependencyError(packageName, feature, error);
    }
    throw error;
  }
}

/** Serializes async work per key inside one process (cross-process exclusion is each backend's job). */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier `run` with the same key has settled. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => {};
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** Maps `items` through `work` with at most `limit` calls in flight, keeping the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A Map that keeps only its `limit` most recently used entries: per-transcript caches stay bounded in a
 * long-running process (an evicted entry is only a cache miss).
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#limit) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Deletes every entry whose key satisfies `predicate`. */
  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (predicate(key)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
