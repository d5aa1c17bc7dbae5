/**
 * Tenant isolation: two apps with their own keys. Generated cross-tenant attempts by app "globex" against app
 * "acme" (acme's memory ids on every id route and in batches, acme's user ids, app ids in bodies, queries and
 * filters, scope keys in metadata) must all fail (404 for ids, 403 for naming another app or smuggling scope
 * through metadata) or, where a user id is simply a name inside the caller's own app, return nothing of acme's;
 * and the store (both apps: rows and history) must be byte-for-byte unchanged afterwards.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import type { MemoryRecord } from '../../src/core/types.js';
import { stopSharedTestPostgres } from '../stores/postgres-support.js';
import { type AddReply, createHarness, type Harness, serverStores, snapshotStore } from './harness.js';

const ACME_TEXTS = [
  'Acme plan: the launch code name is BLUEFALCON',
  'Acme plan: our biggest customer is Initech',
  'Acme plan: the acquisition closes in March',
  'Acme plan: salary bands are under review',
];

interface Attempt {
  kind: 'id' | 'app' | 'metadata' | 'user' | 'admin';
  method: string;
  path: string;
  body?: unknown;
  /** Use the admin key (no app) instead of globex's key. */
  admin?: boolean;
}

async function seed(server: Harness) {
  const acmeKey = server.keyOf.acme ?? '';
  const globexKey = server.keyOf.globex ?? '';
  const acmeIds: string[] = [];
  const globexIds: string[] = [];
  for (const [index, text] of ACME_TEXTS.entries()) {
    const user = index % 2 === 0 ? 'alice' : 'bob';
    const reply = await server.call<AddReply>('POST', '/api/memories', {
      key: acmeKey,
      body: {
        messages: text,
        userId: user,
        agentId: 'planner',
        runId: `run-${index}`,
        metadata: { team: 'core' },
        infer: false,
      },
    });
    assert.equal(reply.status, 201, reply.text);
    acmeIds.push(reply.body.results[0]?.id ?? '');
    assert.equal(reply.body.results[0]?.memory, text, 'stored verbatim');
  }
  for (const text of [
    'Globex note: alice likes quarterly reviews',
    'Globex note: carol prefers async standups',
  ]) {
    const reply = await server.call<AddReply>('POST', '/api/memories', {
      key: globexKey,
      body: {
        messages: text,
        userId: text.includes('alice') ? 'alice' : 'carol',
        metadata: { team: 'core' },
        infer: false,
      },
    });
    globexIds.push(reply.body.results[0]?.id ?? '');
  }
  return { acmeIds, globexIds };
}

