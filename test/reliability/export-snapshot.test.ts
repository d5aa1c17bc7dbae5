/**
 * Backups while writes go on: `memory.exportMemories` (and `mneme export`, built on it) reads through the
 * store's `exportScope`, one point-in-time snapshot (SQLite: a read-only connection holding one read
 * transaction across pages; PostgreSQL: a REPEATABLE READ READ ONLY transaction). Tested here:
 * - every memory that exists for the whole export is exported exactly once, whatever is written meanwhile
 *   (inserts, updates, deletes, another process); no duplicates, nothing stable missed;
 * - the export equals the state when it started: a memory changed, deleted or added during the export is
 *   exported as it was (or not at all), so a backup never holds a `supersededBy` pointing at a memory it lacks.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMemory, type ExportedMemory, type Memory } from '../../src/memory/memory.js';
import { runMneme } from '../support/cli.js';
import { type FakeOpenAIApi, startFakeOpenAIApi } from '../support/fake-openai-api.js';
import { createTestEmbedder } from '../support/test-embedder.js';
import { type TranspiledFixtures, transpileFixtures } from './fixtures/transpile.js';

const WRITER = fileURLToPath(new URL('./fixtures/concurrent-writer.ts', import.meta.url));

let dir: string;
let api: FakeOpenAIApi;
let fixtures: TranspiledFixtures;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mneme-export-'));
  api = await startFakeOpenAIApi({ dimension: 64 });
  fixtures = transpileFixtures([WRITER]);
});
after(async () => {
  fixtures.remove();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openMemory(path: string): Promise<Memory> {
  let tick = Date.parse('2026-01-01T00:00:00.000Z');
  return createMemory({
    store: `sqlite://${path}`,
    embedder: createTestEmbedder({ dimension: 64 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
    // One millisecond per call: distinct, increasing createdAt values, as in a busy real process.
    clock: () => {
      tick += 1;
      return new Date(tick);
    },
  });
}

/** `count` memories, oldest first, written 15 per `add` call (one transaction each) to keep the test fast. */
async function seed(memory: Memory, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 15) {
    const messages = Array.from({ length: Math.min(15, count - start) }, (_, offset) => ({
      role: 'user' as const,
      content: `backup note ${start + offset} about kestrel${start + offset}`,
    }));
    const { results } = await memory.add(messages, { userId: 'ada' });
    ids.push(...results.map((item) => item.id));
  }
  return ids;
}

test('every memory present for the whole export is exported exactly once while inserts, updates and deletes go on', async () => {
  const memory = await openMemory(join(dir, 'keyset.db'));
  try {
    const stable = await seed(memory, 900);
    const doomed = new Set(stable.filter((_, index) => index % 7 === 3));
    const exported: ExportedMemory[] = [];
    let step = 0;
    for await (const item of memory.exportMemories({ userId: 'ada' })) {
      exported.push(item);
      step += 1;
      // Between records: insert new memories, update old ones, delete some not exported yet.
      if (step % 10 === 0) {
        await memory.add(`written during the export ${step} about merlin${step}`, { userId: 'ada' });
        const target = stable[(step * 13) % stable.length] ?? '';
        if (!doomed.has(target)) await memory.update(target, { metadata: { touched: step } });
      }
      if (step === 50) for (const id of doomed) await memory.delete(id);
    }
    const ids = exported.map((item) => item.record.id);
    assert.equal(new Set(ids).size, ids.length, 'no memory exported twice');
    const exportedSet = new Set(ids);
    for (const id of stable) {
      if (!doomed.has(id)) assert.ok(exportedSet.has(id), `stable memory ${id} missing from the export`);
    }
    for (const item of exported) {
      assert.equal(item.record.userId, 'ada');
      assert.ok(item.history.length > 0, 'each memory comes with its history');
    }
  } finally {
    await memory.close();
  }
});

test('the export is one point-in-time snapshot', async () => {
  const memory = await openMemory(join(dir, 'snapshot.db'));
  try {
    const ids = await seed(memory, 450);
    const before = new Map(
      (await memory.list({ userId: 'ada', limit: 1000 })).results.map((record) => [record.id, record.memory]),
    );
    const oldest = ids[0] ?? '';
    const exported: ExportedMemory[] = [];
    for await (const item of memory.exportMemories({ userId: 'ada' })) {
      exported.push(item);
      if (exported.length === 1) {
        // After the first page was read: change a memory on the last page, delete another, add a new one.
        await memory.update(oldest, { text: 'backup note 0 was rewritten during the export' });
        await memory.delete(ids[1] ?? '');
        await memory.add('a memory written during the export about osprey', { userId: 'ada' });
      }
    }
    const after = new Map(exported.map((item) => [item.record.id, item.record.memory]));
    assert.deepEqual(after, before, 'the export equals the state when it started');
  } finally {
    await memory.close();
  }
});

test('mneme export (the built CLI) while another process writes to the same scope: no duplicates, nothing stable missed', {
  skip: existsSync(new URL('../../dist/cli/main.js', import.meta.url))
    ? false
    : 'dist/ is missing: run `npm run build` first (npm test does)',
}, async (t) => {
  const path = join(dir, 'cli.db');
  const embedderOptions = { baseURL: api.baseURL, apiKey: 'test', dimension: 64 };
  const memory = await createMemory({
    store: `sqlite://${path}`,
    embedder: 'openai-compatible:fake-embedding',
    embedderOptions,
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
  const stable: string[] = [];
  for (let index = 0; index < 40; index += 1) {
    const { results } = await memory.add(
      Array.from({ length: 15 }, (_, part) => ({
        role: 'user' as const,
        content: `stable ${index}.${part} falcon${index}x${part}`,
      })),
      { userId: 'W-user-0' },
    );
    stable.push(...results.map((item) => item.id));
  }
  await memory.close();

  // The writer adds to W-user-0 .. W-user-19 until stopped.
  const writer = spawn(
    process.execPath,
    [
      fixtures.pathOf(WRITER),
      JSON.stringify({
        path,
        label: 'W',
        count: 50,
        seed: 7,
        untilStopped: true,
        resultPath: join(dir, 'w.json'),
        embedder: { baseURL: api.baseURL },
      }),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
  writer.stdin.write('go\n');
  const exported = await runMneme(['export', '--user', 'W-user-0', '--store', `sqlite://${path}`], {
    MNEME_EMBEDDER: 'openai-compatible:fake-embedding',
    MNEME_EMBEDDER_BASE_URL: api.baseURL,
    MNEME_EMBEDDER_API_KEY: 'test',
    MNEME_EMBEDDER_DIMENSION: '64',
    MNEME_LLM: 'none',
  });
  writer.stdin.end();
  const writerCode = await new Promise<number | null>((resolve) => writer.on('close', resolve));
  assert.equal(writerCode, 0, 'the writer saw no errors');
  assert.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ExportedMemory);
  const ids = lines.map((line) => line.record.id);
  assert.equal(new Set(ids).size, ids.length, 'no memory exported twice');
  const exportedSet = new Set(ids);
  for (const id of stable) assert.ok(exportedSet.has(id), `stable memory ${id} missing`);
  t.diagnostic(
    `exported ${ids.length} memories (${stable.length} present before) while a process was writing`,
  );
});
