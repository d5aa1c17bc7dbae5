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
import {
  type Assertion,
  analyseClaim,
  type Claim,
  contentTerms,
  groupMembersIn,
  groupsOf,
  mergeClaims,
} from './statements/claims.js';
import { EXCLUSIVE_GROUPS, PHRASE_OPENERS, PREFERENCE_VERBS } from './statements/lexicon.js';
import { splitQuestionClauses, splitSentences } from './statements/sentences.js';
import { classifySentence, opensQuestion } from './statements/speech-acts.js';

/** How a new statement relates to a stored one. */
export type Relation = 'replaces' | 'restates' | 'unrelated';

/** Slots with one current value at a time. */
const SINGLE_VALUED = new Set(['name', 'location', 'employer', 'role', 'team', 'timezone', 'pronouns']);

/** The claim of a whole text: the claims of its statement sentences merged (questions and requests ignored). */
export function claimOfText(text: string): Claim | undefined {
  const claims = splitSentences(text)
    .flatMap((sentence) => splitQuestionClauses(sentence, opensQuestion))
    .flatMap((clause) => {
      const act = classifySentence(clause.text);
      return act === 'statement' || act === 'instruction' ? [analyseClaim(clause.text, act)] : [];
    });
  return mergeClaims(claims);
}

/**
 * Decides how `newer` relates to `older` (see the module comment), with a reason for history. The rules, in order
 * (the first that applies decides):
 * 1. Either is about someone else: unrelated.
 * 2. The same single-valued identity slot: the same value restates it, another value replaces it.
 * 3. The same subject words, nothing new, no reversal and no change signal (unless it says "still"): restates.
 * 4. A statement that only adds ("too", "also"): unrelated.
 * 5. The opposite stance on what the older one is about (most of its subject words shared): replaces.
 * 6. A change signal ("switched", "now", "no longer", ...) and a shared word naming what the older statement is
 *    about (its object, purpose or slot value, not its verb), in compatible purposes: replaces.
 * 7. The same sentence with one value swapped ("... with Capistrano" -> "... with Kamal"): replaces.
 * 8. The stances of the two statements' objects (another member of an exclusive group, a new version, ...).
 */
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
  const mine = subjectTerms(newer);
  const theirs = subjectTerms(older);
  const shared = mine.filter((term) => theirs.includes(term));
  const onlyNew = mine.filter((term) => !theirs.includes(term));
  const onlyOld = theirs.filter((term) => !mine.includes(term));
  const reversed = newer.polarity !== older.polarity;
  const versionChanged = numbersDiffer(newer, older);
  const quiet = !newer.change || newer.restating;
  if (
    quiet &&
    shared.length > 0 &&
    !reversed &&
    !versionChanged &&
    onlyNew.length === 0 &&
    onlyOld.length <= 1
  ) {
    return { relation: 'restates', reason: `says what is already known (${shared.join(' ')})` };
  }
  if (newer.additive) return { relation: 'unrelated', reason: 'adds to what is known' };
  if (reversed && shared.length > 0 && (shared.length >= 2 || shared.length * 2 >= theirs.length)) {
    return { relation: 'replaces', reason: `opposite stance on ${shared.join(' ')}` };
  }
  const onObject = shared.filter((term) => objectTerms(older).includes(term));
  if (newer.change && onObject.length > 0 && contextsCompatible(newer, older)) {
    return { relation: 'replaces', reason: `changed: ${onObject.join(' ')}` };
  }
  const group = swappedMember(newer, older);
  if (group && newer.change && contextsCompatible(newer, older)) {
    return { relation: 'replaces', reason: `another ${group}` };
  }
  const swap = swappedValue(newer.words, older.words);
  if (swap) return { relation: 'replaces', reason: `"${swap.old}" -> "${swap.new}"` };
  for (const assertion of newer.assertions) {
    for (const other of older.assertions) {
      const verdict = compare(assertion, other, newer);
      if (verdict.relation === 'replaces') return verdict;
    }
  }
  return { relation: 'unrelated', reason: 'no shared subject' };
}

/** Words too common to say two statements are about the same thing ("team", "work", "code"). */
const GENERIC_TERMS = new Set([
  'team',
  'work',
  'code',
  'project',
  'thing',
  'stuff',
  'time',
  'day',
  'week',
  'way',
  'setup',
  'local',
  'personal',
  'main',
  'new',
  'old',
  'mostly',
  'everything',
  'everywhere',
  'lot',
  'bit',
  'pretty',
  'much',
  'please',
  'always',
  'never',
  'every',
  'all',
  'just',
  'still',
  'again',
  'said',
  'yep',
  'yes',
  'btw',
  'home',
  'company',
  'us',
  'me',
  'reply',
  'answer',
  'answers',
  'replies',
]);

