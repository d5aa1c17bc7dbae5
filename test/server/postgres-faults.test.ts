/**
 * The HTTP server on the real PostgreSQL + pgvector (MNEME_TEST_POSTGRES_URL) when the database misbehaves, in a
 * database of its own created for the run (so terminating its connections touches no other test):
 * - pool exhaustion: every pooled connection is stuck behind a lock, and the next request gets 503 with
 *   `Retry-After` after `connectTimeoutMs`, not a hang; the stuck ones finish once the lock goes;
 * - lost connections: `pg_terminate_backend` on every connection of the database while requests are in flight
 *   gives 503 with `Retry-After`, the server recovers by itself, no acknowledged write is lost and the write that
 *   was cut is not half-applied.
 * PostgreSQL restarts are tested in test/server/postgres-restart.test.ts, on a private throw-away cluster: the
 * server these tests use is shared with others and must never be restarted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { realPostgresUnavailable } from '../stores/postgres-support.js';
import { waitFor } from '../support/serve.js';
import { type AddReply, createHarness, type Harness, type Reply } from './harness.js';

const unavailable = await realPostgresUnavailable();
const skip = unavailable === undefined ? undefined : `needs a real PostgreSQL with pgvector: ${unavailable}`;

const POOL_SIZE = 2;
const CONNECT_TIMEOUT_MS = 500;

describe('server on PostgreSQL: pool exhaustion and lost connections', { skip }, () => {
  const baseUrl = process.env.MNEME_TEST_POSTGRES_URL ?? '';
  const database = `mneme_faults_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const databaseUrl = (() => {
    const url = new URL(baseUrl);
    url.pathname = `/${database}`;
    return url.toString();
  })();
  let root: pg.Client;
  /** A connection to the fault database, outside mneme's pool: it holds locks and terminates backends. */
  let admin: pg.Client;
  let server: Harness;
  const list = (userId: string): Promise<Reply<{ results: Array<{ id: string; memory: string }> }>> =>
    server.call('GET', `/api/memories?userId=${userId}&limit=100`);

  /** mneme backends of the fault database waiting for a lock. */
  async function waitingOnLock(): Promise<number> {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'mneme' AND wait_event_type = 'Lock'`,
      [database],
    );
    return Number(rows[0]?.n);
  }

  before(async () => {
    root = new pg.Client({ connectionString: baseUrl });
    await root.connect();
    await root.query(`CREATE DATABASE "${database}"`);
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query('CREATE EXTENSION IF NOT EXISTS vector');
    const url = new URL(databaseUrl);
    url.searchParams.set('poolSize', String(POOL_SIZE));
    url.searchParams.set('connectTimeoutMs', String(CONNECT_TIMEOUT_MS));
    server = await createHarness({ store: createPostgresStore({ connectionString: url.toString() }) });
  });

  after(async () => {
    await server?.close();
    await admin?.end();
    await root.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await root.end();
  });

  test('an exhausted pool answers 503 with Retry-After after connectTimeoutMs, not a hang', async () => {
    const added = await server.call<AddReply>('POST', '/api/memories', {
      body: { userId: 'alice', messages: 'I keep my bicycle in the hallway' },
    });
    assert.equal(added.status, 201, added.text);

    await admin.query('BEGIN');
    await admin.query('LOCK TABLE mneme.memories IN ACCESS EXCLUSIVE MODE');
    const stuck = Array.from({ length: POOL_SIZE }, () => list('alice'));
    await waitFor(
      async () => (await waitingOnLock()) === POOL_SIZE,
      10_000,
      'both pooled connections to block',
    );

    const started = Date.now();
    const refused = await list('alice');
    const waited = Date.now() - started;
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((refused.body as unknown as { error: { code: string } }).error.code, 'store_pool_exhausted');
    assert.ok(waited >= CONNECT_TIMEOUT_MS - 50, `waited ${waited} ms for a free connection first`);
    assert.ok(waited < CONNECT_TIMEOUT_MS + 3000, `answered in ${waited} ms: no retry loop, no hang`);
    assert.ok(
      server.logs.some((line) => line.level === 'error' || line.level === 'warn'),
      'the 503 is in the server log',
    );

    await admin.query('COMMIT');
    for (const reply of await Promise.all(stuck)) {
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.body.results.length, 1);
    }
    assert.equal((await list('alice')).status, 200, 'the pool serves again');
  });

  test('terminated connections give 503 with Retry-After, then the server recovers; nothing acknowledged is lost', async () => {
    const acknowledged: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const reply = await server.call<AddReply>('POST', '/api/memories', {
        body: { userId: 'bob', messages: `Bob note ${index}: the locker code is ${4000 + index * 7}` },
      });
      assert.equal(reply.status, 201, reply.text);
      acknowledged.push(reply.body.results[0]?.id ?? '');
    }

    // One read and one write in flight, each on its own pooled connection, blocked behind a lock.
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE mneme.memories IN ACCESS EXCLUSIVE MODE');
    const reading = list('bob');
    const writing = server.call<AddReply>('POST', '/api/memories', {
      body: { userId: 'bob', messages: 'Bob note cut: this add is in flight when its connection dies' },
    });
    await waitFor(async () => (await waitingOnLock()) === 2, 10_000, 'the read and the write to block');
    const { rows } = await admin.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database],
    );
    assert.ok(rows.length >= 2 && rows.every((row) => row.terminated), 'every mneme backend terminated');
    await admin.query('COMMIT');

    for (const reply of [await reading, await writing]) {
      assert.equal(reply.status, 503, reply.text);
      assert.equal(reply.headers.get('retry-after'), '1');
      assert.equal((reply.body as unknown as { error: { code: string } }).error.code, 'store_unavailable');
    }

    // No restart, no operator: the next requests get new connections.
    let recovered: Reply<{ results: Array<{ id: string; memory: string }> }> | undefined;
    await waitFor(
      async () => {
        recovered = await list('bob');
        return recovered.status === 200;
      },
      10_000,
      'the server to recover',
    );
    const ids = new Set(recovered?.body.results.map((record) => record.id));
    for (const id of acknowledged) assert.ok(ids.has(id), `acknowledged memory ${id} is still there`);
    assert.ok(
      recovered?.body.results.every((record) => !record.memory.includes('cut')),
      'the add cut by the lost connection was rolled back whole (it was never acknowledged)',
    );
    const again = await server.call<AddReply>('POST', '/api/memories', {
      body: { userId: 'bob', messages: 'Bob note after: writes work again' },
    });
    assert.equal(again.status, 201, again.text);
  });
});
