/**
 * A tiny deterministic in-process {@link Embedder} for unit tests of other seams (the Memory service, ingestion,
 * stores). It is a real implementation of the seam, not a mock: it runs the shared conformance suite.
 *
 * Vectors are hashed bag-of-words: text is lower-cased, diacritics are stripped, stopwords dropped, and words
 * lightly stemmed ("running" / "runs" / "run" share a bucket), then each word adds +1 or -1 to one of `dimension`
 * buckets chosen by an FNV-1a hash. Texts that share words score high cosine similarity; texts that share none
 * score near zero (collisions are possible at small dimensions). It is NOT semantic: "car" and "automobile" are
 * unrelated to it. Text without any word (emoji, punctuation) is hashed by code point so it still gets a unit
 * vector; the empty string maps to a fixed vector.
 *
 * @example
 * const embedder = createTestEmbedder({ dimension: 32 });
 * const [vector] = await embedder.embed({ texts: ['I like green tea'], purpose: 'document' });
 * embedder.calls.length; // 1
 */

import { EmbedderError } from '../../src/core/errors.js';
import type { Embedder } from '../../src/embedders/types.js';
import { normaliseVector } from '../../src/embedders/types.js';

/** Options for {@link createTestEmbedder}. */
export interface TestEmbedderOptions {
  /** Vector length. @default 64 */
  dimension?: number;
  /** The advertised `maxBatchSize`. @default 16 */
  maxBatchSize?: number;
  /**
   * When true, an `embed` call with more than `maxBatchSize` texts throws {@link EmbedderError}, so a caller's
   * own batching can be tested. When false, any batch size is accepted (like the real backends).
   * @default false
   */
  rejectOversizedBatches?: boolean;
}

/** One recorded `embed` call. */
export interface TestEmbedderCall {
  texts: string[];
  purpose: 'document' | 'query';
}

/** The test embedder: an {@link Embedder} that also records its calls. */
export interface TestEmbedder extends Embedder {
  /** Every `embed` call, in order (including failed ones). */
  readonly calls: TestEmbedderCall[];
  /** True once `close` was called. */
  readonly closed: boolean;
}

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by do does did for from had has have he her him his i if in into is it its me ' +
    'my no not of on or our she so than that the their them then there these they this to too was we were what ' +
    'when where which who will with would you your'
  ).split(' '),
);

/** Light suffix stripping so inflections of a word share a bucket ("loves", "loved", "loving", "love"). */
export function stemWord(word: string): string {
  let stem = word;
  for (const suffix of ['ingly', 'edly', 'ing', 'ies', 'ied', 'ed', 'es', 'ly', 's']) {
    if (word.length - suffix.length >= 3 && word.endsWith(suffix) && !word.endsWith('ss')) {
      stem = word.slice(0, -suffix.length);
      // "boxes" -> "box" but "coffees" -> "coffee": only sibilant stems take "es".
      if (suffix === 'es' && !/(s|x|z|ch|sh|o)$/.test(stem)) stem = word.slice(0, -1);
      if (suffix === 'ies' || suffix === 'ied') stem += 'y';
      // "running" -> "runn" -> "run": collapse a doubled final consonant left by the suffix.
      const last = stem.at(-1) ?? '';
      if (stem.length >= 4 && last === stem.at(-2) && !'aeiouls'.includes(last)) stem = stem.slice(0, -1);
      break;
    }
  }
  // A final silent "e" is dropped everywhere so "love" and "lov(es)" agree.
  return stem.length >= 4 && stem.endsWith('e') ? stem.slice(0, -1) : stem;
}

/** The tokens the test embedder hashes: stemmed, lower-cased words without stopwords. */
export function testEmbedderTokens(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  const words = [...folded.matchAll(/[\p{L}\p{N}]+/gu)].map((match) => match[0]);
  const content = words.filter((word) => !STOPWORDS.has(word)).map(stemWord);
  if (content.length > 0) return content;
  if (words.length > 0) return words;
  const symbols = [...folded].filter((character) => character.trim() !== '');
  return symbols.length > 0 ? symbols : ['<empty>'];
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Hashed bag-of-words vector of `text`, L2-normalised. Exported so tests can compute expected vectors. */
export function hashedBagOfWords(text: string, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (const token of testEmbedderTokens(text)) {
    const hash = fnv1a(token);
    const bucket = hash % dimension;
    vector[bucket] = (vector[bucket] ?? 0) + ((hash >>> 31) & 1 ? -1 : 1);
  }
  // Every bucket cancelled out (rare): fall back to a fixed bucket so the vector stays unit length.
  if (vector.every((value) => value === 0)) vector[fnv1a(text) % dimension] = 1;
  return normaliseVector(vector);
}

/** Creates a deterministic hashed bag-of-words embedder with id `test:hash-<dimension>`. */
export function createTestEmbedder(options: TestEmbedderOptions = {}): TestEmbedder {
  const dimension = options.dimension ?? 64;
  const maxBatchSize = options.maxBatchSize ?? 16;
  if (!Number.isInteger(dimension) || dimension < 1)
    throw new RangeError(`dimension must be >= 1, got ${dimension}`);
  const calls: TestEmbedderCall[] = [];
  let closed = false;
  return {
    id: `test:hash-${dimension}`,
    dimension,
    maxBatchSize,
    calls,
    get closed() {
      return closed;
    },
    async embed({ texts, purpose, signal }) {
      calls.push({ texts: [...texts], purpose });
      if (closed) throw new EmbedderError('test embedder: embed called after close()');
      if (signal?.aborted) throw new EmbedderError('test embedder: aborted', { cause: signal.reason });
      if (options.rejectOversizedBatches === true && texts.length > maxBatchSize) {
        throw new EmbedderError(
          `test embedder: batch of ${texts.length} exceeds maxBatchSize ${maxBatchSize}`,
        );
      }
      return texts.map((text) => hashedBagOfWords(text, dimension));
    },
    async close() {
      closed = true;
    },
  };
}
