/**
 * `mneme migrate` and `mneme copy`, run in-process through the real CLI entry point against a real SQLite file
 * and PostgreSQL (the real server with pgvector at MNEME_TEST_POSTGRES_URL, else PGlite + pgvector over the wire
 * protocol; the real server for the missing-pgvector warning).
 * Copy is checked end to end: SQLite -> PostgreSQL -> SQLite keeps every record, vector and history event.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { runCli } from '../../src/cli/main.js';
import type { HistoryEvent, MemoryRecord } from '../../src/core/types.js';
import { createPostgresStore, PGVECTOR_MISSING } from '../../src/stores/postgres.js';
import { scanPages } from '../../src/stores/scan-pages.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import type { EmbedderIdentity, MemoryChange, MemoryStore } from '../../src/stores/types.js';
import {
  sharedTestPostgres,
  stopSharedTestPostgres,
  storeUrl,
  uniqueSchema,
} from '../stores/postgres-support.js';
import { seededVector } from '../support/vectors.js';

after(stopSharedTestPostgres);

const directory = mkdtempSync(join(tmpdir(), 'mneme-copy-'));
after(() => rmSync(directory, { recursive: true, force: true }));

/** The embedder the source was written by; the CLI is configured with the default (local) one. */
const SOURCE_EMBEDDER: EmbedderIdentity = { id: 'test:copy', dimension: 16 };

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env: { MNEME_LOG_LEVEL: 'error' },
    isTTY: false,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

type Scanned = Array<{ record: MemoryRecord; embedding: number[]; history: HistoryEvent[] }>;

async function scanAll(store: MemoryStore): Promise<Scanned> {
  const items: Scanned = [];
  for await (const page of scanPages(store, 7)) {
    items.push(...page.items.map((item) => ({ ...item, embedding: [...item.embedding] })));
  }
  return items;
}

async function scanOf(store: MemoryStore): Promise<Scanned> {
  await store.open({ embedder: SOURCE_EMBEDDER });
  try {
    return await scanAll(store);
  } finally {
    await store.close();
  }
}

/** A SQLite file with 30 memories of two users, some updated and superseded (so history has several events). */
async function sourceFile(): Promise<string> {
  const path = join(directory, `source-${randomUUID()}.db`);
  const store = createSqliteStore({ path });
  await store.open({ embedder: SOURCE_EMBEDDER });
  const records: MemoryRecord[] = Array.from({ length: 30 }, (_, index) => {
    const at = new Date(Date.parse('2026-02-01T00:00:00.000Z') + index * 60_000).toISOString();
    return {
      id: randomUUID(),
      memory: `fact number ${index} about ${index % 2 ? 'tea' : 'coffee'}`,
      userId: index % 3 ? 'alice' : 'bob',
      ...(index % 5 === 0 ? { agentId: 'agent-1', topic: `topic:${index}` } : {}),
      kind: 'user_fact',
      metadata: { index, tags: ['a', 'b'], nested: { ok: index % 2 === 0 } },
      hash: `hash-${index}`,
      createdAt: at,
      updatedAt: at,
      observedAt: at,
    };
  });
  const changes: MemoryChange[] = records.map((record, index) => ({
    type: 'insert',
    record,
    embedding: seededVector(index + 1, SOURCE_EMBEDDER.dimension),
    event: { event: 'ADD', newValue: record.memory, actor: 'test', createdAt: record.createdAt },
  }));
  await store.apply({ changes });
  for (const record of records.slice(0, 10)) {
    await store.apply({
      changes: [
        {
          type: 'update',
          id: record.id,
          patch: { memory: `${record.memory} (corrected)`, updatedAt: '2026-03-01T00:00:00.000Z' },
          embedding: seededVector(500, SOURCE_EMBEDDER.dimension),
          event: {
            event: 'UPDATE',
            previousValue: record.memory,
            newValue: `${record.memory} (corrected)`,
            reason: 'user correction',
            actor: 'user',
            createdAt: '2026-03-01T00:00:00.000Z',
          },
        },
        {
          type: 'note',
          id: record.id,
          event: { event: 'NOOP', actor: 'ingest', createdAt: '2026-03-02T00:00:00.000Z' },
        },
      ],
    });
  }
  await store.close();
  return path;
}

