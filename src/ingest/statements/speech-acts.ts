/**
 * What a user's sentence does, without an LLM: asks (question), asks for work now (request), sets a standing rule
 * (instruction), or states something (statement). Heuristics for English, tuned for precision on what is kept as a
 * standing memory: a one-off request ("Clean up the billing parser") must not become a rule, so a bare
 * imperative is a rule only when it is about a way of working ("Use tabs", "Keep answers short") with a generic
 * object, or carries a standing marker ("always", "never", "from now on", "every ...").
 */
import {
  AUXILIARIES,
  DISCOURSE_OPENERS,
  FIRST_PERSON,
  IMPERATIVE_LEADS,
  IMPERATIVE_VERBS,
  PHRASE_OPENERS,
  QUESTION_OPENERS,
  QUESTION_SUBJECTS,
  SPECIFIC_REFERENCES,
  STANDING_MARKERS,
  STYLE_VERBS,
  WH_WORDS,
} from './lexicon.js';
import { findPhrase, phraseAt, words } from './sentences.js';

/** What a sentence does. */
export type SpeechAct = 'question' | 'request' | 'instruction' | 'statement';

const SOFT_OPENERS = new Set(['explain', 'show me', 'give me', 'tell me']);
/** Words that look like a finite verb ("is", "runs", "was", "fixed"): a sentence with none is verbless. */
const VERB_LIKE = /^(?:is|are|was|were|be|been|has|have|had|do|does|did|can|could|will|would|[a-z]+ed)$/;
const MODALS = new Set(['should', 'must', 'shall']);
const CONDITIONS = new Set(['before', 'whenever', 'unless']);
const WH_FOLLOWERS = new Set([
  ...AUXILIARIES,
  "'s",
  "what's",
  "how's",
  'about',
  'if',
  'else',
  'kind',
  'sort',
  'exactly',
]);

/** Tokens of a sentence with discourse openers ("actually,", "ok so", "btw") removed from its start. */
export function contentTokens(text: string): string[] {
  const tokens = words(text);
  let index = 0;
  let moved = true;
  while (moved && index < tokens.length) {
    moved = false;
    for (const opener of DISCOURSE_OPENERS) {
      const length = opener.split(' ').length;
      // "no" and "yes" open a sentence only as interjections: "No inline comments" keeps its "no".
      if ((opener === 'no' || opener === 'yes') && !/^(?:no|yes)\b\s*[,!.]/i.test(skipOpeners(text, index)))
        continue;
      if (phraseAt(tokens, index, opener) && index + length < tokens.length) {
        index += length;
        moved = true;
        break;
      }
    }
  }
  return tokens.slice(index);
}

