import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { NotFoundError, ValidationError } from '../../src/core/errors.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import { createMemoryFixture } from '../support/memory-fixture.js';
import { tempPaths } from '../support/temp-files.js';

const paths = tempPaths('mneme-memory-search-');
after(() => paths.removeAll());

describe('Memory service: add', () => {
  test('stores what the user said verbatim with role and speaker; never system, assistant or low-signal text', async () => {
    const { memory } = await createMemoryFixture();
    const result = await memory.add(
      [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'I prefer function-level docstrings and no inline comments', name: 'Alice' },
        { role: 'assistant', content: 'Noted: docstrings on functions, no inline comments.' },
        { role: 'user', content: 'thanks!' },
        { role: 'user', content: '   ' },
      ],
      { userId: 'alice', agentId: 'reviewer', runId: 's-42', metadata: { repo: 'api' } },
    );
    assert.deepEqual(
      result.results.map((item) => item.event),
      ['ADD'],
    );
    assert.deepEqual(
      result.skipped.map((item) => [item.index, item.reason]),
      [
        [0, 'system_message'],
        [2, 'assistant_message'],
        [3, 'low_signal'],
        [4, 'empty'],
      ],
    );
    const first = result.results[0];
    assert.ok(first);
    const stored = await memory.get(first.id);
    assert.equal(stored?.memory, 'I prefer function-level docstrings and no inline comments');
    assert.equal(stored?.role, 'user');
    assert.equal(stored?.speaker, 'Alice');
    assert.equal(stored?.userId, 'alice');
    assert.equal(stored?.agentId, 'reviewer');
    assert.equal(stored?.runId, 's-42');
    assert.deepEqual(stored?.metadata, { repo: 'api' });
    assert.equal(stored?.kind, 'preference');
    assert.equal(result.usage.embeddedTexts, 1);
    await memory.close();
  });

  test('exact duplicates within a scope are not stored twice, but other scopes get their own copy', async () => {
    const { memory } = await createMemoryFixture();
    const first = await memory.add('I drink green tea every morning', { userId: 'alice' });
    const again = await memory.add('i drink green tea every morning.', { userId: 'alice' });
    const inBatch = await memory.add(
      ['Tea is great with honey', 'tea is great with honey'].map((content) => ({
        role: 'user' as const,
        content,
      })),
      {
        userId: 'alice',
      },
    );
    const bob = await memory.add('I drink green tea every morning', { userId: 'bob' });
    assert.equal(first.results[0]?.event, 'ADD');
    assert.equal(again.results[0]?.event, 'NOOP');
    assert.equal(again.results[0]?.id, first.results[0]?.id);
    assert.equal(inBatch.results.length, 1);
    assert.equal(inBatch.skipped[0]?.reason, 'duplicate');
    assert.equal(bob.results[0]?.event, 'ADD');
    assert.notEqual(bob.results[0]?.id, first.results[0]?.id);
    const listed = await memory.list({ userId: 'alice' });
    assert.equal(listed.results.length, 2);
    await memory.close();
  });

  test('duplicates and superseding compare the owner (user/agent/app), not the run', async () => {
    const { memory } = await createMemoryFixture();
    const monday = await memory.add('I prefer Python for scripts', { userId: 'alice', runId: 'monday' });
    const again = await memory.add('I prefer Python for scripts', { userId: 'alice', runId: 'tuesday' });
    assert.equal(again.results[0]?.event, 'NOOP');
    assert.equal(again.results[0]?.id, monday.results[0]?.id);
    const otherAgent = await memory.add('I prefer Python for scripts', { userId: 'alice', agentId: 'coder' });
    assert.equal(otherAgent.results[0]?.event, 'ADD');
    const change = await memory.add('I switched from Python to Bash for scripts', {
      userId: 'alice',
      runId: 'friday',
    });
    assert.equal(change.results[0]?.event, 'SUPERSEDE');
    assert.equal(change.results[0]?.previous?.id, monday.results[0]?.id);
    await memory.close();
  });

  test('metadata holding scope keys never changes the scope', async () => {
    const { memory } = await createMemoryFixture();
    const { results } = await memory.add('Alice keeps her notes in Obsidian', {
      userId: 'alice',
      metadata: { userId: 'bob', user_id: 'bob', agentId: 'x' },
    });
    const id = results[0]?.id;
    assert.ok(id);
    assert.equal((await memory.get(id))?.userId, 'alice');
    assert.equal((await memory.list({ userId: 'bob' })).results.length, 0);
    assert.equal((await memory.search('notes Obsidian', { userId: 'bob' })).results.length, 0);
    await memory.update(id, { metadata: { userId: 'bob' } });
    assert.equal((await memory.get(id))?.userId, 'alice');
    assert.equal((await memory.list({ userId: 'bob' })).results.length, 0);
    await memory.close();
  });

  test('bad input is rejected with the field named and nothing stored', async () => {
    const { memory } = await createMemoryFixture();
    const cases: Array<[unknown, Record<string, unknown>, string]> = [
      ['hello world text', {}, 'options.userId'],
      ['text', { userId: '' }, 'options.userId'],
      ['text', { userId: 'a\u0000b' }, 'options.userId'],
      [[{ role: 'robot', content: 'x' }], { userId: 'alice' }, 'messages[0].role'],
      [[{ role: 'user', content: 42 }], { userId: 'alice' }, 'messages[0].content'],
      ['text', { userId: 'alice', metadata: [1, 2] }, 'metadata'],
      ['text', { userId: 'alice', metadata: { when: new Date() } }, 'metadata.when'],
      ['text', { userId: 'alice', observedAt: 'yesterday-ish' }, 'observedAt'],
      ['x'.repeat(20_001), { userId: 'alice' }, 'messages'],
      [[], { userId: 'alice' }, 'messages'],
      ['nul \u0000 inside', { userId: 'alice' }, 'messages'],
      [
        [
          { role: 'user', content: 'ok' },
          { role: 'user', content: 'a\u0000' },
        ],
        { userId: 'alice' },
        'messages[1].content',
      ],
      ['text', { userId: 'alice', metadata: { note: 'x\u0000y' } }, 'metadata.note'],
      ['text', { userId: 'alice', metadata: { deep: ['\u0000'] } }, 'metadata.deep[0]'],
      ['text', { userId: 'alice', metadata: { 'k\u0000': 1 } }, 'metadata'],
    ];
    for (const [input, options, field] of cases) {
      await assert.rejects(
        // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
        memory.add(input as any, options as any),
        (error: unknown) => error instanceof ValidationError && error.field === field,
        `expected ValidationError on ${field}`,
      );
    }
    assert.equal((await memory.store.stats()).memories, 0);
    await memory.close();
  });
});

