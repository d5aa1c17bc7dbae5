/**
 * An {@link Embedder} wrapper that embeds each distinct text once and hands every later caller the same vector.
 * The benchmarks wrap the real embedder in it so that every system under test (mneme's three modes and Mem0) sees
 * identical vectors and the slow part, embedding, is paid once per run instead of once per system.
 *
 * Optionally the cache persists to a file (`cacheFile`), so repeated runs on the same data skip embedding
 * entirely. The file records the inner embedder's id and dimension and is ignored when they differ.
 * Format: one JSON header line, then records of [uint32 LE key length][UTF-8 key][dimension × float32 LE].
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Embedder } from '../../src/embedders/types.js';
import { nowMs } from './stats.js';

/** Options for {@link CachingEmbedder}. */
export interface CachingEmbedderOptions {
  /**
   * Treat `document` and `query` embeddings of a text as the same vector (true for symmetric models such as
   * the local Universal Sentence Encoder). @default false
   */
  symmetric?: boolean;
  /** Persist vectors to this file and load it on start. @default no file */
  cacheFile?: string;
}

/** Counters for the report: how much embedding work was done and how fast the inner embedder ran. */
export interface EmbeddingStats {
  /** Texts the inner embedder computed. */
  computed: number;
  /** Milliseconds spent inside the inner embedder. */
  computeMs: number;
  /** Requests answered from the cache. */
  hits: number;
  /** Vectors loaded from `cacheFile` at start. */
  loaded: number;
}

/** Memoises another embedder by (purpose, text). Implements the Embedder seam, so it can be injected anywhere. */
export class CachingEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatchSize: number;
  readonly stats: EmbeddingStats = { computed: 0, computeMs: 0, hits: 0, loaded: 0 };
  readonly #inner: Embedder;
  readonly #symmetric: boolean;
  readonly #cacheFile: string | undefined;
  readonly #vectors = new Map<string, Float32Array>();

  constructor(inner: Embedder, options: CachingEmbedderOptions = {}) {
    this.#inner = inner;
    this.id = inner.id;
    this.dimension = inner.dimension;
    this.maxBatchSize = inner.maxBatchSize;
    this.#symmetric = options.symmetric ?? false;
    this.#cacheFile = options.cacheFile;
    if (this.#cacheFile) this.#load(this.#cacheFile);
  }

  /** Number of distinct vectors held. */
  get size(): number {
    return this.#vectors.size;
  }

  /** True when a vector for `text` (and `purpose`) is cached. */
  has(text: string, purpose: 'document' | 'query'): boolean {
    return this.#vectors.has(this.#key(text, purpose));
  }

  async embed(options: {
    texts: string[];
    purpose: 'document' | 'query';
    signal?: AbortSignal;
  }): Promise<Float32Array[]> {
    const keys = options.texts.map((text) => this.#key(text, options.purpose));
    const missing = new Map<string, string>();
    keys.forEach((key, index) => {
      if (!this.#vectors.has(key) && !missing.has(key)) missing.set(key, options.texts[index] ?? '');
    });
    this.stats.hits += keys.length - missing.size;
    if (missing.size > 0) {
      const pendingKeys = [...missing.keys()];
      const start = nowMs();
      const vectors = await this.#inner.embed({
        texts: [...missing.values()],
        purpose: options.purpose,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.stats.computeMs += nowMs() - start;
      this.stats.computed += vectors.length;
      if (vectors.length !== pendingKeys.length) {
        throw new Error(`inner embedder returned ${vectors.length} vectors for ${pendingKeys.length} texts`);
      }
      pendingKeys.forEach((key, index) => {
        const vector = vectors[index];
        if (vector) this.#vectors.set(key, vector);
      });
      if (this.#cacheFile) this.#append(this.#cacheFile, pendingKeys);
    }
    return keys.map((key) => {
      const vector = this.#vectors.get(key);
      if (!vector) throw new Error('caching embedder: vector missing after embedding');
      // Callers may keep or mutate the array; hand out a copy so the cached vector stays pristine.
      return Float32Array.from(vector);
    });
  }

  /**
   * Embeds every text not yet cached, in batches of `batchSize`, calling `onBatch(count)` after each batch.
   * Used to pay the embedding cost up front with visible progress.
   */
  async prefetch(
    texts: readonly string[],
    purpose: 'document' | 'query',
    options: { batchSize?: number; onBatch?: (count: number) => void } = {},
  ): Promise<void> {
    const unique = [...new Set(texts)].filter((text) => !this.has(text, purpose));
    const size = Math.max(1, options.batchSize ?? this.maxBatchSize);
    for (let start = 0; start < unique.length; start += size) {
      const batch = unique.slice(start, start + size);
      await this.embed({ texts: batch, purpose });
      options.onBatch?.(batch.length);
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #key(text: string, purpose: 'document' | 'query'): string {
    return this.#symmetric ? text : `${purpose}\u0000${text}`;
  }

  #header(): string {
    return `${JSON.stringify({ format: 'mneme-bench-embeddings/1', embedder: this.id, dimension: this.dimension })}\n`;
  }

  #load(file: string): void {
    if (!existsSync(file)) {
      writeFileSync(file, this.#header());
      return;
    }
    const bytes = readFileSync(file);
    const newline = bytes.indexOf(10);
    const header = newline > 0 ? bytes.subarray(0, newline + 1).toString('utf8') : '';
    if (header !== this.#header()) {
      // Another embedder (or format) wrote this file: start over rather than mix vector spaces.
      writeFileSync(file, this.#header());
      return;
    }
    let offset = newline + 1;
    const vectorBytes = this.dimension * 4;
    while (offset + 4 <= bytes.length) {
      const keyLength = bytes.readUInt32LE(offset);
      const end = offset + 4 + keyLength + vectorBytes;
      if (end > bytes.length) break; // A torn last record from an interrupted run.
      const key = bytes.subarray(offset + 4, offset + 4 + keyLength).toString('utf8');
      const vector = new Float32Array(this.dimension);
      const source = bytes.subarray(offset + 4 + keyLength, end);
      for (let index = 0; index < this.dimension; index += 1) vector[index] = source.readFloatLE(index * 4);
      this.#vectors.set(key, vector);
      this.stats.loaded += 1;
      offset = end;
    }
  }

  #append(file: string, keys: readonly string[]): void {
    const chunks: Buffer[] = [];
    for (const key of keys) {
      const vector = this.#vectors.get(key);
      if (!vector) continue;
      const keyBytes = Buffer.from(key, 'utf8');
      const record = Buffer.alloc(4 + keyBytes.length + vector.length * 4);
      record.writeUInt32LE(keyBytes.length, 0);
      keyBytes.copy(record, 4);
      for (const [index, value] of vector.entries())
        record.writeFloatLE(value, 4 + keyBytes.length + index * 4);
      chunks.push(record);
    }
    appendFileSync(file, Buffer.concat(chunks));
  }
}
