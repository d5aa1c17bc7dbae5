/**
 * Several replicas: two `mneme serve` processes (the built bin, the default offline embedder) on ONE real
 * PostgreSQL + pgvector database (MNEME_TEST_POSTGRES_URL, a fresh schema per run), sharing one keys file.
 * - a write through one replica is read through the other at once (by id, by search, and a delete);
 * - the background ingestion queue, fed through both, applies every item exactly once (SKIP LOCKED claims);
 * - an API key revoked through one replica is refused by the other on its next request;
 * - a replica SIGKILLed mid-ingestion loses nothing it acknowledged: every 202-queued item and every 201 add is
 *   in the store afterwards, exactly once; the survivor takes over the dead replica's claims once their lease ends.
 * Requires `npm run build` (`npm test` builds first).
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { realPostgresUnavailable, uniqueSchema } from '../stores/postgres-support.js';
import { runMneme } from '../support/cli.js';
import { type Served, serve, waitFor } from '../support/serve.js';

const unavailable = await realPostgresUnavailable();
const skip = unavailable === undefined ? undefined : `needs a real PostgreSQL with pgvector: ${unavailable}`;

/** A short lease and a fast poll, so the survivor takes a dead replica's claims within seconds. */
const LEASE_MS = 2000;
const POLL_MS = 250;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  server: Served,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Token ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A sentence unlike the others, one user per item: no dedup or supersession between items can hide a loss. */
function itemText(label: string, index: number): string {
  const topics = ['sailing', 'pottery', 'chess', 'cycling', 'baking', 'astronomy', 'gardening', 'climbing'];
  return `${label} ${index}: I took up ${topics[index % topics.length]} in the year ${1900 + index}`;
}

