/**
 * What a user's statement claims, without an LLM: who it is about, its kind (preference, instruction, fact about
 * the user, ...), an identity slot when it states one (home city, employer, role, team, name, ...), and its
 * assertions: each object it takes a stance on ("dark mode", "semicolons"), with polarity (+1 likes / uses /
 * does, -1 dislikes / stopped / never), the context the stance is limited to ("for indentation", "in
 * JavaScript"), a version when one is named, and the exclusive groups the object belongs to (editors, package
 * managers, ...). Supersession (../supersession.ts) compares the claims of two statements.
 */
import { keywordTerms } from '../../core/text.js';
import type { MemoryKind } from '../../core/types.js';
import {
  ADDITIVE_MARKERS,
  CHANGE_MARKERS,
  CLAIM_FILLER,
  EXCLUSIVE_GROUPS,
  FIRST_PERSON,
  IMPERATIVE_VERBS,
  NEGATIONS,
  PHRASE_OPENERS,
  PREFERENCE_VERBS,
  RELATION_NOUNS,
  RESTATING_MARKERS,
  STANDING_MARKERS,
  THIRD_PERSON,
} from './lexicon.js';
import { findPhrase, words } from './sentences.js';
import { contentTokens, hasSpecificReference, type SpeechAct } from './speech-acts.js';

/** Identity slots: at most one current value each, except `stack` (one version per technology). */
export type Slot = 'name' | 'location' | 'employer' | 'role' | 'team' | 'timezone' | 'pronouns' | 'stack';

/** One stance of a statement on one object. */
export interface Assertion {
  /** Content terms of the object, singular, sorted. */
  terms: string[];
  /** The object's last content term (what it is): "dark mode" -> "mode". */
  head: string;
  polarity: 1 | -1;
  /** Content terms of the phrases limiting the stance ("for indentation" -> ["indentation"]). */
  context: string[];
  /** A version number named with the object ("PostgreSQL 15" -> "15"). */
  version?: string;
  /** Names of the exclusive groups (lexicon.ts) the object belongs to. */
  groups: string[];
}

/** The analysis of one statement. */
export interface Claim {
  /** `other` when the statement's subject is someone else ("My colleague Priya prefers tabs"). */
  about: 'user' | 'other';
  kind: MemoryKind;
  slot?: Slot;
  /** Content terms of the slot's value ("I live in Berlin" -> ["berlin"]). */
  slotValue?: string[];
  /** The stance allows one choice at a time (prefer, use, want; every instruction). */
  exclusive: boolean;
  /** The statement signals a change ("switched", "no longer", "actually", "from now on", ...). */
  change: boolean;
  assertions: Assertion[];
  /** Every content term of the statement, singular. */
  terms: string[];
  /** The statement's word tokens (lower case, discourse openers removed), for aligning two statements. */
  words: string[];
  /** -1 when the statement negates or drops something ("don't", "no longer", "stopped", "quit"), else 1. */
  polarity: 1 | -1;
  /** The statement adds to what is known ("too", "also", "as well", "another"): it replaces nothing. */
  additive: boolean;
  /** The statement says it repeats itself ("still", "as I said", "again", "as always"). */
  restating: boolean;
  /** One sentence (not several merged into one memory). */
  single: boolean;
}