function attempts(acmeIds: string[], globexIds: string[]): fc.Arbitrary<Attempt> {
  const acmeId = fc.constantFrom(...acmeIds);
  const ownId = fc.constantFrom(...globexIds);
  // "bob" exists only in acme; "alice" exists in both apps (different people).
  const acmeUser = fc.constantFrom('alice', 'bob');
  const acmeOnlyUser = fc.constant('bob');
  const appName = fc.constantFrom('acme', 'ACME', 'acme ', 'Acme', 'initech');
  const text = fc.string({ minLength: 1, maxLength: 40 }).filter((value) => value.trim().length > 0);
  const scopeKey = fc.constantFrom(
    'user_id',
    'agent_id',
    'run_id',
    'app_id',
    'userId',
    'agentId',
    'runId',
    'appId',
  );
  const appFilter = fc.oneof(
    appName.map((app) => ({ app_id: app })),
    appName.map((app) => ({ AND: [{ user_id: 'alice' }, { app_id: app }] })),
    appName.map((app) => ({ OR: [{ user_id: 'alice' }, { app_id: { in: ['globex', app] } }] })),
    appName.map((app) => ({ NOT: { app_id: { ne: app } } })),
    appName.map((app) => ({ appId: app, user_id: 'alice' })),
  );

  const idAttempts: fc.Arbitrary<Attempt>[] = [
    acmeId.map((id) => ({ kind: 'id', method: 'GET', path: `/v1/memories/${id}/` })),
    fc.tuple(acmeId, text).map(([id, value]) => ({
      kind: 'id',
      method: 'PUT',
      path: `/v1/memories/${id}/`,
      body: { text: value },
    })),
    acmeId.map((id) => ({ kind: 'id', method: 'DELETE', path: `/v1/memories/${id}/` })),
    acmeId.map((id) => ({ kind: 'id', method: 'GET', path: `/v1/memories/${id}/history/` })),
    acmeId.map((id) => ({ kind: 'id', method: 'GET', path: `/api/memories/${id}` })),
    fc.tuple(acmeId, text).map(([id, value]) => ({
      kind: 'id',
      method: 'PATCH',
      path: `/api/memories/${id}`,
      body: { text: value, metadata: { team: 'x' } },
    })),
    acmeId.map((id) => ({ kind: 'id', method: 'DELETE', path: `/api/memories/${id}` })),
    acmeId.map((id) => ({ kind: 'id', method: 'GET', path: `/api/memories/${id}/history` })),
    // Batches mixing the caller's own ids with one of acme's: the whole batch must fail before any change.
    fc.tuple(fc.shuffledSubarray(globexIds), acmeId, text).map(([own, foreign, value]) => ({
      kind: 'id',
      method: 'PUT',
      path: '/v1/batch/',
      body: { memories: [...own, foreign].map((memoryId) => ({ memory_id: memoryId, text: value })) },
    })),
    fc.tuple(fc.shuffledSubarray(globexIds), acmeId).map(([own, foreign]) => ({
      kind: 'id',
      method: 'DELETE',
      path: '/v1/batch/',
      body: { memories: [foreign, ...own].map((memoryId) => ({ memory_id: memoryId })) },
    })),
  ];

  const appAttempts: fc.Arbitrary<Attempt>[] = [
    fc.tuple(appName, text).map(([app, value]) => ({
      kind: 'app',
      method: 'POST',
      path: '/v3/memories/add/',
      body: { messages: [{ role: 'user', content: value }], user_id: 'alice', app_id: app, infer: false },
    })),
    fc.tuple(appName, text).map(([app, value]) => ({
      kind: 'app',
      method: 'POST',
      path: '/api/memories',
      body: { messages: value, userId: 'alice', appId: app, infer: false },
    })),
    appFilter.map((filters) => ({
      kind: 'app',
      method: 'POST',
      path: '/v3/memories/search/',
      body: { query: 'plan launch customer', filters },
    })),
    appFilter.map((filters) => ({ kind: 'app', method: 'POST', path: '/v3/memories/', body: { filters } })),
    appFilter.map((filters) => ({
      kind: 'app',
      method: 'POST',
      path: '/api/memories/search',
      body: { query: 'plan', filters },
    })),
    appFilter.map((filters) => ({
      kind: 'app',
      method: 'POST',
      path: '/api/memories/list',
      body: { filters },
    })),
    appName.map((app) => ({
      kind: 'app',
      method: 'POST',
      path: '/api/memories/search',
      body: { query: 'plan', userId: 'alice', appId: app },
    })),
    fc.tuple(appName, acmeUser).map(([app, user]) => ({
      kind: 'app',
      method: 'DELETE',
      path: `/v1/memories/?user_id=${user}&app_id=${encodeURIComponent(app)}`,
    })),
    appName.map((app) => ({
      kind: 'app',
      method: 'DELETE',
      path: `/v1/memories/?app_id=${encodeURIComponent(app)}`,
    })),
    appName.map((app) => ({
      kind: 'app',
      method: 'DELETE',
      path: `/v2/entities/app/${encodeURIComponent(app)}/`,
    })),
    appName.map((app) => ({
      kind: 'app',
      method: 'GET',
      path: `/api/export?appId=${encodeURIComponent(app)}`,
    })),
    appName.map((app) => ({
      kind: 'app',
      method: 'GET',
      path: `/api/memories?userId=bob&appId=${encodeURIComponent(app)}`,
    })),
    appName.map((app) => ({
      kind: 'app',
      method: 'GET',
      path: `/api/users/alice/profile?appId=${encodeURIComponent(app)}`,
    })),
  ];

  const metadataAttempts: fc.Arbitrary<Attempt>[] = [
    fc.tuple(scopeKey, fc.oneof(appName, acmeUser), text).map(([key, value, content]) => ({
      kind: 'metadata',
      method: 'POST',
      path: '/v3/memories/add/',
      body: {
        messages: [{ role: 'user', content }],
        user_id: 'carol',
        metadata: { [key]: value },
        infer: false,
      },
    })),
    fc.tuple(scopeKey, fc.oneof(appName, acmeUser), text).map(([key, value, content]) => ({
      kind: 'metadata',
      method: 'POST',
      path: '/api/memories',
      body: { messages: content, userId: 'carol', metadata: { team: 'core', [key]: value }, infer: false },
    })),
    fc.tuple(ownId, scopeKey, fc.oneof(appName, acmeUser)).map(([id, key, value]) => ({
      kind: 'metadata',
      method: 'PUT',
      path: `/v1/memories/${id}/`,
      body: { metadata: { [key]: value } },
    })),
    fc.tuple(ownId, scopeKey, fc.oneof(appName, acmeUser)).map(([id, key, value]) => ({
      kind: 'metadata',
      method: 'PATCH',
      path: `/api/memories/${id}`,
      body: { metadata: { [key]: value } },
    })),
    fc.tuple(ownId, scopeKey, appName).map(([id, key, value]) => ({
      kind: 'metadata',
      method: 'PUT',
      path: '/v1/batch/',
      body: { memories: [{ memory_id: id, metadata: { [key]: value } }] },
    })),
  ];

  // User ids name people inside the caller's own app: reads of acme's users find nothing of acme's.
  const userAttempts: fc.Arbitrary<Attempt>[] = [
    acmeUser.map((user) => ({
      kind: 'user',
      method: 'POST',
      path: '/v3/memories/search/',
      body: { query: 'Acme plan launch customer acquisition salary', filters: { user_id: user } },
    })),
    fc.tuple(acmeUser, fc.constantFrom('planner', 'run-0', 'core')).map(([user, value]) => ({
      kind: 'user',
      method: 'POST',
      path: '/v3/memories/',
      body: {
        filters: {
          OR: [{ user_id: user }, { agent_id: value }, { run_id: value }, { 'metadata.team': value }],
        },
      },
    })),
    acmeUser.map((user) => ({
      kind: 'user',
      method: 'POST',
      path: '/api/memories/search',
      body: { query: 'Acme plan', userId: user, agentId: 'planner', mode: 'keyword' },
    })),
    acmeUser.map((user) => ({
      kind: 'user',
      method: 'GET',
      path: `/api/memories?userId=${user}&agentId=planner`,
    })),
    acmeUser.map((user) => ({ kind: 'user', method: 'GET', path: `/api/export?userId=${user}` })),
    acmeUser.map((user) => ({
      kind: 'user',
      method: 'GET',
      path: `/api/users/${user}/profile?agentId=planner`,
    })),
    acmeOnlyUser.map((user) => ({ kind: 'user', method: 'DELETE', path: `/v1/memories/?user_id=${user}` })),
    acmeOnlyUser.map((user) => ({ kind: 'user', method: 'DELETE', path: `/api/memories?userId=${user}` })),
    acmeOnlyUser.map((user) => ({ kind: 'user', method: 'DELETE', path: `/v2/entities/user/${user}/` })),
    fc.constant<Attempt>({ kind: 'user', method: 'DELETE', path: '/v2/entities/agent/planner/' }),
    fc.constant<Attempt>({ kind: 'user', method: 'DELETE', path: '/v1/memories/?run_id=run-1' }),
    fc.constant<Attempt>({ kind: 'user', method: 'GET', path: '/v1/entities/' }),
  ];

  const adminAttempts: fc.Arbitrary<Attempt>[] = [
    acmeId.map((id) => ({ kind: 'admin', admin: true, method: 'GET', path: `/v1/memories/${id}/` })),
    acmeUser.map((user) => ({
      kind: 'admin',
      admin: true,
      method: 'POST',
      path: '/v3/memories/search/',
      body: { query: 'plan', filters: { user_id: user } },
    })),
    acmeOnlyUser.map((user) => ({
      kind: 'admin',
      admin: true,
      method: 'DELETE',
      path: `/v1/memories/?user_id=${user}`,
    })),
  ];

  return fc.oneof(
    fc.oneof(...idAttempts),
    fc.oneof(...appAttempts),
    fc.oneof(...metadataAttempts),
    fc.oneof(...userAttempts),
    fc.oneof(...adminAttempts),
  );
}

