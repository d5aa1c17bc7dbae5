/**
 * The UNMODIFIED official `mem0ai` MemoryClient against mneme on a loopback port (in-memory store, test embedder).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MemoryClient as MemoryClientType } from 'mem0ai';
import { createApp } from '../../src/server/app.js';
import { createFileKeyStore } from '../../src/server/keys.js';
import { type RunningServer, startServer } from '../../src/server/listen.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('the official mem0ai MemoryClient against mneme serve', () => {
  let server: RunningServer;
  let MemoryClient: typeof MemoryClientType;
  let acme: MemoryClientType;
  let globex: MemoryClientType;
  let keys: { acme: string; globex: string };

  before(async () => {
    // The client reads MEM0_TELEMETRY when it is imported and would otherwise post to posthog.
    process.env.MEM0_TELEMETRY = 'false';
    process.env.MEM0_DIR = mkdtempSync(join(tmpdir(), 'mneme-mem0-home-'));
    ({ MemoryClient } = await import('mem0ai'));
    const { memory } = await createMemoryFixture();
    const keyStore = createFileKeyStore({
      path: join(mkdtempSync(join(tmpdir(), 'mneme-keys-')), 'keys.json'),
    });
    keys = {
      acme: (await keyStore.create({ appId: 'acme' })).key,
      globex: (await keyStore.create({ appId: 'globex' })).key,
    };
    server = await startServer({
      app: createApp({ memory, keys: keyStore, logger: silent }),
      memory,
      port: 0,
      logger: silent,
    });
    acme = new MemoryClient({ apiKey: keys.acme, host: server.url });
    globex = new MemoryClient({ apiKey: keys.globex, host: server.url });
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
});
