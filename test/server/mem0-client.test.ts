/**
 * The UNMODIFIED official `mem0ai` MemoryClient against mneme on a loopback port (in-memory store, test embedder).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MemoryClient as MemoryClientType } from 'mem0ai';
import type { Memory } from '../../src/memory/memory.js';
import type { RunningServer } from '../../src/server/listen.js';
import { assertNotImplemented, startMem0Server } from './mem0-server.js';

describe('the official mem0ai MemoryClient against mneme serve', () => {
  let server: RunningServer;
  let MemoryClient: typeof MemoryClientType;
  let acme: MemoryClientType;
  let globex: MemoryClientType;
  let keys: Record<string, string>;
  let memory: Memory;

  before(async () => {
    ({ server, keys, memory } = await startMem0Server());
    ({ MemoryClient } = await import('mem0ai'));
    acme = new MemoryClient({ apiKey: keys.acme ?? '', host: server.url });
    globex = new MemoryClient({ apiKey: keys.globex ?? '', host: server.url });
  });

  after(async () => {
    await server.close();
  });

  test('add (infer false), search, get, update, history, getAll, delete', async () => {
    await acme.ping();
    const added = (await acme.add(
      [
        { role: 'user', content: 'I prefer tabs over spaces in Go code' },
        { role: 'assistant', content: 'Got it: tabs in Go.' },
      ],
      { userId: 'alice', infer: false, metadata: { source: 'chat', camelKey: 1 } },
    )) as unknown as { results: Array<{ id: string; event: string; memory: string }> };
    assert.equal(added.results.length, 1, 'the assistant acknowledgement is not a memory about the user');
    assert.equal(added.results[0]?.event, 'ADD');
    const id = added.results[0]?.id ?? '';

    const found = await acme.search('tabs or spaces for Go?', { filters: { user_id: 'alice' }, topK: 5 });
    assert.equal(found.results[0]?.id, id);
    assert.equal(found.results[0]?.memory, 'I prefer tabs over spaces in Go code');
    assert.equal(found.results[0]?.userId, 'alice', 'snake_case became camelCase in the client');
    assert.ok((found.results[0]?.score ?? 0) > 0);
    assert.deepEqual(found.results[0]?.metadata, { source: 'chat', camelKey: 1 }, 'metadata keys untouched');

    const got = await acme.get(id);
    assert.equal(got.memory, 'I prefer tabs over spaces in Go code');
    assert.equal(got.appId, 'acme');

    await acme.update(id, { text: 'I prefer spaces over tabs now', metadata: { source: 'edit' } });
    assert.equal((await acme.get(id)).memory, 'I prefer spaces over tabs now');

    const history = await acme.history(id);
    assert.deepEqual(
      history.map((event) => [event.event, event.oldMemory, event.newMemory]),
      [
        ['ADD', null, 'I prefer tabs over spaces in Go code'],
        ['UPDATE', 'I prefer tabs over spaces in Go code', 'I prefer spaces over tabs now'],
      ],
    );

    const all = await acme.getAll({ filters: { user_id: 'alice' }, page: 1, pageSize: 10 });
    assert.equal(all.count, 1);
    assert.equal(all.results.length, 1);

    const deleted = await acme.delete(id);
    assert.equal(deleted.message, 'Memory deleted successfully!');
    await assert.rejects(acme.get(id), (error: Error) => error.name === 'MemoryNotFoundError');
  });

  test('batch update and batch delete', async () => {
    const added = (await acme.add([{ role: 'user', content: 'I run every morning before work' }], {
      userId: 'bob',
      infer: false,
    })) as unknown as { results: Array<{ id: string }> };
    const more = (await acme.add([{ role: 'user', content: 'I drink green tea, never coffee' }], {
      userId: 'bob',
      infer: false,
    })) as unknown as { results: Array<{ id: string }> };
    const ids = [added.results[0]?.id ?? '', more.results[0]?.id ?? ''];
    await acme.batchUpdate([
      { memoryId: ids[0] ?? '', text: 'I run every evening after work' },
      { memoryId: ids[1] ?? '', text: 'I drink black tea' },
    ]);
    assert.equal((await acme.get(ids[0] ?? '')).memory, 'I run every evening after work');
    assert.equal((await acme.get(ids[1] ?? '')).memory, 'I drink black tea');
    await acme.batchDelete(ids);
    for (const memoryId of ids) {
      await assert.rejects(acme.get(memoryId), (error: Error) => error.name === 'MemoryNotFoundError');
    }
  });

  test('deleteAll, users and deleteUsers', async () => {
    for (const user of ['carol', 'dave']) {
      await acme.add([{ role: 'user', content: `My name is ${user} and I like sailing` }], {
        userId: user,
        infer: false,
      });
    }
    const users = await acme.users();
    const names = users.results.filter((entity) => entity.type === 'user').map((entity) => entity.name);
    assert.ok(names.includes('carol') && names.includes('dave'));
    const result = await acme.deleteAll({ userId: 'carol' });
    assert.equal(result.message, 'Memories deleted successfully!');
    assert.equal((await acme.getAll({ filters: { user_id: 'carol' } })).count, 0);
    await acme.deleteUsers({ userId: 'dave' });
    assert.equal((await acme.getAll({ filters: { user_id: 'dave' } })).count, 0);
  });

  test("another app's key sees none of it: the client's own error types come back", async () => {
    const added = (await acme.add([{ role: 'user', content: 'Our launch date is the 3rd of May' }], {
      userId: 'erin',
      infer: false,
    })) as unknown as { results: Array<{ id: string }> };
    const id = added.results[0]?.id ?? '';
    await assert.rejects(globex.get(id), (error: Error) => error.name === 'MemoryNotFoundError');
    await assert.rejects(
      globex.update(id, { text: 'hijacked' }),
      (error: Error) => error.name === 'MemoryNotFoundError',
    );
    await assert.rejects(globex.delete(id), (error: Error) => error.name === 'MemoryNotFoundError');
    await assert.rejects(globex.batchDelete([id]), (error: Error) => error.name === 'MemoryNotFoundError');
    const searched = await globex.search('launch date', { filters: { user_id: 'erin' } });
    assert.deepEqual(searched.results, []);
    await assert.rejects(
      globex.search('launch date', { filters: { user_id: 'erin', app_id: 'acme' } }),
      (error: Error) => error.name === 'AuthenticationError',
    );
    assert.equal((await acme.get(id)).memory, 'Our launch date is the 3rd of May');
  });

  test('bad input is the client ValidationError; a wrong key is AuthenticationError', async () => {
    await assert.rejects(
      acme.search('', { filters: { user_id: 'alice' } }),
      (error: Error) => error.name === 'ValidationError' && /query/.test(error.message),
    );
    const stranger = new MemoryClient({ apiKey: 'mneme_0000000000000000_not-a-real-key', host: server.url });
    await assert.rejects(stranger.ping(), (error: Error) => error.name === 'AuthenticationError');
  });

  test('an async add is PENDING with an event id; GET /v1/event/{id}/ reports it until it is ingested', async () => {
    const queued = (await acme.add([{ role: 'user', content: 'I keep my bike in the hallway' }], {
      userId: 'frank',
      infer: false,
      asyncMode: true,
    })) as unknown as { status: string; eventId: string };
    assert.equal(queued.status, 'PENDING');
    const event = async (key: string) => {
      const response = await fetch(`${server.url}/v1/event/${queued.eventId}/`, {
        headers: { authorization: `Token ${key}` },
      });
      return { status: response.status, body: (await response.json()) as { status?: string } };
    };
    const before = await event(keys.acme ?? '');
    assert.equal(before.status, 200);
    assert.match(before.body.status ?? '', /^(PENDING|SUCCEEDED)$/);
    assert.equal((await event(keys.globex ?? '')).status, 404, "another app's event is not found");
    await memory.flush();
    assert.equal((await event(keys.acme ?? '')).body.status, 'SUCCEEDED');
    const listed = await acme.getAll({ filters: { user_id: 'frank' } });
    assert.deepEqual(
      listed.results.map((item) => item.memory),
      ['I keep my bike in the hallway'],
    );
  });

  test('deleteUser (v1 entities) and delete with options', async () => {
    const added = (await acme.add([{ role: 'user', content: 'I like walking in the rain' }], {
      userId: 'gina',
      infer: false,
    })) as unknown as { results: Array<{ id: string }> };
    await acme.delete(added.results[0]?.id ?? '', {});
    await acme.add([{ role: 'user', content: 'I like sunny beaches' }], { userId: 'gina', infer: false });
    assert.equal((await acme.getAll({ filters: { user_id: 'gina' } })).count, 1);
    await acme.deleteUser({ entity_id: 'gina', entity_type: 'user' } as never);
    assert.equal((await acme.getAll({ filters: { user_id: 'gina' } })).count, 0);
  });

  test('the platform features mneme does not have are a 501 that says so', async () => {
    await assertNotImplemented(() => acme.getProject({ fields: ['custom_instructions'] }), /project/);
    await assertNotImplemented(() => acme.updateProject({ customInstructions: 'be brief' }), /project/);
    await assertNotImplemented(() => acme.getWebhooks(), /Webhooks/);
    await assertNotImplemented(
      () => acme.createWebhook({ name: 'w', url: 'http://127.0.0.1:1/', eventTypes: [] } as never),
      /Webhooks/,
    );
    await assertNotImplemented(() => acme.updateWebhook({ webhookId: 'w1', name: 'x' } as never), /Webhooks/);
    await assertNotImplemented(() => acme.deleteWebhook({ webhookId: 'w1' }), /Webhooks/);
    await assertNotImplemented(
      () => acme.feedback({ memoryId: 'm1', feedback: 'POSITIVE' } as never),
      /feedback/,
    );
    await assertNotImplemented(() => acme.getProfile({ entityId: 'alice' } as never), /profile/i);
    await assertNotImplemented(() => acme.generateProfile({ entityId: 'alice' } as never), /profile/i);
    await assertNotImplemented(() => acme.sampleProfiles({ limit: 2 } as never), /profile/i);
    await assertNotImplemented(() => acme.getProfileJob('job-1'), /profile/i);
    await assertNotImplemented(() => acme.getProfileSettings(), /profile/i);
    await assertNotImplemented(() => acme.updateProfileSettings({ enabled: true } as never), /profile/i);
    await assertNotImplemented(
      () => acme.createMemoryExport({ schema: {}, filters: { user_id: 'alice' } } as never),
      /export/,
    );
    await assertNotImplemented(() => acme.getMemoryExport({ memoryExportId: 'x' } as never), /export/);
  });
});