/** Capitalised sentence openers that are never a person's name. */
const NOT_NAMES = new Set([
  'please',
  'you',
  "you're",
  'the',
  'a',
  'an',
  'this',
  'that',
  'these',
  'those',
  'some',
  'most',
  'all',
  'every',
  'each',
  'everything',
  'nothing',
  'it',
  "it's",
  'there',
  "there's",
  'here',
  'now',
  'just',
  'also',
  'still',
  'max',
  'no',
  'yes',
  'yep',
]);
/** First-person subject pronouns: a sentence with one is the user's, whatever it opens with. */
const FIRST_PERSON_SUBJECTS = new Set(['i', "i'm", "i've", "i'd", "i'll", 'we', "we're", "we've", "we'd"]);
const TERM_FILLER = new Set([
  ...CLAIM_FILLER,
  'use',
  'uses',
  'keep',
  'make',
  'get',
  'put',
  'set',
  'do',
  'don',
  'doesn',
  'didn',
  'isn',
  'aren',
  'won',
  'll',
  've',
  'im',
  'like',
  'love',
  'enjoy',
  'hate',
  'dislike',
  'prefer',
  'want',
  'switched',
  'moved',
  'changed',
  'migrated',
  'started',
  'stopped',
  'longer',
  'used',
  'using',
  'uses',
  'prefers',
  'likes',
  'loves',
  'hates',
  'dislikes',
  'wants',
  'gave',
  'given',
  'quit',
  'ditched',
  'dropped',
  'fan',
  'favorite',
  'favourite',
  'upgraded',
  'downgraded',
  'stand',
  'cannot',
  'mind',
  'scratch',
  'second',
  'thought',
  'anymore',
  'lately',
  'nowadays',
  'going',
  'forward',
  'future',
  'joined',
  'left',
  'live',
  'living',
  'lives',
  'based',
  'relocated',
  'moving',
  'switching',
  'migrating',
  'converted',
  'transitioned',
  'went',
  'am',
  'currently',
]);
/** Words skipped before an object: the filler plus every imperative verb ("use", "keep", "write"). */
const LEADING_SKIP = new Set([...TERM_FILLER, ...IMPERATIVE_VERBS]);
const PREPOSITIONS = new Set([
  ...PHRASE_OPENERS,
  'while',
  'as',
  'during',
  'across',
  'inside',
  'within',
  'because',
  'since',
  'if',
  'unless',
  'except',
  'via',
  'by',
  'about',
  'throughout',
  'after',
  'before',
  'into',
]);
const NEGATION_WORDS = NEGATIONS;
const EXCLUSIVE_VERBS = PREFERENCE_VERBS.exclusive;
const INCLUSIVE_VERBS = PREFERENCE_VERBS.inclusive;
const VERSION = /^v?\d+(?:\.\d+)*$/;

/** Analyses one statement or instruction sentence. `act` comes from classifySentence. */
export function analyseClaim(sentence: string, act: SpeechAct): Claim {
  const tokens = contentTokens(sentence);
  const joined = tokens.join(' ');
  const about = act === 'instruction' ? 'user' : subjectOf(sentence, tokens);
  const slot = about === 'user' ? detectSlot(sentence, joined) : undefined;
  // On the whole sentence: openers such as "actually," and "scratch that," are change signals too.
  const change = findPhrase(words(sentence), CHANGE_MARKERS) !== undefined;
  const standing = findPhrase(tokens, STANDING_MARKERS) !== undefined;
  const assertions = clausesOf(sentence).flatMap((clause) => assertionsOf(clause));
  const exclusive =
    act === 'instruction' ||
    /^my (?:(?:preferred|favou?rite|default|go-to|main|usual|primary|daily) )?[\p{L}-]+(?: [\p{L}-]+)? (?:is|are)\b/u.test(
      joined,
    ) ||
    EXCLUSIVE_VERBS.some((verb) => findPhrase(tokens, [verb]) !== undefined);
  const preference =
    INCLUSIVE_VERBS.some((verb) => findPhrase(tokens, [verb]) !== undefined) ||
    /\b(?:prefer|prefers|preferred|rather|i'd like|i would like|works best for me|go with|stick with)\b/.test(
      joined,
    ) ||
    (tokens.some((token) => FIRST_PERSON.has(token)) &&
      /\b(?:use|uses|using|switched|switching|moved|changed|migrated|started using|stopped using|gave up|given up|ditched|dropped|default to)\b/.test(
        joined,
      ) &&
      !hasSpecificReference(tokens));
  // "My editor is Helix", "my favourite language is Rust": one current value, stated as a preference.
  const namedChoice =
    /^my (?:(?:preferred|favou?rite|default|go-to|main|usual|primary|daily) )?[\p{L}-]+(?: [\p{L}-]+)? (?:is|are|has been)\b/u.test(
      joined,
    );
  let kind: MemoryKind;
  if (act === 'instruction') kind = 'instruction';
  else if (about === 'other') kind = 'other_fact';
  else if (slot) kind = 'user_fact';
  else if (preference || namedChoice) kind = 'preference';
  else if (standing) kind = tokens.some((token) => FIRST_PERSON.has(token)) ? 'preference' : 'instruction';
  else if (isHabitual(tokens)) kind = 'user_fact';
  else kind = 'message';
  const claim: Claim = {
    about,
    kind,
    exclusive,
    change,
    assertions,
    terms: contentTerms(tokens.join(' ')),
    words: tokens,
    polarity: NEGATION_WORDS.some((word) => findPhrase(tokens, [word]) !== undefined) ? -1 : 1,
    // In the main clause only: "French for replies, my team reads them too" replaces; "the guitar too" adds.
    additive: findPhrase(words(sentence.split(/[,;]/)[0] ?? sentence), ADDITIVE_MARKERS) !== undefined,
    restating: findPhrase(tokens, RESTATING_MARKERS) !== undefined,
    single: true,
  };
  if (slot) {
    claim.slot = slot.slot;
    claim.slotValue = slot.value;
  }
  return claim;
}

