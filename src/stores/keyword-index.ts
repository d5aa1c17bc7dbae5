/**
 * Keyword search in plain JavaScript for the in-memory store, built to rank like the SQLite store's FTS5 table
 * (`tokenize='porter unicode61 remove_diacritics 2'`, `bm25()`):
 * - tokens: runs of letters and digits, case-folded, Latin diacritics removed, then Porter-stemmed. This equals
 *   FTS5's tokenizer on ASCII and Latin text; other scripts are folded by `toLowerCase` only (FTS5 uses its own
 *   Unicode 6.1 tables, so rare characters may tokenize differently);
 * - each query term is a phrase (its tokens must appear consecutively), terms are ORed;
 * - score: FTS5's BM25 (k1 = 1.2, b = 0.75, idf floored at 1e-6) with document frequencies and the average
 *   length taken over every indexed document (all scopes, like FTS5), negated so higher is better. A
 *   document's length includes `extraLength` (see {@link KeywordIndex.set}).
 */
import { porterStem } from './porter-stemmer.js';

const LATIN = /\p{Script=Latin}/u;
const COMBINING_DIACRITICS = /[\u0300-\u036f]/gu;
const K1 = 1.2;
const B = 0.75;

function isCombiningDiacritic(character: string): boolean {
  const code = character.codePointAt(0) ?? 0;
  return code >= 0x300 && code <= 0x36f;
}

/**
 * Where FTS5's case folding (Unicode 6.1 simple folding) differs from `toLowerCase`: variant Greek letters and
 * the long s fold to their plain forms. Cherokee is left alone (it gained lower-case letters only in Unicode 8).
 */
const FOLD_EXCEPTIONS: Record<string, string> = {
  ς: 'σ',
  ſ: 's',
  ϐ: 'β',
  ϑ: 'θ',
  ϕ: 'φ',
  ϖ: 'π',
  ϰ: 'κ',
  ϱ: 'ρ',
  ϵ: 'ε',
  '\u1fbe': 'ι',
};
const CHEROKEE = /[\u13a0-\u13f5]/u;

function fold(character: string): string {
  const exception = FOLD_EXCEPTIONS[character];
  if (exception !== undefined) return exception;
  if (CHEROKEE.test(character)) return character;
  const lower = character.toLowerCase();
  if (!LATIN.test(character)) return lower;
  const base = lower.normalize('NFD').replace(COMBINING_DIACRITICS, '');
  return FOLD_EXCEPTIONS[base] ?? base;
}

/** A run of token characters: letters, digits and the combining diacritics that belong to them. */
const TOKEN_RUN = /(?:\p{L}|\p{N}|[\u0300-\u036f])+/gu;
const ASCII_RUN = /^[A-Za-z0-9]+$/;
/** Stems of recently seen words: the same words recur, and stemming is the costly step. */
const STEM_CACHE_SIZE = 20_000;
const stems = new Map<string, string>();

function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = porterStem(word);
    if (stems.size >= STEM_CACHE_SIZE) stems.clear();
    stems.set(word, stemmed);
  }
  return stemmed;
}

/** Folds one run of token characters (see {@link TOKEN_RUN}) into a word: case-folded, diacritics removed. */
function foldRun(run: string): string {
  if (ASCII_RUN.test(run)) return run.toLowerCase();
  let word = '';
  for (const character of run) {
    if (!isCombiningDiacritic(character)) word += fold(character);
  }
  return word;
}

/** Splits text into the stemmed tokens the keyword index stores (see the module comment). */
export function keywordTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.matchAll(TOKEN_RUN)) {
    const word = foldRun(match[0]);
    if (word.length > 0) tokens.push(stem(word));
  }
  return tokens;
}

function phraseFrequency(tokens: readonly string[], phrase: readonly string[]): number {
  let count = 0;
  for (let start = 0; start + phrase.length <= tokens.length; start += 1) {
    let matches = true;
    for (let offset = 0; offset < phrase.length; offset += 1) {
      if (tokens[start + offset] !== phrase[offset]) {
        matches = false;
        break;
      }
    }
    if (matches) count += 1;
  }
  return count;
}