describe('Memory service: search', () => {
  for (const [storeName, makeStore] of [
    ['in-memory', () => createInMemoryStore()],
    ['SQLite file', () => createSqliteStore({ path: paths.tempPath() })],
  ] as const) {
    test(`${storeName}: a question naming a speaker ranks what that speaker said first`, async () => {
      const { memory } = await createMemoryFixture({ store: makeStore() });
      const turns: Array<[string, string]> = [
        ['Caroline', 'I went to a pottery class and painted a bowl'],
        ['Melanie', 'Nice! I painted a lake at sunrise last weekend'],
        ['Caroline', 'I painted my bedroom wall blue'],
      ];
      for (const [name, content] of turns) {
        await memory.add([{ role: 'user', name, content }], { userId: 'chat-1', infer: false });
      }
      const search = (query: string) => memory.search(query, { userId: 'chat-1', limit: 3 });
      const { results } = await search('What did Melanie paint?');
      assert.equal(results[0]?.speaker, 'Melanie');
      assert.deepEqual(
        results.map((result) => [result.speaker, result.scores.speaker]),
        [
          ['Melanie', 1],
          ['Caroline', 0],
          ['Caroline', 0],
        ],
      );
      // Without the name the signal is 0 for every memory.
      const unnamed = await search('What was painted?');
      assert.ok(
        unnamed.results.length === 3 && unnamed.results.every((result) => result.scores.speaker === 0),
      );
      await memory.close();
    });
  }

  test('ranks the relevant memory first and returns per-signal scores', async () => {
    const { memory } = await createMemoryFixture();
    await memory.add(
      [
        'I prefer function-level docstrings and no inline comments',
        'My cat is called Miso',
        'I live in Lisbon and work remotely',
        'Deploys happen on Fridays at our company',
      ].map((content) => ({ role: 'user' as const, content })),
      { userId: 'alice' },
    );
    const { results } = await memory.search('how should I write docstrings and comments?', {
      userId: 'alice',
      limit: 2,
    });
    assert.equal(results.length, 2);
    assert.equal(results[0]?.memory, 'I prefer function-level docstrings and no inline comments');
    const top = results[0];
    assert.ok(top && top.scores.dense > 0 && top.scores.keyword > 0);
    assert.ok(top.score >= (results[1]?.score ?? 0));
    assert.ok(top.score > 0 && top.score <= 1);
    await memory.close();
  });

  test('threshold drops weak results and limit caps the count', async () => {
    const { memory } = await createMemoryFixture();
    await memory.add(
      Array.from({ length: 30 }, (_, index) => ({
        role: 'user' as const,
        content: `Fact number ${index} about topic ${index % 3}`,
      })),
      { userId: 'alice' },
    );
    const limited = await memory.search('fact topic', { userId: 'alice', limit: 7 });
    assert.equal(limited.results.length, 7);
    const strict = await memory.search('completely unrelated zebra', { userId: 'alice', threshold: 0.5 });
    assert.ok(strict.results.every((result) => result.score >= 0.5));
    assert.ok(strict.results.length < 30);
    await assert.rejects(memory.search('x', { userId: 'alice', threshold: 2 }), ValidationError);
    await assert.rejects(memory.search('x', { userId: 'alice', limit: 0 }), ValidationError);
    await assert.rejects(memory.search('', { userId: 'alice' }), ValidationError);
    await memory.close();
  });

  test('filters narrow results, Mem0-style scope filters stand in for the scope, never widen it', async () => {
    const { memory } = await createMemoryFixture();
    await memory.add('The api repo uses pnpm', { userId: 'alice', metadata: { repo: 'api' } });
    await memory.add('The web repo uses npm', { userId: 'alice', metadata: { repo: 'web' } });
    await memory.add('The api repo of bob uses yarn', { userId: 'bob', metadata: { repo: 'api' } });
    const onlyApi = await memory.search('which package manager does the repo use', {
      userId: 'alice',
      filters: { repo: 'api' },
    });
    assert.deepEqual(
      onlyApi.results.map((result) => result.memory),
      ['The api repo uses pnpm'],
    );
    const mem0Style = await memory.search('package manager repo', { filters: { user_id: 'bob' } });
    assert.deepEqual(
      mem0Style.results.map((result) => result.userId),
      ['bob'],
    );
    const orFilter = await memory.search('repo', {
      userId: 'alice',
      filters: { or: [{ repo: 'web' }, { repo: 'api' }] },
    });
    assert.equal(orFilter.results.length, 2);
    await assert.rejects(
      memory.search('repo', { userId: 'alice', filters: { user_id: 'bob' } }),
      (error: unknown) => error instanceof ValidationError && error.field === 'filters',
    );
    const widen = await memory.search('repo', {
      userId: 'alice',
      filters: { or: [{ userId: 'bob' }, { repo: 'api' }] },
    });
    assert.ok(widen.results.every((result) => result.userId === 'alice'));
    await assert.rejects(memory.search('repo', { filters: { $where: 'x' } }), ValidationError);
    await memory.close();
  });

  test('dense-only and keyword-only modes use one signal each', async () => {
    const { memory } = await createMemoryFixture();
    await memory.add(
      [
        'Kubernetes runs our services',
        'I had pasta for lunch',
        'My sister lives in Oslo',
        'The build uses make',
      ].map((content) => ({ role: 'user' as const, content })),
      { userId: 'alice' },
    );
    const dense = await memory.search('kubernetes services', { userId: 'alice', mode: 'dense' });
    const keyword = await memory.search('kubernetes services', { userId: 'alice', mode: 'keyword' });
    assert.equal(dense.results[0]?.scores.keyword, 0);
    assert.equal(keyword.results[0]?.scores.dense, 0);
    assert.ok((dense.results[0]?.score ?? 0) > 0 && (keyword.results[0]?.score ?? 0) > 0);
    await memory.close();
  });
});

