/**
 * Supersession without an LLM: does a new statement of the user replace one of the user's current standing
 * memories, restate it, or leave it alone? Precision first: when unsure, both stay current.
 *
 * `relateClaims` decides for one pair from the two statements' claims (statements/claims.ts):
 * - replaces: the same identity slot with another value ("I live in Berlin" -> "I just moved to Lisbon"); the
 *   same object with the opposite stance ("I like dark mode" -> "I don't like dark mode anymore"; "Never use
 *   semicolons" -> "Use semicolons from now on"; "switched from tabs ..." against "I prefer tabs"); the same
 *   object in another version ("PostgreSQL 15" -> "upgraded to PostgreSQL 16"); or, for a one-at-a-time choice
 *   (prefer / use / an instruction), another object of the same kind for the same purpose ("I prefer dark themes"
 *   -> "I prefer light themes"; "I prefer Python for backend services" -> "I switched to Go for backend
 *   services"; "I use npm" -> "I've switched to pnpm", members of one exclusive group).
 * - restates: every stance of the new statement is already held, the same way, on the same objects.
 * - unrelated: anything else, including every statement about someone other than the user.
 * `findSupersessionCandidates` finds the memories worth comparing: the scope's current standing memories that
 * share content words (or a slot, or an exclusive group) with the statement, plus its dense neighbours.
 */
import type { FilterNode } from '../core/filters.js';
import { hasSameOwner, ownerScope } from '../core/scope.js';
import { type MemoryRecord, PROFILE_KINDS, type Scope } from '../core/types.js';
import type { MemoryStore, TemporalOptions } from '../stores/types.js';
import { type Assertion, analyseClaim, type Claim } from './statements/claims.js';
import { EXCLUSIVE_GROUPS } from './statements/lexicon.js';
import { splitSentences } from './statements/sentences.js';
import { classifySentence } from './statements/speech-acts.js';

/** How a new statement relates to a stored one. */
export type Relation = 'replaces' | 'restates' | 'unrelated';

/** Slots with one current value at a time. */
const SINGLE_VALUED = new Set(['name', 'location', 'employer', 'role', 'team', 'timezone', 'pronouns']);

/** The claim of a whole text: the claims of its statement sentences merged (questions and requests ignored). */
export function claimOfText(text: string): Claim | undefined {
  const claims = splitSentences(text).flatMap((sentence) => {
    const act = classifySentence(sentence.text);
    return act === 'statement' || act === 'instruction' ? [analyseClaim(sentence.text, act)] : [];
  });
  const [first] = claims;
  if (!first) return undefined;
  const merged: Claim = {
    about: claims.every((claim) => claim.about === 'user') ? 'user' : 'other',
    kind: first.kind,
    exclusive: claims.some((claim) => claim.exclusive),
    change: claims.some((claim) => claim.change),
    assertions: claims.flatMap((claim) => claim.assertions),
    terms: [...new Set(claims.flatMap((claim) => claim.terms))],
  };
  const slotted = claims.find((claim) => claim.slot);
  if (slotted?.slot) {
    merged.slot = slotted.slot;
    merged.slotValue = slotted.slotValue ?? [];
  }
  return merged;
}

/** Decides how `newer` relates to `older` (see the module comment), with a reason for history. */
export function relateClaims(newer: Claim, older: Claim): { relation: Relation; reason: string } {
  if (newer.about !== 'user' || older.about !== 'user') {
    return { relation: 'unrelated', reason: 'not both about the user' };
  }
  if (newer.slot && newer.slot === older.slot && SINGLE_VALUED.has(newer.slot)) {
    const same = sameTerms(newer.slotValue ?? [], older.slotValue ?? []);
    return same
      ? { relation: 'restates', reason: `same ${newer.slot}` }
      : { relation: 'replaces', reason: `new ${newer.slot}` };
  }
  let restatedAll = newer.assertions.length > 0;
  for (const mine of newer.assertions) {
    let restated = false;
    for (const theirs of older.assertions) {
      const verdict = compare(mine, theirs, newer);
      if (verdict.relation === 'replaces') return verdict;
      if (verdict.relation === 'restates') restated = true;
    }
    if (!restated) restatedAll = false;
  }
  if (restatedAll && overlap(newer.terms, older.terms) >= 0.5) {
    return { relation: 'restates', reason: 'says what is already known' };
  }
  return { relation: 'unrelated', reason: 'no shared stance' };
}