/** The statement's subject words: its content terms without generic words, verb forms and change words. */
function subjectTerms(claim: Claim): string[] {
  return claim.terms.filter(
    (term) => !GENERIC_TERMS.has(term) && !/^\d+$/.test(term) && !/ed$/.test(term) && term.length > 1,
  );
}

/** An exclusive group both statements name a member of, with no member in common ("Python" / "Go"). */
function swappedMember(newer: Claim, older: Claim): string | undefined {
  const newerText = newer.words.join(' ');
  for (const group of groupsOf(newerText)) {
    const mine = groupMembersIn(newerText, group);
    const theirs = groupMembersIn(older.words.join(' '), group);
    if (theirs.length > 0 && mine.some((member) => !theirs.includes(member))) return group;
  }
  return undefined;
}

/** What a statement takes a stance on: its objects, their limiting contexts and its slot value. */
function objectTerms(claim: Claim): string[] {
  return [
    ...claim.assertions.flatMap((assertion) => [...assertion.terms, ...assertion.context]),
    ...(claim.slotValue ?? []),
  ].filter((term) => !GENERIC_TERMS.has(term));
}

/** Both statements name numbers, and none is shared ("PostgreSQL 14" vs "16", "2-space" vs "4-space", "9:30"). */
function numbersDiffer(newer: Claim, older: Claim): boolean {
  const numbers = (claim: Claim) => claim.words.flatMap((word) => word.match(/\d+(?:[.:]\d+)*/g) ?? []);
  const a = numbers(newer);
  const b = numbers(older);
  return a.length > 0 && b.length > 0 && !a.some((number) => b.includes(number));
}

/**
 * Purposes ("for local development" / "for hosting images") that exclude each other. Only "for" phrases count:
 * "with Zustand" or "to Vitest" names the new choice, not a purpose.
 */
function contextsCompatible(newer: Claim, older: Claim): boolean {
  const a = purposeOf(newer.words);
  const b = purposeOf(older.words);
  if (a.length === 0 || b.length === 0) return true;
  return a.some((term) => b.includes(term));
}

function purposeOf(words: string[]): string[] {
  const at = words.indexOf('for');
  if (at < 0) return [];
  const phrase: string[] = [];
  for (const word of words.slice(at + 1)) {
    if (PURPOSE_END.has(word)) break;
    phrase.push(word);
  }
  return contentTerms(phrase.join(' ')).filter((term) => !GENERIC_TERMS.has(term));
}

const PURPOSE_END = new Set([
  'and',
  'but',
  'so',
  'now',
  'instead',
  'because',
  'with',
  'from',
  'to',
  'in',
  'on',
]);

/**
 * The two statements are one sentence with one value swapped: a shared opening and ending covering most of both,
 * and one short differing span on each side that names something ("I deploy my Rails apps with Capistrano" ->
 * "... with Kamal"; "Our cloud provider is Azure" -> "... is AWS").
 */
function swappedValue(newer: string[], older: string[]): { old: string; new: string } | undefined {
  let prefix = 0;
  while (prefix < newer.length && prefix < older.length && newer[prefix] === older[prefix]) prefix += 1;
  let suffix = 0;
  while (
    suffix < newer.length - prefix &&
    suffix < older.length - prefix &&
    newer[newer.length - 1 - suffix] === older[older.length - 1 - suffix]
  ) {
    suffix += 1;
  }
  const common = prefix + suffix;
  const newSpan = newer.slice(prefix, newer.length - suffix);
  const oldSpan = older.slice(prefix, older.length - suffix);
  if (newSpan.length === 0 || oldSpan.length === 0 || newSpan.length > 3 || oldSpan.length > 3)
    return undefined;
  if (common < 2 || common * 2 < Math.max(newer.length, older.length)) return undefined;
  const negation = (span: string[]) => span.some((word) => SPAN_NEGATIONS.has(word));
  if (negation(newSpan) || negation(oldSpan)) return undefined;
  const named = (span: string[]) => span.some((word) => !SPAN_FILLER.has(word));
  if (!named(newSpan) || !named(oldSpan)) return undefined;
  // A span with a preposition is a phrase with its own purpose ("jest for unit" / "playwright for end-to-end").
  if ([...newSpan, ...oldSpan].some((word) => SPAN_BREAKS.has(word))) return undefined;
  // Liking one thing does not stop liking another ("I like Rust" / "I like mechanical keyboards").
  if (newer.slice(0, prefix).some((word) => INCLUSIVE.has(word))) return undefined;
  return { old: oldSpan.join(' '), new: newSpan.join(' ') };
}