describe('Memory service: isolation', () => {
  test("a user can never see or change another user's memories through any method", async () => {
    const { memory } = await createMemoryFixture();
    const alice = await memory.add('Alice secret: the vault code is 4711', {
      userId: 'alice',
      agentId: 'a1',
    });
    await memory.add('Bob likes hiking in the Alps', { userId: 'bob' });
    const aliceId = alice.results[0]?.id;
    assert.ok(aliceId);
    const bobScope = { userId: 'bob' };
    const bobSearch = await memory.search('vault code secret', bobScope);
    assert.ok(bobSearch.results.every((result) => result.userId === 'bob' && result.id !== aliceId));
    assert.equal(
      (await memory.list(bobScope)).results.some((record) => record.id === aliceId),
      false,
    );
    assert.equal(await memory.get(aliceId, bobScope), null);
    assert.equal(await memory.get(aliceId, { userId: 'alice', agentId: 'other' }), null);
    await assert.rejects(memory.update(aliceId, { text: 'hacked' }, bobScope), NotFoundError);
    await assert.rejects(memory.delete(aliceId, bobScope), NotFoundError);
    assert.deepEqual(await memory.history(aliceId, bobScope), []);
    await memory.deleteAll(bobScope);
    assert.equal((await memory.get(aliceId))?.memory, 'Alice secret: the vault code is 4711');
    const view = memory.withScope(bobScope);
    assert.equal(await view.get(aliceId), null);
    await assert.rejects(view.search('vault', { userId: 'alice' }), NotFoundError);
    assert.equal((await view.search('vault code')).results.length, 0);
    await memory.close();
  });
});

