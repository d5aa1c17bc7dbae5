/**
 * The PostgreSQL store's `keyword_stats` table (migration 3): per exact scope, the memory count and summed BM25
 * document length, kept by statement-level triggers inside each writing transaction. After mixed writes
 * (add, update, delete, erase, restore, concurrent adds) it equals a fresh count over `memories`, per scope; a
 * schema populated before migration 3 is backfilled; and keyword scores still equal SQLite's on texts that
 * repeat a term or hold a phrase. Runs on MNEME_TEST_POSTGRES_URL (PGlite + pgvector without one, the reason
 * printed).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { MemoryRecord, Scope } from '../../src/core/types.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import type { MemoryStore } from '../../src/stores/types.js';
import { seededVector } from '../support/vectors.js';
import { sharedTestPostgres, stopSharedTestPostgres, uniqueSchema } from './postgres-support.js';

after(stopSharedTestPostgres);

const DIMENSION = 16;
const EMBEDDER = { id: `test:hash-${DIMENSION}`, dimension: DIMENSION };
const NOW = '2026-06-01T00:00:00.000Z';
let counter = 0;

function record(text: string, scope: Scope): MemoryRecord {
  counter += 1;
  const at = new Date(Date.parse('2026-01-01T00:00:00.000Z') + counter * 60_000).toISOString();
  return {
    id: randomUUID(),
    memory: text,
    ...scope,
    kind: 'user_fact',
    metadata: {},
    hash: `hash-${counter}`,
    createdAt: at,
    updatedAt: at,
    observedAt: at,
  };
}

const event = (text?: string) => ({
  event: 'ADD' as const,
  ...(text === undefined ? {} : { newValue: text }),
  actor: 'test',
  createdAt: NOW,
});

async function add(store: MemoryStore, records: MemoryRecord[]): Promise<void> {
  await store.apply({
    changes: records.map((item) => ({
      type: 'insert' as const,
      record: item,
      embedding: seededVector(counter + item.memory.length, DIMENSION),
      event: event(item.memory),
    })),
  });
}

async function pgStore() {
  const server = await sharedTestPostgres();
  const schema = uniqueSchema();
  const url = server.storeUrl(schema);
  const store = createPostgresStore({ connectionString: url });
  return { server, schema, url, store, drop: () => server.dropSchema(schema) };
}

type Row = Record<string, unknown>;

/** `keyword_stats` and a fresh count over `memories`, both per exact scope, in one order. */
async function statsAndTruth(server: Awaited<ReturnType<typeof sharedTestPostgres>>, schema: string) {
  const order = 'ORDER BY user_id NULLS FIRST, agent_id NULLS FIRST, run_id NULLS FIRST, app_id NULLS FIRST';
  const stats = await server.query(
    `SELECT user_id, agent_id, run_id, app_id, documents::integer, tokens::integer FROM "${schema}".keyword_stats ${order}`,
  );
  const truth = await server.query(
    `SELECT user_id, agent_id, run_id, app_id, count(*)::integer AS documents,
       sum(keyword_length + num_nonnulls(user_id, agent_id, run_id, app_id) + 1)::integer AS tokens
     FROM "${schema}".memories GROUP BY user_id, agent_id, run_id, app_id ${order}`,
  );
  return { stats, truth };
}

async function assertExact(
  server: Awaited<ReturnType<typeof sharedTestPostgres>>,
  schema: string,
  label: string,
): Promise<Row[]> {
  const { stats, truth } = await statsAndTruth(server, schema);
  assert.deepEqual(stats, truth, `${label}: keyword_stats equals a fresh count per scope`);
  return stats;
}

const SCOPES: Scope[] = [
  { userId: 'alice' },
  { userId: 'alice', agentId: 'helper' },
  { userId: 'alice', agentId: 'helper', runId: 'run-1' },
  { userId: 'bob', appId: 'notes' },
  { agentId: 'helper' },
  { runId: 'run-2', appId: 'notes' },
];

