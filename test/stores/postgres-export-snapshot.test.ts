/**
 * The PostgreSQL store's `exportScope` snapshot on a real server (MNEME_TEST_POSTGRES_URL), where several
 * connections run real transactions side by side (PGlite cannot: it runs one session for all connections).
 * The server needs no pgvector: the export read (`exportSnapshot`, what `PostgresStore.exportScope` runs) is
 * driven directly on a migrated, vector-free schema while other pooled connections insert, update and delete.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { HistoryEvent, MemoryRecord } from '../../src/core/types.js';
import {
  createPool,
  inTransaction,
  type OperationContext,
  type SnapshotClient,
} from '../../src/stores/postgres/pool.js';
import { exportSnapshot } from '../../src/stores/postgres/reads.js';
import { RECORD_INSERT_COLUMNS, recordValues } from '../../src/stores/postgres/rows.js';
import { lockMigrations, migrate, type SchemaNames, schemaNames } from '../../src/stores/postgres/schema.js';
import type { TemporalOptions } from '../../src/stores/types.js';
import { uniqueSchema } from './postgres-support.js';

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
const context: OperationContext = {
  where: 'test server',
  action: 'exportScope',
  retry: { attempts: 3, initialDelayMs: 10 },
};
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function record(index: number, userId = 'alice'): MemoryRecord {
  return {
    id: randomUUID(),
    memory: `note ${index} of ${userId}`,
    userId,
    kind: 'user_fact',
    metadata: { index },
    hash: `hash-${userId}-${index}`,
    createdAt: at(index),
    updatedAt: at(index),
    observedAt: at(index),
  };
}

describe('PostgreSQL exportScope on a real server', { skip }, () => {
  const url = postgresUrl ?? '';
  const schemas: string[] = [];
  let pool: pg.Pool;

  before(async () => {
    pool = await createPool(
      { connectionString: url, poolSize: 4, statementTimeoutMs: 20_000, connectTimeoutMs: 5000 },
      () => undefined,
    );
  });

  after(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  async function insert(names: SchemaNames, records: readonly MemoryRecord[]): Promise<void> {
    const placeholders = RECORD_INSERT_COLUMNS.split(',')
      .map((_, index) => `$${index + 1}`)
      .join(', ');
    await inTransaction(pool, { ...context, action: 'insert' }, async (client) => {
      for (const item of records) {
        await client.query(
          `INSERT INTO ${names.memories} (${RECORD_INSERT_COLUMNS}) VALUES (${placeholders})`,
          recordValues(item),
        );
        await client.query(
          `INSERT INTO ${names.history} (id, memory_id, user_id, event, new_value, actor, created_at)
           VALUES ($1, $2, $3, 'ADD', $4, 'test', $5)`,
          [randomUUID(), item.id, item.userId ?? null, item.memory, item.createdAt],
        );
      }
    });
  }

  async function migrated(): Promise<SchemaNames> {
    const schema = uniqueSchema('mneme_export');
    schemas.push(schema);
    const names = schemaNames(schema);
    await inTransaction(pool, { ...context, action: 'migrate' }, async (client) => {
      await lockMigrations(client);
      await migrate(client, names, 'test');
    });
    return names;
  }

  const exportAll = (names: SchemaNames, open: Set<SnapshotClient>, pageSize = 50) =>
    exportSnapshot(pool, context, names, {
      scope: { userId: 'alice' },
      temporal: EVERYTHING,
      pageSize,
      open,
    });

  test('pages read one snapshot while other connections insert, update and delete; then the connection is released', async () => {
    const names = await migrated();
    const records = Array.from({ length: 120 }, (_, index) => record(index + 10));
    await insert(names, [...records, record(5, 'bob')]);
    const open = new Set<SnapshotClient>();
    const before: Array<{ record: MemoryRecord; history: HistoryEvent[] }> = [];
    for await (const item of exportAll(names, open)) before.push(item);
    assert.equal(before.length, 120, 'alice only');
    assert.deepEqual(
      before.map((item) => item.record.id),
      [...records].reverse().map((item) => item.id),
      'newest first',
    );
    assert.ok(before.every((item) => item.history.length === 1 && item.history[0]?.event === 'ADD'));

    const [oldest, secondOldest] = records;
    assert.ok(oldest && secondOldest);
    const exported: typeof before = [];
    for await (const item of exportAll(names, open)) {
      exported.push(item);
      if (exported.length !== 1) continue;
      assert.equal(open.size, 1, 'the snapshot holds one connection');
      // Other pooled connections write (autocommit) while the snapshot is open: never blocked by it.
      await insert(names, [record(1)]);
      await pool.query(`DELETE FROM ${names.memories} WHERE id = $1`, [oldest.id]);
      await pool.query(`UPDATE ${names.memories} SET memory = 'changed' WHERE id = $1`, [secondOldest.id]);
      await pool.query(
        `INSERT INTO ${names.history} (id, memory_id, user_id, event, actor, created_at)
         VALUES ($1, $2, 'alice', 'NOOP', 'test', $3)`,
        [randomUUID(), secondOldest.id, at(500)],
      );
    }
    assert.deepEqual(exported, before, 'the export equals the state when it started');
    assert.equal(open.size, 0, 'the connection was released');

    const later: typeof before = [];
    for await (const item of exportAll(names, open)) later.push(item);
    assert.equal(later.length, 120, 'one added, one deleted');
    assert.equal(later.find((item) => item.record.id === secondOldest.id)?.record.memory, 'changed');
    assert.ok(!later.some((item) => item.record.id === oldest.id));
  });

  test('an abandoned export commits and returns its connection to the pool', async () => {
    const names = await migrated();
    await insert(
      names,
      Array.from({ length: 10 }, (_, index) => record(index)),
    );
    const open = new Set<SnapshotClient>();
    for (let round = 0; round < 8; round += 1) {
      // More rounds than pooled connections: a leaked connection would exhaust the pool and time out.
      for await (const _item of exportAll(names, open, 3)) break;
      assert.equal(open.size, 0);
    }
    // Only this test's connections: the database is shared with other test runs and benchmarks, whose
    // transactions may be idle between statements right now. Each export's last statement names the schema.
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM pg_stat_activity
       WHERE state = 'idle in transaction' AND datname = current_database() AND position($1 in query) > 0`,
      [names.schema],
    );
    assert.equal(rows[0]?.n, 0, 'no connection left inside the read transaction');
  });
});
