/**
 * One measurement of the latency suite, run in its own process so that its peak RSS is its own:
 * `node --import tsx bench/support/latency-worker.ts '<json task>'`. The last stdout line is the JSON result.
 *
 * Tasks:
 * - `mneme`: bulk-load N synthetic memories over U users into a fresh SQLite file (or PostgreSQL schema, its
 *   GIN and HNSW indexes dropped for the load and built after it) THROUGH THE STORE SEAM
 *   (`store.apply` with batched inserts: `memory.add` would pay the embedder for every row), then measure
 *   `memory.search` with a precomputed query vector and with the real embedder, and `memory.add` throughput.
 * - `mem0`: the same data through Mem0 OSS's public `add` (its vectors precomputed and injected through the
 *   embedder seam), then its search and add the same way.
 * - `scan`: the physical floor: a brute-force dot-product scan of n x 512 float32 in plain JavaScript.
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { LocalEmbedder } from '../../src/embedders/local.js';
import type { Embedder } from '../../src/embedders/types.js';
import { createMemory } from '../../src/memory/memory.js';
import { SqliteStore } from '../../src/stores/sqlite.js';
import type { MemoryChange } from '../../src/stores/types.js';
import { type BenchStore, createBenchStore } from './bench-stores.js';
import { CachingEmbedder } from './caching-embedder.js';
import { peakRssMb } from './machine.js';
import { createMem0 } from './mem0.js';
import { messageRecord } from './message-record.js';
import { createProgress, log } from './progress.js';
import { type LatencySummary, nowMs, round, summarise } from './stats.js';
import { createRandom, createSyntheticCorpus, type SyntheticCorpus } from './synthetic.js';

/** What the parent asks a worker to measure. */
export type LatencyTask =
  | {
      kind: 'mneme' | 'mem0';
      memories: number;
      users: number;
      queries: number;
      addSamples: number;
      budgetMs: number;
      /** mneme only: a `postgres://` URL to run on (a fresh schema, dropped after) instead of a SQLite file. */
      store?: string;
    }
  | { kind: 'scan'; sizes: number[]; dimension: number };

/** One row of the suite's `runs`. */
export interface LatencyRun {
  system: 'mneme' | 'mem0';
  /** mneme only: the store it ran on. */
  store?: 'sqlite' | 'postgres';
  /**
   * PostgreSQL only: seconds to build the search indexes (keyword GIN, then HNSW) over the bulk-loaded memories
   * from scratch, after a load that ran without them (1 GB `maintenance_work_mem`; the `VACUUM ANALYZE` after is
   * not counted). Not part of `load_per_s`.
   */
  index_build_s?: number;
  /** PostgreSQL only: the HNSW part of `index_build_s` (the rest is the GIN index). */
  hnsw_build_s?: number;
  memories: number;
  users: number;
  search_ms: LatencySummary;
  search_with_embedding_ms: LatencySummary;
  /** End-to-end `add` (infer false) per second with the real embedder, one text per call. */
  add_per_s: number;
  /** The real embedder alone on the same kind of texts, one per call. */
  embed_per_s: number;
  /** add_per_s / embed_per_s. */
  add_share_of_embedder: number;
  /** `add` per second with the vector already computed: the memory layer's own cost. */
  add_without_embedding_per_s: number;
  /**
   * Rows per second of loading with precomputed vectors (mneme: store.apply batches of 2,000, on PostgreSQL with
   * the GIN and HNSW indexes dropped, their build in `index_build_s`; Mem0: its public add for the first
   * min(500, n/10) rows).
   */
  load_per_s: number;
  peak_rss_mb: number;
  db_mb: number;
  queries: number;
  queries_with_embedding: number;
  /** 1-minute load average when this run started (other work on the machine inflates timings). */
  load_average: number;
  /** mneme only: `mode: 'dense'` and `mode: 'keyword'` searches alone (precomputed query vector). */
  search_dense_ms?: LatencySummary;
  search_keyword_ms?: LatencySummary;
  /**
   * mneme only, at the store seam (`searchDense`, limit 10, same queries and users): the default plan (the
   * binary index above `exactScanMaxRows` vectors per user, else exact) against the exact scan forced
   * (`exactScanMaxRows: Infinity`), and the share of the exact top 10 the default plan returns.
   */
  store_dense_ms?: LatencySummary;
  /**
   * mneme on SQLite: seconds the keyword mirror took to be built after the first warm-up search, while the
   * process idled (absent when no search used it: a user holding less than 75% of the file, or PostgreSQL).
   */
  keyword_mirror_build_s?: number;
  store_dense_exact_ms?: LatencySummary;
  dense_recall_at_10?: number;
  /** How the default plan answered those searches. */
  dense_plans?: { exact: number; approximate: number; fallback: number };
}

