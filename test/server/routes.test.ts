import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { StoreError } from '../../src/core/errors.js';
import type { HistoryEvent, MemoryRecord, SearchResult } from '../../src/core/types.js';
import { createApp } from '../../src/server/app.js';
import type { ApiKeyInfo } from '../../src/server/keys.js';
import { createFileKeyStore } from '../../src/server/keys.js';
import { documentedRoutes } from '../../src/server/openapi.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import type { MemoryStore } from '../../src/stores/types.js';
import { createMemoryFixture } from '../support/memory-fixture.js';
import { seedProfile } from '../support/profile-seed.js';
import { type AddReply, createHarness, type Mem0Memory, snapshotStore } from './harness.js';

type OpenApi = { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>> };
type Ping = { status: string; org_id: string | null; project_id: string | null; user_email: null };
type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };
type Message = { message: string };

const TABS = 'I prefer tabs over spaces in Go code';
const DOCS = 'I write function-level docstrings and never inline comments';

describe('server: public routes and the OpenAPI document', () => {
  test('GET /health answers without a key', async () => {
    const server = await createHarness();
    const reply = await server.call('GET', '/health', { key: null });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { status: 'ok', store: 'memory' });
  });

  test('GET /openapi.json describes exactly the routes the app serves', async () => {
    const server = await createHarness();
    const reply = await server.call<OpenApi>('GET', '/openapi.json', { key: null });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.openapi, '3.1.0');
    const served = new Set(
      server.app.routes
        .filter((route) => route.method !== 'ALL')
        .map((route) => `${route.method} ${route.path}`),
    );
    const documented = new Set(documentedRoutes().map((route) => `${route.method} ${route.path}`));
    assert.deepEqual([...served].sort(), [...documented].sort());
    // Mem0 paths are documented with their trailing slash, as the client calls them.
    assert.ok(reply.body.paths['/v3/memories/search/']?.post);
    assert.ok(reply.body.paths['/api/memories/{id}']?.patch);
    assert.deepEqual(reply.body.paths['/health']?.get?.security, []);
    // Every $ref resolves to a schema of the document.
    const schemas = (reply.body as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas;
    const references = [...reply.text.matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z0-9]+)"/g)].map(
      (match) => match[1] ?? '',
    );
    assert.ok(references.length > 20);
    for (const name of references) assert.ok(name in schemas, `schema ${name} is defined`);
  });
});

