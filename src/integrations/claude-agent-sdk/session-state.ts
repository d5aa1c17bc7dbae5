/**
 * Per-session bookkeeping of the memory hooks, held in the process that runs `query()`. It is a cache over what the
 * transcript already proves (which memories were injected, which messages were captured), so a new process
 * rebuilds it from the transcript on first contact with a session.
 */
import { normaliseText } from '../../core/text.js';

/** A set that forgets its oldest members beyond `capacity` (insertion order). */
export class BoundedSet<T> {
  private readonly items = new Set<T>();

  constructor(private readonly capacity: number) {}

  has(item: T): boolean {
    return this.items.has(item);
  }

  add(item: T): void {
    this.items.delete(item);
    this.items.add(item);
    if (this.items.size > this.capacity) {
      const oldest = this.items.values().next();
      if (!oldest.done) this.items.delete(oldest.value);
    }
  }

  values(): T[] {
    return [...this.items];
  }

  get size(): number {
    return this.items.size;
  }
}

/** A map that evicts its least recently used entry beyond `capacity`. */
export class LruMap<K, V> {
  private readonly items = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.items.get(key);
  }

  set(key: K, value: V): void {
    this.getOrCreate(key, () => value);
    this.items.set(key, value);
  }

  /** The value for `key`, created with `create` when absent. Marks it most recently used. */
  getOrCreate(key: K, create: () => V): V {
    let value = this.items.get(key);
    if (value === undefined) value = create();
    else this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) {
      const oldest = this.items.keys().next();
      if (!oldest.done) this.items.delete(oldest.value);
    }
    return value;
  }
}

/** What the hooks know about one session (or one subagent run). */
export interface SessionState {
  /** Normalised texts of memories injected into this session (from this process and from the transcript). */
  injected: Set<string>;
  /** The same memories' texts as stored, passed to ingestion as `recalled`. */
  injectedTexts: string[];
  /** Byte offset in the transcript up to which entries were handled; undefined before first contact. */
  transcriptOffset: number | undefined;
  /** `role + normalised text` of messages captured by this process (the transcript lags: see transcript.ts). */
  captured: BoundedSet<string>;
  /** Prompts seen by UserPromptSubmit, by prompt id, for Stop to use when the transcript lags. */
  prompts: LruMap<string, string>;
  /**
   * The profile was given in this process since the session started, resumed or was compacted. (A resumed
   * session's earlier blocks are in `injected`, so a resume re-gives only profile items the session lacks.)
   */
  profileGiven: boolean;
}

/** A fresh state. */
export function createSessionState(): SessionState {
  return {
    injected: new Set(),
    injectedTexts: [],
    transcriptOffset: undefined,
    captured: new BoundedSet(2000),
    prompts: new LruMap(16),
    profileGiven: false,
  };
}

/**
 * After a compaction the model no longer sees what was injected before it: forget it, so the next prompt gives
 * the profile and relevant memories again. (`injectedTexts` stays: ingestion still treats them as recalled.)
 */
export function forgetInjected(state: SessionState): void {
  state.injected.clear();
  state.profileGiven = false;
}

/** Records a memory text as injected; false when it already was. */
export function markInjected(state: SessionState, text: string): boolean {
  const key = normaliseText(text);
  if (state.injected.has(key)) return false;
  state.injected.add(key);
  state.injectedTexts.push(text);
  return true;
}

/** The dedupe key of a captured message. */
export function captureKey(role: string, text: string): string {
  return `${role}\u0000${normaliseText(text)}`;
}
