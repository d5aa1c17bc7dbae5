/**
 * The UNMODIFIED `mem0ai` 2.4.6 MemoryClient (npm alias `mem0ai-v2`), the one most code written in 2025 runs, against
 * mneme: its v1 add / search / list routes, the v2 search and paged list, and every other public method. It sends
 * and receives snake_case as is and adds the key's `org_id` / `project_id` (from ping) to its requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MemoryClient as MemoryClientType } from 'mem0ai-v2';
import type { Memory } from '../../src/memory/memory.js';
import type { RunningServer } from '../../src/server/listen.js';
import { assertNotImplemented, startMem0Server } from './mem0-server.js';

type Added = { results: Array<{ id: string; event: string; memory: string }> };
type Listed = { results: Array<{ id: string; memory: string; user_id: string | null }> };
type Page = Listed & { count: number; next: string | null; previous: string | null };

describe('mem0ai 2.4.6 MemoryClient against mneme serve', () => {
  let server: RunningServer;
  let memory: Memory;
  let acme: MemoryClientType;
  let globex: MemoryClientType;

  before(async () => {
    let keys: Record<string, string>;
    ({ server, keys, memory } = await startMem0Server());
    const { MemoryClient } = await import('mem0ai-v2');
    acme = new MemoryClient({ apiKey: keys.acme ?? '', host: server.url });
    globex = new MemoryClient({ apiKey: keys.globex ?? '', host: server.url });
    await acme.ping();
    await globex.ping();
  });

  after(async () => {
    await server.close();
  });

  const addFor = async (userId: string, content: string): Promise<string> => {
    const added = (await acme.add([{ role: 'user', content }], {
      user_id: userId,
      infer: false,
    } as never)) as unknown as Added;
    assert.equal(added.results.length, 1);
    return added.results[0]?.id ?? '';
  };

  test('add (v1), search v1 and v2, get, update, history, delete', async () => {
    const added = (await acme.add(
      [
        { role: 'user', content: 'I prefer tabs over spaces in Go code' },
        { role: 'assistant', content: 'Noted.' },
      ],
      { user_id: 'alice', infer: false, metadata: { source: 'chat' } } as never,
    )) as unknown as Added;
    assert.deepEqual(
      added.results.map((item) => [item.event, item.memory]),
      [['ADD', 'I prefer tabs over spaces in Go code']],
    );
    const id = added.results[0]?.id ?? '';

    const v1 = (await acme.search('tabs or spaces for Go?', {
      user_id: 'alice',
    } as never)) as unknown as Listed;
    assert.equal(v1.results[0]?.id, id, 'v1 search: scope fields in the body, { results } (v1.1)');
    const bare = (await acme.search('tabs', {
      user_id: 'alice',
      output_format: 'v1.0',
    } as never)) as unknown as Listed['results'];
    assert.ok(Array.isArray(bare), 'v1.0 answers a bare list');
    assert.equal(bare[0]?.id, id);
    const v2 = (await acme.search('tabs or spaces for Go?', {
      api_version: 'v2',
      filters: { AND: [{ user_id: 'alice' }, { 'metadata.source': 'chat' }] },
      top_k: 3,
    } as never)) as unknown as Listed;
    assert.equal(v2.results[0]?.id, id, 'v2 search with a filter tree');
    assert.equal(v2.results[0]?.user_id, 'alice');
    const none = (await acme.search('tabs', {
      api_version: 'v2',
      filters: { user_id: 'bob' },
    } as never)) as unknown as Listed;
    assert.deepEqual(none.results, []);

    const got = (await acme.get(id)) as unknown as { memory: string; app_id: string };
    assert.equal(got.memory, 'I prefer tabs over spaces in Go code');
    assert.equal(got.app_id, 'acme');
    await acme.update(id, { text: 'I prefer spaces over tabs now' });
    const history = (await acme.history(id)) as unknown as Array<{ event: string; new_memory: string }>;
    assert.deepEqual(
      history.map((event) => [event.event, event.new_memory]),
      [
        ['ADD', 'I prefer tabs over spaces in Go code'],
        ['UPDATE', 'I prefer spaces over tabs now'],
      ],
    );
    await acme.delete(id);
    await assert.rejects(acme.get(id), (error: Error) => error.name === 'MemoryNotFoundError');
  });

  test('getAll: v1 (query), v1 paged, v2 (filters in the body), v2 paged', async () => {
    const ids = [];
    for (const text of ['I swim on Mondays', 'I cycle on Tuesdays', 'I row on Wednesdays']) {
      ids.push(await addFor('carol', text));
    }
    const v1 = (await acme.getAll({ user_id: 'carol' } as never)) as unknown as Listed;
    assert.deepEqual(new Set(v1.results.map((item) => item.id)), new Set(ids));
    const v1Page = (await acme.getAll({
      user_id: 'carol',
      page: 1,
      page_size: 2,
    } as never)) as unknown as Page;
    assert.equal(v1Page.count, 3);
    assert.equal(v1Page.results.length, 2);
    assert.ok(v1Page.next?.includes('page=2'));
    const v2 = (await acme.getAll({
      api_version: 'v2',
      filters: { user_id: 'carol' },
    } as never)) as unknown as Listed;
    assert.equal(v2.results.length, 3);
    const v2Page = (await acme.getAll({
      api_version: 'v2',
      filters: { user_id: 'carol' },
      page: 2,
      page_size: 2,
    } as never)) as unknown as Page;
    assert.equal(v2Page.count, 3);
    assert.equal(v2Page.results.length, 1);
    assert.ok(v2Page.previous?.includes('page=1'));
    const all = new Set([...v1Page.results, ...v2Page.results].map((item) => item.id));
    assert.equal(all.size, 3, 'the pages do not overlap');
  });

  test('batchUpdate, batchDelete, deleteAll, users, deleteUsers (v2 entities), deleteUser (v1)', async () => {
    const first = await addFor('dave', 'I drink green tea');
    const second = await addFor('dave', 'I read before bed');
    await acme.batchUpdate([{ memoryId: first, text: 'I drink black tea' }]);
    assert.equal(((await acme.get(first)) as unknown as { memory: string }).memory, 'I drink black tea');
    await acme.batchDelete([first, second]);
    await assert.rejects(acme.get(second), (error: Error) => error.name === 'MemoryNotFoundError');

    await addFor('erin', 'I like jazz');
    await addFor('fred', 'I like opera');
    await addFor('gail', 'I like folk');
    const users = (await acme.users()) as unknown as { results: Array<{ type: string; name: string }> };
    const names = users.results.map((entity) => entity.name);
    assert.ok(['erin', 'fred', 'gail'].every((name) => names.includes(name)));
    const deleted = await acme.deleteAll({ user_id: 'erin' } as never);
    assert.equal((deleted as { message: string }).message, 'Memories deleted successfully!');
    assert.deepEqual(((await acme.getAll({ user_id: 'erin' } as never)) as unknown as Listed).results, []);
    await acme.deleteUsers({ user_id: 'fred' } as never);
    assert.deepEqual(((await acme.getAll({ user_id: 'fred' } as never)) as unknown as Listed).results, []);
    await acme.deleteUser({ entity_id: 'gail', entity_type: 'user' } as never);
    assert.deepEqual(((await acme.getAll({ user_id: 'gail' } as never)) as unknown as Listed).results, []);
  });

  test('async_mode: [{ status: PENDING, event_id }] in v1.1, then the event succeeds', async () => {
    const queued = (await acme.add([{ role: 'user', content: 'I park on level 3' }], {
      user_id: 'hank',
      infer: false,
      async_mode: true,
    } as never)) as unknown as { results: Array<{ status: string; event_id: string }> };
    assert.equal(queued.results[0]?.status, 'PENDING');
    await memory.flush();
    const reply = await fetch(`${server.url}/v1/event/${queued.results[0]?.event_id}/`, {
      headers: { authorization: `Token ${(acme as unknown as { apiKey: string }).apiKey}` },
    });
    assert.equal(((await reply.json()) as { status: string }).status, 'SUCCEEDED');
    const listed = (await acme.getAll({ user_id: 'hank' } as never)) as unknown as Listed;
    assert.deepEqual(
      listed.results.map((item) => item.memory),
      ['I park on level 3'],
    );
  });

  test("another app's key reaches nothing; the client's error types come back", async () => {
    const id = await addFor('ivy', 'Our launch date is the 3rd of May');
    await assert.rejects(globex.get(id), (error: Error) => error.name === 'MemoryNotFoundError');
    await assert.rejects(globex.batchDelete([id]), (error: Error) => error.name === 'MemoryNotFoundError');
    const searched = (await globex.search('launch date', { user_id: 'ivy' } as never)) as unknown as Listed;
    assert.deepEqual(searched.results, []);
    await assert.rejects(
      globex.search('launch', { api_version: 'v2', filters: { app_id: 'acme' } } as never),
      (error: Error) => error.name === 'AuthenticationError',
    );
    await assert.rejects(
      acme.search('', { user_id: 'ivy' } as never),
      (error: Error) => error.name === 'ValidationError' && /query/.test(error.message),
    );
  });

  test('the platform features mneme does not have are a 501 that says so', async () => {
    await assertNotImplemented(() => acme.getProject({ fields: ['custom_instructions'] }), /project/);
    await assertNotImplemented(
      () => acme.updateProject({ custom_instructions: 'be brief' } as never),
      /project/,
    );
    await assertNotImplemented(() => acme.getWebhooks(), /Webhooks/);
    await assertNotImplemented(
      () => acme.createWebhook({ name: 'w', url: 'http://127.0.0.1:1/', eventTypes: [] } as never),
      /Webhooks/,
    );
    await assertNotImplemented(() => acme.updateWebhook({ webhookId: 'w1', name: 'x' } as never), /Webhooks/);
    await assertNotImplemented(() => acme.deleteWebhook({ webhookId: 'w1' }), /Webhooks/);
    await assertNotImplemented(
      () => acme.feedback({ memory_id: 'm1', feedback: 'POSITIVE' } as never),
      /feedback/,
    );
    await assertNotImplemented(
      () => acme.createMemoryExport({ schema: {}, filters: { user_id: 'alice' } } as never),
      /export/,
    );
    await assertNotImplemented(() => acme.getMemoryExport({ memory_export_id: 'x' } as never), /export/);
  });
});