/**
 * FTS5's BM25 idf of a phrase found in `hits` of `rows` documents, floored at 1e-6 as FTS5 floors it. `log`:
 * the natural logarithm to use; JavaScript's `Math.log` and C's `log` (which FTS5 calls) differ in the last
 * bit for some inputs, so a caller that must equal FTS5 to the bit passes SQLite's `ln()`.
 */
export function bm25Idf(rows: number, hits: number, log: (value: number) => number = Math.log): number {
  const value = log((rows - hits + 0.5) / (hits + 0.5));
  return value <= 0 ? 1e-6 : value;
}

/**
 * One phrase's share of FTS5's BM25 score for a document of `length` tokens holding it `frequency` times
 * (0 when absent): the same expression, in the same order of operations, as FTS5's `bm25()`.
 */
export function bm25Weight(idf: number, frequency: number, length: number, averageLength: number): number {
  return idf * ((frequency * (K1 + 1)) / (frequency + K1 * (1 - B + (B * length) / averageLength)));
}

/** A document of the index: its tokens and its length for BM25. */
interface IndexedDocument {
  tokens: readonly string[];
  length: number;
}

/** An inverted-index-free keyword index: documents keep their tokens; searches scan them. */
export class KeywordIndex {
  private readonly documents = new Map<string, IndexedDocument>();
  private totalTokens = 0;

  /** Number of indexed documents. */
  get size(): number {
    return this.documents.size;
  }

  /**
   * Indexes (or re-indexes) the text of document `id`. `extraLength` counts tokens the document has outside its
   * text, which FTS5 includes in BM25's document length: the SQLite store indexes one token per scope field and
   * one kind token in a second column, so the in-memory store passes {@link outsideTextTokens} to rank identically.
   */
  set(id: string, text: string, extraLength = 0): void {
    this.delete(id);
    const tokens = keywordTokens(text);
    const length = tokens.length + extraLength;
    this.documents.set(id, { tokens, length });
    this.totalTokens += length;
  }

  /** Removes document `id` (no-op when absent). */
  delete(id: string): void {
    const previous = this.documents.get(id);
    if (previous === undefined) return;
    this.totalTokens -= previous.length;
    this.documents.delete(id);
  }

  /** A copy of this index (for the in-memory store's copy-on-write transactions). */
  clone(): KeywordIndex {
    const copy = new KeywordIndex();
    for (const [id, document] of this.documents) copy.documents.set(id, document);
    copy.totalTokens = this.totalTokens;
    return copy;
  }

  /**
   * BM25 scores (higher is better, > 0) of the documents accepted by `accept` that contain any of `terms`.
   * Statistics (document count, average length, document frequency) cover every indexed document, like FTS5.
   */
  score(terms: readonly string[], accept: (id: string) => boolean): Map<string, number> {
    const phrases = terms.map((term) => keywordTokens(term)).filter((phrase) => phrase.length > 0);
    const scores = new Map<string, number>();
    const rowCount = this.documents.size;
    if (phrases.length === 0 || rowCount === 0) return scores;
    const averageLength = this.totalTokens / rowCount;
    const frequencies = new Map<string, number[]>();
    const hits = phrases.map(() => 0);
    for (const [id, { tokens }] of this.documents) {
      const perPhrase = phrases.map((phrase) => phraseFrequency(tokens, phrase));
      perPhrase.forEach((frequency, index) => {
        if (frequency > 0) hits[index] = (hits[index] ?? 0) + 1;
      });
      if (perPhrase.some((frequency) => frequency > 0)) frequencies.set(id, perPhrase);
    }
    const idf = hits.map((hitCount) => bm25Idf(rowCount, hitCount));
    for (const [id, perPhrase] of frequencies) {
      if (!accept(id)) continue;
      const length = this.documents.get(id)?.length ?? 0;
      let total = 0;
      perPhrase.forEach((frequency, index) => {
        total += bm25Weight(idf[index] ?? 0, frequency, length, averageLength);
      });
      scores.set(id, total);
    }
    return scores;
  }
}

/**
 * The tokens the SQLite store indexes for a memory outside its text (its FTS5 `scope` column): one per scope field
 * and one for its kind. They count in BM25's document length, so every store adds them to rank identically.
 */
export function outsideTextTokens(scopeFields: number): number {
  return scopeFields + 1;
}