after(stopSharedTestPostgres);

for (const backend of await serverStores()) {
  describe(`server: tenant isolation (${backend.name})`, () => {
    test('1,200 generated cross-tenant attempts fail or see nothing, and change nothing', async () => {
      const { store, cleanup } = await backend.make();
      const server = await createHarness({ apps: ['acme', 'globex'], store });
      try {
        const { acmeIds, globexIds } = await seed(server);
        const before = await snapshotStore(server.memory);
        const counts: Record<string, number> = {};
        const statuses: Record<string, number> = {};
        let total = 0;

        await fc.assert(
          fc.asyncProperty(attempts(acmeIds, globexIds), async (attempt) => {
            const reply = await server.call(attempt.method, attempt.path, {
              key: attempt.admin ? server.adminKey : (server.keyOf.globex ?? ''),
              ...(attempt.body !== undefined ? { body: attempt.body } : {}),
            });
            total += 1;
            counts[attempt.kind] = (counts[attempt.kind] ?? 0) + 1;
            statuses[`${attempt.kind} ${reply.status}`] =
              (statuses[`${attempt.kind} ${reply.status}`] ?? 0) + 1;
            for (const text of ACME_TEXTS) {
              assert.ok(
                !reply.text.includes(text),
                `${attempt.method} ${attempt.path} leaked acme text: ${reply.text}`,
              );
            }
            if (attempt.kind === 'id') {
              assert.equal(reply.status, 404, `${attempt.method} ${attempt.path}: ${reply.text}`);
            } else if (attempt.kind === 'app' || attempt.kind === 'metadata' || attempt.kind === 'admin') {
              assert.equal(
                reply.status,
                403,
                `${attempt.method} ${attempt.path} ${JSON.stringify(attempt.body)}: ${reply.text}`,
              );
              assert.ok(reply.body.error.field, 'the 403 names the field');
            } else {
              assert.ok(reply.status === 200, `${attempt.method} ${attempt.path}: ${reply.text}`);
              for (const id of acmeIds) assert.ok(!reply.text.includes(id), `acme id ${id} leaked`);
              assert.ok(!/"app_?[iI]d":"acme"/.test(reply.text), 'no acme record in the reply');
              assert.ok(!/"deleted":[1-9]/.test(reply.text), 'nothing was deleted');
            }
          }),
          { numRuns: 1200, seed: 20261124 },
        );

        assert.ok(total >= 1000, `ran ${total} attempts`);
        for (const kind of ['id', 'app', 'metadata', 'user', 'admin']) {
          assert.ok((counts[kind] ?? 0) >= 100, `at least 100 "${kind}" attempts (got ${counts[kind] ?? 0})`);
        }
        assert.equal(
          await snapshotStore(server.memory),
          before,
          'the store (both apps, rows and history) is unchanged',
        );
        // acme still sees all of its own memories.
        for (const [index, id] of acmeIds.entries()) {
          const own = await server.call<MemoryRecord>('GET', `/api/memories/${id}`, {
            key: server.keyOf.acme ?? '',
          });
          assert.equal(own.body.memory, ACME_TEXTS[index]);
        }
      } finally {
        await server.close();
        await cleanup();
      }
    });
  });
}
