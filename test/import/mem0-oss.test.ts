/**
 * `mneme import --from mem0` from a Mem0 OSS store written in this test by the real `mem0ai` 3.3.1 package (two
 * users; adds, updates, a delete; infer: false; offline with the local embedder), into a real SQLite mneme store,
 * through the library function and through the built CLI binary, each run twice.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { HistoryEvent, MemoryRecord } from '../../src/core/types.js';
import { importFromMem0, type Mem0ImportReport, planMem0Import } from '../../src/import/mem0.js';
import { createMemory } from '../../src/memory/memory.js';
import { runMneme } from '../support/cli.js';
import { type Mem0OssFixture, writeMem0OssStore } from '../support/mem0/oss-store.js';

function tempStore(): { url: string; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'mneme-import-')), 'mneme.db');
  return { url: `sqlite://${path}`, path };
}

/** What Mem0's history says, as the mneme events the import promises (docs/import.md). */
function expectedHistory(memory: Mem0OssFixture['memories'][number]) {
  return memory.history.map((row) =>
    row.action === 'ADD'
      ? { event: 'ADD', newValue: row.new_value, createdAt: row.created_at }
      : {
          event: row.action,
          previousValue: row.previous_value,
          newValue: row.new_value,
          createdAt: row.updated_at,
        },
  );
}

function comparableHistory(events: HistoryEvent[]) {
  return events.map((event) => ({
    event: event.event,
    ...(event.previousValue !== undefined ? { previousValue: event.previousValue } : {}),
    ...(event.newValue !== undefined ? { newValue: event.newValue } : {}),
    createdAt: event.createdAt,
  }));
}

function assertRoundTrip(record: MemoryRecord | null, expected: Mem0OssFixture['memories'][number]): void {
  assert.ok(record, `memory ${expected.id} ("${expected.memory}") was imported under its Mem0 id`);
  assert.equal(record.memory, expected.memory);
  assert.equal(record.userId, expected.user_id);
  assert.equal(record.agentId, expected.agent_id);
  assert.equal(record.runId, expected.run_id);
  assert.equal(record.createdAt, expected.createdAt);
  assert.equal(record.observedAt, expected.createdAt);
  assert.equal(record.updatedAt, expected.updatedAt ?? expected.createdAt);
  assert.deepEqual(record.metadata, {
    ...expected.metadata,
    'mneme:importedFrom': { system: 'mem0', id: expected.id, format: 'oss' },
  });
}

