/**
 * Erase: `deleteAll({ userId })` and `mneme forget --user U --all` remove the user's memories, vectors, keyword
 * index entries, queued items and the text of their history (ERASE tombstones with ids and times remain);
 * `erase(id)` (and `mneme forget ID`) does the same for one memory. The proof reads the raw bytes of the SQLite
 * file, its WAL and shared-memory file (the FTS5 shadow tables live in the main file): none of the erased words
 * may remain anywhere on disk, while the other data stays intact. On PostgreSQL, every table of the store's
 * schema is read as text.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import type { MemoryOptions } from '../../src/memory/config.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { sharedTestPostgres, stopSharedTestPostgres, uniqueSchema } from '../stores/postgres-support.js';
import { runMneme } from '../support/cli.js';
import { type FakeOpenAIApi, startFakeOpenAIApi } from '../support/fake-openai-api.js';
import { createTestEmbedder } from '../support/test-embedder.js';

let dir: string;
let api: FakeOpenAIApi;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mneme-erase-'));
  api = await startFakeOpenAIApi({ dimension: 64 });
});
after(async () => {
  await api.close();
  await stopSharedTestPostgres();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Unique marker words per user. Each starts with "qx" and a distinct letter, so even where FTS5 stores a term
 * with its prefix shared with the previous term, the part after the third character is stored verbatim: the
 * test looks for both the whole word and that tail.
 */
function markers(owner: string): string[] {
  return ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((letter) => `qx${letter}${owner}zvork`);
}

/** Writes every kind of data a user can leave: memories (two scopes), metadata, updates, deletes, queue items. */
async function populate(memory: Memory, userId: string, words: string[]): Promise<{ ids: string[] }> {
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words;
  const ids: string[] = [];
  const add = async (text: string, options: Record<string, unknown> = {}) => {
    const { results } = await memory.add(text, { userId, ...options });
    const id = results[0]?.id;
    assert.ok(id, `added: ${text}`);
    ids.push(id);
    return id;
  };
  await add(`${userId} keeps the spare key under the ${w0} flowerpot`);
  await add(`${userId} works on project ${w1}`, { metadata: { codename: w2 } });
  const updated = await add(`${userId} drives a ${w3} car`);
  await memory.update(updated, { text: `${userId} now drives a ${w4} bicycle` });
  const deleted = await add(`${userId} was born in ${w5}`);
  await memory.delete(deleted);
  await add(`${userId} told the coach about ${w6}`, { agentId: 'coach' });
  await memory.enqueue(`${userId} plans a trip to ${w7}`, { userId });
  return { ids };
}

/** Every marker (whole word or its tail) found in the store's files on disk. */
function onDisk(path: string, words: string[]): string[] {
  const files = [path, `${path}-wal`, `${path}-shm`, `${path}-journal`].filter((file) => existsSync(file));
  const found: string[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const word of words) {
      for (const needle of [word, word.slice(3)]) {
        if (bytes.includes(Buffer.from(needle)))
          found.push(`${needle} in ${file.slice(path.length) || 'db'}`);
      }
    }
  }
  return found;
}