describe('keyword_stats stays exact', () => {
  test('after adds, updates, deletes, erasures, a restore and concurrent adds, per scope', async () => {
    const { server, schema, store, drop } = await pgStore();
    try {
      await store.open({ embedder: EMBEDDER });
      const records = SCOPES.flatMap((scope, index) =>
        Array.from({ length: 4 + index }, (_, n) =>
          record(`note ${n} about tea and green tea ${index}`, scope),
        ),
      );
      await add(store, records.slice(0, 10));
      await assertExact(server, schema, 'after one batch');
      for (const item of records.slice(10)) await add(store, [item]);
      await assertExact(server, schema, 'after single adds');

      const [first, second, third, fourth] = records;
      assert.ok(first && second && third && fourth);
      await store.apply({
        changes: [
          {
            type: 'update',
            id: first.id,
            patch: {
              memory: 'a much longer text about tea, coffee, biscuits and the weather',
              updatedAt: NOW,
            },
            event: { ...event('longer'), event: 'UPDATE' },
          },
          // Changes neither the text nor the scope: the statistics do not move.
          { type: 'update', id: second.id, patch: { validTo: NOW }, event: { ...event(), event: 'UPDATE' } },
          { type: 'delete', id: third.id, event: { ...event(), event: 'DELETE' } },
        ],
      });
      await assertExact(server, schema, 'after update and delete');

      assert.equal(await store.eraseMemory({ id: fourth.id, now: NOW, actor: 'test' }), true);
      await assertExact(server, schema, 'after eraseMemory');

      await store.eraseScope({ scope: { userId: 'bob' }, now: NOW, actor: 'test' });
      const afterErase = await assertExact(server, schema, 'after eraseScope');
      assert.ok(
        afterErase.every((row) => row.user_id !== 'bob'),
        'an erased scope leaves no row behind',
      );

      await store.restore({
        items: SCOPES.map((scope) => ({
          record: record('restored tea notes', scope),
          embedding: seededVector(7, DIMENSION),
          history: [],
        })),
      });
      await assertExact(server, schema, 'after restore');

      // Concurrent writers on one scope and on others: they queue on the scope's row, none is lost.
      await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          add(store, [record(`concurrent tea ${index}`, SCOPES[index % 3] ?? { userId: 'alice' })]),
        ),
      );
      await assertExact(server, schema, 'after concurrent adds');

      await store.eraseScope({ scope: { userId: 'alice' }, now: NOW, actor: 'test' });
      await assertExact(server, schema, 'after erasing alice');
    } finally {
      await store.close();
      await drop();
    }
  });

  test('migration 3 backfills a schema populated before it', async () => {
    const { server, schema, url, store, drop } = await pgStore();
    try {
      await store.open({ embedder: EMBEDDER });
      await add(
        store,
        SCOPES.flatMap((scope) => [record('one two three', scope), record('tea tea tea', scope)]),
      );
      await store.close();
      // Back to schema version 2: no table, no triggers, and a write made without them.
      await server.query(
        `DROP TABLE "${schema}".keyword_stats;
         DROP FUNCTION "${schema}".mneme_keyword_stats_insert, "${schema}".mneme_keyword_stats_update,
           "${schema}".mneme_keyword_stats_delete CASCADE;
         DELETE FROM "${schema}".schema_migrations WHERE version = 3;`,
      );
      await server.query(
        `DELETE FROM "${schema}".memories WHERE memory = 'one two three' AND app_id IS NULL`,
      );

      const reopened = createPostgresStore({ connectionString: url });
      try {
        await reopened.open({ embedder: EMBEDDER });
        const rows = await assertExact(server, schema, 'after migration 3');
        assert.equal(rows.length, SCOPES.length);
        await add(reopened, [record('after the migration', { userId: 'alice' })]);
        await assertExact(server, schema, 'writes after migration 3');
      } finally {
        await reopened.close();
      }
    } finally {
      await drop();
    }
  });
});

describe('keyword scores with the statistics table', () => {
  test('repeated terms and phrases score as in SQLite, with partial scopes', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-pg-stats-'));
    const { store: postgres, drop } = await pgStore();
    const sqlite = createSqliteStore({ path: join(directory, 'mneme.db') });
    try {
      const scope = { userId: 'carol', agentId: 'helper' };
      const texts = [
        'tea tea tea',
        'green tea, then green tea again',
        'tea green',
        'no match here',
        'Green Tea ceremony: green  tea green tea tea',
        'teapot and tea-time',
      ];
      const records = texts.map((text) => record(text, scope));
      for (const store of [postgres, sqlite]) {
        await store.open({ embedder: EMBEDDER });
        await add(store, records);
      }
      for (const [querying, terms] of [
        [{ userId: 'carol' }, ['tea']],
        [scope, ['green tea', 'tea']],
        [{ agentId: 'helper' }, ['green tea', 'ceremony', 'time']],
      ] as const) {
        const options = { scope: querying, temporal: { now: NOW }, terms: [...terms], limit: 10 };
        const expected = await sqlite.searchKeyword(options);
        const actual = await postgres.searchKeyword(options);
        assert.ok(expected.length > 0);
        assert.deepEqual(
          actual.map((hit) => hit.record.id),
          expected.map((hit) => hit.record.id),
          `${terms.join(', ')}: same hits`,
        );
        for (const [rank, hit] of actual.entries()) {
          const reference = expected[rank]?.bm25 ?? Number.NaN;
          assert.ok(Math.abs(hit.bm25 - reference) <= 1e-9 * Math.max(1, Math.abs(reference)), 'BM25');
        }
      }
    } finally {
      await postgres.close();
      await sqlite.close();
      await drop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
