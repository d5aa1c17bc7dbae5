/**
 * Mem0 OSS (`mem0ai/oss`, the version pinned in package.json) run side by side with mneme, offline:
 * - the SAME embedder object mneme uses is injected through Mem0's `langchain` embedder provider;
 * - its default local vector store (`memory`: a SQLite file of JSON payloads scanned on every search) in a temp dir;
 * - `infer: false` on add, so no LLM is ever called (an unreachable OpenAI base URL proves it: a call would fail);
 * - history disabled, telemetry off (`MEM0_TELEMETRY=false`), and HOME / MEM0_DIR pointed at the temp dir
 *   because Mem0 writes `~/.mem0/` on first use.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Embedder } from '../../src/embedders/types.js';
import { porterStem } from '../../src/stores/porter-stemmer.js';

/** One Mem0 search hit, reduced to what the benchmarks read. */
export interface Mem0Hit {
  id: string;
  memory: string;
  score: number;
  metadata: Record<string, unknown>;
}

/** A running Mem0 instance and its temp directory. */
export interface Mem0Handle {
  /** The mem0ai package version actually loaded. */
  version: string;
  /** Stores one text verbatim for `userId` (Mem0 `add(text, { userId, infer: false, metadata })`). */
  add(text: string, options: { userId: string; metadata?: Record<string, unknown> }): Promise<void>;
  /** Mem0 `search(query, { filters: { user_id }, topK, threshold })`. */
  search(query: string, options: { userId: string; topK: number; threshold?: number }): Promise<Mem0Hit[]>;
  /**
   * Writes rows straight into Mem0's vector store (`vectorStore.insert`, batched), with the payload its own
   * `add(…, { infer: false })` writes (`user_id`, `data`, md5 `hash`, `textLemmatized`, `createdAt`). For bulk
   * synthetic loads only: Mem0's public add commits one row per call. `textLemmatized` is computed with mneme's
   * Porter stemmer and a stopword list close to Mem0's (its own helper is not exported).
   */
  bulkInsert(items: Array<{ text: string; vector: Float32Array; userId: string }>): Promise<void>;
  /** Path of the vector store's SQLite file (for its size on disk). */
  dbPath: string;
  /** Removes the temp directory. */
  close(): Promise<void>;
}

interface Mem0VectorStore {
  insert(vectors: number[][], ids: string[], payloads: Array<Record<string, unknown>>): Promise<void>;
}

interface Mem0Memory {
  vectorStore?: Mem0VectorStore;
  add(
    messages: string,
    config: { userId: string; infer: boolean; metadata?: Record<string, unknown> },
  ): Promise<unknown>;
  search(
    query: string,
    config: { filters: { user_id: string }; topK: number; threshold: number },
  ): Promise<{
    results: Array<{ id: string; memory: string; score?: number; metadata?: Record<string, unknown> }>;
  }>;
}