/** One row of the brute-force scan measurement. */
export interface ScanRun {
  rows: number;
  dimension: number;
  /** Exact top-10 scan, p50. */
  scan_ms: number;
  /** Bytes of vectors scanned per second by the exact scan. */
  gb_per_s: number;
  /** Binary-quantised Hamming scan keeping 500 candidates, re-ranked exactly, p50. */
  binary_rerank_ms: number;
  /** Share of the exact top 10 that the binary + re-rank search returns. */
  binary_recall_at_10: number;
}

const DIMENSION = 512;
const EMBEDDER_ID = 'local:use-lite-512';

/**
 * Runs `task` up to `count` times, stopping early once `budgetMs` has passed (after at least `minimum` runs).
 * Returns the durations.
 */
/** The longest wait for the keyword mirror to be built before timing, in ms. */
const MIRROR_WAIT_MS = 60_000;

/** Searches run before each timed phase that needs a warm process (and embeddings before search+embed). */
const WARM_UP_CALLS = 50;

async function timeRepeated(
  count: number,
  budgetMs: number,
  minimum: number,
  task: (index: number) => Promise<unknown>,
  label: string,
): Promise<number[]> {
  const durations: number[] = [];
  const start = nowMs();
  const progress = createProgress(label, count);
  for (let index = 0; index < count; index += 1) {
    if (index >= minimum && nowMs() - start > budgetMs) break;
    const begin = nowMs();
    await task(index);
    durations.push(nowMs() - begin);
    progress.tick();
  }
  progress.done();
  return durations;
}

/** Distinct texts from the corpus (the add samples must not be exact duplicates, which `add` skips). */
function distinctTexts(corpus: SyntheticCorpus, count: number, taken: Set<string>): string[] {
  const texts: string[] = [];
  while (texts.length < count) {
    const { text } = corpus.memory();
    if (taken.has(text)) continue;
    taken.add(text);
    texts.push(text);
  }
  return texts;
}

function fileMb(...paths: string[]): number {
  let bytes = 0;
  for (const path of paths) {
    try {
      bytes += statSync(path).size;
    } catch {
      // Absent (e.g. no WAL after a clean close).
    }
  }
  return round(bytes / 2 ** 20, 1);
}

/** Measures the embedder alone: one text per call, like `add` of one message. */
async function embedderRate(embedder: Embedder, texts: string[]): Promise<number> {
  await embedder.embed({ texts: ['warm up the model'], purpose: 'document' });
  const start = nowMs();
  for (const text of texts) await embedder.embed({ texts: [text], purpose: 'document' });
  return texts.length / ((nowMs() - start) / 1000);
}

/** What both systems measure, raw: timings in ms, rates per second. */
interface RawFigures {
  search: number[];
  withEmbedding: number[];
  addPerS: number;
  embedPerS: number;
  addWithoutEmbedding: number;
  loadPerS: number;
  /** Size of the database on disk. */
  dbMb: number;
  startLoad: number;
}