describe('server: authentication', () => {
  test('a missing key is a 401 that says how to send and create one', async () => {
    const server = await createHarness();
    const reply = await server.call('GET', '/api/memories?userId=alice', { key: null });
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error.code, 'unauthorized');
    assert.match(reply.body.error.message, /Authorization: Token <key>/);
    assert.match(reply.body.error.message, /mneme keys create --app APP/);
  });

  test('wrong, malformed and revoked keys are 401; Bearer works like Token', async () => {
    const server = await createHarness();
    const key = server.keyOf.acme ?? '';
    const forged = `${key.slice(0, -4)}AAAA`;
    assert.equal((await server.call('GET', '/v1/ping/', { key: forged })).status, 401);
    assert.equal((await server.call('GET', '/v1/ping/', { key: 'not-a-key' })).status, 401);
    const malformed = await server.call('GET', '/v1/ping/', {
      key: null,
      headers: { authorization: 'Basic abc' },
    });
    assert.equal(malformed.status, 401);
    assert.match(malformed.body.error.message, /malformed/);
    const bearer = await server.call('GET', '/v1/ping/', {
      key: null,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(bearer.status, 200);

    const [info] = (await server.keys.list()).filter((candidate) => candidate.appId === 'acme');
    assert.ok(info);
    await server.keys.revoke(info.id);
    const revoked = await server.call('GET', '/v1/ping/', { key });
    assert.equal(revoked.status, 401);
    assert.match(revoked.body.error.message, /invalid or revoked/);
  });

  test('keys created or revoked by another process (another key store on the same file) apply without restart', async () => {
    const server = await createHarness();
    const cli = createFileKeyStore({ path: server.keysFile });
    const { key, info } = await cli.create({ appId: 'newco' });
    const ping = await server.call<Ping>('GET', '/v1/ping/', { key });
    assert.equal(ping.status, 200);
    assert.equal(ping.body.org_id, 'newco');
    await cli.revoke(info.id);
    assert.equal((await server.call('GET', '/v1/ping/', { key })).status, 401);
  });

  test('the keys file holds hashes, never the keys', async () => {
    const server = await createHarness();
    const text = readFileSync(server.keysFile, 'utf8');
    assert.ok(!text.includes(server.keyOf.acme ?? 'missing'));
    assert.ok(!text.includes(server.adminKey));
    assert.match(text, /"hash": "[0-9a-f]{64}"/);
  });

  test('admin routes need an admin key; an admin key without an app cannot touch memories', async () => {
    const server = await createHarness();
    const denied = await server.call('GET', '/admin/keys');
    assert.equal(denied.status, 403);
    assert.match(denied.body.error.message, /admin key/);
    const memoryDenied = await server.call('POST', '/api/memories/search', {
      key: server.adminKey,
      body: { query: 'tabs', userId: 'alice' },
    });
    assert.equal(memoryDenied.status, 403);

    const created = await server.call<ApiKeyInfo & { key: string }>('POST', '/admin/keys', {
      key: server.adminKey,
      body: { appId: 'initech' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.appId, 'initech');
    assert.match(created.body.key, /^mneme_[0-9a-f]{16}_/);
    assert.equal(
      (await server.call<Ping>('GET', '/v1/ping/', { key: created.body.key })).body.org_id,
      'initech',
    );

    const listed = await server.call<{ keys: ApiKeyInfo[] }>('GET', '/admin/keys', { key: server.adminKey });
    assert.equal(listed.status, 200);
    assert.ok(listed.body.keys.some((info) => info.id === created.body.id));
    assert.ok(listed.body.keys.every((info) => !('hash' in info) && !('key' in info)));

    const revoked = await server.call<ApiKeyInfo>('DELETE', `/admin/keys/${created.body.id}`, {
      key: server.adminKey,
    });
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revokedAt);
    assert.equal((await server.call('GET', '/v1/ping/', { key: created.body.key })).status, 401);
    assert.equal(
      (await server.call('DELETE', '/admin/keys/0000000000000000', { key: server.adminKey })).status,
      404,
    );
    const noApp = await server.call('POST', '/admin/keys', { key: server.adminKey, body: {} });
    assert.equal(noApp.status, 422);
    assert.equal(noApp.body.error.field, 'appId');
  });
});

describe('server: native API', () => {
  test('add, get, update, history, search, list, export, delete and deleteAll', async () => {
    const server = await createHarness();
    const added = await server.call<AddReply>('POST', '/api/memories', {
      body: {
        messages: [{ role: 'user', content: TABS }],
        userId: 'alice',
        metadata: { repo: 'api' },
        infer: false,
      },
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.results[0]?.event, 'ADD');
    const id = added.body.results[0]?.id ?? '';
    await server.call('POST', '/api/memories', {
      body: { messages: DOCS, userId: 'alice', agentId: 'reviewer' },
    });
    await server.call('POST', '/api/memories', {
      body: { messages: 'I like long detailed reviews', userId: 'bob' },
    });

    const got = await server.call<MemoryRecord>('GET', `/api/memories/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.memory, TABS);
    assert.equal(got.body.userId, 'alice');
    assert.equal(got.body.appId, 'acme', 'the key app is the memory app');
    assert.deepEqual(got.body.metadata, { repo: 'api' });

    const patched = await server.call<MemoryRecord>('PATCH', `/api/memories/${id}`, {
      body: { text: 'I prefer tabs in Go and spaces in Python', metadata: { repo: 'web' } },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.memory, 'I prefer tabs in Go and spaces in Python');
    const rekinded = await server.call<MemoryRecord>('PATCH', `/api/memories/${id}`, {
      body: { kind: 'instruction' },
    });
    assert.equal(rekinded.status, 200, rekinded.text);
    assert.equal(rekinded.body.kind, 'instruction');
    const badKind = await server.call('PATCH', `/api/memories/${id}`, { body: { kind: 'gossip' } });
    assert.equal(badKind.status, 422);
    assert.equal(badKind.body.error.field, 'kind');
    const history = await server.call<{ history: HistoryEvent[] }>('GET', `/api/memories/${id}/history`);
    assert.deepEqual(
      history.body.history.map((event) => event.event),
      ['ADD', 'UPDATE', 'UPDATE'],
    );

    const searched = await server.call<{ results: SearchResult[] }>('POST', '/api/memories/search', {
      body: { query: 'tabs or spaces in Python?', userId: 'alice', limit: 5 },
    });
    assert.equal(searched.status, 200);
    assert.equal(searched.body.results[0]?.id, id);
    assert.equal(typeof searched.body.results[0]?.scores.dense, 'number');
    assert.ok(searched.body.results.every((result) => result.userId === 'alice'));
    const filtered = await server.call<{ results: SearchResult[] }>('POST', '/api/memories/search', {
      body: { query: 'code', filters: { agentId: 'reviewer' }, userId: 'alice' },
    });
    assert.deepEqual(
      filtered.body.results.map((result) => result.memory),
      [DOCS],
    );

    type List = { results: MemoryRecord[]; nextCursor?: string };
    const listed = await server.call<List>('POST', '/api/memories/list', {
      body: { userId: 'alice', limit: 1 },
    });
    assert.equal(listed.body.results.length, 1);
    assert.ok(listed.body.nextCursor);
    const second = await server.call<List>(
      'GET',
      `/api/memories?userId=alice&limit=1&cursor=${encodeURIComponent(listed.body.nextCursor)}`,
    );
    assert.equal(second.status, 200);
    assert.equal(second.body.results.length, 1);
    assert.notEqual(second.body.results[0]?.id, listed.body.results[0]?.id);
    const appWide = await server.call<List>('POST', '/api/memories/list', { body: {} });
    assert.equal(appWide.body.results.length, 3, 'without a user the list covers the whole app');

    const exported = await server.call('GET', '/api/export?userId=alice');
    assert.equal(exported.status, 200);
    assert.equal(exported.headers.get('content-type'), 'application/x-ndjson');
    const lines = exported.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 2);
    assert.ok(lines.every((line) => line.type === 'memory' && line.record.userId === 'alice'));
    assert.ok(lines.some((line) => line.history.length === 3));

    // DELETE erases: no text stays in the history, an ERASE tombstone remains; a second DELETE finds nothing.
    const deleted = await server.call<{ id: string; deleted: boolean }>('DELETE', `/api/memories/${id}`);
    assert.deepEqual(deleted.body, { id, deleted: true, erased: true });
    assert.equal((await server.call('GET', `/api/memories/${id}`)).status, 404);
    assert.equal((await server.call('DELETE', `/api/memories/${id}`)).status, 404);
    const tombstone = await server.call<{ history: HistoryEvent[] }>('GET', `/api/memories/${id}/history`);
    assert.deepEqual(
      tombstone.body.history.map((event) => event.event),
      ['ADD', 'UPDATE', 'UPDATE', 'ERASE'],
    );
    assert.doesNotMatch(tombstone.text, /tabs|spaces|Python/, 'no text of the erased memory in its history');

    // ?soft=true deletes and keeps the last text in a DELETE event, for audit.
    const carol = await server.call<AddReply>('POST', '/api/memories', {
      body: { messages: 'I keep a paper diary', userId: 'carol', infer: false },
    });
    const carolId = carol.body.results[0]?.id ?? '';
    const badSoft = await server.call('DELETE', `/api/memories/${carolId}?soft=maybe`);
    assert.equal(badSoft.status, 422);
    assert.equal(badSoft.body.error.field, 'soft');
    const soft = await server.call('DELETE', `/api/memories/${carolId}?soft=true`);
    assert.deepEqual(soft.body, { id: carolId, deleted: true, erased: false });
    const audit = await server.call<{ history: HistoryEvent[] }>('GET', `/api/memories/${carolId}/history`);
    assert.deepEqual(
      audit.body.history.map((event) => [event.event, event.previousValue]),
      [
        ['ADD', undefined],
        ['DELETE', 'I keep a paper diary'],
      ],
    );

    const erased = await server.call<{ deleted: number }>('DELETE', '/api/memories?userId=alice');
    assert.deepEqual(erased.body, { deleted: 1 });
    const refused = await server.call('DELETE', '/api/memories');
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.field, 'userId');
    assert.equal(
      (await server.call<List>('POST', '/api/memories/list', { body: {} })).body.results.length,
      1,
    );
  });

  test('"async": true queues the add (202) and a flush ingests it', async () => {
    const server = await createHarness();
    const queued = await server.call<{ queueItemId: string }>('POST', '/api/memories', {
      body: { messages: TABS, userId: 'alice', async: true },
    });
    assert.equal(queued.status, 202);
    assert.equal(typeof queued.body.queueItemId, 'string');
    await server.memory.flush();
    const listed = await server.call<{ results: MemoryRecord[] }>('GET', '/api/memories?userId=alice');
    assert.deepEqual(
      listed.body.results.map((record) => record.memory),
      [TABS],
    );
  });

  test('unknown body fields and wrong types are 422 naming the field', async () => {
    const server = await createHarness();
    const typo = await server.call('POST', '/api/memories/search', {
      body: { query: 'x', userId: 'a', limt: 3 },
    });
    assert.equal(typo.status, 422);
    assert.equal(typo.body.error.field, 'limt');
    const wrongType = await server.call('POST', '/api/memories/search', { body: { query: 7, userId: 'a' } });
    assert.equal(wrongType.status, 422);
    assert.equal(wrongType.body.error.field, 'query');
    const badCursor = await server.call('POST', '/api/memories/list', {
      body: { userId: 'a', cursor: 'zzz' },
    });
    assert.equal(badCursor.status, 422);
    assert.equal(badCursor.body.error.field, 'cursor');
    const badTopK = await server.call('POST', '/v3/memories/search/', {
      body: { query: 'x', filters: { user_id: 'a' }, top_k: 0 },
    });
    assert.equal(badTopK.status, 422);
    assert.equal(badTopK.body.error.field, 'top_k', 'Mem0 routes name the field the client sent');
    assert.match(badTopK.body.error.message, /^top_k: expected an integer/);
    const noScope = await server.call('POST', '/api/memories', { body: { messages: TABS } });
    assert.equal(noScope.status, 422);
    assert.equal(noScope.body.error.field, 'userId');
  });
});

describe('server: native profile route', () => {
  type Profile = {
    items: Array<{ id: string; memory: string; kind: string; pinned: boolean }>;
    omitted: number;
    tokens: number;
  };

  test('GET /api/users/{userId}/profile gives the standing memories, grouped and newest first', async () => {
    const server = await createHarness({ apps: ['acme', 'globex'] });
    const seed = await seedProfile(server.memory, { userId: 'alice', appId: 'acme' }, server.advance);
    await seedProfile(server.memory, { userId: 'bob', agentId: 'coach', appId: 'acme' }, server.advance);
    const reply = await server.call<Profile>('GET', '/api/users/alice/profile');
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(
      reply.body.items.map((item) => [item.kind, item.memory]),
      seed.expected,
    );
    assert.equal(reply.body.omitted, 0);
    assert.ok(reply.body.tokens > 0);
    assert.ok(!reply.text.includes(seed.superseded), 'a superseded memory is not in the profile');
    assert.ok(!reply.text.includes(seed.message), 'a plain message is not in the profile');
    const own = await server.call<{ results: MemoryRecord[] }>('GET', '/api/memories?userId=alice&limit=100');
    const ownIds = new Set(own.body.results.map((record) => record.id));
    assert.ok(
      reply.body.items.every((item) => ownIds.has(item.id)),
      "only alice's memories",
    );
    const slashed = await server.call<Profile>('GET', '/api/users/alice/profile/');
    assert.deepEqual(slashed.body, reply.body, 'the trailing-slash form is the same route');

    const coach = await server.call<Profile>('GET', '/api/users/bob/profile?agent_id=coach&appId=acme');
    assert.equal(coach.status, 200, coach.text);
    assert.equal(coach.body.items.length, seed.expected.length);
    assert.ok(coach.body.items.every((item) => !ownIds.has(item.id)));
    const otherAgent = await server.call<Profile>('GET', '/api/users/bob/profile?agentId=reviewer');
    assert.deepEqual(otherAgent.body, { items: [], omitted: 0, tokens: 0 });

    const budget = await server.call<Profile>('GET', '/api/users/alice/profile?maxTokens=30');
    assert.equal(budget.status, 200, budget.text);
    assert.ok(budget.body.tokens <= 30);
    assert.ok(budget.body.items.length > 0 && budget.body.items.length < seed.expected.length);
    assert.equal(budget.body.omitted, seed.expected.length - budget.body.items.length);
  });

  test("another app's key sees an empty profile for the same user id and may not name the app", async () => {
    const server = await createHarness({ apps: ['acme', 'globex'] });
    const seed = await seedProfile(server.memory, { userId: 'alice', appId: 'acme' }, server.advance);
    const globex = server.keyOf.globex ?? '';
    const empty = await server.call<Profile>('GET', '/api/users/alice/profile', { key: globex });
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body, { items: [], omitted: 0, tokens: 0 });
    for (const [, text] of seed.expected) assert.ok(!empty.text.includes(text));
    const named = await server.call('GET', '/api/users/alice/profile?appId=acme', { key: globex });
    assert.equal(named.status, 403);
    assert.equal(named.body.error.field, 'appId');
  });

  test('a bad maxTokens, an unknown query field or a user in the query is a 422 naming it', async () => {
    const server = await createHarness();
    for (const value of ['ten', '2.5', '0', '', '100001']) {
      const reply = await server.call('GET', `/api/users/alice/profile?maxTokens=${value}`);
      assert.equal(reply.status, 422, `maxTokens=${value}: ${reply.text}`);
      assert.equal(reply.body.error.field, 'maxTokens');
      assert.match(reply.body.error.message, /expected an integer from 1 to 100000/);
    }
    for (const field of ['max_tokens', 'userId', 'user_id']) {
      const reply = await server.call('GET', `/api/users/alice/profile?${field}=5`);
      assert.equal(reply.status, 422, `${field}: ${reply.text}`);
      assert.equal(reply.body.error.field, field);
    }
  });
});

describe('server: profile in the Mem0-style routes', () => {
  type Mem0Profile = {
    user_id: string;
    results: Array<{ id: string; memory: string; kind: string; pinned: boolean; updated_at: string }>;
    omitted: number;
    tokens: number;
  };

  test('GET /v1/users/{user_id}/profile/ gives the same items in snake_case, app-scoped, max_tokens validated', async () => {
    const server = await createHarness({ apps: ['acme', 'globex'] });
    const seed = await seedProfile(server.memory, { userId: 'alice', appId: 'acme' }, server.advance);
    const reply = await server.call<Mem0Profile>('GET', '/v1/users/alice/profile/');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.user_id, 'alice');
    assert.deepEqual(
      reply.body.results.map((item) => [item.kind, item.memory]),
      seed.expected,
    );
    assert.ok(
      reply.body.results.every((item) => typeof item.updated_at === 'string' && item.pinned === false),
    );
    assert.ok(!reply.text.includes(seed.superseded));
    const native = await server.call<{ items: Array<{ id: string }> }>('GET', '/api/users/alice/profile');
    assert.deepEqual(
      reply.body.results.map((item) => item.id),
      native.body.items.map((item) => item.id),
    );
    const budget = await server.call<Mem0Profile>('GET', '/v1/users/alice/profile/?max_tokens=30');
    assert.ok(budget.body.tokens <= 30 && budget.body.results.length < seed.expected.length);
    const bad = await server.call('GET', '/v1/users/alice/profile/?max_tokens=lots');
    assert.ok(bad.status === 400 || bad.status === 422, bad.text);
    assert.equal(bad.body.error.field, 'max_tokens');
    const other = await server.call<Mem0Profile>('GET', '/v1/users/alice/profile/', {
      key: server.keyOf.globex ?? '',
    });
    assert.deepEqual(other.body.results, []);
  });
});

describe('server: Mem0 platform routes', () => {
  async function seed(server: Awaited<ReturnType<typeof createHarness>>, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      server.advance(1000);
      const reply = await server.call<AddReply>('POST', '/v3/memories/add/', {
        body: {
          messages: [
            {
              role: 'user',
              content: `Fact number ${index}: I collect ${['stamps', 'coins', 'maps'][index % 3]}`,
            },
          ],
          user_id: 'alice',
          metadata: { index, kind: index % 2 === 0 ? 'even' : 'odd' },
          infer: false,
        },
      });
      assert.equal(reply.status, 200, reply.text);
      ids.push(reply.body.results[0]?.id ?? '');
    }
    return ids;
  }

  test('ping, add (infer false), search with Mem0 filters, get, update, history, delete', async () => {
    const server = await createHarness();
    const ping = await server.call<Ping>('GET', '/v1/ping/');
    assert.deepEqual(ping.body, { status: 'ok', org_id: 'acme', project_id: 'acme', user_email: null });

    const added = await server.call<AddReply>('POST', '/v3/memories/add/', {
      body: {
        messages: [
          { role: 'user', content: TABS },
          { role: 'assistant', content: 'Noted, tabs for Go.' },
        ],
        user_id: 'alice',
        agent_id: 'coder',
        metadata: { source: 'chat' },
        timestamp: 1767225600,
        expiration_date: '2027-01-31',
        infer: false,
      },
    });
    assert.equal(added.status, 200);
    assert.deepEqual(
      added.body.results.map((item) => [item.event, item.data?.memory]),
      [['ADD', TABS]],
      "the assistant's acknowledgement is not stored as a memory about the user",
    );
    const id = added.body.results[0]?.id ?? '';

    const search = await server.call<{ results: Mem0Memory[] }>('POST', '/v3/memories/search/', {
      body: {
        query: 'tabs or spaces?',
        filters: { AND: [{ user_id: 'alice' }, { agent_id: '*' }, { source: { icontains: 'CHA' } }] },
        top_k: 1,
        output_format: 'v1.1',
        rerank: false,
      },
    });
    assert.equal(search.status, 200, search.text);
    assert.equal(search.body.results.length, 1);
    const top = search.body.results[0];
    assert.equal(top?.id, id);
    assert.equal(top?.user_id, 'alice');
    assert.equal(top?.agent_id, 'coder');
    assert.equal(top?.app_id, 'acme');
    assert.equal(top?.observed_at, '2026-01-01T00:00:00.000Z', 'timestamp is Unix seconds');
    assert.equal(top?.expiration_date, '2027-02-01T00:00:00.000Z', 'through the given day');
    assert.ok((top?.score ?? 0) > 0);
    const none = await server.call<{ results: Mem0Memory[] }>('POST', '/v3/memories/search/', {
      body: { query: 'tabs', filters: { user_id: 'alice', source: { in: ['email'] } } },
    });
    assert.deepEqual(none.body.results, []);

    const got = await server.call<Mem0Memory>('GET', `/v1/memories/${id}/`);
    assert.equal(got.body.memory, TABS);
    assert.deepEqual(got.body.metadata, { source: 'chat' });
    assert.deepEqual(got.body.categories, []);

    const put = await server.call<Mem0Memory>('PUT', `/v1/memories/${id}/`, {
      body: { text: 'I prefer spaces now' },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.memory, 'I prefer spaces now');
    const refused = await server.call('PUT', `/v1/memories/${id}/`, {
      body: { expiration_date: '2030-01-01' },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.field, 'expiration_date');

    type Mem0History = {
      event: string;
      old_memory: string | null;
      new_memory: string | null;
      user_id: string | null;
    };
    const history = await server.call<Mem0History[]>('GET', `/v1/memories/${id}/history/`);
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.map((event) => [event.event, event.old_memory, event.new_memory]),
      [
        ['ADD', null, TABS],
        ['UPDATE', TABS, 'I prefer spaces now'],
      ],
    );
    assert.equal(history.body[0]?.user_id, 'alice');

    const deleted = await server.call<Message>('DELETE', `/v1/memories/${id}/`);
    assert.deepEqual(deleted.body, { message: 'Memory deleted successfully!' });
    assert.equal((await server.call('GET', `/v1/memories/${id}/`)).status, 404);
    const afterDelete = await server.call<Mem0History[]>('GET', `/v1/memories/${id}/history/`);
    assert.deepEqual(
      afterDelete.body.map((event) => [event.event, event.old_memory, event.new_memory]),
      [
        ['ADD', null, null],
        ['UPDATE', null, null],
        ['ERASE', null, null],
      ],
      'deleting erases: the events survive, their text does not',
    );
  });

  test('add needs a user, agent or run; with infer and an LLM it would be queued, without one it is stored now', async () => {
    const server = await createHarness();
    const missing = await server.call('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: TABS }] },
    });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.error.field, 'user_id');
    const inferred = await server.call<AddReply>('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: TABS }], user_id: 'alice' },
    });
    assert.equal(inferred.status, 200);
    assert.equal(inferred.body.results.length, 1, 'no LLM is configured: nothing slow to defer');
    const queued = await server.call<{ status: string; event_id: string }>('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: DOCS }], user_id: 'alice', async_mode: true },
    });
    assert.equal(queued.body.status, 'PENDING');
    assert.equal(typeof queued.body.event_id, 'string');
    await server.memory.flush();
    const listed = await server.call<Page<Mem0Memory>>('POST', '/v3/memories/', {
      body: { filters: { user_id: 'alice' } },
    });
    assert.equal(listed.body.count, 2);
  });

  test('list pages with count, next and previous; start_date narrows', async () => {
    const server = await createHarness();
    const ids = await seed(server, 5);
    const first = await server.call<Page<Mem0Memory>>('POST', '/v3/memories/?page=1&page_size=2', {
      body: { filters: { user_id: 'alice' } },
    });
    assert.equal(first.status, 200);
    assert.equal(first.body.count, 5);
    assert.equal(first.body.previous, null);
    assert.match(first.body.next ?? '', /page=2&page_size=2$/);
    assert.deepEqual(
      first.body.results.map((record) => record.id),
      [ids[4], ids[3]],
      'newest first',
    );
    const last = await server.call<Page<Mem0Memory>>('POST', '/v3/memories/?page=3&page_size=2', {
      body: { filters: { user_id: 'alice' } },
    });
    assert.deepEqual(
      last.body.results.map((record) => record.id),
      [ids[0]],
    );
    assert.equal(last.body.next, null);
    assert.match(last.body.previous ?? '', /page=2/);
    const recent = await server.call<Page<Mem0Memory>>('POST', '/v3/memories/', {
      body: { filters: { user_id: 'alice' }, start_date: '2026-03-02T10:00:03.000Z' },
    });
    assert.equal(recent.body.count, 3);
    const even = await server.call<Page<Mem0Memory>>('POST', '/v3/memories/', {
      body: { filters: { user_id: 'alice', kind: 'even' } },
    });
    assert.equal(even.body.count, 0, '"kind" is a column (memory kind), not metadata');
    const evenMetadata = await server.call<Page<Mem0Memory>>('POST', '/v3/memories/', {
      body: { filters: { user_id: 'alice', 'metadata.kind': 'even' } },
    });
    assert.equal(evenMetadata.body.count, 3);
    const badPage = await server.call('POST', '/v3/memories/?page=0', { body: {} });
    assert.equal(badPage.status, 422);
    assert.equal(badPage.body.error.field, 'page');
  });

  test('delete all by query, batch update and delete, entities, entity delete', async () => {
    const server = await createHarness({ limits: { maxBatchSize: 3 } });
    const ids = await seed(server, 4);
    await server.call('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: DOCS }], user_id: 'bob', run_id: 'r1', infer: false },
    });

    type Entity = { type: string; name: string; total_memories: number };
    const entities = await server.call<Page<Entity>>('GET', '/v1/entities/');
    assert.deepEqual(
      entities.body.results.map((entity) => [entity.type, entity.name, entity.total_memories]),
      [
        ['run', 'r1', 1],
        ['user', 'alice', 4],
        ['user', 'bob', 1],
      ],
    );

    const updated = await server.call<Message>('PUT', '/v1/batch/', {
      body: {
        memories: [
          { memory_id: ids[0], text: 'I collect old maps' },
          { memory_id: ids[1], text: 'I collect coins' },
        ],
      },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(updated.body, { message: 'Successfully updated 2 memories' });
    assert.equal(
      (await server.call<Mem0Memory>('GET', `/v1/memories/${ids[0]}/`)).body.memory,
      'I collect old maps',
    );

    const before = await snapshotStore(server.memory);
    const unknown = await server.call('DELETE', '/v1/batch/', {
      body: { memories: [{ memory_id: ids[2] }, { memory_id: '9b2f2b8e-0000-4000-8000-000000000000' }] },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.field, 'memories[1].memory_id');
    const tooMany = await server.call('DELETE', '/v1/batch/', {
      body: { memories: ids.map((memoryId) => ({ memory_id: memoryId })) },
    });
    assert.equal(tooMany.status, 422);
    assert.equal(tooMany.body.error.field, 'memories');
    const duplicate = await server.call('PUT', '/v1/batch/', {
      body: {
        memories: [
          { memory_id: ids[2], text: 'a' },
          { memory_id: ids[2], text: 'b' },
        ],
      },
    });
    assert.equal(duplicate.status, 422);
    assert.equal(await snapshotStore(server.memory), before, 'failed batches change nothing');

    const batchDeleted = await server.call<Message>('DELETE', '/v1/batch/', {
      body: { memories: [{ memory_id: ids[2] }, { memory_id: ids[3] }] },
    });
    assert.deepEqual(batchDeleted.body, { message: 'Successfully deleted 2 memories' });

    const needsEntity = await server.call('DELETE', '/v1/memories/');
    assert.equal(needsEntity.status, 422);
    const erased = await server.call<Message & { deleted: number }>('DELETE', '/v1/memories/?user_id=alice');
    assert.deepEqual(erased.body, { message: 'Memories deleted successfully!', deleted: 2 });

    const entityDeleted = await server.call('DELETE', '/v2/entities/run/r1/');
    assert.equal(entityDeleted.status, 200);
    assert.equal((await server.call<Page<Entity>>('GET', '/v1/entities/')).body.count, 0);
    assert.equal((await server.call('DELETE', '/v2/entities/planet/mars/')).status, 422);

    // The deprecated v1 entity route, and erasing the whole app by naming it.
    await seed(server, 2);
    await server.call('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: DOCS }], user_id: 'bob', infer: false },
    });
    assert.equal((await server.call('DELETE', '/v1/entities/user/bob/')).status, 200);
    assert.deepEqual(
      (await server.call<Page<Entity>>('GET', '/v1/entities/')).body.results.map((entity) => entity.name),
      ['alice'],
    );
    const wholeApp = await server.call<Message & { deleted: number }>('DELETE', '/v1/memories/?app_id=acme');
    assert.equal(wholeApp.body.deleted, 2);
    assert.equal((await server.call<Page<Entity>>('GET', '/v1/entities/')).body.count, 0);
  });
});

describe('server: errors, limits and logs', () => {
  test('malformed JSON is 400, an oversized body 413, oversized text 422, each naming the field', async () => {
    const server = await createHarness({ limits: { maxBodyBytes: 64 * 1024 } });
    const malformed = await server.call('POST', '/v3/memories/search/', { body: '{"query": ' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.field, 'body');
    const notObject = await server.call('POST', '/v3/memories/search/', { body: '[1,2]' });
    assert.equal(notObject.status, 400);
    const huge = await server.call('POST', '/api/memories', {
      body: { messages: 'x'.repeat(70_000), userId: 'a' },
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.field, 'body');
    const long = await server.call('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: 'y'.repeat(20_001) }], user_id: 'a' },
    });
    assert.equal(long.status, 422);
    assert.equal(long.body.error.field, 'messages[0].content');
  });

  test('scope keys in metadata are refused (403): metadata never sets scope', async () => {
    const server = await createHarness();
    const reply = await server.call('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: TABS }], user_id: 'alice', metadata: { user_id: 'bob' } },
    });
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error.field, 'metadata.user_id');
  });

  test('unknown routes are 404 with a pointer to /openapi.json', async () => {
    const server = await createHarness();
    const reply = await server.call('GET', '/v9/nothing');
    assert.equal(reply.status, 404);
    assert.match(reply.body.error.message, /openapi\.json/);
  });

  test('every request is logged as one structured line without bodies; x-request-id is echoed', async () => {
    const server = await createHarness();
    const reply = await server.call('POST', '/v3/memories/add/', {
      body: { messages: [{ role: 'user', content: TABS }], user_id: 'alice', infer: false },
      headers: { 'x-request-id': 'trace-123' },
    });
    assert.equal(reply.headers.get('x-request-id'), 'trace-123');
    await server.call('GET', '/api/memories', { key: null });
    const lines = server.logs.filter((line) => line.message === 'request');
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.fields.requestId, 'trace-123');
    assert.equal(lines[0]?.fields.status, 200);
    assert.equal(lines[0]?.fields.method, 'POST');
    assert.equal(lines[0]?.fields.path, '/v3/memories/add/');
    assert.equal(lines[0]?.fields.appId, 'acme');
    assert.equal(typeof lines[0]?.fields.durationMs, 'number');
    assert.equal(lines[1]?.fields.status, 401);
    assert.ok(!JSON.stringify(server.logs).includes('tabs'), 'memory text never reaches the log');
  });

  test('a transient store failure is a 503 with Retry-After, logged, with no internals in the body', async () => {
    const inner = createInMemoryStore();
    let failing = false;
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'searchDense' || property === 'searchKeyword') {
          return async (...args: unknown[]) => {
            if (failing) throw new StoreError('database is locked (SQLITE_BUSY)', { retryable: true });
            return (value as (...inner: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as MemoryStore;
    const fixture = await createMemoryFixture({ store });
    const keysFile = `${(await createHarness()).keysFile}.other`;
    const keys = createFileKeyStore({ path: keysFile });
    const { key } = await keys.create({ appId: 'acme' });
    const logged: string[] = [];
    const app = createApp({
      memory: fixture.memory,
      keys,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
      },
    });
    failing = true;
    const response = await app.request('/v3/memories/search/', {
      method: 'POST',
      headers: { authorization: `Token ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'tabs', filters: { user_id: 'alice' } }),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '1');
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'store_failed');
    assert.ok(!body.error.message.includes('SQLITE_BUSY'));
    assert.ok(
      logged.some((line) => line.includes('SQLITE_BUSY')),
      'the cause is in the server log',
    );
  });
});
