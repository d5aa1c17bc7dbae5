/**
 * The requests of the Python `MemoryClient` (mem0ai 1.x and 2.0.x, `mem0/client/main.py`), sent with fetch exactly
 * as it builds them: httpx with `Authorization: Token <key>` and `Mem0-User-ID: md5(key)` on every request;
 * `_prepare_params` adds `org_id` and `project_id` (taken from the ping) to every body or query; `add` always sends
 * `async_mode: true` (unless given) and `output_format: "v1.1"`; `get_all` posts to `/v2/memories/` (page and
 * page_size in the query when both are given); `search` posts to `/v2/memories/search/`. The client wraps a bare
 * list as `{ results }`, so both answers work; this test holds mneme to the v1.1 shapes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Memory } from '../../src/memory/memory.js';
import type { RunningServer } from '../../src/server/listen.js';
import { startMem0Server } from './mem0-server.js';

type Json = Record<string, unknown>;
type Item = { id: string; memory: string; user_id: string | null };

describe('the Python MemoryClient wire contract against mneme serve', () => {
  let server: RunningServer;
  let memory: Memory;
  let key: string;
  let org: Json = {};

  /** One request as httpx sends it for the client. */
  const send = async (
    method: string,
    path: string,
    options: { json?: unknown; params?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown }> => {
    const query = options.params ? `?${new URLSearchParams(options.params)}` : '';
    const response = await fetch(`${server.url}${path}${query}`, {
      method,
      headers: {
        Authorization: `Token ${key}`,
        'Mem0-User-ID': createHash('md5').update(key).digest('hex'),
        ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
    });
    return { status: response.status, body: await response.json() };
  };
  const ok = async (method: string, path: string, options: Parameters<typeof send>[2] = {}) => {
    const reply = await send(method, path, options);
    assert.equal(reply.status, 200, `${method} ${path}: ${JSON.stringify(reply.body)}`);
    return reply.body as Json;
  };

  before(async () => {
    let keys: Record<string, string>;
    ({ server, keys, memory } = await startMem0Server(['acme']));
    key = keys.acme ?? '';
    // MemoryClient.__init__ -> _validate_api_key: GET /v1/ping/, then org_id / project_id from the answer.
    const ping = await ok('GET', '/v1/ping/');
    assert.equal(ping.status, 'ok');
    org = { org_id: ping.org_id, project_id: ping.project_id };
    assert.deepEqual(org, { org_id: 'acme', project_id: 'acme' });
  });

  after(async () => {
    await server.close();
  });

  const add = async (content: string, userId: string, extra: Json = {}) =>
    ok('POST', '/v1/memories/', {
      json: {
        messages: [{ role: 'user', content }],
        user_id: userId,
        async_mode: true,
        output_format: 'v1.1',
        ...org,
        ...extra,
      },
    });

  test('add queues by default (async_mode true) and GET /v1/event/{id}/ follows it', async () => {
    const queued = (await add('I prefer tabs over spaces in Go code', 'alice', { infer: false })) as {
      results: Array<{ status: string; event_id: string; message: string }>;
    };
    assert.equal(queued.results.length, 1);
    assert.equal(queued.results[0]?.status, 'PENDING');
    const path = `/v1/event/${queued.results[0]?.event_id}/`;
    assert.match(String((await ok('GET', path)).status), /^(PENDING|SUCCEEDED)$/);
    await memory.flush();
    const done = await ok('GET', path);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.event_type, 'ADD');
  });

  test('add with async_mode false answers the memories in v1.1; get, update, history, delete', async () => {
    const added = (await add('I drink green tea every morning', 'bob', {
      async_mode: false,
      infer: false,
    })) as {
      results: Array<{ id: string; event: string; memory: string }>;
    };
    assert.equal(added.results[0]?.event, 'ADD');
    const id = added.results[0]?.id ?? '';
    const got = (await ok('GET', `/v1/memories/${id}/`, { params: org as Record<string, string> })) as Item;
    assert.equal(got.memory, 'I drink green tea every morning');
    await ok('PUT', `/v1/memories/${id}/`, {
      json: { text: 'I drink black tea every morning' },
      params: org as Record<string, string>,
    });
    const history = (
      await send('GET', `/v1/memories/${id}/history/`, { params: org as Record<string, string> })
    ).body as Array<{ event: string }>;
    assert.deepEqual(
      history.map((event) => event.event),
      ['ADD', 'UPDATE'],
    );
    const deleted = await ok('DELETE', `/v1/memories/${id}/`, { params: org as Record<string, string> });
    assert.equal(deleted.message, 'Memory deleted successfully!');
    assert.equal((await send('GET', `/v1/memories/${id}/`)).status, 404);
  });

  test('get_all (POST /v2/memories/, paged with page and page_size in the query) and search (v2)', async () => {
    for (const content of ['I swim on Mondays', 'I cycle on Tuesdays', 'I row on Wednesdays']) {
      await add(content, 'carol', { async_mode: false, infer: false });
    }
    const all = (await ok('POST', '/v2/memories/', { json: { filters: { user_id: 'carol' }, ...org } })) as {
      results: Item[];
    };
    assert.equal(all.results.length, 3);
    assert.ok(all.results.every((item) => item.user_id === 'carol'));
    const page = (await ok('POST', '/v2/memories/', {
      json: { filters: { AND: [{ user_id: 'carol' }, { created_at: { gte: '2000-01-01' } }] }, ...org },
      params: { page: '2', page_size: '2' },
    })) as { count: number; results: Item[]; previous: string | null };
    assert.equal(page.count, 3);
    assert.equal(page.results.length, 1);
    const found = (await ok('POST', '/v2/memories/search/', {
      json: { query: 'which day do I swim?', filters: { user_id: 'carol' }, top_k: 2, ...org },
    })) as { results: Array<Item & { score: number }> };
    assert.equal(found.results[0]?.memory, 'I swim on Mondays');
    assert.ok(found.results.length <= 2);
    const v1 = (await ok('POST', '/v1/memories/search/', {
      json: { query: 'which day do I swim?', user_id: 'carol', ...org },
    })) as { results: Item[] };
    assert.equal(v1.results[0]?.memory, 'I swim on Mondays');
  });

  test('users, delete_users, batch_update, batch_delete, delete_all', async () => {
    const ids = [];
    for (const content of ['I like jazz', 'I like opera']) {
      const added = (await add(content, 'dave', { async_mode: false, infer: false })) as {
        results: Array<{ id: string }>;
      };
      ids.push(added.results[0]?.id ?? '');
    }
    await ok('PUT', '/v1/batch/', { json: { memories: [{ memory_id: ids[0], text: 'I like blues' }] } });
    assert.equal(((await ok('GET', `/v1/memories/${ids[0]}/`)) as Item).memory, 'I like blues');
    await ok('DELETE', '/v1/batch/', { json: { memories: ids.map((id) => ({ memory_id: id })) } });
    assert.equal((await send('GET', `/v1/memories/${ids[1]}/`)).status, 404);

    await add('I like folk', 'erin', { async_mode: false, infer: false });
    await add('I like metal', 'fred', { async_mode: false, infer: false });
    const users = (await ok('GET', '/v1/entities/', { params: org as Record<string, string> })) as {
      results: Array<{ type: string; name: string }>;
    };
    assert.ok(users.results.some((entity) => entity.type === 'user' && entity.name === 'erin'));
    await ok('DELETE', '/v2/entities/user/erin/', { params: org as Record<string, string> });
    const erin = (await ok('POST', '/v2/memories/', { json: { filters: { user_id: 'erin' }, ...org } })) as {
      results: Item[];
    };
    assert.deepEqual(erin.results, []);
    await ok('DELETE', '/v1/memories/', { params: { user_id: 'fred', ...(org as Record<string, string>) } });
    const fred = (await ok('POST', '/v2/memories/', { json: { filters: { user_id: 'fred' }, ...org } })) as {
      results: Item[];
    };
    assert.deepEqual(fred.results, []);
    // delete_all with no scope is refused, never a silent wipe.
    assert.equal(
      (await send('DELETE', '/v1/memories/', { params: org as Record<string, string> })).status,
      422,
    );
  });

  test('unsupported features are 501; unknown routes are 404 naming the path as sent', async () => {
    for (const [method, path, json] of [
      ['POST', '/v1/feedback/', { memory_id: 'm', feedback: 'POSITIVE', feedback_reason: null }],
      ['POST', '/v1/summary/', { filters: { user_id: 'alice' } }],
      ['POST', '/v1/exports/', { schema: '{}', user_id: 'alice' }],
      ['GET', '/api/v1/webhooks/projects/acme/', undefined],
      ['GET', '/api/v1/orgs/organizations/acme/projects/acme/members/', undefined],
    ] as const) {
      const reply = await send(method, path, json === undefined ? {} : { json });
      assert.equal(reply.status, 501, `${method} ${path}`);
      assert.equal((reply.body as { error: { code: string } }).error.code, 'not_implemented');
    }
    const missing = await send('GET', '/v1/stats/');
    assert.equal(missing.status, 404);
    assert.match(
      (missing.body as { error: { message: string } }).error.message,
      /no route GET \/v1\/stats\/;/,
    );
  });
});