/**
 * A present-tense statement of the user's own situation or habits ("I develop on Windows", "Our CI runs on
 * Jenkins", "I'm vegetarian", "My laptop runs macOS"): opens with the user (or the user's own thing), has no
 * past-tense verb right after the subject and no time marker of one occasion ("yesterday", "this morning").
 */
function isHabitual(tokens: string[]): boolean {
  const [first, second] = tokens;
  if (first === undefined || second === undefined) return false;
  let verbAt: number;
  if (FIRST_PERSON_SUBJECTS.has(first)) verbAt = 1;
  else if (first === 'my' || first === 'our') {
    // "my laptop runs", "our main database is": the verb follows a short noun phrase.
    verbAt = tokens.findIndex((token, index) => index >= 2 && index <= 4 && PRESENT_VERB.test(token));
    if (verbAt < 0) return false;
  } else return false;
  while (ADVERBS.has(tokens[verbAt] ?? '')) verbAt += 1;
  const verb = tokens[verbAt] ?? '';
  if (verb === '' || PAST_VERBS.has(verb) || /ed$/.test(verb)) return false;
  if (findPhrase(tokens, OCCASION_MARKERS) !== undefined) return false;
  return !hasSpecificReference(tokens) && !tokens.includes('?');
}

const PRESENT_VERB =
  /^(?:is|are|'s|'re|has|have|does|do|runs?|uses?|lives?|works?|goes|go|deploys?|ships?|sits?|stays?|builds?|hosts?)$/;
const ADVERBS = new Set([
  'usually',
  'mostly',
  'normally',
  'generally',
  'typically',
  'also',
  'mainly',
  'really',
]);
const PAST_VERBS = new Set([
  'was',
  'were',
  'did',
  'had',
  'went',
  'got',
  'saw',
  'met',
  'made',
  'took',
  'told',
  'said',
  'found',
  'felt',
  'thought',
  'came',
  'left',
  'ran',
  'wrote',
  'bought',
  'began',
  'just',
  'will',
  "'ll",
  'gonna',
  'might',
  'may',
  'could',
  'would',
  'should',
  'wonder',
  'think',
  'guess',
  'hope',
  'wish',
  'need',
  'want',
  'tried',
  'am',
]);
const OCCASION_MARKERS = [
  'yesterday',
  'today',
  'tonight',
  'tomorrow',
  'this morning',
  'this afternoon',
  'this evening',
  'last night',
  'last week',
  'last month',
  'last year',
  'next week',
  'next month',
  'ago',
  'earlier',
  'right now',
  'at the moment',
  'this week',
  'on monday',
  'on tuesday',
  'on wednesday',
  'on thursday',
  'on friday',
  'on saturday',
  'on sunday',
];

/** One claim for several sentences of one memory: about the user only if every sentence is; slot of the first. */
export function mergeClaims(claims: readonly Claim[]): Claim | undefined {
  const [first] = claims;
  if (!first || claims.length === 1) return first;
  const merged: Claim = {
    about: claims.every((claim) => claim.about === 'user') ? 'user' : 'other',
    kind: first.kind,
    exclusive: claims.some((claim) => claim.exclusive),
    change: claims.some((claim) => claim.change),
    assertions: claims.flatMap((claim) => claim.assertions),
    terms: [...new Set(claims.flatMap((claim) => claim.terms))],
    words: claims.flatMap((claim) => claim.words),
    polarity: claims.some((claim) => claim.polarity === -1) ? -1 : 1,
    additive: claims.some((claim) => claim.additive),
    restating: claims.some((claim) => claim.restating),
    single: false,
  };
  const slotted = claims.find((claim) => claim.slot);
  if (slotted?.slot) {
    merged.slot = slotted.slot;
    merged.slotValue = slotted.slotValue ?? [];
  }
  return merged;
}

