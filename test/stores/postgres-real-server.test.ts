/**
 * The PostgreSQL store against a real PostgreSQL server (MNEME_TEST_POSTGRES_URL; CI runs Debian's PostgreSQL 15,
 * which has no pgvector). Everything that does not need vectors runs here: the clear missing-pgvector error,
 * versioned migrations (recorded, idempotent, safe under concurrent starts), the filter compiler with the
 * schema's JavaScript-exact text functions, BM25 keyword scoring, the queue's SKIP LOCKED claims, statement
 * timeouts and the deadlock retry. Each test works in its own schema, dropped afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type pg from 'pg';
import { StoreError, ValidationError } from '../../src/core/errors.js';
import { type FilterNode, matchesFilter, parseFilter } from '../../src/core/filters.js';
import type { MemoryRecord } from '../../src/core/types.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import {
  createPool,
  inTransaction,
  type OperationContext,
  type Queryable,
  withClient,
} from '../../src/stores/postgres/pool.js';
import { claimItems, enqueueItem } from '../../src/stores/postgres/queue.js';
import { selectKeyword, selectPage } from '../../src/stores/postgres/reads.js';
import { RECORD_INSERT_COLUMNS, recordValues } from '../../src/stores/postgres/rows.js';
import { lockMigrations, migrate, type SchemaNames, schemaNames } from '../../src/stores/postgres/schema.js';
import { createPostgresStore, PGVECTOR_MISSING, SCHEMA_VERSION } from '../../src/stores/postgres.js';
import type { TemporalOptions } from '../../src/stores/types.js';
import { filterDataset, filterInputArbitrary, HAND_WRITTEN_FILTERS } from '../support/filter-cases.js';
import { sentenceDataset, storeUrl, uniqueSchema } from './postgres-support.js';

const postgresUrl = process.env.MNEME_TEST_POSTGRES_URL;
const skip =
  postgresUrl === undefined
    ? 'MNEME_TEST_POSTGRES_URL not set: set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test'
    : undefined;
const EVERYTHING: TemporalOptions = {
  now: '2026-06-01T00:00:00.000Z',
  includeSuperseded: true,
  includeExpired: true,
};
const context = (action: string): OperationContext => ({
  where: 'test server',
  action,
  retry: { attempts: 5, initialDelayMs: 10 },
});

describe('PostgreSQL store on a real server', { skip }, () => {
  const url = postgresUrl ?? '';
  const schemas: string[] = [];
  let pool: pg.Pool;
  let hasPgvector = false;

  /** A fresh schema name, dropped after the suite. */
  const freshSchema = () => {
    const schema = uniqueSchema('mneme_real');
    schemas.push(schema);
    return schema;
  };

  /** A migrated (embedder-less, so vector-free) schema holding `records`. */
  async function migratedWith(records: readonly MemoryRecord[]): Promise<SchemaNames> {
    const names = schemaNames(freshSchema());
    await inTransaction(pool, context('migrate'), async (client) => {
      await lockMigrations(client);
      await migrate(client, names, 'test');
      const placeholders = RECORD_INSERT_COLUMNS.split(',')
        .map((_, index) => `$${index + 1}`)
        .join(', ');
      for (const record of records) {
        await client.query(
          `INSERT INTO ${names.memories} (${RECORD_INSERT_COLUMNS}) VALUES (${placeholders})`,
          recordValues(record),
        );
      }
    });
    return names;
  }

  before(async () => {
    pool = await createPool(
      { connectionString: url, poolSize: 8, statementTimeoutMs: 20_000, connectTimeoutMs: 5000 },
      () => undefined,
    );
    const { rows } = await pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
    hasPgvector = rows.length > 0;
  });

  after(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  test('open() on a server without pgvector fails with the clear error and creates nothing', async (t) => {
    if (hasPgvector) {
      t.skip('this server has pgvector: the missing-pgvector error cannot be observed here');
      return;
    }
    const schema = freshSchema();
    const stores = [1, 2, 3].map(() => createPostgresStore({ connectionString: storeUrl(url, schema) }));
    try {
      // Three app servers starting at once: each fails cleanly (no deadlock, no half-built schema).
      const results = await Promise.allSettled(
        stores.map((store) => store.open({ embedder: { id: 'test:x', dimension: 8 } })),
      );
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        const error = result.status === 'rejected' ? result.reason : undefined;
        assert.ok(error instanceof StoreError, String(error));
        assert.equal(error.code, 'store_pgvector_missing');
        assert.ok(
          error.message.startsWith('extension vector is not available: install pgvector on the server'),
          error.message,
        );
        assert.ok(error.message.includes(PGVECTOR_MISSING));
      }
      const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      assert.equal(rows.length, 0, 'the failed open rolled everything back');
    } finally {
      for (const store of stores) await store.close();
    }
  });

  test('migrate() records the schema version, is idempotent, and is safe when three servers start at once', async () => {
    const schema = freshSchema();
    const stores = [1, 2, 3].map(() =>
      createPostgresStore({ connectionString: storeUrl(url, schema, { poolSize: '2' }) }),
    );
    try {
      const results = await Promise.all(stores.map((store) => store.migrate()));
      assert.deepEqual(
        results.map((result) => result.applied.length).sort(),
        [0, 0, SCHEMA_VERSION],
        'exactly one server applied the migrations; the others waited and found nothing to do',
      );
      for (const result of results) {
        assert.equal(result.schemaVersion, SCHEMA_VERSION);
        assert.equal(result.pgvectorAvailable, hasPgvector);
      }
      const { rows } = await pool.query(
        `SELECT version, description FROM "${schema}".schema_migrations ORDER BY version`,
      );
      assert.deepEqual(
        rows.map((row) => row.version),
        Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
      );
      const again = await stores[0]?.migrate();
      assert.deepEqual(again?.applied, [], 'idempotent');
      const tables = await pool.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      );
      assert.deepEqual(
        tables.rows.map((row) => row.table_name),
        ['dead_letters', 'history', 'keyword_stats', 'memories', 'meta', 'queue', 'schema_migrations'],
      );
    } finally {
      for (const store of stores) await store.close();
    }
  });

  test('a schema newer than the code is refused', async () => {
    const names = await migratedWith([]);
    await pool.query(
      `INSERT INTO ${names.migrations} (version, description) VALUES ($1, 'from the future')`,
      [SCHEMA_VERSION + 1],
    );
    const store = createPostgresStore({ connectionString: storeUrl(url, names.schema) });
    try {
      await assert.rejects(store.migrate(), (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.equal(error.code, 'store_schema_newer');
        return true;
      });
    } finally {
      await store.close();
    }
  });

  describe('filters compile to SQL that agrees with matchesFilter (no known differences)', () => {
    const dataset = filterDataset();
    let names: SchemaNames;
    before(async () => {
      names = await migratedWith(dataset);
    });

    async function check(input: unknown): Promise<void> {
      let filter: FilterNode | undefined;
      try {
        filter = parseFilter(input);
      } catch (error) {
        if (error instanceof ValidationError) return;
        throw error;
      }
      const expected = dataset
        .filter((record) => matchesFilter(record, filter))
        .map((record) => record.id)
        .sort();
      const actual = await withClient(pool, context('list'), (client) =>
        selectPage(
          client,
          names,
          { scope: { userId: 'alice' }, temporal: EVERYTHING, filter },
          1000,
          undefined,
        ),
      );
      assert.deepEqual(
        actual.records.map((record) => record.id).sort(),
        expected,
        `filter ${JSON.stringify(input)}`,
      );
    }

    test('hand-written filters, including Unicode case folding and UTF-16 order', async () => {
      for (const input of HAND_WRITTEN_FILTERS) await check(input);
    });

    test('random filters (property test)', async () => {
      await fc.assert(fc.asyncProperty(filterInputArbitrary(), check), { numRuns: 300 });
    });
  });

  test('keyword search scores FTS5 BM25 exactly (same as the in-memory store) on the real server', async () => {
    const items = sentenceDataset(120, 11, 4);
    const names = await migratedWith(items.map((item) => item.record));
    const reference = createInMemoryStore();
    await reference.open({ embedder: { id: 'test:x', dimension: 4 } });
    await reference.apply({
      changes: items.map(({ record, vector }) => ({
        type: 'insert' as const,
        record,
        embedding: vector,
        event: { event: 'ADD' as const, actor: 'test', createdAt: record.createdAt },
      })),
    });
    const queries = [
      ['coffee'],
      ['running', 'marathons'],
      ['tomatoes', 'basil', 'garden', 'gardening'],
      ['flights', 'japan', 'tokyo', 'hotels', 'budget'],
      ['sister birthday', 'cake'],
      ['NOT', 'OR', '"quoted"', "it's", 'c:d', '*'],
    ];
    for (const terms of queries) {
      const visibility = { scope: { userId: 'alice' }, temporal: EVERYTHING };
      const expected = await reference.searchKeyword({ ...visibility, terms, limit: 50 });
      const actual = await withClient(pool, context('searchKeyword'), (client) =>
        selectKeyword(client, names, visibility, terms, 50),
      );
      assert.deepEqual(
        actual.map((hit) => hit.record.id),
        expected.map((hit) => hit.record.id),
        `terms ${JSON.stringify(terms)}`,
      );
      for (const [rank, hit] of actual.entries()) {
        assert.ok(Math.abs(hit.bm25 - (expected[rank]?.bm25 ?? Number.NaN)) < 1e-9, `bm25 at rank ${rank}`);
      }
    }
    await reference.close();
  });

  test('queue claims skip rows another transaction holds (FOR UPDATE SKIP LOCKED)', async () => {
    const names = await migratedWith([]);
    const now = '2026-01-01T00:00:00.000Z';
    for (let index = 0; index < 10; index += 1) {
      await withClient(pool, context('enqueue'), (client) =>
        enqueueItem(client, names, { userId: 'alice' }, { index }, now),
      );
    }
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      const held = await claimItems(
        holder as unknown as Queryable,
        names,
        4,
        now,
        '2026-01-01T00:10:00.000Z',
        undefined,
      );
      assert.equal(held.length, 4);
      // The holder has not committed: a blocking claim would wait here until statement_timeout.
      const started = Date.now();
      const other = await withClient(pool, context('claimQueue'), (client) =>
        claimItems(client, names, 10, now, '2026-01-01T00:10:00.000Z', undefined),
      );
      assert.ok(Date.now() - started < 5000, 'the second claim did not wait for the first transaction');
      assert.equal(other.length, 6);
      const heldIds = new Set(held.map((item) => item.id));
      assert.ok(
        other.every((item) => !heldIds.has(item.id)),
        'no item claimed twice',
      );
      assert.deepEqual(
        [...held, ...other].map((item) => (item.payload as { index: number }).index).sort((a, b) => a - b),
        Array.from({ length: 10 }, (_, index) => index),
      );
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
  });

  test('statement_timeout cancels a long statement with a retryable StoreError', async () => {
    const short = await createPool(
      { connectionString: url, poolSize: 1, statementTimeoutMs: 150, connectTimeoutMs: 5000 },
      () => undefined,
    );
    try {
      const setting = await withClient(short, context('show'), async (client) => {
        return (await client.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0];
      });
      assert.equal(setting?.statement_timeout, '150ms');
      await assert.rejects(
        withClient(short, context('sleeping'), (client) => client.query('SELECT pg_sleep(2)')),
        (error: unknown) => {
          assert.ok(error instanceof StoreError);
          assert.equal(error.code, 'store_timeout');
          assert.equal(error.retryable, true);
          assert.match(error.message, /statementTimeoutMs/);
          return true;
        },
      );
    } finally {
      await short.end();
    }
  });

  test('a deadlock aborts one transaction, which is retried; both commit', async () => {
    const names = await migratedWith([]);
    await pool.query(`INSERT INTO ${names.meta} (key, value) VALUES ('a', '0'), ('b', '0')`);
    let attempts = 0;
    let firstLocks = 0;
    let release: () => void = () => undefined;
    const bothLocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transfer = (first: string, second: string) =>
      inTransaction(pool, context(`transfer ${first}->${second}`), async (client) => {
        attempts += 1;
        await client.query(`UPDATE ${names.meta} SET value = (value::int + 1)::text WHERE key = $1`, [first]);
        firstLocks += 1;
        if (firstLocks === 2) release();
        // Only the first attempts wait for each other, so the retry can go straight through.
        if (attempts <= 2) await bothLocked;
        await client.query(`UPDATE ${names.meta} SET value = (value::int + 1)::text WHERE key = $1`, [
          second,
        ]);
      });
    await Promise.all([transfer('a', 'b'), transfer('b', 'a')]);
    assert.equal(attempts, 3, 'one deadlock victim, retried once');
    const { rows } = await pool.query(`SELECT key, value FROM ${names.meta} ORDER BY key`);
    assert.deepEqual(
      rows.map((row) => [row.key, row.value]),
      [
        ['a', '2'],
        ['b', '2'],
      ],
    );
  });
});