function compare(mine: Assertion, theirs: Assertion, newer: Claim): { relation: Relation; reason: string } {
  const contextsAgree = compatible(mine.context, theirs.context);
  if (!contextsAgree) return { relation: 'unrelated', reason: 'different contexts' };
  const sameObject =
    mine.head === theirs.head && (subset(mine.terms, theirs.terms) || subset(theirs.terms, mine.terms));
  if (sameObject) {
    if (mine.polarity !== theirs.polarity) {
      return { relation: 'replaces', reason: `opposite stance on "${theirs.terms.join(' ')}"` };
    }
    if (mine.version && theirs.version && mine.version !== theirs.version) {
      return {
        relation: 'replaces',
        reason: `${theirs.terms.join(' ')} ${theirs.version} -> ${mine.version}`,
      };
    }
    return { relation: 'restates', reason: 'same stance' };
  }
  if (mine.polarity !== 1 || theirs.polarity !== 1 || !newer.exclusive) {
    return { relation: 'unrelated', reason: 'not a one-at-a-time choice' };
  }
  if (mine.head === theirs.head) {
    return {
      relation: 'replaces',
      reason: `another ${mine.head}: "${mine.terms.join(' ')}" for "${theirs.terms.join(' ')}"`,
    };
  }
  const group = mine.groups.find((name) => theirs.groups.includes(name));
  if (group && (newer.change || newer.kind === 'preference' || newer.kind === 'instruction')) {
    if (!groupMembersDiffer(mine, theirs, group)) return { relation: 'restates', reason: 'same choice' };
    return { relation: 'replaces', reason: `another ${group}` };
  }
  if (mine.context.length > 0 && overlap(mine.context, theirs.context) >= 0.5 && newer.change) {
    return { relation: 'replaces', reason: `another choice for ${mine.context.join(' ')}` };
  }
  return { relation: 'unrelated', reason: 'different objects' };
}

// Two objects of one group name different members ("npm" vs "pnpm"), not the same one in other words.
function groupMembersDiffer(mine: Assertion, theirs: Assertion, group: string): boolean {
  const members = EXCLUSIVE_GROUPS[group] ?? [];
  const named = (assertion: Assertion) =>
    members.filter((member) =>
      member.split(' ').every((part) => assertion.terms.includes(part.replace(/s$/, ''))),
    );
  const a = named(mine);
  const b = named(theirs);
  return a.length === 0 || b.length === 0 || !a.some((member) => b.includes(member));
}

function compatible(a: string[], b: string[]): boolean {
  return a.length === 0 || b.length === 0 || a.some((term) => b.includes(term));
}

function subset(small: string[], large: string[]): boolean {
  return small.every((term) => large.includes(term));
}

function sameTerms(a: string[], b: string[]): boolean {
  return subset(a, b) || subset(b, a);
}

/** |a ∩ b| / min(|a|, |b|): 1 when one set contains the other. */
function overlap(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const shared = a.filter((term) => b.includes(term)).length;
  return shared / Math.min(a.length, b.length);
}

/** Standing kinds only: supersession never touches plain messages, events or other people's facts. */
const STANDING_FILTER: FilterNode = {
  op: 'compare',
  field: { kind: 'column', name: 'kind' },
  operator: 'in',
  value: [...PROFILE_KINDS],
};

/**
 * The scope owner's current standing memories worth comparing with a statement: keyword matches on its content
 * words (and the other members of its exclusive groups), the memories in its identity slot, and its dense
 * neighbours. Only memories of the same owner (and the same speaker) are returned.
 */
