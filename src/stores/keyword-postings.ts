/**
 * An inverted keyword index in memory, ranking exactly like FTS5's `bm25()` over the same documents: the tokens
 * of `keyword-index.ts` (`keywordTokens`), each query term a phrase, terms ORed, FTS5's BM25 (`bm25Idf`,
 * `bm25Weight`) with the document count, average length and document frequencies of every indexed document.
 *
 * Built for a scope of 100k documents and more, where FTS5 spends about 1 us per matching row in `bm25()` (its
 * per-row position and document-size look-ups) and a common word matches a fifth of the table: here a term's
 * postings are two typed arrays (document slot, frequency) that a search walks once per term, so a query
 * matching 18,000 documents is scored in well under a millisecond.
 *
 * Contract:
 * - `set(id, text, outsideText)` indexes (or re-indexes) document `id`; its length for BM25 counts the tokens of
 *   `text` and of `outsideText` (FTS5 counts every column), but only `text` is searched.
 * - `delete(id)` removes it. Removed slots stay in the postings, marked dead, until {@link deadShare} says a
 *   rebuild is due (the owner rebuilds from its source; this class never reclaims them).
 * - `top(terms, count, log)` returns the `count` best documents holding any term, best first (ties in any
 *   order), or undefined when a term is a multi-token phrase (the caller asks its full-text engine instead).
 *   Scores equal FTS5's to the bit when `log` is C's (SQLite's `ln()`), else to within a few units in the last
 *   place.
 */
import { bm25Idf, bm25Weight, keywordTokens } from './keyword-index.js';

/** One token's postings: the slots of the documents holding it and how often, in insertion order. */
interface Postings {
  slots: Int32Array;
  frequencies: Uint16Array;
  size: number;
}

/** A scored document. */
export interface PostingHit {
  id: number;
  score: number;
}

const INITIAL_CAPACITY = 4;

export class KeywordPostings {
  private readonly postings = new Map<string, Postings>();
  private readonly slotOf = new Map<number, number>();
  private ids: number[] = [];
  private lengths = new Int32Array(1024);
  private alive = new Uint8Array(1024);
  private liveCount = 0;
  private totalLength = 0;
  private scores = new Float64Array(1024);

  /** Number of indexed (live) documents. */
  get size(): number {
    return this.liveCount;
  }

  /** Share of the slots held by removed or re-indexed documents (0 when empty). */
  get deadShare(): number {
    return this.ids.length === 0 ? 0 : 1 - this.liveCount / this.ids.length;
  }

  /** Indexes document `id` (replacing its previous text): see the module comment. */
  set(id: number, text: string, outsideText = ''): void {
    this.delete(id);
    const tokens = keywordTokens(text);
    const slot = this.ids.length;
    this.ensureSlots(slot + 1);
    this.ids.push(id);
    this.slotOf.set(id, slot);
    const length = tokens.length + keywordTokens(outsideText).length;
    this.lengths[slot] = length;
    this.alive[slot] = 1;
    this.liveCount += 1;
    this.totalLength += length;
    const counts = new Map<string, number>();
    for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
    for (const [token, count] of counts) this.append(token, slot, count);
  }

  /** Removes document `id` (no-op when absent). */
  delete(id: number): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.alive[slot] = 0;
    this.liveCount -= 1;
    this.totalLength -= this.lengths[slot] ?? 0;
  }

  /**
   * The `count` best-scoring documents holding any of `terms` (see the module comment). `log`: the logarithm
   * for the idf (see `bm25Idf`).
   */
  top(
    terms: readonly string[],
    count: number,
    log: (value: number) => number = Math.log,
  ): PostingHit[] | undefined {
    const phrases = terms.map((term) => keywordTokens(term)).filter((phrase) => phrase.length > 0);
    if (phrases.some((phrase) => phrase.length > 1)) return undefined;
    if (phrases.length === 0 || this.liveCount === 0 || count <= 0) return [];
    const averageLength = this.totalLength / this.liveCount;
    const scores = this.scores;
    const touched: number[] = [];
    // Phrase by phrase, in the query's order, as FTS5 adds them up (a phrase absent from a document adds 0).
    for (const [token] of phrases) {
      const list = token === undefined ? undefined : this.postings.get(token);
      if (list === undefined) continue;
      let hits = 0;
      for (let index = 0; index < list.size; index += 1)
        hits += this.alive[list.slots[index] as number] as number;
      if (hits === 0) continue;
      const idf = bm25Idf(this.liveCount, hits, log);
      for (let index = 0; index < list.size; index += 1) {
        const slot = list.slots[index] as number;
        if (this.alive[slot] === 0) continue;
        const weight = bm25Weight(
          idf,
          list.frequencies[index] as number,
          this.lengths[slot] as number,
          averageLength,
        );
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] = (scores[slot] as number) + weight;
      }
    }
    const best = bestSlots(touched, scores, count);
    const hits = best.map((slot) => ({ id: this.ids[slot] as number, score: scores[slot] as number }));
    for (const slot of touched) scores[slot] = 0;
    return hits;
  }

  private append(token: string, slot: number, frequency: number): void {
    let list = this.postings.get(token);
    if (list === undefined) {
      list = {
        slots: new Int32Array(INITIAL_CAPACITY),
        frequencies: new Uint16Array(INITIAL_CAPACITY),
        size: 0,
      };
      this.postings.set(token, list);
    }
    if (list.size === list.slots.length) {
      const slots = new Int32Array(list.size * 2);
      slots.set(list.slots);
      const frequencies = new Uint16Array(list.size * 2);
      frequencies.set(list.frequencies);
      list.slots = slots;
      list.frequencies = frequencies;
    }
    list.slots[list.size] = slot;
    list.frequencies[list.size] = Math.min(frequency, 0xffff);
    list.size += 1;
  }

  private ensureSlots(needed: number): void {
    if (needed <= this.lengths.length) return;
    const capacity = Math.max(needed, this.lengths.length * 2);
    const lengths = new Int32Array(capacity);
    lengths.set(this.lengths);
    const alive = new Uint8Array(capacity);
    alive.set(this.alive);
    this.lengths = lengths;
    this.alive = alive;
    this.scores = new Float64Array(capacity);
  }
}

/** The `count` slots of `slots` with the highest `scores`, best first: a bounded min-heap, then a sort. */
function bestSlots(slots: readonly number[], scores: Float64Array, count: number): number[] {
  if (slots.length <= count)
    return [...slots].sort((left, right) => (scores[right] as number) - (scores[left] as number));
  const heap: number[] = [];
  const score = (position: number) => scores[heap[position] as number] as number;
  const swap = (left: number, right: number) => {
    const held = heap[left] as number;
    heap[left] = heap[right] as number;
    heap[right] = held;
  };
  const siftDown = (start: number) => {
    for (let position = start; ; ) {
      const left = position * 2 + 1;
      const right = left + 1;
      let smallest = position;
      if (left < heap.length && score(left) < score(smallest)) smallest = left;
      if (right < heap.length && score(right) < score(smallest)) smallest = right;
      if (smallest === position) return;
      swap(position, smallest);
      position = smallest;
    }
  };
  for (const slot of slots) {
    if (heap.length < count) {
      heap.push(slot);
      for (let position = heap.length - 1; position > 0; ) {
        const parent = (position - 1) >> 1;
        if (score(parent) <= score(position)) break;
        swap(parent, position);
        position = parent;
      }
    } else if ((scores[slot] as number) > score(0)) {
      heap[0] = slot;
      siftDown(0);
    }
  }
  return heap.sort((left, right) => (scores[right] as number) - (scores[left] as number));
}
