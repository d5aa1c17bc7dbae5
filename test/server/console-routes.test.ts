/**
 * The REST routes the console uses (routes/console.ts), in-process: users with counts, search-explain (the block
 * withMemory injects, scores, cut candidates), correct (mark wrong), timeline, ingestion and dead-letter retry,
 * search latency; each confined to the key's app.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketByTime } from '../../src/server/routes/console.js';
import { type AddReply, createHarness, type Harness } from './harness.js';

async function add(server: Harness, key: string, userId: string, messages: string): Promise<string> {
  const reply = await server.call<AddReply>('POST', '/api/memories', {
    key,
    body: { messages, userId, infer: false },
  });
  assert.equal(reply.status, 201, reply.text);
  return reply.body.results[0]?.id ?? '';
}

describe('server: console routes', () => {
  test('users of the key app only, with counts, filtered and paged', async () => {
    const server = await createHarness({ apps: ['acme', 'globex'] });
    const acme = server.keyOf.acme ?? '';
    const globex = server.keyOf.globex ?? '';
    await add(server, acme, 'alice', 'I prefer tabs over spaces.');
    await add(server, acme, 'alice', 'I live in Lisbon.');
    await add(server, acme, 'albert', 'I prefer vim.');
    await add(server, globex, 'carol', 'I prefer emacs.');
    type Users = { results: Array<{ userId: string; memories: number }>; total: number; nextCursor?: string };
    const all = await server.call<Users>('GET', '/api/users', { key: acme });
    assert.deepEqual(all.body.results, [
      { userId: 'albert', appId: 'acme', memories: 1 },
      { userId: 'alice', appId: 'acme', memories: 2 },
    ]);
    const first = await server.call<Users>('GET', '/api/users?q=AL&limit=1', { key: acme });
    assert.equal(first.body.results[0]?.userId, 'albert');
    const second = await server.call<Users>(
      `GET`,
      `/api/users?q=al&limit=1&cursor=${first.body.nextCursor}`,
      {
        key: acme,
      },
    );
    assert.equal(second.body.results[0]?.userId, 'alice');
    assert.equal(second.body.nextCursor, undefined);
    const other = await server.call<Users>('GET', '/api/users', { key: globex });
    assert.deepEqual(
      other.body.results.map((entry) => entry.userId),
      ['carol'],
    );
    assert.equal((await server.call('GET', '/api/users?limit=0', { key: acme })).status, 422);
    assert.equal((await server.call('GET', '/api/users', { key: server.adminKey })).status, 403);
  });

  test('explain returns the injected block, every candidate with scores, and why each was cut', async () => {
    const server = await createHarness();
    const key = server.keyOf.acme ?? '';
    await add(server, key, 'alice', 'I prefer function-level docstrings and no inline comments.');
    await add(server, key, 'alice', 'The payments module wraps Stripe in payments/stripe_client.py.');
    await add(server, key, 'alice', 'Our office cat is called Miso.');
    type Explained = {
      text: string;
      profile: Array<{ memory: string; included: boolean }>;
      relevant: Array<{ memory: string; included: boolean; reason?: string; scores: Record<string, number> }>;
      tookMs: number;
    };
    const reply = await server.call<Explained>('POST', '/api/context/explain', {
      key,
      body: { userId: 'alice', prompt: 'document the payments module', limit: 1 },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.body.text, /payments\/stripe_client\.py/);
    assert.match(reply.body.text, /function-level docstrings/, 'the profile section');
    assert.ok(reply.body.profile.some((item) => item.included));
    const payments = reply.body.relevant.find((item) => item.memory.includes('Stripe'));
    assert.equal(payments?.included, true);
    for (const name of ['dense', 'keyword', 'recency', 'rrf'])
      assert.equal(typeof payments?.scores[name], 'number');
    const cut = reply.body.relevant.filter((item) => !item.included);
    assert.ok(cut.length > 0 && cut.every((item) => typeof item.reason === 'string'));
    assert.equal(
      (await server.call('POST', '/api/context/explain', { key, body: { prompt: 'x' } })).status,
      422,
    );
    const unknown = await server.call('POST', '/api/context/explain', {
      key,
      body: { userId: 'alice', promt: 'x' },
    });
    assert.equal(unknown.status, 422);
    assert.equal((unknown.body as { error: { field: string } }).error.field, 'promt');
    const latency = await server.call<{ searches: Array<{ route: string; durationMs: number }> }>(
      'GET',
      '/api/stats/searches',
      { key },
    );
    assert.ok(latency.body.searches.some((item) => item.route === '/api/context/explain'));
  });

  test('correct supersedes the memory with the correction; both stay in history; other apps get 404', async () => {
    const server = await createHarness({ apps: ['acme', 'globex'] });
    const key = server.keyOf.acme ?? '';
    const id = await add(server, key, 'alice', 'I live in Lisbon.');
    const denied = await server.call('POST', `/api/memories/${id}/correct`, {
      key: server.keyOf.globex ?? '',
      body: { text: 'I live in Porto.' },
    });
    assert.equal(denied.status, 404);
    type Corrected = {
      memory: { id: string; memory: string };
      superseded: { supersededBy?: string; validTo?: string };
    };
    const reply = await server.call<Corrected>('POST', `/api/memories/${id}/correct`, {
      key,
      body: { text: 'I live in Porto.' },
    });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.body.memory.memory, 'I live in Porto.');
    assert.equal(reply.body.superseded.supersededBy, reply.body.memory.id);
    assert.ok(reply.body.superseded.validTo);
    const history = await server.call<{ history: Array<{ event: string; relatedId?: string }> }>(
      'GET',
      `/api/memories/${id}/history`,
      { key },
    );
    assert.deepEqual(
      history.body.history.map((event) => event.event),
      ['ADD', 'SUPERSEDE'],
    );
    const found = await server.call<{ results: Array<{ memory: string }> }>('POST', '/api/memories/search', {
      key,
      body: { userId: 'alice', query: 'where do I live' },
    });
    assert.deepEqual(
      found.body.results.map((result) => result.memory),
      ['I live in Porto.'],
    );
    const again = await server.call('POST', `/api/memories/${id}/correct`, { key, body: { text: 'Faro' } });
    assert.equal(again.status, 422, 'a superseded memory is not corrected twice');
    assert.equal((await server.call('POST', `/api/memories/${id}/correct`, { key, body: {} })).status, 422);
  });

  test('timeline counts per bucket and kind; ingestion shows only the app, retry puts a letter back', async () => {
    const server = await createHarness({ apps: ['acme', 'globex'] });
    const key = server.keyOf.acme ?? '';
    await add(server, key, 'alice', 'I prefer tabs over spaces.');
    await add(server, key, 'alice', 'We shipped the release today.');
    type Timeline = { unit: string; buckets: Array<{ counts: Record<string, number> }>; total: number };
    const timeline = await server.call<Timeline>('GET', '/api/users/alice/timeline', { key });
    assert.equal(timeline.body.total, 2);
    assert.equal(timeline.body.unit, 'day');
    assert.deepEqual(timeline.body.buckets[0]?.counts, { preference: 1, message: 1 });
    const empty = await server.call<Timeline>('GET', '/api/users/alice/timeline', {
      key: server.keyOf.globex ?? '',
    });
    assert.equal(empty.body.total, 0);

    const store = server.memory.store;
    const now = new Date().toISOString();
    for (const appId of ['acme', 'globex']) {
      const item = await store.enqueue({ scope: { userId: 'alice', appId }, payload: { messages: [] }, now });
      await store.dropQueueItem({ id: item.id, reason: `broken payload of ${appId}`, now });
    }
    type Ingestion = {
      queueDepth: number | null;
      deadLetters: Array<{ id: string; error: string }>;
      recent: unknown[];
    };
    const ingestion = await server.call<Ingestion>('GET', '/api/ingestion', { key });
    assert.equal(ingestion.body.queueDepth, null, 'store-wide depth is not shown to an app key');
    assert.deepEqual(
      ingestion.body.deadLetters.map((letter) => letter.error),
      ['broken payload of acme'],
    );
    assert.equal(ingestion.body.recent.length, 2);
    const globexLetter = (await store.listDeadLetters({ limit: 10 })).find(
      (letter) => letter.scope.appId === 'globex',
    );
    const wrongApp = await server.call('POST', `/api/ingestion/dead-letters/${globexLetter?.id}/retry`, {
      key,
    });
    assert.equal(wrongApp.status, 404);
    const retried = await server.call(
      'POST',
      `/api/ingestion/dead-letters/${ingestion.body.deadLetters[0]?.id}/retry`,
      {
        key,
      },
    );
    assert.equal(retried.status, 200, retried.text);
    assert.equal((await store.listDeadLetters({ limit: 10 })).length, 1);
  });

  test('bucketByTime picks weeks and months for longer spans', () => {
    const kind = 'message' as const;
    const weeks = bucketByTime([
      { at: '2026-01-01T00:00:00Z', kind },
      { at: '2026-06-01T00:00:00Z', kind },
    ]);
    assert.equal(weeks.unit, 'week');
    assert.equal(weeks.buckets[0]?.start, '2025-12-29', 'weeks start on Monday');
    const months = bucketByTime([
      { at: '2020-01-15T00:00:00Z', kind },
      { at: '2026-06-01T00:00:00Z', kind },
    ]);
    assert.equal(months.unit, 'month');
    assert.equal(months.buckets[0]?.start, '2020-01-01');
  });
});
