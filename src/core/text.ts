/**
 * Text utilities shared by ingestion and search: normalisation for duplicate detection, keyword tokenisation,
 * and the low-signal filter that keeps chit-chat ("ok", "thanks", "hi") out of memory.
 */
import { createHash } from 'node:crypto';

/** Lower-cases, folds Unicode compatibility forms, strips diacritics and collapses whitespace and edge punctuation. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '')
    .trim();
}

/** Stable hash of the normalised text: equal hashes within a scope mark exact duplicates. */
export function hashText(text: string): string {
  return createHash('sha256').update(normaliseText(text)).digest('hex').slice(0, 32);
}

const STOPWORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her hers ' +
    'him his how i if in into is it its itself just me more most my no nor not of off on once only or other our ' +
    'ours out over own same she should so some such than that the their theirs them then there these they this ' +
    'those through to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours yourself about again all any because before below between both down during each few ' +
    'further here after above against am s t don now ll re ve d m o y'
  ).split(' '),
);

/** A word: a run of letters and digits of any script. */
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Splits text into lower-case word tokens for keyword search, dropping stopwords and one-letter tokens.
 * Letters and digits of any script count as word characters.
 */
export function keywordTerms(text: string, options: { maxTerms?: number } = {}): string[] {
  const maxTerms = options.maxTerms ?? 32;
  const seen = new Set<string>();
  for (const match of normaliseText(text).matchAll(WORD)) {
    const token = match[0];
    if (token.length < 2 || STOPWORDS.has(token)) continue;
    seen.add(token);
    if (seen.size >= maxTerms) break;
  }
  return [...seen];
}

/**
 * Words that frame a question without naming what it is about ("What did I *say* about the gym?", "When did we
 * *last talk* about it?", "What *kind* of car?"): they match a large share of any conversation and add nothing
 * to what is asked. Dropped from search queries (never from what is indexed).
 */
const QUESTION_FRAMING = new Set(
  (
    'say said says saying tell told telling talk talked talking talks mention mentioned mentions remember ' +
    'remembered recall recalled discuss discussed ask asked kind type sort thing things ever last recently'
  ).split(' '),
);

/**
 * The keyword terms of a search query: {@link keywordTerms} without {@link QUESTION_FRAMING} words, unless those
 * are all the query has (then they are what is asked for). Measured on LoCoMo (BENCHMARKS.md section 1):
 * recall unchanged to +0.5 points; in one scope of 100k memories it halves keyword search time.
 */
export function queryTerms(text: string): string[] {
  const terms = keywordTerms(text);
  const content = terms.filter((term) => !QUESTION_FRAMING.has(term));
  return content.length > 0 ? content : terms;
}

/**
 * The `names` that `text` names: those whose words, normalised like {@link normaliseText} (case, accents), appear
 * one after the other among the text's words ("What did melanie's kids paint?" names "Melanie"; "Melanies" does
 * not). A name without a letter or digit is never named. The text is split into words once for all the names.
 */
export function namesIn(text: string, names: Iterable<string>): Set<string> {
  const words = (value: string) => normaliseText(value).match(WORD) ?? [];
  const textWords = words(text);
  const named = new Set<string>();
  for (const name of names) {
    const nameWords = words(name);
    if (nameWords.length === 0) continue;
    for (let start = 0; start + nameWords.length <= textWords.length; start += 1) {
      if (nameWords.every((word, offset) => textWords[start + offset] === word)) {
        named.add(name);
        break;
      }
    }
  }
  return named;
}

const LOW_SIGNAL = new Set(
  [
    'ok',
    'okay',
    'k',
    'kk',
    'yes',
    'yeah',
    'yep',
    'yup',
    'no',
    'nope',
    'nah',
    'sure',
    'thanks',
    'thank you',
    'thanks a lot',
    'thank you so much',
    'thx',
    'ty',
    'cool',
    'great',
    'nice',
    'awesome',
    'perfect',
    'got it',
    'sounds good',
    'alright',
    'all right',
    'fine',
    'hi',
    'hello',
    'hey',
    'hey there',
    'hi there',
    'good morning',
    'good afternoon',
    'good evening',
    'good night',
    'bye',
    'goodbye',
    'see you',
    'see ya',
    'cheers',
    'lol',
    'haha',
    'hmm',
    'right',
    'exactly',
    'agreed',
    'done',
    'please continue',
    'continue',
    'go on',
    'go ahead',
    'makes sense',
    'no problem',
    'you are welcome',
    "you're welcome",
  ].map((phrase) => normaliseText(phrase)),
);

/** Greetings and thanks that may be followed by a name ("thanks claude") and still say nothing. */
const ADDRESSABLE = new Set(
  [
    'hi',
    'hello',
    'hey',
    'hi there',
    'hey there',
    'thanks',
    'thank you',
    'thx',
    'bye',
    'goodbye',
    'cheers',
  ].concat(['good morning', 'good afternoon', 'good evening', 'good night', 'see you', 'thanks a lot']),
);

/**
 * True when a message carries no information worth remembering: empty, only punctuation/emoji, or a known
 * acknowledgement or greeting (optionally followed by a name or "!"), e.g. "ok", "Thanks!", "hi there".
 */
export function isLowSignal(text: string): boolean {
  const normalised = normaliseText(text);
  if (normalised.length === 0) return true;
  if (!/[\p{L}\p{N}]/u.test(normalised)) return true;
  if (LOW_SIGNAL.has(normalised)) return true;
  const words = normalised
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .trim()
    .split(/\s+/);
  if (words.length <= 4) {
    const joined = words.join(' ');
    if (LOW_SIGNAL.has(joined)) return true;
    // "ok great", "thanks so much": every word is filler. "thanks claude", "hi alice": a greeting or thanks
    // plus one name. ("yes python" is kept: it may answer a question.)
    if (words.every((word) => LOW_SIGNAL.has(word))) return true;
    for (let split = 1; split < words.length; split += 1) {
      if (words.length - split === 1 && ADDRESSABLE.has(words.slice(0, split).join(' '))) return true;
    }
  }
  return false;
}

/** Rough token estimate (≈ 4 characters per token) for context budgets. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