// The raw text after `count` leading word tokens (used to see the punctuation after an interjection).
function skipOpeners(text: string, count: number): string {
  let rest = text.replace(/^[\s"'(]+/, '');
  for (let index = 0; index < count; index += 1) rest = rest.replace(/^[^\s]+\s*/, '');
  return rest;
}

/** True when the text opens a question ("how do I ...", "can you ...", "is there ...", "any idea ..."). */
export function opensQuestion(text: string): boolean {
  const tokens = contentTokens(text);
  const [first, second] = tokens;
  if (first === undefined) return false;
  const opener = QUESTION_OPENERS.find((phrase) => phraseAt(tokens, 0, phrase));
  if (opener) {
    // "Explain this error", "Give me a list of ..." ask now; "Explain things simply", "Give me detailed answers"
    // (a generic object, no question word) are standing rules, classified as imperatives.
    if (!SOFT_OPENERS.has(opener)) return true;
    const rest = tokens.slice(opener.split(' ').length);
    return (
      hasSpecificReference(rest) ||
      rest.some((token) => WH_WORDS.has(token)) ||
      ['a', 'an', 'the', 'my', 'our', 'your', 'some'].includes(rest[0] ?? '')
    );
  }
  if (
    WH_WORDS.has(first) ||
    first === "what's" ||
    first === "how's" ||
    first === "where's" ||
    first === "who's"
  ) {
    if (first.endsWith("'s")) return true;
    return second === undefined || WH_FOLLOWERS.has(second) || second.endsWith("'s");
  }
  return QUESTION_AUX.has(first) && second !== undefined && QUESTION_SUBJECTS.has(second);
}

// Auxiliaries that open a yes/no question even without "?" ("can you check", "is the build green"); "has the
// keys" or "had a great time" are not questions.
const QUESTION_AUX = new Set(
  AUXILIARIES.filter(
    (word) => !['had', 'has', 'have', 'am', 'was', 'were', 'may', 'might', 'must', 'shall'].includes(word),
  ),
);

/** Classifies one sentence (see the module comment). */
export function classifySentence(sentence: string): SpeechAct {
  const trimmed = sentence.trim().replace(/["')\]\s]+$/, '');
  if (trimmed.endsWith('?')) return 'question';
  if (opensQuestion(trimmed)) return 'question';
  const tokens = contentTokens(trimmed);
  const standing = findPhrase(tokens, STANDING_MARKERS) !== undefined;
  // A norm with a modal after a short subject: "Commit messages should follow Conventional Commits".
  const modal = tokens.findIndex((token) => MODALS.has(token));
  if (modal >= 1 && modal <= 3 && !FIRST_PERSON.has(tokens[0] ?? '') && tokens[0] !== 'you') {
    return hasSpecificReference(tokens) && !standing ? 'statement' : 'instruction';
  }
  const imperative = imperativeVerb(tokens);
  if (imperative) {
    if (standing) return 'instruction';
    const clause = contentTokens(trimmed.split(/[,;:]/)[0] ?? trimmed);
    if (imperative.negative) return hasSpecificReference(clause) ? 'request' : 'instruction';
    // A rule with a condition: "Ask me before running any shell command", "Ping me when the build breaks".
    if (
      CONDITIONS.has(tokens[imperative.index + 2] ?? '') ||
      CONDITIONS.has(tokens[imperative.index + 3] ?? '')
    ) {
      if (!hasSpecificReference(tokens)) return 'instruction';
    }
    if (
      STYLE_VERBS.has(imperative.verb) &&
      !hasSpecificReference(tokens) &&
      !hasArticleInObject(tokens, imperative.index)
    )
      return 'instruction';
    return 'request';
  }
  // "I want you to ...", "I need you to ...", "I'd like you to ...", "help me ...": asks for work.
  const joined = tokens.join(' ');
  if (/^(?:(?:i|we) (?:want|need|would like|wanna)|i'd like|we'd like) you to\b/.test(joined)) {
    return standing ? 'instruction' : 'request';
  }
  if (/^(?:i|we) (?:need|want|would like) (?:help|to know|to understand)\b/.test(joined)) return 'request';
  if (/^(?:you should|you must|you need to|make sure)\b/.test(joined)) {
    return standing || !hasSpecificReference(tokens) ? 'instruction' : 'request';
  }
  if (/^(?:no|without) /.test(joined) && !hasSpecificReference(tokens)) return 'instruction';
  // A verbless wish with "please": "Replies in English please", "Short answers, please".
  if (tokens.includes('please') && !FIRST_PERSON.has(tokens[0] ?? '') && !hasSpecificReference(tokens)) {
    if (!tokens.some((token) => VERB_LIKE.test(token))) return 'instruction';
  }
  return 'statement';
}

/** The imperative verb opening the sentence (after "please", "now", "don't" ...), if it is one. */
function imperativeVerb(tokens: string[]): { verb: string; index: number; negative: boolean } | undefined {
  let index = 0;
  let negative = false;
  while (index < tokens.length && IMPERATIVE_LEADS.has(tokens[index] ?? '')) index += 1;
  if (tokens[index] === 'always') index += 1;
  if (tokens[index] === "don't" || tokens[index] === 'dont' || tokens[index] === 'never') {
    negative = true;
    index += 1;
  } else if (tokens[index] === 'do' && tokens[index + 1] === 'not') {
    negative = true;
    index += 2;
  } else if (tokens[index] === "let's" || tokens[index] === 'lets') {
    return { verb: 'let', index, negative: false };
  }
  if (tokens[index] === 'ever' || tokens[index] === 'always') index += 1;
  const verb = tokens[index];
  if (verb === undefined || !IMPERATIVE_VERBS.has(verb)) return undefined;
  // "Remember: I prefer tabs", "note my editor is Helix": the user states something for the agent to keep.
  if ((verb === 'remember' || verb === 'note') && FIRST_PERSON.has(tokens[index + 1] ?? '')) return undefined;
  // "Use" after "I" is a statement; only a bare sentence-initial verb (or one after the leads) is imperative.
  return { verb, index, negative: negative || verb === 'avoid' || verb === 'stop' };
}

/** True when the sentence points at the task at hand: "this", "it", "here", a path, a file name, code. */
export function hasSpecificReference(tokens: string[]): boolean {
  if (findPhrase(tokens, SPECIFIC_REFERENCES) !== undefined) return true;
  return tokens.some((token) =>
    /[/\\]|\.(?:ts|js|tsx|jsx|py|go|rs|java|rb|md|json|ya?ml|sql|css|html|sh|toml)$/.test(token),
  );
}

/**
 * True when the direct object (up to the first preposition) opens with an article: "Write a test", "Fix the bug".
 * "your" is not one: "Keep your answers short" is about how the assistant works, not a thing to do now.
 */
function hasArticleInObject(tokens: string[], verbIndex: number): boolean {
  for (let index = verbIndex + 1; index < tokens.length; index += 1) {
    const token = tokens[index] ?? '';
    if (PREPOSITIONS.has(token)) return false;
    if (token === 'a' || token === 'an' || token === 'the' || token === 'my' || token === 'our') return true;
  }
  return false;
}

const PREPOSITIONS = new Set([
  ...PHRASE_OPENERS,
  'to',
  'by',
  'from',
  'over',
  'as',
  'into',
  'of',
  'and',
  'but',
]);
