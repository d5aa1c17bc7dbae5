/**
 * The Porter stemmer exactly as SQLite's FTS5 `porter` tokenizer applies it (ext/fts5/fts5_tokenize.c), so the
 * in-memory store's keyword search matches what the SQLite store's FTS5 index matches. It works on the UTF-8
 * bytes of an already case-folded token, like FTS5: tokens shorter than 3 or longer than 64 bytes pass through,
 * and non-ASCII bytes count as consonants.
 *
 * Why not an npm stemmer: compared (2026-12) with FTS5 on the 13,001 distinct tokens of the LoCoMo dev set and
 * this repository's tests and benchmarks, no package matches FTS5 on every word:
 * - `stemmer` 2.0.1, `porter-stemmer` 0.9.1 and `@stdlib/nlp-porter-stemmer` 0.2.3 match on all 10,422 plain
 *   ASCII words but stem tokens over 64 bytes (FTS5 passes them through: 11 such ids and hashes there) and count a
 *   non-ASCII letter as one character where FTS5 counts its bytes (`straße`: FTS5 `straß`, they keep `straße`);
 *   `stemmer` also lower-cases what FTS5 leaves (Cherokee `Ꭰx`);
 * - natural 8.1.1's PorterStemmer also differs on `eed`, `ies`, `sses` (FTS5: `e`, `ie`, `sse`);
 * - `wink-porter2-stemmer` 2.0.1 is Porter2, another algorithm (1,093 words differ, e.g. `age`: FTS5 `ag`).
 * Wrapping one in the byte-length and non-ASCII rules would keep this file's logic anyway, so this file stays;
 * test/stores/porter-stemmer.test.ts checks it word by word against a real FTS5.
 */

const MAX_TOKEN_BYTES = 64;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

type Condition = (word: Word, stemLength: number) => boolean;
/** A rule: when the word ends in `suffix` (and is longer), replace it by `replacement` if `condition` holds. */
type Rule = [suffix: string, replacement: string, condition: Condition];

/** A mutable byte buffer with the word's current length. */
interface Word {
  bytes: Uint8Array;
  length: number;
}

function byteAt(word: Word, index: number): number {
  return word.bytes[index] ?? 0;
}

function isVowel(code: number, yIsVowel: boolean): boolean {
  // a e i o u, and y after a consonant.
  return (
    code === 97 || code === 101 || code === 105 || code === 111 || code === 117 || (yIsVowel && code === 121)
  );
}

/** Skips one vowel run then one consonant run from `start`; returns the index after them, or 0 if none. */
function gobbleVowelConsonant(word: Word, start: number, end: number, previousIsConsonant: boolean): number {
  let consonant = previousIsConsonant;
  let index = start;
  for (; index < end; index += 1) {
    consonant = !isVowel(byteAt(word, index), consonant);
    if (!consonant) break;
  }
  for (index += 1; index < end; index += 1) {
    consonant = !isVowel(byteAt(word, index), consonant);
    if (consonant) return index + 1;
  }
  return 0;
}

const measureAbove0: Condition = (word, stemLength) => gobbleVowelConsonant(word, 0, stemLength, false) !== 0;

const measureAbove1: Condition = (word, stemLength) => {
  const next = gobbleVowelConsonant(word, 0, stemLength, false);
  return next !== 0 && gobbleVowelConsonant(word, next, stemLength, true) !== 0;
};

const measureEquals1: Condition = (word, stemLength) => {
  const next = gobbleVowelConsonant(word, 0, stemLength, false);
  return next !== 0 && gobbleVowelConsonant(word, next, stemLength, true) === 0;
};

/** `*o`: the stem ends consonant-vowel-consonant, the last not w, x or y. */
const endsCvc: Condition = (word, stemLength) => {
  const last = byteAt(word, stemLength - 1);
  if (last === 119 || last === 120 || last === 121) return false;
  let mask = 0;
  let consonant = false;
  for (let index = 0; index < stemLength; index += 1) {
    consonant = !isVowel(byteAt(word, index), consonant);
    mask = ((mask << 1) | (consonant ? 1 : 0)) & 0xff;
  }
  return (mask & 7) === 5;
};

const containsVowel: Condition = (word, stemLength) => {
  for (let index = 0; index < stemLength; index += 1)
    if (isVowel(byteAt(word, index), index > 0)) return true;
  return false;
};

const measureAbove1EndsSOrT: Condition = (word, stemLength) => {
  const last = byteAt(word, stemLength - 1);
  return (last === 115 || last === 116) && measureAbove1(word, stemLength);
};

const always: Condition = () => true;