describe('two mneme serve replicas on one PostgreSQL database', { skip }, () => {
  const url = process.env.MNEME_TEST_POSTGRES_URL ?? '';
  const schema = uniqueSchema('mneme_replicas');
  const home = mkdtempSync(join(tmpdir(), 'mneme-replicas-'));
  const env = {
    MNEME_HOME: home,
    MNEME_KEYS_FILE: join(home, 'keys.json'),
    MNEME_INGESTION_LEASE_MS: String(LEASE_MS),
    MNEME_INGESTION_POLL_MS: String(POLL_MS),
  };
  const storeUrl = (() => {
    const parsed = new URL(url);
    parsed.searchParams.set('schema', schema);
    return parsed.toString();
  })();
  const children: ChildProcessWithoutNullStreams[] = [];
  let admin: pg.Client;
  let key = '';
  let adminKey = '';
  let replicaA: Served;
  let replicaB: Served;

  /** How many rows of the app's memories hold each text. */
  async function textCounts(): Promise<Map<string, number>> {
    const { rows } = await admin.query<{ memory: string; copies: string }>(
      `SELECT memory, count(*) AS copies FROM "${schema}".memories WHERE app_id = 'acme' GROUP BY memory`,
    );
    return new Map(rows.map((row) => [row.memory, Number(row.copies)]));
  }
  async function queued(): Promise<number> {
    const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".queue`);
    return Number(rows[0]?.n);
  }

  before(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const created = await runMneme(['keys', 'create', '--app', 'acme', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    key = (JSON.parse(created.stdout) as { key: string }).key;
    const managing = await runMneme(['keys', 'create', '--admin', '--json'], env);
    assert.equal(managing.code, 0, managing.stderr);
    adminKey = (JSON.parse(managing.stdout) as { key: string }).key;
    // Both start at once: one migrates the fresh schema, the other waits on the advisory lock.
    [replicaA, replicaB] = await Promise.all([
      serve(['--store', storeUrl], env),
      serve(['--store', storeUrl], env),
    ]);
    children.push(replicaA.child, replicaB.child);
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([replicaA?.exited, replicaB?.exited]);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  test('a write through one replica is read through the other at once', async () => {
    for (const server of [replicaA, replicaB]) {
      assert.deepEqual(await (await fetch(`${server.url}/health`)).json(), {
        status: 'ok',
        store: 'postgres',
      });
    }
    const added = await call(replicaA, 'POST', '/api/memories', key, {
      userId: 'alice',
      messages: 'I prefer tabs over spaces in every language',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const id = (added.body.results as Array<{ id: string }>)[0]?.id ?? '';
    const read = await call(replicaB, 'GET', `/api/memories/${id}`, key);
    assert.equal(read.status, 200);
    assert.equal(read.body.memory, 'I prefer tabs over spaces in every language');
    const found = await call(replicaB, 'POST', '/api/memories/search', key, {
      userId: 'alice',
      query: 'which indentation do I like?',
    });
    assert.equal((found.body.results as Array<{ id: string }>)[0]?.id, id);

    const deleted = await call(replicaB, 'DELETE', `/api/memories/${id}`, key);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await call(replicaA, 'GET', `/api/memories/${id}`, key)).status, 404);
  });

  test('the queue, fed through both replicas, applies every item exactly once', async () => {
    const count = 40;
    const replies = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        call(index % 2 === 0 ? replicaA : replicaB, 'POST', '/api/memories', key, {
          userId: `queued-${index}`,
          messages: itemText('Queued', index),
          async: true,
        }),
      ),
    );
    for (const reply of replies) assert.equal(reply.status, 202, JSON.stringify(reply.body));
    await waitFor(async () => (await queued()) === 0, 60_000, 'the queue to drain');
    const counts = await textCounts();
    for (let index = 0; index < count; index += 1) {
      assert.equal(counts.get(itemText('Queued', index)), 1, `item ${index} applied exactly once`);
    }
  });

  test('a key revoked through one replica is refused by the other on its next request', async () => {
    const created = await call(replicaA, 'POST', '/admin/keys', adminKey, { appId: 'acme' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const doomed = String(created.body.key);
    assert.equal((await call(replicaB, 'GET', '/api/memories?userId=alice', doomed)).status, 200);
    const revoked = await call(replicaA, 'DELETE', `/admin/keys/${String(created.body.id)}`, adminKey);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal((await call(replicaB, 'GET', '/api/memories?userId=alice', doomed)).status, 401);
    assert.equal((await call(replicaB, 'GET', '/api/memories?userId=alice', key)).status, 200);
  });

  test('SIGKILL of a replica mid-ingestion loses nothing it acknowledged', async () => {
    const count = 120;
    const queuedTexts: string[] = [];
    // Queue everything through A (each 202 is an acknowledgement), with synchronous adds on A in flight too.
    for (let index = 0; index < count; index += 1) {
      const reply = await call(replicaA, 'POST', '/api/memories', key, {
        userId: `crash-${index}`,
        messages: itemText('Crash', index),
        async: true,
      });
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      queuedTexts.push(itemText('Crash', index));
    }
    const acknowledgedAdds: string[] = [];
    let stopAdding = false;
    const adding = (async () => {
      for (let index = 0; !stopAdding; index += 1) {
        const text = itemText('Direct', index);
        try {
          const reply = await call(replicaA, 'POST', '/api/memories', key, {
            userId: `direct-${index}`,
            messages: text,
          });
          if (reply.status === 201) acknowledgedAdds.push(text);
        } catch {
          return; // The connection died with the replica: this add was never acknowledged.
        }
      }
    })();
    await waitFor(
      async () => {
        const counts = await textCounts();
        return acknowledgedAdds.length >= 3 && queuedTexts.filter((text) => counts.has(text)).length >= 5;
      },
      60_000,
      'replica A to acknowledge adds and start ingesting the queue',
    );
    const leftAtKill = await queued();
    replicaA.child.kill('SIGKILL');
    stopAdding = true;
    await adding;
    assert.equal(await replicaA.exited, null, 'killed by the signal');
    assert.ok(leftAtKill > 0, 'the kill came mid-ingestion: items were still queued');

    // B polls the queue: it takes the unclaimed items at once and A's claimed ones when their lease ends.
    await waitFor(async () => (await queued()) === 0, 90_000, 'replica B to drain what A left');
    const counts = await textCounts();
    for (const text of queuedTexts)
      assert.equal(counts.get(text), 1, `queued "${text}" applied exactly once`);
    for (const text of acknowledgedAdds) assert.equal(counts.get(text), 1, `acknowledged add "${text}" kept`);
    assert.ok(acknowledgedAdds.length > 0, 'some synchronous adds were acknowledged before the kill');
    const reply = await call(replicaB, 'GET', `/api/memories?userId=crash-${count - 1}`, key);
    assert.equal((reply.body.results as unknown[]).length, 1, 'and B serves them');
  });
});