export async function findSupersessionCandidates(options: {
  store: MemoryStore;
  scope: Scope;
  temporal: TemporalOptions;
  claim: Claim;
  embedding: Float32Array;
  speaker: string | undefined;
}): Promise<MemoryRecord[]> {
  const { store, claim } = options;
  const owner = ownerScope(options.scope);
  const groupTerms = claim.assertions.flatMap((assertion) =>
    assertion.groups.flatMap((group) =>
      (EXCLUSIVE_GROUPS[group] ?? []).flatMap((member) => member.split(' ')),
    ),
  );
  const terms = [...new Set([...claim.terms, ...groupTerms])].slice(0, 48);
  const [keyword, dense, slotted] = await Promise.all([
    terms.length > 0
      ? store.searchKeyword({
          scope: owner,
          temporal: options.temporal,
          terms,
          limit: 25,
          filter: STANDING_FILTER,
        })
      : Promise.resolve([]),
    store.searchDense({
      scope: owner,
      temporal: options.temporal,
      embedding: options.embedding,
      limit: 10,
      filter: STANDING_FILTER,
    }),
    claim.slot
      ? store.findByTopic({ scope: owner, topics: [slotTopic(claim.slot)], temporal: options.temporal })
      : Promise.resolve([]),
  ]);
  const byId = new Map<string, MemoryRecord>();
  for (const record of [...slotted, ...keyword.map((hit) => hit.record), ...dense.map((hit) => hit.record)]) {
    if (!hasSameOwner(record, options.scope)) continue;
    if ((record.speaker ?? '') !== (options.speaker ?? '')) continue;
    byId.set(record.id, record);
  }
  return [...byId.values()];
}

/** The topic key a statement filling an identity slot is stored under (`user_fact:location`). */
export function slotTopic(slot: string): string {
  return `user_fact:${slot}`;
}

/** A stored memory a statement replaces or restates, and why. */
export interface Judged {
  record: MemoryRecord;
  reason: string;
}

/** Compares a statement with the stored memories worth comparing: the ones it replaces, or one it restates. */
export async function judgeAgainstStored(options: {
  store: MemoryStore;
  scope: Scope;
  temporal: TemporalOptions;
  claim: Claim;
  embedding: Float32Array;
  speaker: string | undefined;
  /** Memories already superseded by this plan. */
  exclude: ReadonlySet<string>;
}): Promise<{ replaces: Judged[]; restates: Judged | undefined }> {
  if (options.claim.about !== 'user' || !PROFILE_KINDS.includes(options.claim.kind)) {
    return { replaces: [], restates: undefined };
  }
  const candidates = await findSupersessionCandidates(options);
  const replaces: Judged[] = [];
  let restates: Judged | undefined;
  for (const record of candidates) {
    if (options.exclude.has(record.id)) continue;
    const stored = claimOfText(record.memory);
    if (!stored) continue;
    const verdict = relateClaims(options.claim, stored);
    if (verdict.relation === 'replaces') replaces.push({ record, reason: verdict.reason });
    else if (verdict.relation === 'restates' && !restates) restates = { record, reason: verdict.reason };
  }
  return { replaces, restates };
}

/** Memories inserted earlier in the same plan that a later statement replaces ("I prefer X. Actually, Y."). */
export function replacedWithinBatch(
  claim: Claim,
  speaker: string | undefined,
  inserted: ReadonlyArray<{ record: MemoryRecord; claim: Claim }>,
  superseded: ReadonlySet<string>,
): Judged[] {
  if (claim.about !== 'user' || !PROFILE_KINDS.includes(claim.kind)) return [];
  return inserted.flatMap((earlier) => {
    if (superseded.has(earlier.record.id) || !PROFILE_KINDS.includes(earlier.claim.kind)) return [];
    if ((earlier.record.speaker ?? '') !== (speaker ?? '')) return [];
    const verdict = relateClaims(claim, earlier.claim);
    return verdict.relation === 'replaces' ? [{ record: earlier.record, reason: verdict.reason }] : [];
  });
}