function endsWith(word: Word, suffix: string): boolean {
  if (word.length <= suffix.length) return false;
  const offset = word.length - suffix.length;
  for (let index = 0; index < suffix.length; index += 1) {
    if (byteAt(word, offset + index) !== suffix.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * Applies the first rule whose suffix matches (as FTS5 does: a matching suffix whose condition fails stops the
 * step); returns the suffix of the rule applied, or undefined.
 */
function applyFirst(word: Word, rules: readonly Rule[]): string | undefined {
  for (const [suffix, replacement, condition] of rules) {
    if (!endsWith(word, suffix)) continue;
    const stemLength = word.length - suffix.length;
    if (!condition(word, stemLength)) return undefined;
    for (let index = 0; index < replacement.length; index += 1) {
      word.bytes[stemLength + index] = replacement.charCodeAt(index);
    }
    word.length = stemLength + replacement.length;
    return suffix;
  }
  return undefined;
}

const STEP_1B: readonly Rule[] = [
  ['eed', 'ee', measureAbove0],
  ['ed', '', containsVowel],
  ['ing', '', containsVowel],
];
const STEP_1B2: readonly Rule[] = [
  ['at', 'ate', always],
  ['bl', 'ble', always],
  ['iz', 'ize', always],
];
const STEP_2: readonly Rule[] = [
  ['ational', 'ate', measureAbove0],
  ['tional', 'tion', measureAbove0],
  ['enci', 'ence', measureAbove0],
  ['anci', 'ance', measureAbove0],
  ['izer', 'ize', measureAbove0],
  ['logi', 'log', measureAbove0],
  ['bli', 'ble', measureAbove0],
  ['alli', 'al', measureAbove0],
  ['entli', 'ent', measureAbove0],
  ['eli', 'e', measureAbove0],
  ['ousli', 'ous', measureAbove0],
  ['ization', 'ize', measureAbove0],
  ['ation', 'ate', measureAbove0],
  ['ator', 'ate', measureAbove0],
  ['alism', 'al', measureAbove0],
  ['iveness', 'ive', measureAbove0],
  ['fulness', 'ful', measureAbove0],
  ['ousness', 'ous', measureAbove0],
  ['aliti', 'al', measureAbove0],
  ['iviti', 'ive', measureAbove0],
  ['biliti', 'ble', measureAbove0],
];
const STEP_3: readonly Rule[] = [
  ['ical', 'ic', measureAbove0],
  ['ness', '', measureAbove0],
  ['icate', 'ic', measureAbove0],
  ['iciti', 'ic', measureAbove0],
  ['ful', '', measureAbove0],
  ['ative', '', measureAbove0],
  ['alize', 'al', measureAbove0],
];
const STEP_4: readonly Rule[] = [
  ['al', '', measureAbove1],
  ['ance', '', measureAbove1],
  ['ence', '', measureAbove1],
  ['er', '', measureAbove1],
  ['ic', '', measureAbove1],
  ['able', '', measureAbove1],
  ['ible', '', measureAbove1],
  ['ant', '', measureAbove1],
  ['ement', '', measureAbove1],
  ['ment', '', measureAbove1],
  ['ent', '', measureAbove1],
  ['ion', '', measureAbove1EndsSOrT],
  ['ou', '', measureAbove1],
  ['ism', '', measureAbove1],
  ['ate', '', measureAbove1],
  ['iti', '', measureAbove1],
  ['ous', '', measureAbove1],
  ['ive', '', measureAbove1],
  ['ize', '', measureAbove1],
];

function step1a(word: Word): void {
  const length = word.length;
  if (byteAt(word, length - 1) !== 115) return;
  if (byteAt(word, length - 2) === 101) {
    const sses = length > 4 && byteAt(word, length - 4) === 115 && byteAt(word, length - 3) === 115;
    const ies = length > 3 && byteAt(word, length - 3) === 105;
    word.length = sses || ies ? length - 2 : length - 1;
  } else if (byteAt(word, length - 2) !== 115) {
    word.length = length - 1;
  }
}

/** Stems one lower-case token the way FTS5's `porter` tokenizer does. */
export function porterStem(token: string): string {
  const input = textEncoder.encode(token);
  if (input.length > MAX_TOKEN_BYTES || input.length < 3) return token;
  // Room for the few bytes rules may add.
  const bytes = new Uint8Array(input.length + 8);
  bytes.set(input);
  const word: Word = { bytes, length: input.length };

  step1a(word);
  // Only "ed" and "ing" (not "eed") lead to the clean-up of step 1b.
  const step1b = applyFirst(word, STEP_1B);
  if ((step1b === 'ed' || step1b === 'ing') && applyFirst(word, STEP_1B2) === undefined) {
    const last = byteAt(word, word.length - 1);
    if (
      !isVowel(last, false) &&
      last !== 108 &&
      last !== 115 &&
      last !== 122 &&
      last === byteAt(word, word.length - 2)
    ) {
      word.length -= 1;
    } else if (measureEquals1(word, word.length) && endsCvc(word, word.length)) {
      word.bytes[word.length] = 101;
      word.length += 1;
    }
  }
  if (byteAt(word, word.length - 1) === 121 && containsVowel(word, word.length - 1)) {
    word.bytes[word.length - 1] = 105;
  }
  applyFirst(word, STEP_2);
  applyFirst(word, STEP_3);
  applyFirst(word, STEP_4);
  if (byteAt(word, word.length - 1) === 101) {
    const stemLength = word.length - 1;
    if (measureAbove1(word, stemLength) || (measureEquals1(word, stemLength) && !endsCvc(word, stemLength))) {
      word.length = stemLength;
    }
  }
  if (
    word.length > 1 &&
    byteAt(word, word.length - 1) === 108 &&
    byteAt(word, word.length - 2) === 108 &&
    measureAbove1(word, word.length - 1)
  ) {
    word.length -= 1;
  }
  return textDecoder.decode(word.bytes.subarray(0, word.length));
}