describe('mneme copy', () => {
  test('SQLite -> PostgreSQL -> SQLite keeps every record, vector and history event; reruns skip', async () => {
    const server = await sharedTestPostgres();
    const schema = uniqueSchema('mneme_copy');
    const pgUrl = server.storeUrl(schema);
    const sourcePath = await sourceFile();
    const backPath = join(directory, `back-${randomUUID()}.db`);
    try {
      const first = await cli(['copy', '--from', `sqlite://${sourcePath}`, '--to', pgUrl, '--batch', '8']);
      assert.equal(first.code, 0, first.err);
      assert.match(first.out, /^copied 30 memories \(50 history events scanned\), skipped 0/);

      const original = await scanOf(createSqliteStore({ path: sourcePath }));
      assert.equal(original.length, 30);
      assert.equal(original.filter((item) => item.history.length === 3).length, 10);
      const inPostgres = await scanOf(createPostgresStore({ connectionString: pgUrl }));
      assert.deepEqual(inPostgres, original, 'records, vectors (bit for bit) and history with ids and times');

      const again = await cli(['copy', '--from', `sqlite://${sourcePath}`, '--to', pgUrl, '--json']);
      assert.equal(again.code, 0, again.err);
      assert.deepEqual(JSON.parse(again.out), {
        from: `sqlite://${sourcePath}`,
        to: pgUrl,
        copied: 0,
        skipped: 30,
        historyEvents: 50,
      });

      const back = await cli(['copy', '--from', pgUrl, '--to', `sqlite://${backPath}`]);
      assert.equal(back.code, 0, back.err);
      assert.deepEqual(await scanOf(createSqliteStore({ path: backPath })), original);
    } finally {
      await server.dropSchema(schema);
    }
  });

  test('a target written by another embedder is refused with a clear error and left unchanged', async () => {
    const server = await sharedTestPostgres();
    const schema = uniqueSchema('mneme_copy');
    const pgUrl = server.storeUrl(schema);
    const other = createPostgresStore({ connectionString: pgUrl });
    await other.open({ embedder: { id: 'other:model', dimension: 16 } });
    await other.close();
    try {
      const result = await cli(['copy', '--from', `sqlite://${await sourceFile()}`, '--to', pgUrl]);
      assert.equal(result.code, 1);
      assert.match(
        result.err,
        /source was written by "test:copy" \(16 dimensions\) but the target by "other:model"/,
      );
      assert.match(result.err, /vectors cannot be copied verbatim/);
      const target = createPostgresStore({ connectionString: pgUrl });
      await target.open({ embedder: { id: 'other:model', dimension: 16 } });
      assert.equal((await target.stats()).memories, 0);
      await target.close();
    } finally {
      await server.dropSchema(schema);
    }
  });

  test('usage errors: missing flags, a missing source file, the same store twice', async () => {
    assert.equal((await cli(['copy', '--to', 'sqlite:///tmp/x.db'])).code, 2);
    const missing = await cli([
      'copy',
      '--from',
      `sqlite://${join(directory, 'nope.db')}`,
      '--to',
      'memory://',
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no such SQLite file/);
    assert.equal((await cli(['copy', '--from', 'memory://', '--to', 'memory://'])).code, 2);
  });
});

describe('mneme migrate', () => {
  test('applies the migrations to a PostgreSQL schema, then reports it up to date', async () => {
    const server = await sharedTestPostgres();
    const schema = uniqueSchema('mneme_migrate');
    const url = server.storeUrl(schema);
    try {
      const first = await cli(['migrate', '--store', url]);
      assert.equal(first.code, 0, first.err);
      assert.match(
        first.out,
        new RegExp(`\\(schema ${schema}\\): applied migrations 1, 2, 3; schema version 3$`),
      );
      assert.equal(first.err, '', 'the server has pgvector: no warning');
      const second = await cli(['migrate', '--store', url, '--json']);
      assert.equal(second.code, 0, second.err);
      const parsed = JSON.parse(second.out) as { schemaVersion: number; applied: number[] };
      assert.equal(parsed.schemaVersion, 3);
      assert.deepEqual(parsed.applied, []);
    } finally {
      await server.dropSchema(schema);
    }
  });

  test('SQLite stores migrate on open; the command reports their schema version', async () => {
    const path = join(directory, `migrate-${randomUUID()}.db`);
    const result = await cli(['migrate', '--store', `sqlite://${path}`]);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /migrated on open; schema version \d+/);
  });

  const realUrl = process.env.MNEME_TEST_POSTGRES_URL;
  test(
    'on a server without pgvector it migrates and warns that the store cannot open yet',
    realUrl === undefined
      ? { skip: 'MNEME_TEST_POSTGRES_URL not set: set it, e.g. postgres://postgres@127.0.0.1:5432/test' }
      : {},
    async () => {
      const schema = uniqueSchema('mneme_migrate_real');
      const url = storeUrl(realUrl ?? '', schema);
      const client = new pg.Client({ connectionString: realUrl });
      await client.connect();
      try {
        const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
        const result = await cli(['migrate', '--store', url]);
        assert.equal(result.code, 0, result.err);
        assert.match(result.out, /schema version 3$/);
        assert.equal(result.err.includes(PGVECTOR_MISSING), available.rows.length === 0, result.err);
      } finally {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    },
  );
});