/** The fields of a {@link LatencyRun} that every system reports, summarised and rounded alike. */
function runFigures(
  system: LatencyRun['system'],
  task: { memories: number; users: number },
  raw: RawFigures,
): LatencyRun {
  return {
    system,
    memories: task.memories,
    users: task.users,
    search_ms: summarise(raw.search),
    search_with_embedding_ms: summarise(raw.withEmbedding),
    add_per_s: round(raw.addPerS, 1),
    embed_per_s: round(raw.embedPerS, 1),
    add_share_of_embedder: round(raw.addPerS / raw.embedPerS, 3),
    add_without_embedding_per_s: round(raw.addWithoutEmbedding, 1),
    load_per_s: round(raw.loadPerS, 0),
    peak_rss_mb: peakRssMb(),
    db_mb: raw.dbMb,
    queries: raw.search.length,
    queries_with_embedding: raw.withEmbedding.length,
    load_average: raw.startLoad,
  };
}

async function measureMneme(task: Extract<LatencyTask, { kind: 'mneme' | 'mem0' }>): Promise<LatencyRun> {
  const startLoad = round(loadavg()[0] ?? 0, 2);
  const storage = await createBenchStore(task.store);
  try {
    const corpus = createSyntheticCorpus({ dimension: DIMENSION, seed: 7 });
    const random = createRandom(11);
    const store = storage.create();
    await store.open({ embedder: { id: EMBEDDER_ID, dimension: DIMENSION } });
    await storage.beforeBulkLoad();
    log(
      `mneme (${storage.kind}): bulk-loading ${task.memories} memories over ${task.users} users via store.apply`,
    );
    const progress = createProgress('mneme load', task.memories);
    const loadStart = nowMs();
    const batchSize = 2000;
    const baseTime = Date.parse('2025-01-01T00:00:00.000Z');
    for (let start = 0; start < task.memories; start += batchSize) {
      const changes: MemoryChange[] = [];
      const now = new Date().toISOString();
      for (let index = start; index < Math.min(task.memories, start + batchSize); index += 1) {
        const { text, vector } = corpus.memory();
        // Users interleave, as when many users write at once.
        const observedAt = new Date(baseTime + index * 60_000).toISOString();
        const record = messageRecord(text, `user-${index % task.users}`, observedAt, { writtenAt: now });
        changes.push({
          type: 'insert',
          record,
          embedding: vector,
          event: { event: 'ADD', newValue: text, actor: 'bench', createdAt: now },
        });
      }
      await store.apply({ changes });
      progress.tick(changes.length);
    }
    progress.done();
    const loadPerS = task.memories / ((nowMs() - loadStart) / 1000);
    const indexBuild = await storage.afterBulkLoad();
    if (indexBuild !== undefined) {
      log(
        `mneme (${storage.kind}): indexes built: GIN ${indexBuild.ginS} s, HNSW ${indexBuild.hnswS} s; VACUUM ANALYZE ${indexBuild.vacuumAnalyzeS} s`,
      );
    }
    await store.close();

    const local = new LocalEmbedder();
    const embedder = new CachingEmbedder(local);
    const searchStore = storage.create();
    const memory = await createMemory({
      store: searchStore,
      embedder,
      llm: null,
      logLevel: 'error',
      ingestion: { background: false },
      env: {},
    });
    const userFor = () => `user-${Math.floor(random() * task.users)}`;
    const queries = Array.from({ length: task.queries }, () => corpus.query());
    const warmUpQueries = Array.from({ length: WARM_UP_CALLS }, () => corpus.query());
    // Warm-up, so the figures are a long-running process's: caches filled, the code compiled and, for a user
    // holding most of a SQLite file, the keyword mirror built (sqlite/keyword-mirror.ts reads it in while the
    // process idles, timed from the first search). Queries of their own, so none of the timed ones has run before.
    const warmUp = async (query: { text: string; vector: Float32Array }) => {
      await memory.search(query.text, { userId: userFor(), limit: 10, queryEmbedding: query.vector });
    };
    const [firstWarmUp, ...restWarmUp] = warmUpQueries;
    if (firstWarmUp !== undefined) await warmUp(firstWarmUp);
    const mirrorStart = nowMs();
    while (searchStore instanceof SqliteStore && searchStore.keywordMirrorStatus === 'building') {
      if (nowMs() - mirrorStart > MIRROR_WAIT_MS) throw new Error('keyword mirror still building after 60 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const mirrorBuildS =
      searchStore instanceof SqliteStore && searchStore.keywordMirrorStatus === 'ready'
        ? round((nowMs() - mirrorStart) / 1000, 2)
        : undefined;
    for (const query of restWarmUp) await warmUp(query);
    const search = await timeRepeated(
      task.queries,
      task.budgetMs,
      10,
      async (index) => {
        const query = queries[index] ?? corpus.query();
        await memory.search(query.text, { userId: userFor(), limit: 10, queryEmbedding: query.vector });
      },
      'mneme search',
    );
    // The two signals alone (precomputed query vector), to show which one limits the hybrid search.
    const denseOnly = await timeRepeated(
      Math.min(task.queries, 100),
      task.budgetMs / 2,
      10,
      async (index) => {
        const query = queries[index] ?? corpus.query();
        await memory.search(query.text, {
          userId: userFor(),
          limit: 10,
          mode: 'dense',
          queryEmbedding: query.vector,
        });
      },
      'mneme dense',
    );
    const keywordOnly = await timeRepeated(
      Math.min(task.queries, 100),
      task.budgetMs / 2,
      10,
      async (index) => {
        const query = queries[index] ?? corpus.query();
        await memory.search(query.text, { userId: userFor(), limit: 10, mode: 'keyword' });
      },
      'mneme keyword',
    );
    // With the embedder: distinct question texts, so none is cached. Load the model first (about a second),
    // then warm it up as a long-running process has: its first ~50 calls run up to 3x slower (p90 31 ms against
    // 14-19 ms for later calls, measured 2026-12-07), which would otherwise be most of a 100-query p95.
    await local.embed({ texts: ['load the model'], purpose: 'query' });
    for (const [index, query] of warmUpQueries.entries()) {
      await memory.search(`${query.text} (warm-up ${index})`, { userId: userFor(), limit: 10 });
    }
    const taken = new Set<string>();
    const questionTexts = queries.map((query, index) => `${query.text} (${index})`);
    const withEmbedding = await timeRepeated(
      Math.min(task.queries, 100),
      task.budgetMs,
      10,
      async (index) => {
        await memory.search(questionTexts[index] ?? 'what did I say?', { userId: userFor(), limit: 10 });
      },
      'mneme search+embed',
    );
    const embedTexts = distinctTexts(corpus, task.addSamples, taken);
    const embedPerS = await embedderRate(embedder, embedTexts);
    // The same texts again through add: their vectors are now cached, so this is the memory layer's own cost.
    const storeStart = nowMs();
    for (const text of embedTexts) await memory.add(text, { userId: userFor(), infer: false });
    const addWithoutEmbedding = embedTexts.length / ((nowMs() - storeStart) / 1000);
    const addTexts = distinctTexts(corpus, task.addSamples, taken);
    const addStart = nowMs();
    for (const text of addTexts) await memory.add(text, { userId: userFor(), infer: false });
    const addPerS = addTexts.length / ((nowMs() - addStart) / 1000);
    await memory.close();
    const dense = await compareDensePlans(storage, queries, userFor, task.budgetMs);
    return {
      store: storage.kind,
      ...(indexBuild !== undefined
        ? { index_build_s: round(indexBuild.ginS + indexBuild.hnswS, 1), hnsw_build_s: indexBuild.hnswS }
        : {}),
      ...runFigures('mneme', task, {
        search,
        withEmbedding,
        addPerS,
        embedPerS,
        addWithoutEmbedding,
        loadPerS,
        dbMb: await storage.sizeMb(),
        startLoad,
      }),
      search_dense_ms: summarise(denseOnly),
      search_keyword_ms: summarise(keywordOnly),
      ...(mirrorBuildS !== undefined ? { keyword_mirror_build_s: mirrorBuildS } : {}),
      ...dense,
    };
  } finally {
    await storage.cleanup();
  }
}

/**
 * The store's default dense plan against the exact scan on the same file and queries: timings of both and the
 * recall@10 of the default plan (1.0 wherever the scope is small enough to be scanned exactly anyway).
 */
async function compareDensePlans(
  storage: BenchStore,
  queries: Array<{ vector: Float32Array }>,
  userFor: () => string,
  budgetMs: number,
): Promise<
  Pick<LatencyRun, 'store_dense_ms' | 'store_dense_exact_ms' | 'dense_recall_at_10' | 'dense_plans'>
> {
  const embedder = { id: EMBEDDER_ID, dimension: DIMENSION };
  const indexed = storage.create();
  const exact = storage.create({ exact: true });
  await indexed.open({ embedder });
  await exact.open({ embedder });
  const count = Math.min(queries.length, 50);
  const searches = Array.from({ length: count }, (_, index) => ({
    scope: { userId: userFor() },
    temporal: { now: new Date().toISOString() },
    embedding: queries[index]?.vector ?? new Float32Array(DIMENSION),
    limit: 10,
  }));
  const searchAt = (index: number) => {
    const search = searches[index];
    if (search === undefined) throw new Error(`no search ${index}`);
    return search;
  };
  const exactIds: Array<Set<string>> = [];
  const indexedIds: string[][] = [];
  const exactTimes = await timeRepeated(
    count,
    budgetMs,
    count,
    async (index) => {
      const hits = await exact.searchDense(searchAt(index));
      exactIds.push(new Set(hits.map((hit) => hit.record.id)));
    },
    'store dense exact',
  );
  const indexedTimes = await timeRepeated(
    count,
    budgetMs,
    count,
    async (index) => {
      const hits = await indexed.searchDense(searchAt(index));
      indexedIds.push(hits.map((hit) => hit.record.id));
    },
    'store dense default plan',
  );
  let found = 0;
  let expected = 0;
  indexedIds.forEach((ids, index) => {
    const truth = exactIds[index] ?? new Set<string>();
    expected += truth.size;
    found += ids.filter((id) => truth.has(id)).length;
  });
  const plans = (await indexed.diagnostics()).densePlans;
  await indexed.close();
  await exact.close();
  return {
    store_dense_ms: summarise(indexedTimes),
    store_dense_exact_ms: summarise(exactTimes),
    dense_recall_at_10: expected === 0 ? 1 : round(found / expected, 3),
    dense_plans: plans,
  };
}

/**
 * An embedder for Mem0 that answers from precomputed vectors when it knows the text and otherwise either calls
 * the real embedder (`real = true`) or hashes the text to a vector (cheap: for the entity phrases Mem0 embeds
 * on every search, which match nothing in an infer-false store).
 */
class LookupEmbedder implements Embedder {
  readonly id = EMBEDDER_ID;
  readonly dimension = DIMENSION;
  readonly maxBatchSize = 16;
  real = false;
  readonly vectors = new Map<string, Float32Array>();
  constructor(private readonly inner: Embedder) {}

  async embed(options: { texts: string[]; purpose: 'document' | 'query' }): Promise<Float32Array[]> {
    const known = options.texts.map((text) => this.vectors.get(text));
    if (known.every((vector) => vector !== undefined)) return known as Float32Array[];
    if (this.real) return this.inner.embed(options);
    return options.texts.map((text) => this.vectors.get(text) ?? hashedVector(text));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function hashedVector(text: string): Float32Array {
  let seed = 2166136261;
  for (let index = 0; index < text.length; index += 1)
    seed = Math.imul(seed ^ text.charCodeAt(index), 16777619);
  const random = createRandom(seed);
  const vector = new Float32Array(DIMENSION);
  for (let index = 0; index < DIMENSION; index += 1) vector[index] = random() - 0.5;
  let norm = 0;
  for (const value of vector) norm += value * value;
  return vector.map((value) => value / Math.sqrt(norm));
}

async function measureMem0(task: Extract<LatencyTask, { kind: 'mneme' | 'mem0' }>): Promise<LatencyRun> {
  const startLoad = round(loadavg()[0] ?? 0, 2);
  const corpus = createSyntheticCorpus({ dimension: DIMENSION, seed: 7 });
  const random = createRandom(11);
  const local = new LocalEmbedder();
  const embedder = new LookupEmbedder(local);
  const mem0 = await createMem0({ embedder });
  try {
    // Mem0's public add commits one row per call and slows as the store grows (45/s at 2k rows here), so the
    // first rows go through it (its load rate) and the rest are written in batches into its vector store.
    const viaAdd = Math.min(500, Math.ceil(task.memories / 10));
    log(
      `mem0: loading ${task.memories} memories over ${task.users} users (${viaAdd} via add, the rest in bulk)`,
    );
    const progress = createProgress('mem0 load', task.memories);
    const loadStart = nowMs();
    for (let index = 0; index < viaAdd; index += 1) {
      const { text, vector } = corpus.memory();
      embedder.vectors.set(text, vector);
      await mem0.add(text, { userId: `user-${index % task.users}` });
      progress.tick();
    }
    const loadPerS = viaAdd / ((nowMs() - loadStart) / 1000);
    for (let start = viaAdd; start < task.memories; start += 2000) {
      const batch = [];
      for (let index = start; index < Math.min(task.memories, start + 2000); index += 1) {
        batch.push({ ...corpus.memory(), userId: `user-${index % task.users}` });
      }
      await mem0.bulkInsert(batch);
      progress.tick(batch.length);
    }
    progress.done();
    const userFor = () => `user-${Math.floor(random() * task.users)}`;
    const queries = Array.from({ length: task.queries }, () => corpus.query());
    for (const query of queries) embedder.vectors.set(query.text, query.vector);
    for (const query of queries.slice(0, 3)) await mem0.search(query.text, { userId: userFor(), topK: 10 });
    const search = await timeRepeated(
      task.queries,
      task.budgetMs,
      10,
      async (index) => {
        const query = queries[index] ?? corpus.query();
        await mem0.search(query.text, { userId: userFor(), topK: 10 });
      },
      'mem0 search',
    );
    embedder.real = true;
    await local.embed({ texts: ['load the model'], purpose: 'query' });
    const questionTexts = queries.map((query, index) => `${query.text} (${index})`);
    const withEmbedding = await timeRepeated(
      Math.min(task.queries, 100),
      task.budgetMs,
      10,
      async (index) => {
        await mem0.search(questionTexts[index] ?? 'what did I say?', { userId: userFor(), topK: 10 });
      },
      'mem0 search+embed',
    );
    const taken = new Set<string>();
    const embedTexts = distinctTexts(corpus, task.addSamples, taken);
    const embedPerS = await embedderRate(local, embedTexts);
    embedder.real = false;
    const storeStart = nowMs();
    for (const text of embedTexts) {
      embedder.vectors.set(text, hashedVector(text));
      await mem0.add(text, { userId: userFor() });
    }
    const addWithoutEmbedding = embedTexts.length / ((nowMs() - storeStart) / 1000);
    embedder.real = true;
    const addTexts = distinctTexts(corpus, task.addSamples, taken);
    const addStart = nowMs();
    for (const text of addTexts) await mem0.add(text, { userId: userFor() });
    const addPerS = addTexts.length / ((nowMs() - addStart) / 1000);
    return runFigures('mem0', task, {
      search,
      withEmbedding,
      addPerS,
      embedPerS,
      addWithoutEmbedding,
      loadPerS,
      dbMb: fileMb(mem0.dbPath, `${mem0.dbPath}-wal`),
      startLoad,
    });
  } finally {
    await mem0.close();
    await local.close();
  }
}

/** Top-k indices by descending score (small k: insertion into a sorted buffer). */
function topK(count: number, k: number, score: (index: number) => number): number[] {
  const best: Array<{ index: number; value: number }> = [];
  for (let index = 0; index < count; index += 1) {
    const value = score(index);
    if (best.length === k && value <= (best[k - 1]?.value ?? -Infinity)) continue;
    let position = best.length;
    while (position > 0 && (best[position - 1]?.value ?? 0) < value) position -= 1;
    best.splice(position, 0, { index, value });
    if (best.length > k) best.pop();
  }
  return best.map((entry) => entry.index);
}

/** Candidates the binary-quantised scan keeps for the exact re-rank. */
const RERANK_CANDIDATES = 500;

function popcount(value: number): number {
  let bits = value - ((value >>> 1) & 0x55555555);
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return (((bits + (bits >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * The physical floor of exact search: a brute-force top-10 dot-product scan over n x dimension float32 (one
 * contiguous array, one core), and what an approximate index could save: binary quantisation (1 bit per
 * dimension, Hamming distance) keeping 500 candidates, re-ranked exactly, with its recall@10 against the exact
 * scan. Vectors are the clustered synthetic ones (uniform random vectors would flatter nothing and break BQ).
 */
function measureScan(task: Extract<LatencyTask, { kind: 'scan' }>): ScanRun[] {
  const runs: ScanRun[] = [];
  const dimension = task.dimension;
  const words = dimension / 32;
  for (const rows of task.sizes) {
    const corpus = createSyntheticCorpus({ dimension, seed: 5 });
    const matrix = new Float32Array(rows * dimension);
    const codes = new Uint32Array(rows * words);
    for (let row = 0; row < rows; row += 1) {
      const { vector } = corpus.memory();
      matrix.set(vector, row * dimension);
      for (let index = 0; index < dimension; index += 1) {
        if ((vector[index] ?? 0) > 0) {
          const word = row * words + (index >>> 5);
          codes[word] = ((codes[word] ?? 0) | (1 << (index & 31))) >>> 0;
        }
      }
    }
    const dot = (query: Float32Array, row: number) => {
      let sum = 0;
      const offset = row * dimension;
      // `as number`: indices are in range by construction, and `??` in this loop costs a third of the speed.
      for (let index = 0; index < dimension; index += 1)
        sum += (matrix[offset + index] as number) * (query[index] as number);
      return sum;
    };
    const repeats = rows >= 1_000_000 ? 5 : rows >= 100_000 ? 10 : 30;
    const exactMs: number[] = [];
    const binaryMs: number[] = [];
    let recall = 0;
    for (let repeat = 0; repeat < repeats + 1; repeat += 1) {
      const { vector: query } = corpus.query();
      const queryCode = new Uint32Array(words);
      for (let index = 0; index < dimension; index += 1) {
        if ((query[index] ?? 0) > 0)
          queryCode[index >>> 5] = ((queryCode[index >>> 5] ?? 0) | (1 << (index & 31))) >>> 0;
      }
      let start = nowMs();
      const exact = topK(rows, 10, (row) => dot(query, row));
      const exactTime = nowMs() - start;
      start = nowMs();
      const candidates = topK(rows, RERANK_CANDIDATES, (row) => {
        let distance = 0;
        const offset = row * words;
        for (let word = 0; word < words; word += 1) {
          distance += popcount(((codes[offset + word] as number) ^ (queryCode[word] as number)) >>> 0);
        }
        return -distance;
      });
      const reranked = candidates
        .map((row) => ({ row, value: dot(query, row) }))
        .sort((a, b) => b.value - a.value)
        .slice(0, 10)
        .map((entry) => entry.row);
      const binaryTime = nowMs() - start;
      if (repeat === 0) continue; // Warm-up.
      exactMs.push(exactTime);
      binaryMs.push(binaryTime);
      const truth = new Set(exact);
      recall += reranked.filter((row) => truth.has(row)).length / 10;
    }
    const ms = summarise(exactMs).p50;
    runs.push({
      rows,
      dimension,
      scan_ms: round(ms, 2),
      gb_per_s: round((rows * dimension * 4) / 2 ** 30 / (ms / 1000), 2),
      binary_rerank_ms: round(summarise(binaryMs).p50, 2),
      binary_recall_at_10: round(recall / repeats, 3),
    });
    log(
      `scan: ${rows} x ${dimension} float32: exact ${round(ms, 1)} ms, binary+rerank ${round(summarise(binaryMs).p50, 1)} ms`,
    );
  }
  return runs;
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '{}') as LatencyTask;
  const result =
    task.kind === 'scan'
      ? measureScan(task)
      : task.kind === 'mneme'
        ? await measureMneme(task)
        : await measureMem0(task);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `latency worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