describe('import from a Mem0 OSS store written by mem0ai 3.3.1', () => {
  let fixture: Mem0OssFixture;
  before(async () => {
    fixture = await writeMem0OssStore();
  });

  test('the fixture holds what Mem0 was asked to write (two users, updates, one delete)', () => {
    assert.equal(fixture.memories.length, 5);
    assert.deepEqual([...new Set(fixture.memories.map((memory) => memory.user_id))].sort(), ['alice', 'bob']);
    const editor = fixture.memories.find((memory) => memory.memory === 'I use helix for everything');
    assert.deepEqual(
      editor?.history.map((row) => row.action),
      ['ADD', 'UPDATE', 'UPDATE'],
    );
  });

  test('library: every memory round-trips (text, scope, dates, metadata, Mem0 id, history); twice adds nothing', async () => {
    const store = tempStore();
    const memory = await createMemory({ store: store.url, embedder: 'local', llm: null, env: {} });
    try {
      const progress: Array<{ done: number; total: number }> = [];
      const first = await importFromMem0(memory, fixture.vectorStore, {
        history: fixture.history,
        batchSize: 2,
        onProgress: (step) => progress.push(step),
      });
      assert.deepEqual({ ...first, deleted: first.deleted }, {
        source: fixture.vectorStore,
        format: 'oss',
        history: fixture.history,
        dryRun: false,
        users: 2,
        agents: 1,
        runs: 1,
        memories: 5,
        historyEvents: 8,
        imported: 5,
        alreadyPresent: 0,
        deleted: [fixture.deletedId],
        bad: [],
      } satisfies Mem0ImportReport);
      assert.deepEqual(progress, [
        { done: 2, total: 5 },
        { done: 4, total: 5 },
        { done: 5, total: 5 },
      ]);
      for (const expected of fixture.memories) {
        assertRoundTrip(await memory.get(expected.id), expected);
        const history = await memory.history(expected.id);
        assert.deepEqual(comparableHistory(history), expectedHistory(expected));
        assert.ok(history.every((event) => event.actor === 'mem0-import'));
      }
      const editor = fixture.memories.find((item) => item.memory === 'I use helix for everything');
      assert.deepEqual(
        (await memory.history(editor?.id ?? '')).map((event) => event.newValue),
        ['I use vim for everything', 'I use neovim for everything', 'I use helix for everything'],
      );
      assert.equal(await memory.get(fixture.deletedId), null, 'a memory deleted in Mem0 stays deleted');

      // Re-embedded with mneme's encoder (its own text's vector scores dense ~1) and indexed, within its user only.
      const found = await memory.search('I use helix for everything', { userId: 'alice', mode: 'dense' });
      assert.equal(found.results[0]?.id, editor?.id);
      assert.ok((found.results[0]?.scores.dense ?? 0) > 0.99, `dense ${found.results[0]?.scores.dense}`);
      const peanuts = await memory.search('peanuts', { userId: 'bob', mode: 'keyword' });
      assert.equal(peanuts.results[0]?.memory, 'I am allergic to peanuts');
      assert.equal((await memory.search('peanuts', { userId: 'alice', mode: 'keyword' })).results.length, 0);

      const before = await memory.store.stats();
      assert.equal(before.memories, 5);
      assert.equal(before.historyEvents, 8);
      const second = await importFromMem0(memory, fixture.vectorStore, { history: fixture.history });
      assert.equal(second.imported, 0);
      assert.equal(second.alreadyPresent, 5);
      assert.deepEqual(await memory.store.stats(), before, 'the second import wrote nothing');

      // A memory erased in mneme after the import is not brought back by importing again.
      const erased = fixture.memories[0]?.id ?? '';
      await memory.erase(erased);
      const third = await importFromMem0(memory, fixture.vectorStore, { history: fixture.history });
      assert.equal(third.imported, 0);
      assert.equal(await memory.get(erased), null);
    } finally {
      await memory.close();
    }
  });

  test('library: a dry run reads and counts without opening a store; without --history dates still come from Mem0', async () => {
    const { report } = await planMem0Import(fixture.vectorStore, { dryRun: true });
    assert.equal(report.dryRun, true);
    assert.equal(report.memories, 5);
    assert.equal(report.historyEvents, 5, 'one ADD per memory when no history DB is given');
    assert.deepEqual(report.deleted, [], 'deletions are only known from the history DB');

    const store = tempStore();
    const memory = await createMemory({ store: store.url, embedder: 'local', llm: null, env: {} });
    try {
      await importFromMem0(memory, fixture.vectorStore);
      for (const expected of fixture.memories) {
        assertRoundTrip(await memory.get(expected.id), expected);
        const [add, ...rest] = await memory.history(expected.id);
        assert.equal(add?.event, 'ADD');
        assert.equal(add?.createdAt, expected.createdAt);
        assert.equal(rest.length, 0);
      }
    } finally {
      await memory.close();
    }
  });

  test('damaged rows of a real store are reported with file, row and the payload field; the rest is imported', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-mem0-damaged-'));
    const vectorStore = join(directory, 'vector_store.db');
    const history = join(directory, 'memory.db');
    copyFileSync(fixture.vectorStore, vectorStore);
    copyFileSync(fixture.history, history);
    const vectors = new Database(vectorStore);
    const insert = vectors.prepare('INSERT INTO vectors (id, vector, payload) VALUES (?, ?, ?)');
    const blob = Buffer.alloc(16);
    insert.run('bad-json', blob, '{"data": "cut off');
    insert.run('no-text', blob, JSON.stringify({ user_id: 'alice', createdAt: '2024-01-01T00:00:00Z' }));
    insert.run(
      'no-user',
      blob,
      JSON.stringify({ data: 'Whose is this?', createdAt: '2024-01-01T00:00:00Z' }),
    );
    vectors.close();
    const live = fixture.memories[0]?.id ?? '';
    const historyDb = new Database(history);
    const row = historyDb.prepare(
      'INSERT INTO memory_history (memory_id, previous_value, new_value, action, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    row.run(live, null, null, 'NONE', '2024-01-01T00:00:00Z');
    row.run('gone-without-trace', null, 'Orphan text', 'ADD', '2024-01-01T00:00:00Z');
    historyDb.close();

    const { report } = await planMem0Import(vectorStore, { history });
    assert.equal(report.memories, 5, 'every intact memory is still importable');
    assert.deepEqual(
      report.bad.map((bad) => [bad.at.replace(directory, 'DIR'), bad.reason.replace(/;.*$/, '')]),
      [
        // A bad history row is reported right after its memory, which is still imported.
        [
          `DIR/memory.db: memory_history id 11 (memory ${live})`,
          'action: unknown Mem0 history action "NONE"',
        ],
        ['DIR/vector_store.db: vectors id bad-json', 'payload: is not valid JSON'],
        ['DIR/vector_store.db: vectors id no-text', 'payload.data: expected a string'],
        [
          'DIR/vector_store.db: vectors id no-user',
          'payload.user_id: is missing, and so are agent_id, run_id and app_id: mneme needs one of them to scope the memory',
        ],
        [
          'DIR/memory.db: memory_history rows for memory gone-without-trace',
          'the memory is not in the vector store and was never deleted: is --history the history DB of this vector store (not of one that was reset)?',
        ],
      ],
    );
  });

  test('CLI (built binary): imports twice (second adds nothing), progress on stderr, then list / history see it', async () => {
    const store = tempStore();
    const args = ['import', '--from', 'mem0', fixture.vectorStore, '--history', fixture.history];
    const first = await runMneme([...args, '--store', store.url, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as Mem0ImportReport;
    assert.equal(report.imported, 5);
    assert.equal(report.users, 2);
    assert.equal(report.historyEvents, 8);
    assert.deepEqual(report.deleted, [fixture.deletedId]);
    assert.deepEqual(report.bad, []);
    assert.match(first.stderr, /mneme: import: 5\/5/);
    assert.match(first.stderr, new RegExp(`1 memories deleted in Mem0 \\(${fixture.deletedId}\\)`));

    const second = await runMneme([...args, '--store', store.url]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^imported 0 of 5 memories of 2 users .* 5 already present; 0 bad rows/);

    const listed = await runMneme(['list', '--user', 'alice', '--store', store.url, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const alice = (JSON.parse(listed.stdout) as { results: MemoryRecord[] }).results;
    const expectedAlice = fixture.memories.filter((memory) => memory.user_id === 'alice');
    assert.deepEqual(
      alice.map((record) => record.id).sort(),
      expectedAlice.map((memory) => memory.id).sort(),
    );
    for (const expected of expectedAlice) {
      assertRoundTrip(alice.find((record) => record.id === expected.id) ?? null, expected);
    }
    const city = fixture.memories.find((memory) => memory.memory === 'I live in Porto');
    const history = await runMneme(['history', city?.id ?? '', '--store', store.url, '--json']);
    assert.equal(history.code, 0, history.stderr);
    const events = (JSON.parse(history.stdout) as { history: HistoryEvent[] }).history;
    assert.deepEqual(comparableHistory(events), city ? expectedHistory(city) : []);
  });

  test('CLI: --dry-run prints the counts and writes nothing (no store file is created); a directory works as source', async () => {
    const store = tempStore();
    const dry = await runMneme([
      'import',
      '--from',
      'mem0',
      fixture.directory,
      '--dry-run',
      '--store',
      store.url,
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /^dry run, nothing written: would import 5 memories of 2 users \(1 agents, 1 runs\) with 8 history events/,
    );
    assert.match(dry.stdout, /0 bad rows, 1 deleted in Mem0/);
    assert.equal(existsSync(store.path), false, 'a dry run creates no store file');
    const json = await runMneme(['import', '--from', 'mem0', fixture.directory, '--dry-run', '--json'], {
      MNEME_STORE: store.url,
    });
    const report = JSON.parse(json.stdout) as Mem0ImportReport;
    assert.equal(report.dryRun, true);
    assert.equal(report.history, join(fixture.directory, 'memory.db'));
    assert.equal(report.imported, 0);
    assert.equal(existsSync(store.path), false);
  });

  test('CLI: bad input gets an error naming the flag and the fix', async () => {
    const missing = await runMneme(['import', '--from', 'mem0']);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /give the Mem0 source: `mneme import --from mem0 ~\/\.mem0\/vector_store\.db/,
    );

    const unknown = await runMneme(['import', '--from', 'zep', 'x.json']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--from zep is not a source mneme imports from: use --from mem0/);

    const nowhere = await runMneme([
      'import',
      '--from',
      'mem0',
      join(fixture.directory, 'nope.db'),
      '--dry-run',
    ]);
    assert.equal(nowhere.code, 1);
    assert.match(
      nowhere.stderr,
      /source: .*nope\.db: no such file or directory; give a Mem0 OSS vector store/,
    );

    const swapped = await runMneme(['import', '--from', 'mem0', fixture.history, '--dry-run', '--json']);
    assert.equal(swapped.code, 1);
    const error = (JSON.parse(swapped.stdout) as { error: { field: string; message: string } }).error;
    assert.equal(error.field, 'source');
    assert.match(
      error.message,
      /is Mem0's history DB .* give the vector store .* and this file as --history/,
    );

    const wrongHistory = await runMneme([
      'import',
      '--from',
      'mem0',
      fixture.vectorStore,
      '--history',
      fixture.vectorStore,
      '--dry-run',
    ]);
    assert.equal(wrongHistory.code, 1);
    assert.match(wrongHistory.stderr, /history: .* has no memory_history table; give Mem0's history DB/);

    const stray = await runMneme(['import', '--dry-run', 'memories.jsonl']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--dry-run applies to --from mem0 only/);
  });
});
