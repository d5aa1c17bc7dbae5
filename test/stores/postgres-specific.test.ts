/**
 * PostgreSQL store behaviour beyond the shared conformance suite, through the real `pg` driver on the real
 * PostgreSQL + pgvector at MNEME_TEST_POSTGRES_URL (PGlite + pgvector without one, the reason printed): dense and keyword candidates and hybrid results agree with the SQLite store on the same data, the
 * HNSW path falls back to an exact scan when a filtered index scan comes back short, URL parsing, error
 * translation and diagnostics.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, StoreError, ValidationError } from '../../src/core/errors.js';
import { parseFilter } from '../../src/core/filters.js';
import type { MemoryRecord, SearchResult } from '../../src/core/types.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import {
  createPostgresStore,
  PostgresStore,
  parsePostgresUrl,
  SCHEMA_VERSION,
} from '../../src/stores/postgres.js';
import { createStore } from '../../src/stores/registry.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import type { MemoryStore, TemporalOptions } from '../../src/stores/types.js';
import { createTestEmbedder } from '../support/test-embedder.js';
import { axisVector, normalise, seededRandom, seededVector } from '../support/vectors.js';
import {
  sentence,
  sentenceDataset,
  sharedTestPostgres,
  stopSharedTestPostgres,
  uniqueSchema,
} from './postgres-support.js';

after(stopSharedTestPostgres);

const NOW = '2026-06-01T00:00:00.000Z';
const CURRENT: TemporalOptions = { now: NOW };
async function fill(store: MemoryStore, items: ReturnType<typeof sentenceDataset>): Promise<void> {
  await store.apply({
    changes: items.map(({ record, vector }) => ({
      type: 'insert' as const,
      record,
      embedding: vector,
      event: { event: 'ADD' as const, newValue: record.memory, actor: 'test', createdAt: record.createdAt },
    })),
  });
}

/** A PostgreSQL store in a fresh schema on the shared test server (PGlite: one connection, see postgres-support). */
async function pgStore(
  options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {},
  extra: Record<string, string> = {},
) {
  const server = await sharedTestPostgres();
  const schema = uniqueSchema();
  const store = createPostgresStore({ connectionString: server.storeUrl(schema, extra), ...options });
  return { server, schema, store, drop: () => server.dropSchema(schema) };
}

/**
 * Rankings agree up to near-ties: same length, the score at each rank within `tolerance`, and where the ids at a
 * rank differ the two scores there are within `tolerance` (the engines computed a tie slightly differently).
 */
function assertSameRanking(
  label: string,
  expected: Array<{ id: string; score: number }>,
  actual: Array<{ id: string; score: number }>,
  tolerance: number,
): void {
  assert.equal(actual.length, expected.length, `${label}: number of hits`);
  const expectedScores = new Map(expected.map((hit) => [hit.id, hit.score]));
  for (const [rank, hit] of actual.entries()) {
    const reference = expected[rank];
    assert.ok(reference, label);
    assert.ok(Math.abs(hit.score - reference.score) <= tolerance, `${label}: score at rank ${rank}`);
    if (hit.id !== reference.id) {
      const sameIdScore = expectedScores.get(hit.id);
      assert.ok(
        sameIdScore !== undefined && Math.abs(sameIdScore - hit.score) <= tolerance,
        `${label}: rank ${rank} holds ${hit.id}, expected ${reference.id} (not a near-tie)`,
      );
    }
  }
}

