/**
 * The data model shared by every seam: scopes, messages, memory records, search results and history events.
 * All timestamps are ISO-8601 strings in UTC (`2026-03-02T10:00:00.000Z`).
 */

/** A JSON value as stored in `metadata`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Free-form metadata attached to a memory. Keys are plain strings; values are JSON. */
export type Metadata = Record<string, JsonValue>;

/** The names of the scope fields, in their canonical order. */
export const SCOPE_KEYS = ['userId', 'agentId', 'runId', 'appId'] as const;
export type ScopeKey = (typeof SCOPE_KEYS)[number];

/**
 * Who a memory belongs to. Every operation names at least one field; an operation can never read or write
 * a memory whose scope does not match every field it names. Fields not named are unconstrained when reading
 * (a search for `{ userId }` sees that user's memories of every agent and run) and absent when writing.
 */
export interface Scope {
  userId?: string;
  agentId?: string;
  runId?: string;
  appId?: string;
}

/** Chat roles accepted by `add`. */
export type Role = 'user' | 'assistant' | 'system' | 'tool';

/** One chat message given to `add`. `name` is the speaker's display name, when known. */
export interface Message {
  role: Role;
  content: string;
  name?: string;
}

/**
 * What kind of statement a memory holds:
 * - `preference`: what the user likes, dislikes or prefers ("I prefer tabs").
 * - `instruction`: how the agent should behave for this user from now on ("Never use semicolons").
 * - `user_fact`: who the user is: name, role, employer, team, location, stack ("I work at Stripe").
 * - `other_fact`: about someone or something else than the user.
 * - `event`: something that happened or will happen.
 * - `message`: a verbatim statement stored without an LLM that is none of the above.
 * `preference`, `instruction` and `user_fact` are the user's standing memories: the profile.
 */
export type MemoryKind = 'message' | 'preference' | 'user_fact' | 'other_fact' | 'event' | 'instruction';

/** Every memory kind, in a stable order. */
export const MEMORY_KINDS: readonly MemoryKind[] = [
  'preference',
  'instruction',
  'user_fact',
  'other_fact',
  'event',
  'message',
];

/** The kinds that make up a user's profile (see {@link MemoryKind}). */
export const PROFILE_KINDS: readonly MemoryKind[] = ['instruction', 'preference', 'user_fact'];

/** A stored memory, as returned by `get`, `list` and (with scores) `search`. */
export interface MemoryRecord {
  /** Opaque, unguessable id (UUID v4). */
  id: string;
  /** The memory text. */
  memory: string;
  userId?: string;
  agentId?: string;
  runId?: string;
  appId?: string;
  /** Role of the message the memory came from. */
  role?: Role;
  /** Display name of who said it, when known. */
  speaker?: string;
  kind: MemoryKind;
  /**
   * A short normalised key for what the memory is about (e.g. `preference:editor`), used to find the memory a
   * new statement on the same topic supersedes. Absent when unknown.
   */
  topic?: string;
  metadata: Metadata;
  /** Hash of the normalised text: equal hashes within one scope are duplicates. */
  hash: string;
  createdAt: string;
  updatedAt: string;
  /** When the statement was made (the message time), which may be long before `createdAt` for imports. */
  observedAt: string;
  /** Start of the period in which the memory is true (defaults to `observedAt`). */
  validFrom?: string;
  /** End of the period in which the memory is true; set when a later memory supersedes it. */
  validTo?: string;
  /** The id of the memory that superseded this one. */
  supersededBy?: string;
  /** After this time the memory is hidden by default. */
  expiresAt?: string;
}

/** Per-signal scores of a search hit. Each is in [0, 1]; absent signals are 0. */
export interface SearchScores {
  /** Cosine similarity of query and memory embeddings, mapped to [0, 1]. */
  dense: number;
  /** BM25 keyword score, saturated to [0, 1] (`bm25 / (bm25 + keywordSaturation), 8 by default`, see ranking.ts). */
  keyword: number;
  /** Exponential decay over the memory's age (`observedAt`), half-life configurable. */
  recency: number;
  /** Reciprocal-rank-fusion contribution before weighting, for diagnostics. */
  rrf: number;
  /**
   * For a memory the keyword search found, the best score without this signal among the candidates of its
   * conversation session (same scope, observed close together; see ranking.ts); otherwise its own such score.
   */
  session: number;
  /** 1 when the query names the memory's `speaker` (see ranking.ts), else 0. */
  speaker: number;
}

/** A search hit: the memory plus its fused `score` and the per-signal `scores`. */
export interface SearchResult extends MemoryRecord {
  score: number;
  scores: SearchScores;
}

/** The kinds of event recorded in a memory's history. */
export type HistoryEventType = 'ADD' | 'UPDATE' | 'SUPERSEDE' | 'DELETE' | 'NOOP' | 'ERASE';

/** One entry of `history(id)`: every write to a memory leaves one. */
export interface HistoryEvent {
  id: string;
  memoryId: string;
  event: HistoryEventType;
  /** Text before the change (absent for ADD, erased for ERASE). */
  previousValue?: string;
  /** Text after the change (absent for DELETE and ERASE). */
  newValue?: string;
  /** Why the change was made (e.g. the LLM's reason, or `duplicate of <id>`). */
  reason?: string;
  /** Who made it: `user` (an API call), `ingest` (the add pipeline), `llm`, `system`, or a caller-given name. */
  actor: string;
  /** For SUPERSEDE: the id of the other memory in the pair. */
  relatedId?: string;
  createdAt: string;
}
