/**
 * Facts about the SQLite store that the shared suite cannot check: the real file and its settings, schema
 * versioning, several connections and processes on one file, bound parameters, erasure reaching the disk,
 * errors for broken files, and keyword ranking parity with the in-memory store.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ConfigError, StoreError, ValidationError } from '../../src/core/errors.js';
import { parseFilter } from '../../src/core/filters.js';
import type { MemoryRecord } from '../../src/core/types.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import { keywordTokens } from '../../src/stores/keyword-index.js';
import { createStore } from '../../src/stores/registry.js';
import { SCHEMA_VERSION } from '../../src/stores/sqlite/schema.js';
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.js';
import type { MemoryStore } from '../../src/stores/types.js';
import { seededVector } from '../support/vectors.js';
import { insertChange, NOW, record } from './sqlite-records.js';

const EMBEDDER = { id: 'test:sqlite', dimension: 4 };
const directories: string[] = [];

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempPath(name = 'mneme.db'): string {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-sqlite-specific-'));
  directories.push(directory);
  return join(directory, name);
}

function insert(item: MemoryRecord, embedding = seededVector(item.memory.length, EMBEDDER.dimension)) {
  return insertChange(item, embedding);
}

async function openStore(path: string, options: { busyTimeoutMs?: number; busyAttempts?: number } = {}) {
  const store = createSqliteStore({ path, ...options });
  await store.open({ embedder: EMBEDDER });
  return store;
}

function schemaSnapshot(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all() as Array<{
        sql: string | null;
      }>
    )
      .map((row) => JSON.stringify(row))
      .sort();
  } finally {
    db.close();
  }
}

describe('SQLite store specifics', () => {
  test('creates the file in new parent directories with WAL, synchronous FULL, foreign keys and secure_delete', async () => {
    const path = join(tempPath(), '..', 'deeper', 'still', 'mneme.db');
    const store = await openStore(path);
    try {
      assert.ok(existsSync(path), 'the database file exists on disk');
      const diagnostics = await store.diagnostics();
      assert.equal(diagnostics.journalMode, 'wal');
      assert.equal(diagnostics.synchronous, 2, 'synchronous = FULL');
      assert.equal(diagnostics.foreignKeys, true);
      assert.equal(diagnostics.secureDelete, true);
      assert.equal(diagnostics.busyTimeoutMs, 5000);
      assert.equal(diagnostics.schemaVersion, SCHEMA_VERSION);
      assert.equal(diagnostics.quickCheck, 'ok');
      assert.match(diagnostics.sqliteVecVersion, /^v0\./);
      await store.apply({ changes: [insert(record('hello file'))] });
      assert.ok(existsSync(`${path}-wal`), 'writes go through the WAL');
    } finally {
      await store.close();
    }
    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal', 'WAL is a property of the file');
      const meta = Object.fromEntries(
        (raw.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map(
          (row) => [row.key, row.value],
        ),
      );
      assert.deepEqual(meta, {
        schema_version: String(SCHEMA_VERSION),
        embedder_id: EMBEDDER.id,
        embedder_dimension: String(EMBEDDER.dimension),
      });
    } finally {
      raw.close();
    }
  });

  test('migrations are idempotent on reopen and a newer schema is refused with advice', async () => {
    const path = tempPath();
    const first = await openStore(path);
    const kept = record('kept across reopen');
    await first.apply({ changes: [insert(kept)] });
    await first.close();
    const snapshot = schemaSnapshot(path);
    for (let round = 0; round < 3; round += 1) {
      const again = await openStore(path);
      assert.deepEqual(await again.get({ id: kept.id }), kept);
      await again.close();
    }
    assert.deepEqual(schemaSnapshot(path), snapshot, 'reopening changes no schema object');

    const raw = new Database(path);
    raw.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    raw.close();
    const newer = createSqliteStore({ path });
    try {
      await assert.rejects(newer.open({ embedder: EMBEDDER }), (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.equal(error.code, 'store_schema_newer');
        assert.match(error.message, /999/);
        assert.match(error.message, /Upgrade mneme/);
        return true;
      });
    } finally {
      await newer.close();
    }
  });

  test("two store instances on one file see each other's writes", async () => {
    const path = tempPath();
    const left = await openStore(path);
    const right = await openStore(path);
    try {
      const fromLeft = record('written by left');
      await left.apply({ changes: [insert(fromLeft)] });
      assert.deepEqual(await right.get({ id: fromLeft.id }), fromLeft);
      const fromRight = record('written by right');
      await right.apply({ changes: [insert(fromRight)] });
      const listed = await left.list({
        scope: { userId: 'alice' },
        temporal: { now: NOW },
        page: { limit: 10 },
      });
      assert.equal(listed.records.length, 2);
      const item = await right.enqueue({ scope: { userId: 'alice' }, payload: 'x', now: NOW });
      const [claimed] = await left.claimQueue({ limit: 1, leaseMs: 60_000, now: NOW });
      assert.equal(claimed?.id, item.id);
      assert.deepEqual(
        await right.claimQueue({ limit: 1, leaseMs: 60_000, now: NOW }),
        [],
        'the lease is shared',
      );
    } finally {
      await left.close();
      await right.close();
    }
  });

  test('keyword search finds visible matches ranked below a full pool of filtered-out ones', async () => {
    const path = tempPath();
    const store = await openStore(path);
    try {
      // 130 strong matches (short texts) that the filter hides, then weaker visible ones: FTS5's first pool of
      // 100 holds only hidden rows, so the search must look past it.
      const hidden = Array.from({ length: 130 }, (_, index) =>
        record(`apple apple ${index}`, { userId: 'alice' }, { metadata: { hidden: true } }),
      );
      const visible = [
        'apple pie with cinnamon, cloves and a long list of other spices',
        'an apple a day keeps the doctor away, they say',
      ].map((text) => record(text, { userId: 'alice' }, { metadata: { hidden: false } }));
      await store.apply({ changes: [...hidden, ...visible].map((item) => insert(item)) });
      const filter = parseFilter({ hidden: false });
      assert.ok(filter);
      for (const limit of [1, 2, 5]) {
        const hits = await store.searchKeyword({
          scope: { userId: 'alice' },
          temporal: { now: NOW },
          terms: ['apple'],
          limit,
          filter,
        });
        const visibleIds = new Set(visible.map((item) => item.id));
        assert.equal(hits.length, Math.min(limit, visible.length), `limit ${limit}`);
        assert.ok(
          hits.every((hit) => visibleIds.has(hit.record.id)),
          `limit ${limit}: only visible rows`,
        );
      }
    } finally {
      await store.close();
    }
  });

  test('SQLITE_BUSY never reaches callers: two child processes and this one write one file at once', async () => {
    const path = tempPath();
    const setup = await openStore(path);
    await setup.close();
    const perWriter = 80;
    const script = new URL('./fixtures/sqlite-writer.ts', import.meta.url);
    const startWriter = (label: string) => {
      const child = fork(script, [path, String(perWriter), label], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      let output = '';
      let errorOutput = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        errorOutput += chunk.toString();
      });
      const ready = new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) =>
          reject(new Error(`writer ${label} exited early (${code}): ${errorOutput}`)),
        );
      });
      const done = new Promise<{ written: number; errors: string[] }>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) => {
          if (code !== 0) reject(new Error(`writer ${label} exited with ${code}: ${errorOutput}`));
          else resolve(JSON.parse(output.trim()) as { written: number; errors: string[] });
        });
      });
      return { ready, done, go: () => child.send('go') };
    };
    const children = ['writer-a', 'writer-b'].map(startWriter);
    // This process writes too, through its own store instance; everyone starts at once.
    const local = await openStore(path);
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();
    const localErrors: string[] = [];
    for (let index = 0; index < perWriter; index += 1) {
      const item = record(`main memory ${index}`, { userId: 'writer-main' });
      try {
        await local.apply({ changes: [insert(item)] });
        await local.enqueue({ scope: { userId: 'writer-main' }, payload: { index }, now: NOW });
      } catch (error) {
        localErrors.push(String(error));
      }
    }
    await local.close();
    assert.deepEqual(localErrors, [], 'no write in this process failed');
    const results = await Promise.all(children.map((child) => child.done));
    for (const result of results) {
      assert.deepEqual(result.errors, [], 'no write failed');
      assert.equal(result.written, perWriter);
    }
    const store = await openStore(path);
    try {
      const stats = await store.stats();
      assert.equal(stats.memories, perWriter * 3);
      assert.equal(stats.vectors, perWriter * 3);
      assert.equal(stats.keywordEntries, perWriter * 3);
      assert.equal(stats.historyEvents, perWriter * 3);
      assert.equal(stats.queueItems, perWriter * 3);
      assert.equal((await store.diagnostics()).quickCheck, 'ok');
    } finally {
      await store.close();
    }
  });

  test('a write lock held elsewhere is waited out by the bounded retry', async () => {
    const path = tempPath();
    const store = await openStore(path, { busyTimeoutMs: 20, busyAttempts: 8 });
    const blocker = new Database(path);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      const released = new Promise<void>((resolve) =>
        setTimeout(() => {
          blocker.exec('COMMIT');
          resolve();
        }, 120),
      );
      const started = Date.now();
      const item = record('written after the lock was released');
      await store.apply({ changes: [insert(item)] });
      await released;
      assert.ok(Date.now() - started >= 100, 'the write waited for the lock');
      assert.deepEqual(await store.get({ id: item.id }), item);
    } finally {
      if (blocker.inTransaction) blocker.exec('ROLLBACK');
      blocker.close();
      await store.close();
    }
  });

  test('a lock that outlasts the retries is a retryable StoreError, not a raw SqliteError', async () => {
    const path = tempPath();
    const store = await openStore(path, { busyTimeoutMs: 10, busyAttempts: 2 });
    const blocker = new Database(path);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      await assert.rejects(store.apply({ changes: [insert(record('blocked'))] }), (error: unknown) => {
        assert.ok(error instanceof StoreError, `got ${String(error)}`);
        assert.equal(error.retryable, true);
        assert.equal(error.code, 'store_busy');
        assert.ok(error.message.includes(path), 'the message names the file');
        return true;
      });
      blocker.exec('ROLLBACK');
      await store.apply({ changes: [insert(record('after the lock'))] });
    } finally {
      if (blocker.inTransaction) blocker.exec('ROLLBACK');
      blocker.close();
      await store.close();
    }
  });

  test('filter, scope and keyword values are bound parameters, never SQL text', async () => {
    const store = await openStore(tempPath());
    try {
      const plain = record('plain memory', { userId: 'alice' }, { metadata: { a: 'safe' } });
      await store.apply({ changes: [insert(plain)] });
      const temporal = { now: NOW };
      for (const value of ["x' OR 1=1 --", "safe' OR '1'='1", '" OR 1=1 --', "'); DROP TABLE memories; --"]) {
        const filter = parseFilter({ a: value });
        const page = await store.list({
          scope: { userId: 'alice' },
          temporal,
          page: { limit: 10 },
          ...(filter ? { filter } : {}),
        });
        assert.deepEqual(page.records, [], `filter value ${value} matches nothing`);
        const scoped = await store.list({ scope: { userId: value }, temporal, page: { limit: 10 } });
        assert.deepEqual(scoped.records, [], `scope value ${value} matches nothing`);
        const hits = await store.searchKeyword({
          scope: { userId: 'alice' },
          temporal,
          terms: [value],
          limit: 5,
        });
        assert.deepEqual(hits, [], `keyword term ${value} matches nothing`);
      }
      assert.throws(
        () => parseFilter({ "a') OR 1=1 --": 'x' }),
        ValidationError,
        'metadata keys are validated',
      );
      assert.equal((await store.stats()).memories, 1, 'the table is still there');
    } finally {
      await store.close();
    }
  });

  test('erased text is gone from the database file after the checkpoint', async () => {
    const path = tempPath();
    const marker = 'Xylo7quokkamarker';
    const store = await openStore(path);
    try {
      const secret = record(
        `my secret is ${marker} indeed`,
        { userId: 'alice' },
        {
          metadata: { note: `${marker} in metadata` },
          topic: `topic:${marker}`,
          speaker: `${marker} speaker`,
        },
      );
      const other = record('bob keeps his memory', { userId: 'bob' });
      await store.apply({ changes: [insert(secret), insert(other)] });
      await store.apply({
        changes: [
          {
            type: 'update',
            id: secret.id,
            patch: { memory: `still ${marker} after an update` },
            event: {
              event: 'UPDATE',
              previousValue: secret.memory,
              newValue: `still ${marker} after an update`,
              reason: `because ${marker}`,
              actor: 'test',
              createdAt: NOW,
            },
          },
        ],
      });
      await store.enqueue({ scope: { userId: 'alice' }, payload: { text: `queued ${marker}` }, now: NOW });
      const fileText = () => {
        const parts = [readFileSync(path)];
        if (existsSync(`${path}-wal`)) parts.push(readFileSync(`${path}-wal`));
        return Buffer.concat(parts).toString('latin1').toLowerCase();
      };
      const needle = 'quokkamark';
      const raw = new Database(path);
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
      assert.ok(fileText().includes(needle), 'before erasure the marker is in the file (the check can fail)');

      assert.equal(await store.eraseScope({ scope: { userId: 'alice' }, now: NOW, actor: 'admin' }), 1);
      const text = fileText();
      assert.ok(!text.includes(needle), 'no trace of the erased text in the database or WAL file');
      assert.ok(text.includes('bob keeps his memory'), 'other scopes are still on disk');
      assert.equal((await store.history({ id: secret.id })).at(-1)?.event, 'ERASE');
    } finally {
      await store.close();
    }
  });

  test('a file that is not a database gives a StoreError naming the path and `mneme doctor`', async () => {
    const path = tempPath('broken.db');
    writeFileSync(path, 'this is not an SQLite database, just text '.repeat(200));
    const store = createSqliteStore({ path });
    try {
      await assert.rejects(store.open({ embedder: EMBEDDER }), (error: unknown) => {
        assert.ok(error instanceof StoreError, `got ${String(error)}`);
        assert.equal(error.code, 'store_corrupt');
        assert.ok(error.message.includes(path));
        assert.match(error.message, /mneme doctor/);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  test('a read-only database file gives a StoreError that says to fix permissions', {
    skip: process.getuid?.() === 0 ? 'running as root: file permissions do not apply' : undefined,
  }, async () => {
    const path = tempPath();
    const store = await openStore(path);
    await store.close();
    chmodSync(path, 0o444);
    const readOnly = createSqliteStore({ path });
    try {
      await assert.rejects(
        (async () => {
          await readOnly.open({ embedder: EMBEDDER });
          await readOnly.apply({ changes: [insert(record('cannot write'))] });
        })(),
        (error: unknown) => {
          assert.ok(error instanceof StoreError, `got ${String(error)}`);
          assert.match(error.message, /read-only/);
          return true;
        },
      );
    } finally {
      await readOnly.close();
      chmodSync(path, 0o644);
    }
  });

  test('createStore maps sqlite URLs to files, creates directories, and refuses unknown schemes', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-registry-'));
    directories.push(directory);
    const absolute = join(directory, 'a', 'b', 'abs.db');
    const viaUrl = (await createStore(`sqlite://${absolute}`)) as SqliteStore;
    assert.equal(viaUrl.name, 'sqlite');
    assert.equal(viaUrl.path, absolute);
    await viaUrl.open({ embedder: EMBEDDER });
    assert.ok(existsSync(absolute), 'parent directories were created');
    await viaUrl.close();

    const cwd = process.cwd();
    process.chdir(directory);
    try {
      const relative = (await createStore('sqlite://./rel/dir/rel.db')) as SqliteStore;
      assert.equal(relative.path, join(directory, 'rel', 'dir', 'rel.db'));
    } finally {
      process.chdir(cwd);
    }

    const memoryDb = (await createStore('sqlite::memory:')) as SqliteStore;
    assert.equal(memoryDb.path, ':memory:');
    assert.deepEqual(memoryDb.capabilities, { persistent: false, multiProcess: false });
    await memoryDb.open({ embedder: EMBEDDER });
    await memoryDb.apply({ changes: [insert(record('in memory sqlite'))] });
    assert.equal((await memoryDb.stats()).memories, 1);
    await memoryDb.close();

    const inMemory = await createStore('memory://');
    assert.equal(inMemory.name, 'memory');
    await inMemory.close();

    for (const bad of ['redis://localhost', './mneme.db', '', 'sqlite://']) {
      await assert.rejects(createStore(bad), (error: unknown) => {
        assert.ok(error instanceof ConfigError, `${bad}: got ${String(error)}`);
        assert.match(error.message, /MNEME_STORE/);
        return true;
      });
    }
    await assert.rejects(createStore('mysql://user:hunter2@host/db'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(!error.message.includes('hunter2'), 'passwords are redacted');
      assert.match(error.message, /sqlite:/);
      return true;
    });
  });
});

describe('keyword search parity between SQLite (FTS5) and the in-memory store', () => {
  const texts = [
    'I am running a marathon next month and I run every morning',
    'She runs the generalization team; generalizations are hard',
    'The runner ran past the relational database conference',
    'Relations between nations: a rational discussion',
    'Connected connections connecting connectivity',
    'Café au lait at the naïve Zoë’s crêperie',
    'caresses ponies ties caress cats feed agreed disabled',
    'happy happiness happily hopping hoped hopeful',
    'the the the the the the database database',
    'a short one',
    'Our electricity bill is due; the electrician is electrifying',
    'Meet at 10:30 in room B-12 about the Q3 plan',
  ];
  const queries = [
    ['run'],
    ['running'],
    ['runs', 'generalization'],
    ['relational', 'database'],
    ['connect'],
    ['cafe', 'naive', 'zoe'],
    ['crêperie'],
    ['pony', 'tie', 'agree'],
    ['happiness', 'hope'],
    ['the'],
    ['electric'],
    ['q3', 'b'],
    ['10', '30'],
    ['missingword'],
  ];

  async function fill(store: MemoryStore) {
    await store.open({ embedder: EMBEDDER });
    const changes = texts.map((text, index) =>
      insert(
        record(
          text,
          // Scope fields count in FTS5's document length (one token each): vary them.
          index % 3 === 1
            ? { userId: 'alice', agentId: 'agent-1' }
            : index % 4 === 2
              ? { userId: 'alice', runId: 'run-1', appId: 'app-1' }
              : { userId: 'alice' },
          { id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}` },
        ),
      ),
    );
    changes.push(insert(record('bob runs a database too', { userId: 'bob' })));
    await store.apply({ changes });
    // An update re-indexes the text: the scores must still agree.
    await store.apply({
      changes: [
        {
          type: 'update',
          id: '00000000-0000-4000-8000-000000000004',
          patch: { memory: 'Connected connections and a relational database' },
          event: { event: 'UPDATE', actor: 'test', createdAt: NOW },
        },
      ],
    });
  }

  test('same hits, same order and the same BM25 scores', async () => {
    const sqlite = createSqliteStore({ path: tempPath() });
    const memory = createInMemoryStore();
    await fill(sqlite);
    await fill(memory);
    try {
      for (const terms of queries) {
        for (const scope of [{ userId: 'alice' }, { agentId: 'agent-1' }]) {
          const options = { scope, temporal: { now: NOW }, terms, limit: 20 };
          const expected = await sqlite.searchKeyword(options);
          const actual = await memory.searchKeyword(options);
          assert.deepEqual(
            actual.map((hit) => hit.record.id),
            expected.map((hit) => hit.record.id),
            `hits for ${terms.join(' ')}`,
          );
          for (const [index, hit] of actual.entries()) {
            const reference = expected[index]?.bm25 ?? Number.NaN;
            assert.ok(
              Math.abs(hit.bm25 - reference) <= 1e-9 * Math.max(1, Math.abs(reference)),
              `bm25 for ${terms.join(' ')}: ${hit.bm25} vs FTS5 ${reference}`,
            );
          }
        }
      }
      const some = await sqlite.searchKeyword({
        scope: { userId: 'alice' },
        temporal: { now: NOW },
        terms: ['run'],
        limit: 20,
      });
      assert.equal(some.length, 2, 'stemming: run matches running and runs (not ran or runner)');
    } finally {
      await sqlite.close();
      await memory.close();
    }
  });

  test('the JavaScript tokenizer and Porter stemmer produce the tokens FTS5 indexes', () => {
    const stems = [
      'run',
      'hop',
      'generaliz',
      'relat',
      'happ',
      'caress',
      'pon',
      'agre',
      'sk',
      'fe',
      'conflat',
      'troubl',
      'siz',
      'fil',
      'fail',
      'electric',
      'connect',
      'nation',
      'ration',
      'format',
      'argu',
      'avoid',
      'abat',
      'bak',
      'cri',
      'dy',
      'hop',
      'mess',
      'plaster',
      'motor',
      'control',
      'roll',
      'bell',
      'cease',
      'oscill',
      'sens',
      'adopt',
      'depend',
      'irrit',
      'effect',
      'homolog',
      'communism',
      'activ',
      'angular',
      'bowdler',
      'adjust',
      'goodness',
      'predic',
      'vietnam',
      'triplic',
      'analog',
      'sensitiv',
      'feud',
      'decis',
      'hesit',
    ];
    const suffixes = [
      '',
      's',
      'es',
      'ed',
      'ing',
      'ly',
      'e',
      'y',
      'ies',
      'ied',
      'ational',
      'tional',
      'ization',
      'ation',
      'ator',
      'ness',
      'fulness',
      'ousness',
      'iveness',
      'ement',
      'ment',
      'ent',
      'ence',
      'ance',
      'ity',
      'iti',
      'aliti',
      'ive',
      'able',
      'ible',
      'er',
      'ize',
      'izer',
      'ism',
      'ous',
      'ic',
      'ical',
      'al',
      'alize',
      'ful',
      'icate',
      'iciti',
      'ant',
      'ion',
      'ou',
      'ate',
      'bli',
      'logi',
      'eed',
      'll',
      'at',
      'bl',
      'iz',
      'sses',
      'ss',
    ];
    const words: string[] = [];
    for (const stem of stems) for (const suffix of suffixes) words.push(stem + suffix);
    const extra = [
      'Café naïve Zoë Ærø façade Ångström Łódź straße İstanbul ǅemal',
      'MiXeD CaSe 123 4.5 x_y a-b 10:30 émigré résumé coöperate',
      'Ελληνικά λέξεις and русские слова and 日本語 text',
      'ΣΑΣ ſun ϐeta ϑx ϕx ϖx ϰx ϱx ϵx ẛx \u1fbex Ꭰx ǅx Kelvin Å',
    ];
    const documents: string[] = [];
    for (let index = 0; index < words.length; index += 60)
      documents.push(words.slice(index, index + 60).join(' '));
    documents.push(...extra);

    const db = new Database(':memory:');
    try {
      db.exec(`CREATE VIRTUAL TABLE t USING fts5 (body, tokenize = 'porter unicode61 remove_diacritics 2');
               CREATE VIRTUAL TABLE v USING fts5vocab (t, 'instance');`);
      const add = db.prepare('INSERT INTO t (rowid, body) VALUES (?, ?)');
      for (const [index, text] of documents.entries()) add.run(index + 1, text);
      const rows = db.prepare('SELECT doc, term FROM v ORDER BY doc, offset').all() as Array<{
        doc: number;
        term: string;
      }>;
      const expected = documents.map((_, index) =>
        rows.filter((row) => row.doc === index + 1).map((row) => row.term),
      );
      documents.forEach((text, index) => {
        assert.deepEqual(
          keywordTokens(text),
          expected[index],
          `tokens of document ${index}: ${text.slice(0, 60)}`,
        );
      });
      assert.ok(words.length > 2500, `compared ${words.length} generated words`);
    } finally {
      db.close();
    }
  });
});
