/**
 * Per-session bookkeeping of the memory hooks. It is a cache over what the transcript already proves (which memories
 * were injected, which messages were captured), so a process that has none rebuilds it from the transcript on first
 * contact with a session. Where it lives is a {@link SessionStateStore}: in the process that runs `query()` for
 * `withMemory`, in files for the Claude Code plugin, whose every hook is a new `mneme hook` process.
 */
import { hashText, normaliseText } from '../../core/text.js';

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

  /** Adds every item of `items` in order (the oldest first). */
  addAll(items: Iterable<T>): this {
    for (const item of items) this.add(item);
    return this;
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

  delete(key: K): void {
    this.items.delete(key);
  }

  /** The entries, least recently used first. */
  entries(): Array<[K, V]> {
    return [...this.items];
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
  /** Hashes of `role + normalised text` of messages captured (the transcript lags: see transcript.ts). */
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

/** The dedupe key of a captured message (a hash: the plugin keeps these keys in a file). */
export function captureKey(role: string, text: string): string {
  return hashText(`${role}\u0000${text}`);
}

/**
 * Where the hooks keep each session's {@link SessionState} between calls. `load` never fails for an unknown or
 * unreadable session: it returns a fresh state, which the hooks rebuild from the transcript.
 */
export interface SessionStateStore {
  /** The state of a session (a fresh one when none is kept). */
  load(sessionId: string): Promise<SessionState>;
  /** Keeps the state after a hook changed it. */
  save(sessionId: string, state: SessionState): Promise<void>;
  /** Forgets a session that ended. */
  delete(sessionId: string): Promise<void>;
}

/** States held in this process (what `withMemory` uses): the `capacity` most recently used sessions. */
export function createInProcessSessionStates(capacity = 256): SessionStateStore {
  const sessions = new LruMap<string, SessionState>(capacity);
  return {
    load: async (sessionId) => sessions.getOrCreate(sessionId, createSessionState),
    save: async (sessionId, state) => sessions.set(sessionId, state),
    delete: async (sessionId) => {
      sessions.delete(sessionId);
    },
  };
}

/** The JSON form of a state (for stores that keep it outside the process). */
export function serializeSessionState(state: SessionState): string {
  return JSON.stringify({
    version: 1,
    injectedTexts: state.injectedTexts,
    injected: [...state.injected],
    transcriptOffset: state.transcriptOffset ?? null,
    captured: state.captured.values(),
    prompts: state.prompts.entries(),
    profileGiven: state.profileGiven,
  });
}

/** Reads {@link serializeSessionState}'s JSON back; anything malformed gives a fresh state. */
export function parseSessionState(text: string): SessionState {
  const state = createSessionState();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return state;
  }
  if (typeof value !== 'object' || value === null || (value as { version?: unknown }).version !== 1)
    return state;
  const record = value as Record<string, unknown>;
  const strings = (item: unknown): string[] =>
    Array.isArray(item) ? item.filter((entry): entry is string => typeof entry === 'string') : [];
  state.injectedTexts = strings(record.injectedTexts);
  state.injected = new Set(strings(record.injected));
  const offset = record.transcriptOffset;
  state.transcriptOffset =
    typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : undefined;
  state.captured.addAll(strings(record.captured));
  if (Array.isArray(record.prompts)) {
    for (const entry of record.prompts) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'string') {
        state.prompts.set(entry[0], entry[1]);
      }
    }
  }
  state.profileGiven = record.profileGiven === true;
  return state;
}