function options(path: string, extra: MemoryOptions = {}): MemoryOptions {
  return {
    store: `sqlite://${path}`,
    embedder: createTestEmbedder({ dimension: 64 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
    ...extra,
  };
}

test("deleteAll({ userId }) leaves none of the user's text on disk; tombstones remain; others intact", async () => {
  const path = join(dir, 'library.db');
  const erin = markers('erin');
  const oscar = markers('oscar');
  const memory = await createMemory(options(path));
  try {
    const erased = await populate(memory, 'erin', erin);
    const kept = await populate(memory, 'oscar', oscar);
    assert.equal(onDisk(path, erin).length > 0, true, 'the markers are on disk before the erase');

    const { deleted } = await memory.deleteAll({ userId: 'erin' });
    assert.equal(deleted, 4, 'four current memories (one was deleted before)');
    // Checked while the process still has the file open: eraseScope checkpoints and truncates the WAL itself.
    assert.deepEqual(onDisk(path, erin), [], 'erased text on disk (db, WAL) right after the erase');

    // Tombstones: ids and times only.
    for (const id of erased.ids) {
      assert.equal(await memory.get(id), null);
      const history = await memory.history(id);
      assert.ok(
        history.some((event) => event.event === 'ERASE'),
        `ERASE tombstone for ${id}`,
      );
      for (const event of history) {
        assert.equal(event.previousValue, undefined);
        assert.equal(event.newValue, undefined);
        assert.equal(event.reason, undefined);
        assert.ok(event.createdAt && event.memoryId === id);
      }
    }
    assert.deepEqual((await memory.list({ userId: 'erin' })).results, []);
    assert.deepEqual((await memory.search(erin[0] ?? '', { userId: 'erin' })).results, []);

    // The other user: memories, search, history, metadata and the queued item are all still there.
    assert.equal((await memory.list({ userId: 'oscar' })).results.length, 4);
    const hit = (await memory.search(oscar[0] ?? '', { userId: 'oscar', mode: 'keyword' })).results[0];
    assert.match(hit?.memory ?? '', new RegExp(oscar[0] ?? ''));
    const histories = await Promise.all(kept.ids.map((id) => memory.history(id)));
    assert.ok(
      histories
        .flat()
        .some((event) => event.event === 'DELETE' && event.previousValue?.includes(oscar[5] ?? '')),
    );
    const stats = await memory.store.stats();
    assert.deepEqual(
      {
        memories: stats.memories,
        vectors: stats.vectors,
        keywordEntries: stats.keywordEntries,
        queue: stats.queueItems,
      },
      { memories: 4, vectors: 4, keywordEntries: 4, queue: 1 },
    );
    assert.equal(onDisk(path, oscar).length > 0, true, "the other user's text is still on disk");
  } finally {
    await memory.close();
  }
  // After close (the queue drained oscar's item, a final checkpoint ran), still nothing of erin's.
  assert.deepEqual(onDisk(path, erin), []);
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
});

test('mneme forget --user U --all (the built CLI) erases the same way', {
  skip: existsSync(new URL('../../dist/cli/main.js', import.meta.url))
    ? false
    : 'dist/ is missing: run `npm run build` first (npm test does)',
}, async () => {
  const path = join(dir, 'cli.db');
  const erin = markers('erin');
  const oscar = markers('oscar');
  // The CLI cannot load the test embedder: both sides embed through the fake OpenAI-compatible server.
  const embedder = {
    embedder: 'openai-compatible:fake-embedding',
    embedderOptions: { baseURL: api.baseURL, apiKey: 'test', dimension: 64 },
  };
  const memory = await createMemory(options(path, embedder));
  await populate(memory, 'erin', erin);
  await populate(memory, 'oscar', oscar);
  await memory.store.close();

  const run = await runMneme(['forget', '--user', 'erin', '--all', '--json', '--store', `sqlite://${path}`], {
    MNEME_EMBEDDER: 'openai-compatible:fake-embedding',
    MNEME_EMBEDDER_BASE_URL: api.baseURL,
    MNEME_EMBEDDER_API_KEY: 'test',
    MNEME_EMBEDDER_DIMENSION: '64',
    MNEME_LLM: 'none',
  });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { deleted: 4 });
  assert.deepEqual(onDisk(path, erin), []);
  assert.ok(onDisk(path, oscar).length > 0);

  const reopened = await createMemory(options(path, embedder));
  try {
    assert.deepEqual((await reopened.list({ userId: 'erin' })).results, []);
    // oscar's 4 memories; his queued note was not the CLI process's to ingest: it waits for a worker.
    assert.equal((await reopened.list({ userId: 'oscar' })).results.length, 4);
    assert.equal(await reopened.store.queueSize(), 1);
    await reopened.flush();
    assert.equal((await reopened.list({ userId: 'oscar' })).results.length, 5);
  } finally {
    await reopened.close();
  }
});

test('erased text leaves the WAL even while another connection holds a read snapshot', async () => {
  const path = join(dir, 'reader.db');
  const erin = markers('erin');
  const memory = await createMemory(options(path));
  try {
    await populate(memory, 'erin', erin);
    await memory.add('oscar likes tea', { userId: 'oscar' });
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT COUNT(*) AS n FROM memories').get();
      await memory.deleteAll({ userId: 'erin' });
      reader.exec('COMMIT');
    } finally {
      reader.close();
    }
    // The reader is gone and the store kept working: by now nothing of erin's may remain on disk.
    await memory.add('oscar likes coffee too', { userId: 'oscar' });
    assert.deepEqual(onDisk(path, erin), []);
  } finally {
    await memory.close();
  }
});

