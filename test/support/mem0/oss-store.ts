/**
 * Writes a real Mem0 OSS store with the pinned `mem0ai` package (`mem0ai/oss` `Memory`, offline: mneme's local
 * embedder injected, `infer: false`, see bench/support/mem0.ts) for two users: adds, updates and a delete.
 * Returns the files and what Mem0 itself reports afterwards (its `getAll` and `history`), the expectations an
 * import is checked against.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMem0Oss } from '../../../bench/support/mem0.js';
import { createEmbedder } from '../../../src/embedders/registry.js';

/** A memory as Mem0's `getAll` returns it (OSS, camelCase dates). */
export interface Mem0ListedMemory {
  id: string;
  memory: string;
  createdAt: string;
  updatedAt?: string;
  metadata: Record<string, unknown>;
  user_id?: string;
  agent_id?: string;
  run_id?: string;
}

/** A row of Mem0's `history(id)` (newest first, as Mem0 returns it). */
export interface Mem0HistoryRow {
  id: number;
  memory_id: string;
  previous_value: string | null;
  new_value: string | null;
  action: string;
  created_at: string | null;
  updated_at: string | null;
  is_deleted: number;
}

interface Mem0OssMemory {
  add(
    text: string,
    config: {
      userId?: string;
      agentId?: string;
      runId?: string;
      metadata?: Record<string, unknown>;
      infer: false;
    },
  ): Promise<{ results: Array<{ id: string }> }>;
  update(id: string, config: { text: string }): Promise<unknown>;
  delete(id: string): Promise<unknown>;
  getAll(config: { filters: Record<string, string>; topK: number; showExpired: boolean }): Promise<{
    results: Mem0ListedMemory[];
  }>;
  history(id: string): Promise<Mem0HistoryRow[]>;
}

/** The written store. */
export interface Mem0OssFixture {
  directory: string;
  vectorStore: string;
  history: string;
  /** Every live memory, as Mem0's getAll lists it, with its Mem0 history (oldest first). */
  memories: Array<Mem0ListedMemory & { history: Mem0HistoryRow[] }>;
  /** The id of the memory deleted in Mem0. */
  deletedId: string;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes the store in a new temp directory. Sets HOME / MEM0_DIR / MEM0_TELEMETRY for this process. */
export async function writeMem0OssStore(): Promise<Mem0OssFixture> {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-mem0-oss-'));
  const vectorStore = join(directory, 'vector_store.db');
  const history = join(directory, 'memory.db');
  const embedder = await createEmbedder('local');
  const mem0 = (await openMem0Oss({
    embedder,
    directory,
    dbPath: vectorStore,
    historyDbPath: history,
  })) as Mem0OssMemory;
  const add = async (text: string, config: Omit<Parameters<Mem0OssMemory['add']>[1], 'infer'>) => {
    const { results } = await mem0.add(text, { ...config, infer: false });
    const id = results[0]?.id;
    if (!id) throw new Error(`Mem0 add returned no id for "${text}"`);
    return id;
  };
  await add('I prefer dark mode in every editor', {
    userId: 'alice',
    metadata: { source: 'chat', priority: 2, tags: ['ui', 'editor'] },
  });
  await add('Our team deploys the api repo on Fridays', {
    userId: 'alice',
    agentId: 'reviewer',
    runId: 'run-1',
  });
  const editor = await add('I use vim for everything', { userId: 'alice' });
  await pause(5);
  await mem0.update(editor, { text: 'I use neovim for everything' });
  await pause(5);
  await mem0.update(editor, { text: 'I use helix for everything' });
  const deletedId = await add('Remind me about the dentist', { userId: 'alice' });
  await mem0.delete(deletedId);
  await add('I am allergic to peanuts', { userId: 'bob', metadata: { severity: 'high' } });
  const city = await add('I live in Lisbon', { userId: 'bob' });
  await pause(5);
  await mem0.update(city, { text: 'I live in Porto' });

  const memories: Mem0OssFixture['memories'] = [];
  for (const user of ['alice', 'bob']) {
    const { results } = await mem0.getAll({ filters: { user_id: user }, topK: 100, showExpired: true });
    for (const item of results) {
      const rows = await mem0.history(item.id);
      memories.push({ ...item, history: [...rows].sort((a, b) => a.id - b.id) });
    }
  }
  await embedder.close();
  return { directory, vectorStore, history, memories, deletedId };
}