/** `other` when the subject is a third party: "my colleague ...", "she ...", "Priya prefers ...". */
function subjectOf(sentence: string, tokens: string[]): 'user' | 'other' {
  const [first, second, third] = tokens;
  if (first === undefined) return 'user';
  if ((first === 'my' || first === 'our') && second !== undefined && RELATION_NOUNS.has(second)) {
    // "My wife and I ..." is about the user too.
    return tokens.slice(0, 5).includes('i') ? 'user' : 'other';
  }
  if (first === 'my' && second !== undefined && third !== undefined && RELATION_NOUNS.has(third))
    return 'other';
  if (THIRD_PERSON.has(first)) return 'other';
  // "The analytics team upgraded ...": another team, unless the user is in the sentence ("The company moved us").
  if (
    /^(?:the|their|his|her|that|another) (?:[\p{L}-]+ ){0,2}(?:team|department|org|group)\b/u.test(
      tokens.join(' '),
    )
  ) {
    if (!tokens.some((token) => FIRST_PERSON.has(token))) return 'other';
  }
  // A capitalised name opening the sentence, followed by a verb-like word: "Priya doesn't like dark mode" (but
  // "Tokyo is where I live" and "These days I write Go" are about the user: they have a first-person subject).
  const opening = sentence.replace(/^[^\p{L}]+/u, '');
  const name = /^(\p{Lu}[\p{Ll}'-]+)(?:'s)?\s+(\p{Ll}+(?:'t)?)/u.exec(opening);
  const firstPersonSubject = tokens.some((token) => FIRST_PERSON_SUBJECTS.has(token));
  if (
    name &&
    !firstPersonSubject &&
    !FIRST_PERSON.has(first) &&
    !IMPERATIVE_VERBS.has(first) &&
    !NOT_NAMES.has(first)
  ) {
    const verbLike = name[2] ?? '';
    if (
      /(?:s|ed|n't)$/.test(verbLike) ||
      [
        'is',
        'was',
        'has',
        'had',
        'will',
        'can',
        'never',
        'always',
        'just',
        'also',
        'really',
        'told',
        'said',
        'thinks',
        'no',
        'now',
        'still',
        'recently',
        'finally',
        'got',
        'went',
        'became',
        'left',
        'doesn',
        'does',
      ].includes(verbLike)
    ) {
      return 'other';
    }
  }
  return 'user';
}

/** The identity slot a statement fills, with its value terms. */
function detectSlot(sentence: string, joined: string): { slot: Slot; value: string[] } | undefined {
  const value = (phrase: string | undefined): string[] => contentTerms(cutAtClause(phrase ?? ''));
  const patterns: Array<[Slot, RegExp]> = [
    ['name', /\b(?:my name is|my name's|call me|i go by|you can call me)\s+(.+)/],
    ['pronouns', /\bmy pronouns are\s+(.+)/],
    [
      'timezone',
      /\b(?:my time ?zone is|i'm in the|i am in the|i'm on|i am on)\s+(.+?\btime ?zone\b.*|(?:utc|gmt)\s?[+-]\s?\d.*)/,
    ],
    ['timezone', /\btime ?zone\b.*?\b(?:is|to)\s+(.+)/],
    ['team', /\b(?:i'm|i am|im|i work|i now work|i'm now)\s+(?:on|in|with)\s+the\s+(.+?)\s+team\b/],
    ['team', /\b(?:joined|moved to|switched to|transferred to|lead|run|manage)\s+the\s+(.+?)\s+team\b/],
    ['team', /\bmy team is\s+(.+)/],
    [
      'employer',
      /\b(?:i|we)\s+(?:now\s+|currently\s+|still\s+)?(?:work|works|am working|'m working)\s+(?:at|for)\s+(.+)/,
    ],
    ['employer', /\bi'm (?:now |currently )?working (?:at|for)\s+(.+)/],
    ['employer', /\b(?:i'm|i am)\s+(?:now\s+)?at\s+(?!the\b|a\b|an\b|my\b|our\b|home\b|work\b)(.+)/],
    [
      'employer',
      /\b(?:i|we)\s+(?:just\s+|recently\s+|finally\s+)?joined\s+(?!the\b|a\b|an\b|my\b|our\b)(.+)/,
    ],
    [
      'employer',
      /\b(?:employed (?:at|by)|my (?:employer|company) is|new job at|started (?:a new job |working )?at|got a job at|took a job at)\s+(.+)/,
    ],
    [
      'role',
      /\b(?:i work as|my (?:role|title|job title|position|job) is|i was promoted to|i got promoted to|promoted to)\s+(?:an?\s+)?(.+)/,
    ],
    [
      'role',
      /\b(?:i'm|i am|im)\s+(?:now\s+)?(?:a|an)\s+(.+?(?:er|or|ist|ian|ant|ent|lead|manager|cto|ceo|cfo|founder|intern|sre|dev|student|consultant|architect|analyst|scientist|engineer))\b/,
    ],
    [
      'location',
      /\b(?:i|we)\s+(?:now\s+|currently\s+|still\s+)?(?:live|am living|'m living|reside|am based|'m based|am located|'m located)\s+(?:in|near|at|out of)\s+(.+)/,
    ],
    ['location', /\b(?:i'm|i am|im)\s+(?:now\s+)?(?:living|based|located)\s+(?:in|near|out of)\s+(.+)/],
    ['location', /\bi\s+(?:just\s+|recently\s+|finally\s+)?(?:moved|relocated)\s+(?:back\s+)?to\s+(.+)/],
    ['location', /^(.+?)\s+is\s+(?:where|home for)\s+(?:i|we)\b/],
    ['stack', /\b(?:i'm|i am|im|we're|we are)\s+(?:now\s+|still\s+)?(?:on|running)\s+(.+)/],
    [
      'stack',
      /\b(?:we|our team|our company)\s+(?:now\s+)?(?:use|uses|run|runs|deploy|deploys|build with|are on)\s+(.+)/,
    ],
    [
      'stack',
      /\bour\s+(?:stack|backend|frontend|infra|infrastructure|database|db|api|ci)\s+(?:is|runs|uses|is on|runs on)\s+(.+)/,
    ],
    ['stack', /\b(?:we|i)\s+(?:just\s+)?(?:upgraded|downgraded|migrated)\s+(?:to|from)\s+(.+)/],
  ];
  for (const [slot, pattern] of patterns) {
    const match = pattern.exec(joined);
    if (!match) continue;
    const terms = value(match[1]);
    if (terms.length === 0) continue;
    if (slot === 'location' && !looksLikePlace(sentence, terms)) continue;
    if (slot === 'employer' && !looksLikeOrganisation(sentence, terms)) continue;
    if (slot === 'stack' && !looksLikeTechnology(terms)) continue;
    return { slot, value: terms };
  }
  return undefined;
}

// "I moved to Lisbon" is a place; "I moved to pnpm" or "I moved to Go for the backend" is a tool.
function looksLikePlace(sentence: string, terms: string[]): boolean {
  const [first] = terms;
  if (!first || groupsOf(terms.join(' ')).length > 0 || TECHNOLOGIES.has(first)) return false;
  return new RegExp(`\\b${first.slice(0, 1).toUpperCase()}`, 'u').test(sentence);
}

// "I work at Stripe", "I joined Shopify": a name, not "at home" or "joined a gym".
function looksLikeOrganisation(sentence: string, terms: string[]): boolean {
  const [first] = terms;
  if (!first || COMMON_WORDS.has(first) || TECHNOLOGIES.has(first)) return false;
  return new RegExp(`\\b${first.slice(0, 1).toUpperCase()}`, 'u').test(sentence) || terms.length > 0;
}

function looksLikeTechnology(terms: string[]): boolean {
  const [first] = terms;
  if (!first || first === 'team' || COMMON_WORDS.has(first)) return false;
  return (
    TECHNOLOGIES.has(first) ||
    groupsOf(terms.join(' ')).length > 0 ||
    terms.some((term) => VERSION.test(term))
  );
}

const COMMON_WORDS = new Set([
  'home',
  'remote',
  'remotely',
  'startup',
  'company',
  'place',
  'job',
  'project',
  'team',
  'same',
  'new',
  'big',
  'small',
  'local',
  'night',
  'call',
  'vacation',
  'holiday',
  'leave',
  'break',
  'track',
  'way',
  'time',
  'board',
]);
const TECHNOLOGIES = new Set([
  'postgres',
  'postgresql',
  'mysql',
  'mariadb',
  'sqlite',
  'mongodb',
  'mongo',
  'redis',
  'kafka',
  'rabbitmq',
  'elasticsearch',
  'node',
  'node.js',
  'nodejs',
  'deno',
  'bun',
  'python',
  'java',
  'kotlin',
  'scala',
  'go',
  'golang',
  'rust',
  'ruby',
  'rails',
  'php',
  'laravel',
  'django',
  'flask',
  'fastapi',
  'react',
  'vue',
  'angular',
  'svelte',
  'next.js',
  'nextjs',
  'typescript',
  'javascript',
  'swift',
  'elixir',
  'erlang',
  'haskell',
  'c++',
  'c#',
  '.net',
  'dotnet',
  'kubernetes',
  'k8s',
  'docker',
  'terraform',
  'aws',
  'gcp',
  'azure',
  'graphql',
  'grpc',
  'spring',
  'express',
  'nest',
  'nestjs',
  'ubuntu',
  'debian',
  'windows',
  'macos',
  'linux',
  'android',
  'ios',
  'xcode',
  'webpack',
  'vite',
  'jenkins',
  'circleci',
  'heroku',
  'vercel',
  'netlify',
  'supabase',
  'firebase',
  'snowflake',
  'bigquery',
  'spark',
  'airflow',
  'dbt',
  'pandas',
  'numpy',
  'pytorch',
  'tensorflow',
  'zig',
  'dart',
  'flutter',
  'unity',
  'unreal',
  'clojure',
  'ocaml',
  'fsharp',
  'perl',
  'lua',
  'julia',
  'matlab',
  'r',
]);

/** Clauses of a sentence: cut at ";", " but ", ", and I ...", ", I ...", " - ". */
function clausesOf(sentence: string): string[] {
  return sentence
    .split(
      /\s*;\s*|\s+(?:but|though|although|whereas)\s+|,\s*(?:and|so|then)\s+|\s+and\s+(?=(?:i|we|now|then|also)\b)|,\s*(?=(?:i|we|now|instead)\b)|\s+[-\u2013\u2014]\s+/i,
    )
    .map((clause) => clause.trim())
    .filter((clause) => clause !== '');
}

/** The assertions of one clause (see the module comment). */
function assertionsOf(clause: string): Assertion[] {
  const tokens = words(clause);
  const text = tokens.join(' ');
  const polarity: 1 | -1 = NEGATION_WORDS.some((word) => findPhrase(tokens, [word]) !== undefined) ? -1 : 1;
  // "switched / moved / changed from X to Y (for Z)" and "switched to Y (from X)".
  const fromTo =
    /\b(?:switched|switching|moved|moving|changed|changing|migrated|migrating|went|gone|converted|transitioned|upgraded|downgraded|swapped)\s+(?:over\s+)?from\s+(.+?)\s+(?:to|for)\s+(.+)/.exec(
      text,
    );
  if (fromTo) {
    const target = splitContext(fromTo[2] ?? '');
    return [
      assertion(fromTo[1] ?? '', -1, target.context),
      assertion(target.object, 1, target.context),
    ].filter(isAssertion);
  }
  const toFrom =
    /\b(?:switched|switching|moved|moving|changed|migrated|migrating|went|converted|transitioned|upgraded|downgraded|swapped)\s+(?:over\s+)?to\s+(.+?)(?:\s+from\s+(.+))?$/.exec(
      text,
    );
  if (toFrom) {
    const target = splitContext(toFrom[1] ?? '');
    const previous = toFrom[2] ? splitContext(toFrom[2]) : undefined;
    return [
      assertion(target.object, 1, target.context),
      previous ? assertion(previous.object, -1, target.context) : undefined,
    ].filter(isAssertion);
  }
  // "X instead of Y", "X rather than Y", "X over Y", "X, not Y", "X and not Y".
  const versus = /^(.*?)\s+(?:instead of|rather than|over|more than|not|and not|but not)\s+(.+)$/.exec(text);
  if (versus && polarityOf(versus[1] ?? '') === 1 && objectPhrase(versus[1] ?? '').object !== '') {
    const chosen = objectPhrase(versus[1] ?? '');
    const other = splitContext(versus[2] ?? '');
    const context = [...chosen.context, ...contentTerms(other.context.join(' '))];
    return [assertion(chosen.object, 1, context), assertion(other.object, -1, context)].filter(isAssertion);
  }
  const phrase = objectPhrase(text);
  const single = assertion(phrase.object, polarity, phrase.context);
  return single ? [single] : [];
}

function polarityOf(text: string): 1 | -1 {
  const tokens = words(text);
  return NEGATION_WORDS.some((word) => findPhrase(tokens, [word]) !== undefined) ? -1 : 1;
}

/** The object of a clause (after its verb, up to the first preposition) and its context terms. */
function objectPhrase(text: string): { object: string; context: string[] } {
  const tokens = words(text);
  let start = 0;
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] ?? '';
    if (
      FIRST_PERSON.has(token) ||
      LEADING_SKIP.has(token) ||
      NEGATION_WORDS.includes(token) ||
      AUXILIARY_LIKE.has(token)
    ) {
      start = index + 1;
      continue;
    }
    break;
  }
  return splitContext(tokens.slice(start).join(' '));
}

const AUXILIARY_LIKE = new Set([
  'do',
  'does',
  'did',
  'am',
  'is',
  'are',
  'was',
  'were',
  'be',
  'been',
  'have',
  'has',
  'had',
  'will',
  'would',
  "i'd",
  'should',
  'can',
  'could',
  'to',
  'a',
  'an',
  'the',
  'of',
  'no',
  'not',
  'more',
  'into',
  'off',
  'on',
  'up',
  'out',
  'back',
  'over',
]);

/** Splits "tabs for indentation in every project" into the object "tabs" and the context terms. */
function splitContext(text: string): { object: string; context: string[] } {
  const tokens = words(text);
  const cut = tokens.findIndex((token, index) => index > 0 && PREPOSITIONS.has(token));
  if (cut < 0) return { object: tokens.join(' '), context: [] };
  return { object: tokens.slice(0, cut).join(' '), context: contentTerms(tokens.slice(cut).join(' ')) };
}

function assertion(object: string, polarity: 1 | -1, context: string[]): Assertion | undefined {
  const tokens = words(cutAtClause(object));
  const version = tokens.find((token) => VERSION.test(token) && /\d/.test(token));
  const terms = contentTerms(tokens.filter((token) => !VERSION.test(token)).join(' '));
  const head = terms[terms.length - 1];
  if (head === undefined) return undefined;
  const result: Assertion = {
    terms: [...new Set(terms)].sort(),
    head,
    polarity,
    context: [...new Set(context)].sort(),
    groups: groupsOf(tokens.join(' ')),
  };
  if (version) result.version = version.replace(/^v/, '');
  return result;
}

function isAssertion(value: Assertion | undefined): value is Assertion {
  return value !== undefined;
}

/** The exclusive groups whose members appear in `text` as whole words. */
export function groupsOf(text: string): string[] {
  return Object.keys(EXCLUSIVE_GROUPS).filter((group) => groupMembersIn(text, group).length > 0);
}

/** The members of exclusive group `group` that appear in `text` as whole words. */
export function groupMembersIn(text: string, group: string): string[] {
  const padded = ` ${words(text).join(' ')} `;
  return (EXCLUSIVE_GROUPS[group] ?? []).filter((member) => padded.includes(` ${member} `));
}

/** Content terms, singular, without claim filler ("really", "anymore", verbs of preference). */
export function contentTerms(text: string): string[] {
  return keywordTerms(text, { maxTerms: 64 })
    .filter((term) => !TERM_FILLER.has(term))
    .map((term) => singular(term))
    .filter((term) => !TERM_FILLER.has(term) && term.length > 1);
}

/** The phrase up to a clause boundary ("Berlin because ..." -> "Berlin"). */
function cutAtClause(phrase: string): string {
  return (
    phrase.split(
      /[,;:.!?()]|\s(?:because|since|but|so|and then|which|that|now|anymore|these days|from now on|last|this|next)\b/i,
    )[0] ?? ''
  );
}

/** A light singular: "themes" -> "theme", "libraries" -> "library"; short words and "-ss" words stay. */
export function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(?:ches|shes|xes|sses)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}