const SPAN_BREAKS = new Set([...PHRASE_OPENERS, 'and', 'or', 'but', 'to', 'from', 'of']);
const INCLUSIVE = new Set([
  ...PREFERENCE_VERBS.inclusive,
  'have',
  'own',
  "i've",
  'got',
  'read',
  'watch',
  'play',
]);
const SPAN_NEGATIONS = new Set([
  'not',
  "don't",
  'dont',
  'never',
  'no',
  "doesn't",
  "isn't",
  "aren't",
  "won't",
]);
const SPAN_FILLER = new Set([
  'a',
  'an',
  'the',
  'really',
  'very',
  'also',
  'too',
  'still',
  'just',
  'always',
  'usually',
  'mostly',
  'generally',
  'definitely',
  'actually',
  'now',
  'please',
]);

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
  // Another member of an exclusive group ("1Password" -> "Bitwarden") after a change signal or an exclusive verb.
  const group = mine.groups.find((name) => theirs.groups.includes(name));
  if (group && mine.polarity === 1 && theirs.polarity === 1 && (newer.change || newer.exclusive)) {
    if (!groupMembersDiffer(mine, theirs, group)) return { relation: 'restates', reason: 'same choice' };
    return { relation: 'replaces', reason: `another ${group}` };
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

/** A statement to compare with what the store holds: where to look, and who said it. */
export interface StatementLookup {
  store: MemoryStore;
  scope: Scope;
  temporal: TemporalOptions;
  /** The statement, as read by the claim reader. */
  claim: Claim;
  /** The statement's embedding, for its dense neighbours. */
  embedding: Float32Array;
  /** Who said it, in a transcript of named people; undefined for the user's own words. */
  speaker: string | undefined;
}

/**
 * The scope owner's current standing memories worth comparing with a statement: keyword matches on its content
 * words (and the other members of its exclusive groups), the memories in its identity slot, and its dense
 * neighbours. Only memories of the same owner (and the same speaker) are returned.
 */
export async function findSupersessionCandidates(options: StatementLookup): Promise<MemoryRecord[]> {
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
export async function judgeAgainstStored(
  options: StatementLookup & {
    /** Memories already superseded by this plan. */
    exclude: ReadonlySet<string>;
  },
): Promise<{ replaces: Judged[]; restates: Judged | undefined }> {
  // A standing statement, or a plain one that signals a change ("Bumped everything to Python 3.12 yesterday").
  // Transcripts of named people (LoCoMo-style) are records of a conversation: kept whole, never replaced.
  if (options.claim.about !== 'user' || options.speaker !== undefined)
    return { replaces: [], restates: undefined };
  // Only a standing statement, or one plain sentence that signals a change ("Bumped everything to Python 3.12"),
  // may replace: a paragraph of plain statements mentions too much. Any statement may restate.
  const mayReplace =
    PROFILE_KINDS.includes(options.claim.kind) || (options.claim.change && options.claim.single);
  const candidates = await findSupersessionCandidates(options);
  const replaces: Judged[] = [];
  let restates: Judged | undefined;
  for (const record of candidates) {
    if (options.exclude.has(record.id)) continue;
    const stored = claimOfText(record.memory);
    if (!stored) continue;
    const verdict = relateClaims(options.claim, stored);
    if (verdict.relation === 'replaces' && mayReplace) replaces.push({ record, reason: verdict.reason });
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
  if (claim.about !== 'user' || !PROFILE_KINDS.includes(claim.kind) || speaker !== undefined) return [];
  return inserted.flatMap((earlier) => {
    if (superseded.has(earlier.record.id) || !PROFILE_KINDS.includes(earlier.claim.kind)) return [];
    if ((earlier.record.speaker ?? '') !== (speaker ?? '')) return [];
    const verdict = relateClaims(claim, earlier.claim);
    return verdict.relation === 'replaces' ? [{ record: earlier.record, reason: verdict.reason }] : [];
  });
}
