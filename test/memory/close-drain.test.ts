/**
 * `Memory.close()` ingests only what its own instance enqueued, within `ingestion.closeTimeoutMs`, and leaves
 * everything else queued for a worker. Two Memory instances on one real SQLite file stand for two processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Embedder } from '../../src/embedders/types.js';
import type { MemoryOptions } from '../../src/memory/config.js';
import { createMemory } from '../../src/memory/memory.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import { createTestEmbedder } from '../support/test-embedder.js';

const dir = mkdtempSync(join(tmpdir(), 'mneme-close-'));
let files = 0;

after(() => rmSync(dir, { recursive: true, force: true }));

function open(path: string, options: MemoryOptions = {}) {
  return createMemory({
    store: `sqlite://${path}`,
    embedder: createTestEmbedder({ dimension: 32 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ...options,
    ingestion: { background: false, ...options.ingestion },
  });
}

/** What the file holds now: queued items, and the memories of each user. */
async function contents(path: string, users: string[]) {
  const store = createSqliteStore({ path });
  const memory = await open(path, { store });
  try {
    const memories: Record<string, string[]> = {};
    for (const userId of users) {
      memories[userId] = (await memory.list({ userId })).results.map((record) => record.memory);
    }
    return { queued: await store.queueSize(), memories };
  } finally {
    await store.close();
  }
}

describe('Memory.close() drains only its own items, within a time bound', () => {
  test("close ingests this instance's items and leaves another process's queued", async () => {
    files += 1;
    const path = join(dir, `own-${files}.db`);
    const other = await open(path);
    await other.enqueue('Bob keeps bees on the roof', { userId: 'bob' });
    await other.store.close(); // a process that stopped without draining (close would ingest its own item)

    const mine = await open(path);
    await mine.enqueue('Alice learns the cello', { userId: 'alice' });
    await mine.close();

    assert.deepEqual(await contents(path, ['alice', 'bob']), {
      queued: 1,
      memories: { alice: ['Alice learns the cello'], bob: [] },
    });
  });

  test('close returns by closeTimeoutMs when an item hangs, and the item stays queued', async () => {
    files += 1;
    const path = join(dir, `hang-${files}.db`);
    const inner = createTestEmbedder({ dimension: 32 });
    let release = (): void => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hanging: Embedder = {
      id: inner.id,
      dimension: inner.dimension,
      maxBatchSize: inner.maxBatchSize,
      embed: async (options) => {
        await released;
        return inner.embed(options);
      },
      close: () => inner.close(),
    };
    const mine = await open(path, { embedder: hanging, ingestion: { closeTimeoutMs: 300 } });
    await mine.enqueue('Alice learns the cello', { userId: 'alice' });
    const started = performance.now();
    await mine.close();
    const took = performance.now() - started;
    release();
    assert.ok(took >= 250 && took < 3000, `close took ${took.toFixed(0)} ms (closeTimeoutMs 300)`);
    assert.deepEqual(await contents(path, ['alice']), { queued: 1, memories: { alice: [] } });
  });
});
