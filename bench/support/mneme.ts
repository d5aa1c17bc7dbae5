/**
 * mneme as the benchmarks run it: `createMemory` on a real SQLite file in a temp directory, no LLM, the shared
 * caching embedder injected, no background ingestion.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RankingOptions } from '../../src/core/ranking.js';
import type { Embedder } from '../../src/embedders/types.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';

/** A Memory on a fresh SQLite file, plus its path and cleanup. */
export interface BenchMemory {
  memory: Memory;
  dbPath: string;
  /** Size of the database file plus its WAL, in MB. */
  sizeMb(): number;
  close(): Promise<void>;
}

/** Opens mneme on `<fresh temp dir>/mneme.db` (or `dbPath`). */
export async function openBenchMemory(options: {
  embedder: Embedder;
  dbPath?: string;
  ranking?: Partial<RankingOptions>;
}): Promise<BenchMemory> {
  const directory = options.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'mneme-bench-'));
  const dbPath = options.dbPath ?? join(directory ?? tmpdir(), 'mneme.db');
  const memory = await createMemory({
    store: createSqliteStore({ path: dbPath }),
    embedder: options.embedder,
    llm: null,
    logLevel: 'error',
    ingestion: { background: false },
    env: {},
    ...(options.ranking ? { ranking: options.ranking } : {}),
  });
  return {
    memory,
    dbPath,
    sizeMb() {
      let bytes = 0;
      for (const suffix of ['', '-wal']) {
        try {
          bytes += statSync(dbPath + suffix).size;
        } catch {
          // No WAL file.
        }
      }
      return Math.round((bytes / 2 ** 20) * 10) / 10;
    },
    async close() {
      // The shared embedder outlives this memory: detach it from close().
      await memory.store.close();
      if (directory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