describe('Memory service: update, delete, history', () => {
  test('every write is recorded in history with previous and new values', async () => {
    const { memory, advance } = await createMemoryFixture();
    const { results } = await memory.add('I use vim', { userId: 'alice' });
    const id = results[0]?.id;
    assert.ok(id);
    advance(60_000);
    const updated = await memory.update(id, { text: 'I use neovim', metadata: { editor: true } });
    assert.equal(updated.memory, 'I use neovim');
    assert.ok(updated.updatedAt > updated.createdAt);
    assert.equal((await memory.search('neovim', { userId: 'alice' })).results[0]?.id, id);
    await memory.add('I use neovim', { userId: 'alice' });
    await memory.delete(id);
    assert.equal(await memory.get(id), null);
    const history = await memory.history(id);
    assert.deepEqual(
      history.map((event) => event.event),
      ['ADD', 'UPDATE', 'NOOP', 'DELETE'],
    );
    assert.equal(history[1]?.previousValue, 'I use vim');
    assert.equal(history[1]?.newValue, 'I use neovim');
    assert.equal(history[3]?.previousValue, 'I use neovim');
    await assert.rejects(memory.delete(id), NotFoundError);
    await assert.rejects(memory.update('missing-id', { text: 'x' }), NotFoundError);
    await assert.rejects(memory.update(id, {}), ValidationError);
    await memory.close();
  });

  test('deleteAll erases only the named scope and requires one', async () => {
    const { memory } = await createMemoryFixture();
    await memory.add(
      ['one fact about apples', 'another fact about pears'].map((content) => ({
        role: 'user' as const,
        content,
      })),
      {
        userId: 'alice',
      },
    );
    await memory.add('bob fact about plums', { userId: 'bob' });
    assert.deepEqual(await memory.deleteAll({ userId: 'alice' }), { deleted: 2 });
    assert.equal((await memory.list({ userId: 'alice' })).results.length, 0);
    assert.equal((await memory.list({ userId: 'bob' })).results.length, 1);
    await assert.rejects(memory.deleteAll({}), ValidationError);
    await memory.close();
  });
});

describe('Memory service: preferences without an LLM', () => {
  test('a later statement on the same topic supersedes the earlier one; history keeps both', async () => {
    const { memory, advance } = await createMemoryFixture();
    const first = await memory.add('I prefer Python for backend services', { userId: 'alice' });
    advance(86_400_000);
    const second = await memory.add('I switched from Python to Go for backend services', { userId: 'alice' });
    assert.equal(second.results[0]?.event, 'SUPERSEDE');
    assert.equal(second.results[0]?.previous?.id, first.results[0]?.id);
    const current = await memory.search('backend language preference', { userId: 'alice' });
    assert.deepEqual(
      current.results.map((result) => result.memory),
      ['I switched from Python to Go for backend services'],
    );
    const all = await memory.search('backend language preference', {
      userId: 'alice',
      includeSuperseded: true,
    });
    assert.equal(all.results.length, 2);
    const firstId = first.results[0]?.id ?? '';
    const old = await memory.get(firstId);
    assert.ok(old?.validTo);
    assert.equal(old?.supersededBy, second.results[0]?.id);
    assert.deepEqual(
      (await memory.history(firstId)).map((event) => event.event),
      ['ADD', 'SUPERSEDE'],
    );
    const asOf = await memory.search('backend language preference', {
      userId: 'alice',
      asOf: '2026-03-02T12:00:00Z',
    });
    assert.deepEqual(
      asOf.results.map((result) => result.memory),
      ['I prefer Python for backend services'],
    );
    await memory.close();
  });
});

