/**
 * The user profile: a scope's current standing memories, the ones an agent should have at the start of every
 * session whatever the prompt is about. Standing memories are those of kind `instruction`, `preference` and
 * `user_fact` (see `MemoryKind`), plus any memory pinned to the profile (metadata `mneme:pinned: true`).
 *
 * Rules: only current memories (superseded and expired ones are excluded); one item per statement (exact and
 * near-exact repeats, same words in any order, collapse into the newest); within the token budget, pinned items
 * first, then the kinds take turns, newest (`updatedAt`) first within each kind, so a flood of one kind cannot
 * crowd the others out. Items are returned grouped: pinned, instructions, preferences, facts.
 */
import { contextLineTokens } from '../core/context.js';
import type { FilterNode } from '../core/filters.js';
import { keywordTerms, normaliseText } from '../core/text.js';
import { type MemoryKind, type MemoryRecord, PROFILE_KINDS, type Scope } from '../core/types.js';
import type { MemoryStore } from '../stores/types.js';

/** Metadata key that pins a memory to the profile whatever its kind. */
export const PINNED_KEY = 'mneme:pinned';

/** One standing memory of the profile. */
export interface ProfileItem {
  id: string;
  memory: string;
  kind: MemoryKind;
  pinned: boolean;
  createdAt: string;
  updatedAt: string;
  observedAt: string;
  validFrom?: string;
  speaker?: string;
}

/** What `memory.profile()` returns. */
export interface UserProfile {
  /** The items within the budget, grouped: pinned, instructions, preferences, facts; newest first in each. */
  items: ProfileItem[];
  /** Standing memories left out by the budget (after de-duplication). */
  omitted: number;
  /** Tokens the items take as lines of the injected block (≈ 4 characters per token). */
  tokens: number;
}

/** Options of `memory.profile()`. */
export interface ProfileOptions {
  /** Token budget of the items. @default 400 */
  maxTokens?: number;
}

/** Largest token budget a profile may be asked for. */
export const PROFILE_MAX_TOKENS = 100_000;
/** Token budget of a profile when none is given. */
export const PROFILE_DEFAULT_TOKENS = 400;

/** Most standing memories read per profile (newest first); older ones beyond it are not considered. */
export const PROFILE_CANDIDATES = 500;

const PROFILE_FILTER: FilterNode = {
  op: 'or',
  children: [
    { op: 'compare', field: { kind: 'column', name: 'kind' }, operator: 'in', value: [...PROFILE_KINDS] },
    { op: 'compare', field: { kind: 'metadata', key: PINNED_KEY }, operator: 'eq', value: true },
  ],
};

/** Reads and assembles the profile of `scope` at `now` (see the module comment). */
export async function readProfile(
  store: MemoryStore,
  options: { scope: Scope; now: string; maxTokens: number },
): Promise<UserProfile> {
  const page = await store.list({
    scope: options.scope,
    filter: PROFILE_FILTER,
    temporal: { now: options.now },
    page: { limit: PROFILE_CANDIDATES },
  });
  return assembleProfile(page.records, options.maxTokens);
}

/** Assembles a profile from standing memories (any order) within `maxTokens`. Pure. */
export function assembleProfile(records: MemoryRecord[], maxTokens: number): UserProfile {
  const unique = deduplicate(
    [...records].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id)),
  );
  const queues = new Map<string, ProfileItem[]>([['pinned', []]]);
  for (const kind of PROFILE_KINDS) queues.set(kind, []);
  for (const record of unique) {
    const item = toItem(record);
    const queue = queues.get(item.pinned ? 'pinned' : item.kind);
    queue?.push(item);
  }
  const chosen = new Set<ProfileItem>();
  let tokens = 0;
  const pinned = queues.get('pinned') ?? [];
  for (const item of pinned) {
    const cost = contextLineTokens(item, true);
    if (tokens + cost > maxTokens) break;
    tokens += cost;
    chosen.add(item);
  }
  // Kinds take turns, newest first; a kind whose next item does not fit is done.
  const open = PROFILE_KINDS.map((kind) => ({ items: queues.get(kind) ?? [], next: 0 }));
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const queue of open) {
      const item = queue.items[queue.next];
      if (!item) continue;
      const cost = contextLineTokens(item, true);
      if (tokens + cost > maxTokens) {
        queue.next = queue.items.length;
        continue;
      }
      tokens += cost;
      chosen.add(item);
      queue.next += 1;
      progressed = true;
    }
  }
  const items = [pinned, ...PROFILE_KINDS.map((kind) => queues.get(kind) ?? [])]
    .flat()
    .filter((item) => chosen.has(item));
  return { items, omitted: unique.length - items.length, tokens };
}

/** Keeps the first (newest) of records that say the same thing: equal normalised text or the same word set. */
function deduplicate(records: MemoryRecord[]): MemoryRecord[] {
  const seen = new Set<string>();
  const kept: MemoryRecord[] = [];
  for (const record of records) {
    const text = normaliseText(record.memory);
    const words = keywordTerms(record.memory, { maxTerms: 64 }).sort().join(' ');
    const speaker = record.speaker ?? '';
    const keys = [`${speaker}\u0000t:${text}`, ...(words ? [`${speaker}\u0000w:${words}`] : [])];
    if (keys.some((key) => seen.has(key))) continue;
    for (const key of keys) seen.add(key);
    kept.push(record);
  }
  return kept;
}

function toItem(record: MemoryRecord): ProfileItem {
  const item: ProfileItem = {
    id: record.id,
    memory: record.memory,
    kind: record.kind,
    pinned: record.metadata[PINNED_KEY] === true,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    observedAt: record.observedAt,
  };
  if (record.validFrom) item.validFrom = record.validFrom;
  if (record.speaker) item.speaker = record.speaker;
  return item;
}