/** One user's memories for a single-memory erase: the target (updated once), a soft-deleted one, a sibling. */
async function populateOne(memory: Memory, words: string[], siblingWords: string[]) {
  const [w0, w1, w2, w3] = words;
  const [w4, w5] = siblingWords;
  const add = async (text: string, metadata: Record<string, string> = {}) => {
    const id = (await memory.add(text, { userId: 'tara', metadata })).results[0]?.id;
    assert.ok(id, `added: ${text}`);
    return id;
  };
  const target = await add(`tara hides the letters in the ${w0} drawer`, { place: w1 ?? '' });
  await memory.update(target, { text: `tara moved the letters to the ${w2} attic` });
  const deleted = await add(`tara once lived on ${w3} street`);
  await memory.delete(deleted);
  const sibling = await add(`tara grows ${w4} tomatoes near the ${w5} fence`);
  return { target, deleted, sibling, erased: words.slice(0, 4), kept: siblingWords.slice(0, 2) };
}

/** The erased memory is gone from the API too: a tombstone without text, a second erase is NotFound. */
async function assertErased(memory: Memory, id: string): Promise<void> {
  assert.equal(await memory.get(id), null);
  const history = await memory.history(id);
  assert.equal(history.at(-1)?.event, 'ERASE');
  for (const event of history) {
    assert.deepEqual([event.previousValue, event.newValue, event.reason], [undefined, undefined, undefined]);
  }
  await assert.rejects(memory.erase(id), /not found/);
}

test("erase(id) leaves none of that memory's text in the SQLite file, WAL or -shm; the others stay", async () => {
  const path = join(dir, 'one.db');
  const words = markers('tara');
  const memory = await createMemory(options(path));
  try {
    const { target, deleted, sibling, erased, kept } = await populateOne(memory, words, markers('kent'));
    const probe = new Database(path, { readonly: true });
    assert.equal(probe.pragma('journal_mode', { simple: true }), 'wal');
    probe.close();
    assert.deepEqual(
      erased.filter((word) => onDisk(path, [word]).length === 0),
      [],
      'every marker is on disk before the erase (a soft delete keeps the text in the DELETE event)',
    );

    await memory.erase(target);
    await memory.erase(deleted);
    // Checked with the file still open: the erase zeroed the freed cells and truncated the WAL itself.
    assert.deepEqual(onDisk(path, erased), [], 'erased text on disk right after the erase');
    await assertErased(memory, target);
    await assertErased(memory, deleted);

    assert.equal((await memory.get(sibling))?.memory.includes(kept[0] ?? ''), true);
    const hit = (await memory.search(kept[1] ?? '', { userId: 'tara', mode: 'keyword' })).results[0];
    assert.equal(hit?.id, sibling);
    assert.equal((await memory.history(sibling))[0]?.newValue?.includes(kept[0] ?? ''), true);
    const stats = await memory.store.stats();
    assert.deepEqual([stats.memories, stats.vectors, stats.keywordEntries], [1, 1, 1]);
    assert.equal(onDisk(path, kept).length > 0, true, "the sibling's text is still on disk");
  } finally {
    await memory.close();
  }
  assert.deepEqual(onDisk(path, words.slice(0, 4)), [], 'nothing after close either');
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
});

test('erase(id) on PostgreSQL leaves none of its text in any table of the schema; the others stay', async () => {
  const server = await sharedTestPostgres();
  const schema = uniqueSchema('mneme_erase');
  const words = markers('tara');
  const memory = await createMemory({ ...options(':unused:'), store: server.storeUrl(schema) });
  /** Every table of the store's schema that holds `word` in any column (each row read as text). */
  const tablesHolding = async (word: string): Promise<string[]> => {
    const tables = await server.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
      [schema],
    );
    assert.ok(tables.length >= 4, 'the schema has the store tables');
    const found: string[] = [];
    for (const { table_name: table } of tables) {
      const rows = await server.query(
        `SELECT count(*)::int AS n FROM "${schema}"."${String(table)}" t WHERE strpos(t::text, $1) > 0`,
        [word],
      );
      if (Number(rows[0]?.n) > 0) found.push(String(table));
    }
    return found;
  };
  try {
    const { target, deleted, sibling, erased, kept } = await populateOne(memory, words, markers('kent'));
    for (const word of erased) assert.notDeepEqual(await tablesHolding(word), [], `${word} stored before`);

    await memory.erase(target);
    await memory.erase(deleted);
    for (const word of erased)
      assert.deepEqual(await tablesHolding(word), [], `${word} left after the erase`);
    await assertErased(memory, target);
    await assertErased(memory, deleted);
    for (const word of kept)
      assert.notDeepEqual(await tablesHolding(word), [], `${word} of the sibling kept`);
    assert.equal((await memory.history(sibling))[0]?.newValue?.includes(kept[0] ?? ''), true);
  } finally {
    await memory.close();
    await server.dropSchema(schema);
  }
});