describe('Memory service: durable queue', () => {
  test('enqueue returns before ingestion; flush applies each item exactly once', async () => {
    const { memory } = await createMemoryFixture({ ingestion: { background: false } });
    await memory.enqueue('I like sourdough bread', { userId: 'alice' });
    await memory.enqueue('I like sourdough bread', { userId: 'alice' });
    assert.equal((await memory.list({ userId: 'alice' })).results.length, 0);
    const drained = await memory.flush();
    assert.equal(drained.processed, 2);
    assert.equal(drained.pending, 0);
    assert.equal((await memory.list({ userId: 'alice' })).results.length, 1);
    await memory.close();
  });

  test('a failing embedder leaves the item queued and logged; it is retried and ingested later', async () => {
    let failing = true;
    const { createTestEmbedder } = await import('../support/test-embedder.js');
    const inner = createTestEmbedder({ dimension: 128 });
    const flaky = {
      ...inner,
      id: inner.id,
      dimension: inner.dimension,
      maxBatchSize: inner.maxBatchSize,
      embed: async (options: Parameters<typeof inner.embed>[0]) => {
        if (failing) throw new Error('embedder down');
        return inner.embed(options);
      },
      close: () => inner.close(),
    };
    const { memory, logs } = await createMemoryFixture({ embedder: flaky, ingestion: { background: false } });
    await memory.enqueue('I run every Sunday', { userId: 'alice' });
    const first = await memory.flush();
    assert.equal(first.failed, 1);
    assert.equal(first.pending, 1);
    assert.ok(logs.some((line) => line.level === 'warn' && line.message.includes('retry')));
    failing = false;
    const [item] = await memory.store.claimQueue({
      limit: 1,
      leaseMs: 1000,
      now: '2030-01-01T00:00:00.000Z',
    });
    assert.equal(item?.attempts, 1);
    await memory.store.failQueueItem({
      id: item?.id ?? '',
      error: 'reset for test',
      retryAt: '2000-01-01T00:00:00.000Z',
    });
    const second = await memory.flush();
    assert.equal(second.processed, 1);
    assert.equal((await memory.list({ userId: 'alice' })).results[0]?.memory, 'I run every Sunday');
    await memory.close();
  });
});

describe('Memory service: export and import', () => {
  test('round trip keeps ids, times, scope and history', async () => {
    const source = await createMemoryFixture();
    const { results } = await source.memory.add('I collect vinyl records', {
      userId: 'alice',
      metadata: { hobby: true },
    });
    await source.memory.update(results[0]?.id ?? '', { text: 'I collect jazz vinyl records' });
    const exported = [];
    for await (const item of source.memory.exportMemories({ userId: 'alice' })) exported.push(item);
    assert.equal(exported.length, 1);
    const target = await createMemoryFixture();
    assert.deepEqual(await target.memory.importMemories(exported), { imported: 1, skipped: 0 });
    assert.deepEqual(await target.memory.importMemories(exported), { imported: 0, skipped: 1 });
    const copy = await target.memory.get(results[0]?.id ?? '');
    assert.equal(copy?.memory, 'I collect jazz vinyl records');
    assert.deepEqual(copy?.metadata, { hobby: true });
    assert.equal((await target.memory.history(results[0]?.id ?? '')).length, 2);
    assert.equal((await target.memory.search('vinyl', { userId: 'alice' })).results.length, 1);
    await assert.rejects(target.memory.importMemories([{ type: 'memory' } as never]), ValidationError);
    await source.memory.close();
    await target.memory.close();
  });
});