describe('PostgreSQL store agrees with the SQLite store on the same data', () => {
  const DIMENSION = 64;
  const items = sentenceDataset(150, 7, DIMENSION);
  const queries = Array.from({ length: 15 }, (_, index) => sentence(seededRandom(1000 + index)).slice(2, 60));

  test('dense and keyword candidates, and hybrid search through the Memory service', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-pg-agree-'));
    const { store: postgres, drop } = await pgStore();
    const sqlite = createSqliteStore({ path: join(directory, 'mneme.db') });
    const embedder = { id: `test:hash-${DIMENSION}`, dimension: DIMENSION };
    try {
      for (const store of [postgres, sqlite]) {
        await store.open({ embedder });
        await fill(store, items);
      }
      const scope = { userId: 'alice' };
      let identicalKeywordLists = 0;
      for (const [index, query] of queries.entries()) {
        const embedding = seededVector(index + 1, DIMENSION);
        const filter = index % 4 === 0 ? parseFilter({ even: true }) : undefined;
        const common = { scope, temporal: CURRENT, limit: 200, ...(filter ? { filter } : {}) };
        const [denseSqlite, densePostgres] = await Promise.all(
          [sqlite, postgres].map((store) => store.searchDense({ ...common, embedding })),
        );
        const asScores = (hits: Array<{ record: MemoryRecord; similarity: number }>) =>
          hits.map((hit) => ({ id: hit.record.id, score: hit.similarity }));
        assertSameRanking(
          `dense "${query}"`,
          asScores(denseSqlite ?? []),
          asScores(densePostgres ?? []),
          1e-5,
        );

        const terms = query.toLowerCase().match(/[a-z]+/g) ?? [];
        const keywordSqlite = await sqlite.searchKeyword({ ...common, terms });
        const keywordPostgres = await postgres.searchKeyword({ ...common, terms });
        assert.ok(keywordSqlite.length > 0, `keyword "${query}" finds something`);
        assert.deepEqual(
          keywordPostgres.map((hit) => hit.record.id),
          keywordSqlite.map((hit) => hit.record.id),
          `keyword "${query}": same hits in the same order`,
        );
        for (const [rank, hit] of keywordPostgres.entries()) {
          const reference = keywordSqlite[rank]?.bm25 ?? Number.NaN;
          assert.ok(
            Math.abs(hit.bm25 - reference) <= 1e-9 * Math.max(1, reference),
            `BM25 ${hit.bm25} = ${reference}`,
          );
        }
        identicalKeywordLists += 1;
      }
      assert.equal(identicalKeywordLists, queries.length);

      // Hybrid: the same Memory service over each store gives the same results. The Memories hold nothing
      // but their store, which the finally block closes.
      const memoryOver = (store: MemoryStore) =>
        createMemory({
          store,
          embedder: createTestEmbedder({ dimension: DIMENSION }),
          llm: null,
          env: {},
          logLevel: 'silent',
          ingestion: { background: false },
          clock: () => new Date(NOW),
        });
      const memories = { sqlite: await memoryOver(sqlite), postgres: await memoryOver(postgres) };
      const search = async (memory: Memory, query: string, index: number): Promise<SearchResult[]> => {
        const queryEmbedding = seededVector(index + 1, DIMENSION);
        return (await memory.search(query, { userId: 'alice', limit: 10, queryEmbedding })).results;
      };
      for (const [index, query] of queries.entries()) {
        const fromSqlite = await search(memories.sqlite, query, index);
        const fromPostgres = await search(memories.postgres, query, index);
        assertSameRanking(
          `hybrid "${query}"`,
          fromSqlite.map((result) => ({ id: result.id, score: result.score })),
          fromPostgres.map((result) => ({ id: result.id, score: result.score })),
          1e-5,
        );
      }
    } finally {
      await sqlite.close();
      await postgres.close();
      await drop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('createMemory on a postgres:// URL', () => {
  test('adds, supersedes, searches, queues and erases end to end through the Memory service', async () => {
    const server = await sharedTestPostgres();
    const schema = uniqueSchema();
    let now = Date.parse('2026-03-01T10:00:00.000Z');
    const memory = await createMemory({
      store: server.storeUrl(schema),
      embedder: createTestEmbedder({ dimension: 32 }),
      llm: null,
      env: {},
      logLevel: 'silent',
      ingestion: { background: false },
      clock: () => new Date(now),
    });
    try {
      assert.equal(memory.store.name, 'postgres');
      await memory.add('I prefer vim for editing code', { userId: 'alice' });
      now += 60_000;
      await memory.add('I prefer emacs for editing code now', { userId: 'alice' });
      await memory.add('I prefer nano', { userId: 'bob' });
      await memory.enqueue('My sister lives in Lisbon', { userId: 'alice' });
      assert.equal((await memory.flush()).processed, 1);
      const { results } = await memory.search('which editor do I prefer?', { userId: 'alice' });
      assert.ok(results.length >= 2);
      assert.ok(results.every((result) => result.userId === 'alice'));
      assert.match(results[0]?.memory ?? '', /editing code/);
      const lisbon = await memory.search('where does my sister live', { userId: 'alice', limit: 1 });
      assert.match(lisbon.results[0]?.memory ?? '', /Lisbon/);
      const erased = await memory.deleteAll({ userId: 'alice' });
      assert.ok(erased.deleted >= 3, JSON.stringify(erased));
      assert.equal((await memory.list({ userId: 'alice' })).results.length, 0);
      assert.equal((await memory.list({ userId: 'bob' })).results.length, 1);
    } finally {
      await memory.close();
      await server.dropSchema(schema);
    }
  });
});

describe('dense search on a large scope (HNSW path)', () => {
  const DIMENSION = 8;

  /** 600 memories: 597 near +x ("common"), 3 near -x ("rare"), so an index scan for +x never reaches "rare". */
  async function skewed(store: MemoryStore): Promise<MemoryRecord[]> {
    const rare: MemoryRecord[] = [];
    const items = Array.from({ length: 600 }, (_, index) => {
      const isRare = index % 200 === 7;
      const vector = seededVector(index + 1, DIMENSION);
      vector[0] = isRare ? -3 : 3;
      normalise(vector);
      const at = new Date(Date.parse('2026-01-01T00:00:00.000Z') + index * 1000).toISOString();
      const record: MemoryRecord = {
        id: randomUUID(),
        memory: `memory ${index}`,
        userId: 'alice',
        kind: 'user_fact',
        metadata: { tag: isRare ? 'rare' : 'common' },
        hash: `h${index}`,
        createdAt: at,
        updatedAt: at,
        observedAt: at,
      };
      if (isRare) rare.push(record);
      return { record, embedding: vector, history: [] };
    });
    assert.equal(await store.restore({ items }), 600);
    return rare;
  }

  test('a filtered HNSW scan that comes back short falls back to an exact scan', async () => {
    // The planner prefers a sort to the HNSW index at this size: enable_sort = off makes it answer ORDER BY <=>
    // LIMIT from the index. PGlite has one backend session, so the SET below reaches the store's connection; a
    // real server gets it as a startup option of the store's connections.
    const noSort = { options: '-c enable_sort=off' };
    const server = await sharedTestPostgres();
    const realOnly = server.kind === 'real' ? noSort : {};
    const { schema, store, drop } = await pgStore({ exactScanMaxRows: 100, iterativeScan: false }, realOnly);
    const iterative = createPostgresStore({
      connectionString: server.storeUrl(schema, realOnly),
      exactScanMaxRows: 100,
    });
    try {
      await store.open({ embedder: { id: 'test:skewed', dimension: DIMENSION } });
      const rare = await skewed(store);
      await server.query('SET enable_sort = off');
      const plan = await server.query(
        `EXPLAIN SELECT id FROM "${schema}".memories m WHERE m.user_id = 'alice'
         ORDER BY m.embedding <=> '${JSON.stringify([...axisVector(0, DIMENSION)])}' LIMIT 3`,
      );
      assert.match(plan.map((row) => String(row['QUERY PLAN'])).join('\n'), /memories_embedding/);

      // The starvation the store guards against: the raw index scan returns none of the 3 rare rows.
      await server.query('BEGIN');
      await server.query("SELECT set_config('hnsw.ef_search', '40', true)");
      const raw = await server.query(
        `SELECT id FROM "${schema}".memories m WHERE m.user_id = 'alice' AND m.metadata ->> 'tag' = 'rare'
         ORDER BY m.embedding <=> '${JSON.stringify([...axisVector(0, DIMENSION)])}' LIMIT 3`,
      );
      await server.query('COMMIT');
      assert.ok(raw.length < 3, `the raw filtered index scan returned ${raw.length} of 3 rows`);

      const filter = parseFilter({ tag: 'rare' });
      assert.ok(filter);
      const unfiltered = {
        scope: { userId: 'alice' },
        temporal: CURRENT,
        embedding: axisVector(0, DIMENSION),
      };
      const query = { ...unfiltered, limit: 3, filter };
      const hits = await store.searchDense(query);
      assert.deepEqual(
        hits.map((hit) => hit.record.id).sort(),
        rare.map((record) => record.id).sort(),
        'all three rare memories',
      );
      const similarities = hits.map((hit) => hit.similarity);
      assert.deepEqual(
        similarities,
        [...similarities].sort((left, right) => right - left),
      );
      assert.deepEqual((await store.diagnostics()).densePlans, { exact: 0, approximate: 0, fallback: 1 });

      // pgvector 0.8's iterative scan keeps walking the graph instead, so no fallback is needed.
      await iterative.open({ embedder: { id: 'test:skewed', dimension: DIMENSION } });
      const iterativeHits = await iterative.searchDense(query);
      assert.deepEqual(
        iterativeHits.map((hit) => hit.record.id),
        hits.map((hit) => hit.record.id),
      );
      assert.deepEqual((await iterative.diagnostics()).densePlans, { exact: 0, approximate: 1, fallback: 0 });

      // Unfiltered, the index answers directly; small scopes are scanned exactly.
      const top = await store.searchDense({ ...unfiltered, limit: 5 });
      assert.equal(top.length, 5);
      assert.ok(top.every((hit) => hit.record.metadata.tag === 'common'));
      assert.equal((await store.diagnostics()).densePlans.approximate, 1);
      await store.searchDense({ ...query, scope: { userId: 'bob' } });
      assert.equal((await store.diagnostics()).densePlans.exact, 1);
    } finally {
      await server.query('RESET enable_sort');
      await iterative.close();
      await store.close();
      await drop();
    }
  });
});

describe('URLs, errors and diagnostics', () => {
  test('parsePostgresUrl splits mneme parameters from the driver URL and hides the password', () => {
    const parsed = parsePostgresUrl(
      'postgresql://app:s3cret@db.internal:6432/prod?schema=tenant_a&poolSize=20&sslmode=require&exactScanMaxRows=0',
    );
    assert.equal(parsed.schema, 'tenant_a');
    assert.equal(parsed.poolSize, 20);
    assert.equal(parsed.exactScanMaxRows, 0);
    assert.equal(parsed.connectionString, 'postgresql://app:s3cret@db.internal:6432/prod?sslmode=require');
    assert.equal(parsed.display, 'postgresql://app@db.internal:6432/prod');
    assert.throws(() => parsePostgresUrl('postgres://h/db?poolSize=many'), ConfigError);
    assert.throws(() => parsePostgresUrl('not a url'), ConfigError);
  });

  test('the registry serves postgres: and postgresql: URLs; schema names are validated', async () => {
    const store = await createStore('postgres://u:pw@127.0.0.1:5432/app?schema=my_schema');
    assert.ok(store instanceof PostgresStore);
    assert.equal(store.names.schema, 'my_schema');
    assert.ok(!store.where.includes('pw'));
    await store.close();
    const other = await createStore('postgresql://u@127.0.0.1/app');
    assert.ok(other instanceof PostgresStore);
    assert.equal(other.names.schema, 'mneme');
    await other.close();
    await assert.rejects(createStore('postgres://u@127.0.0.1/app?schema=bad-name;drop'), ConfigError);
  });

  test('an unreachable server is a retryable StoreError naming the server, without the password', async () => {
    const store = createPostgresStore({
      connectionString: 'postgres://app:hunter2@127.0.0.1:1/db',
      retryAttempts: 2,
      connectTimeoutMs: 2000,
    });
    await assert.rejects(store.open({ embedder: { id: 'x', dimension: 4 } }), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.retryable, true);
      assert.equal(error.code, 'store_unavailable');
      assert.match(error.message, /127\.0\.0\.1:1\/db/);
      assert.ok(!error.message.includes('hunter2'));
      return true;
    });
    await store.close();
  });

  test('NUL characters are a ValidationError; diagnostics report versions and settings', async () => {
    const { store, drop } = await pgStore({ statementTimeoutMs: 15_000 });
    try {
      await store.open({ embedder: { id: 'x', dimension: 4 } });
      const at = '2026-01-01T00:00:00.000Z';
      const record: MemoryRecord = {
        id: randomUUID(),
        memory: 'nul \u0000 inside',
        userId: 'alice',
        kind: 'user_fact',
        metadata: {},
        hash: 'h',
        createdAt: at,
        updatedAt: at,
        observedAt: at,
      };
      await assert.rejects(
        store.apply({
          changes: [
            {
              type: 'insert',
              record,
              embedding: axisVector(0, 4),
              event: { event: 'ADD', actor: 'test', createdAt: at },
            },
          ],
        }),
        ValidationError,
      );
      assert.equal((await store.stats()).memories, 0);
      const diagnostics = await store.diagnostics();
      assert.equal(diagnostics.schemaVersion, SCHEMA_VERSION);
      assert.equal(diagnostics.hnswIndex, true);
      assert.match(diagnostics.pgvectorVersion, /^\d+\.\d+/);
      assert.match(diagnostics.serverVersion, /^\d+/);
    } finally {
      await store.close();
      await drop();
    }
  });
});