/** Starts Mem0 OSS with `embedder` injected. Sets MEM0_TELEMETRY/HOME/MEM0_DIR for this process. */
export async function createMem0(options: { embedder: Embedder; directory?: string }): Promise<Mem0Handle> {
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'mneme-bench-mem0-'));
  const version = mem0Version();
  const dbPath = join(directory, 'vector_store.db');
  const memory = (await openMem0Oss({
    embedder: options.embedder,
    directory,
    dbPath,
    collectionName: 'bench',
  })) as Mem0Memory;
  return {
    version,
    dbPath,
    async add(text, addOptions) {
      await memory.add(text, {
        userId: addOptions.userId,
        infer: false,
        ...(addOptions.metadata ? { metadata: addOptions.metadata } : {}),
      });
    },
    async search(query, searchOptions) {
      const { results } = await memory.search(query, {
        filters: { user_id: searchOptions.userId },
        topK: searchOptions.topK,
        threshold: searchOptions.threshold ?? 0,
      });
      return results.map((hit) => ({
        id: hit.id,
        memory: hit.memory,
        score: hit.score ?? 0,
        metadata: hit.metadata ?? {},
      }));
    },
    async bulkInsert(items) {
      if (!memory.vectorStore) {
        // The vector store is created on first use: one public add initialises it (and is kept, like any row).
        const first = items.shift();
        if (!first) return;
        await memory.add(first.text, { userId: first.userId, infer: false });
      }
      const store = memory.vectorStore;
      if (!store) throw new Error('Mem0 did not create its vector store');
      const now = new Date().toISOString();
      await store.insert(
        items.map((item) => Array.from(item.vector)),
        items.map(() => randomUUID()),
        items.map((item) => ({
          user_id: item.userId,
          data: item.text,
          hash: createHash('md5').update(item.text).digest('hex'),
          textLemmatized: lemmatize(item.text),
          createdAt: now,
        })),
      );
    },
    async close() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The installed mem0ai version (its package.json is not exported, so find it next to the entry point). */
export function mem0Version(): string {
  let directory = dirname(createRequire(import.meta.url).resolve('mem0ai/oss'));
  for (let depth = 0; depth < 5; depth += 1) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'mem0ai' && manifest.version) return manifest.version;
    } catch {
      // Not here: look one level up.
    }
    directory = dirname(directory);
  }
  return 'unknown';
}

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by for from had has have he her his i if in into is it its me my of on or our ' +
    'she so than that the their them then there these they this to was we were what when where which who will ' +
    'with you your'
  ).split(' '),
);

/**
 * A Mem0 OSS `Memory` (`mem0ai/oss`) offline: `embedder` injected through Mem0's `langchain` embedder provider,
 * its default `memory` vector store (a SQLite file) at `dbPath`, its SQLite history store at `historyDbPath`
 * (history disabled without one), and an LLM at an unreachable address (only `infer: false` works). Sets
 * MEM0_TELEMETRY=false, MEM0_DIR and HOME (Mem0 writes `~/.mem0/` on first use) for this process.
 * @returns Mem0's `Memory` instance; callers type the methods they use.
 */
export async function openMem0Oss(options: {
  embedder: Embedder;
  directory: string;
  dbPath: string;
  historyDbPath?: string;
  collectionName?: string;
}): Promise<unknown> {
  // Mem0 reads these when its module loads and on first use; set them before importing it.
  process.env.MEM0_TELEMETRY = 'false';
  process.env.MEM0_DIR = join(options.directory, '.mem0');
  process.env.HOME = options.directory;
  const { Memory } = await import('mem0ai/oss');
  const { embedder } = options;
  const toArray = (vector: Float32Array): number[] => Array.from(vector);
  const langchainEmbeddings = {
    async embedQuery(text: string): Promise<number[]> {
      const [vector] = await embedder.embed({ texts: [text], purpose: 'query' });
      if (!vector) throw new Error('embedder returned no vector');
      return toArray(vector);
    },
    async embedDocuments(texts: string[]): Promise<number[][]> {
      return (await embedder.embed({ texts, purpose: 'document' })).map(toArray);
    },
  };
  return new Memory({
    embedder: { provider: 'langchain', config: { model: langchainEmbeddings } },
    vectorStore: {
      provider: 'memory',
      config: {
        collectionName: options.collectionName ?? 'memories',
        dimension: embedder.dimension,
        dbPath: options.dbPath,
      },
    },
    // Never called with infer: false; the unreachable address makes any call fail loudly instead of leaving the box.
    llm: { provider: 'openai', config: { apiKey: 'unused', baseURL: 'http://127.0.0.1:9' } },
    ...(options.historyDbPath
      ? { historyStore: { provider: 'sqlite', config: { historyDbPath: options.historyDbPath } } }
      : { disableHistory: true }),
  });
}

function lemmatize(text: string): string {
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return words
    .filter((word) => !STOPWORDS.has(word))
    .map((word) => porterStem(word))
    .join(' ');
}
