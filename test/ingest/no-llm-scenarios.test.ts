/**
 * The scenario stories for the no-LLM path (`llm: null`): messages are stored verbatim, explicit first-person
 * preference statements get a topic so a later one on the same topic supersedes the earlier one, and the junk
 * guards (low-signal, system prompt, recall echo, duplicates) hold. Real Memory service, in-memory store.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddResult } from '../../src/ingest/types.js';
import type { Memory } from '../../src/memory/memory.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

const USER = { userId: 'sam' };

async function current(memory: Memory): Promise<string[]> {
  return (await memory.list({ ...USER })).results.map((record) => record.memory).sort();
}

function noLlmCost(result: AddResult): void {
  assert.equal(result.usage.llmCalls, 0);
  assert.equal(result.usage.inputTokens, 0);
  assert.equal(result.usage.outputTokens, 0);
}

describe('no-LLM scenarios', () => {
  test('a preference that changes twice: "I prefer X", "I switched from X to Y", "actually I prefer Z over Y"', async () => {
    const { memory, advance } = await createMemoryFixture();
    const vim = 'I prefer vim';
    const neovim = 'I switched from vim to neovim';
    const helix = 'Actually I prefer helix over neovim';
    const steps: AddResult[] = [];
    for (const [text, observedAt] of [
      [vim, '2026-01-05T09:00:00Z'],
      [neovim, '2026-02-01T09:00:00Z'],
      [helix, '2026-03-01T09:00:00Z'],
    ] as const) {
      steps.push(await memory.add(text, { ...USER, observedAt }));
      advance(60_000);
    }
    steps.forEach(noLlmCost);
    const [vimId, neovimId, helixId] = steps.map((step) => step.results[0]?.id ?? '');
    assert.deepEqual(
      steps.map((step) => step.results.map((item) => [item.event, item.memory, item.previous?.memory])),
      [[['ADD', vim, undefined]], [['SUPERSEDE', neovim, vim]], [['SUPERSEDE', helix, neovim]]],
    );

    assert.deepEqual(await current(memory), [helix]);
    const search = await memory.search('which editor: vim, neovim or helix', { ...USER });
    assert.deepEqual(
      search.results.map((result) => result.memory),
      [helix],
    );
    const chain = await memory.search('vim neovim helix', { ...USER, includeSuperseded: true });
    assert.deepEqual(chain.results.map((result) => result.memory).sort(), [helix, neovim, vim].sort());
    const asOf = async (instant: string) =>
      (await memory.list({ ...USER, asOf: instant })).results.map((record) => record.memory);
    assert.deepEqual(await asOf('2025-12-01T00:00:00Z'), []);
    assert.deepEqual(await asOf('2026-01-20T00:00:00Z'), [vim]);
    assert.deepEqual(await asOf('2026-02-15T00:00:00Z'), [neovim]);
    assert.deepEqual(await asOf('2026-03-02T00:00:00Z'), [helix]);

    const vimRecord = await memory.get(vimId ?? '');
    assert.equal(vimRecord?.validTo, '2026-02-01T09:00:00.000Z');
    assert.equal(vimRecord?.supersededBy, neovimId);
    assert.equal(vimRecord?.kind, 'preference');
    const vimHistory = await memory.history(vimId ?? '');
    assert.deepEqual(
      vimHistory.map((event) => [event.event, event.relatedId]),
      [
        ['ADD', undefined],
        ['SUPERSEDE', neovimId],
      ],
    );
    assert.match(vimHistory[1]?.reason ?? '', /^superseded by a newer statement: .*\bvim\b/);
    assert.deepEqual(
      (await memory.history(neovimId ?? '')).map((event) => [event.event, event.relatedId]),
      [
        ['ADD', undefined],
        ['SUPERSEDE', helixId],
      ],
    );

    // An older statement imported later does not overturn the newer one: it is stored as already superseded.
    const old = await memory.add('I switched from helix to vim', {
      ...USER,
      observedAt: '2020-05-01T09:00:00Z',
    });
    const oldRecord = await memory.get(old.results[0]?.id ?? '');
    assert.equal(oldRecord?.supersededBy, helixId);
    assert.equal(oldRecord?.validTo, '2026-03-01T09:00:00.000Z');
    assert.deepEqual(await current(memory), [helix]);
    assert.deepEqual(await asOf('2021-01-01T00:00:00Z'), ['I switched from helix to vim']);
    await memory.close();
  });

  test('a reversal on the same topic ("I like X", later "I don\'t like X") supersedes', async () => {
    const { memory } = await createMemoryFixture();
    await memory.add('I really like Python', { ...USER, observedAt: '2026-01-01T00:00:00Z' });
    const reversal = await memory.add("I don't like Python any more", {
      ...USER,
      observedAt: '2026-02-01T00:00:00Z',
    });
    assert.equal(reversal.results[0]?.event, 'SUPERSEDE');
    assert.deepEqual(await current(memory), ["I don't like Python any more"]);
    await memory.close();
  });

  test('a statement made three times is one memory with ADD, NOOP, NOOP in its history', async () => {
    const { memory, advance } = await createMemoryFixture();
    const results: AddResult[] = [];
    for (const text of [
      'I am allergic to peanuts',
      'i am allergic to peanuts!',
      'I am allergic to peanuts.',
    ]) {
      results.push(await memory.add(text, { ...USER }));
      advance(1000);
    }
    const id = results[0]?.results[0]?.id ?? '';
    assert.deepEqual(
      results.map((result) => result.results.map((item) => [item.event, item.id])),
      [[['ADD', id]], [['NOOP', id]], [['NOOP', id]]],
    );
    assert.deepEqual(
      (await memory.history(id)).map((event) => [event.event, event.reason]),
      [
        ['ADD', undefined],
        ['NOOP', 'stated again'],
        ['NOOP', 'stated again'],
      ],
    );
    assert.deepEqual(await current(memory), ['I am allergic to peanuts']);
    await memory.close();
  });

  test('low-signal messages and the system prompt are never stored', async () => {
    const { memory } = await createMemoryFixture();
    const secret = 'You are the ACME agent. Internal marker do-not-store-7731.';
    const result = await memory.add(
      [
        { role: 'system', content: secret },
        { role: 'user', content: 'hi' },
        { role: 'user', content: 'Thanks!' },
        { role: 'user', content: '👍' },
        { role: 'assistant', content: "You're welcome" },
        { role: 'user', content: 'ok great' },
        { role: 'user', content: 'My build server is called hydra' },
      ],
      { ...USER },
    );
    noLlmCost(result);
    assert.deepEqual(
      result.skipped.map((item) => [item.index, item.reason]),
      [
        [0, 'system_message'],
        [1, 'low_signal'],
        [2, 'low_signal'],
        [3, 'low_signal'],
        [4, 'low_signal'],
        [5, 'low_signal'],
      ],
    );
    const all = await memory.list({ ...USER, includeSuperseded: true, includeExpired: true });
    assert.deepEqual(
      all.results.map((record) => record.memory),
      ['My build server is called hydra'],
    );
    const search = await memory.search('ACME agent internal marker', { ...USER });
    assert.ok(search.results.every((hit) => !hit.memory.includes('do-not-store')));
    await memory.close();
  });

  test('memories injected into the prompt and echoed back are skipped, alone or as a block', async () => {
    const { memory } = await createMemoryFixture();
    const recalled = ['I prefer helix over neovim', 'I am allergic to peanuts'];
    const result = await memory.add(
      [
        {
          role: 'user',
          content: 'Relevant memories:\n- I prefer helix over neovim\n- I am allergic to peanuts',
        },
        { role: 'user', content: 'I am allergic to peanuts.' },
        { role: 'user', content: '- I prefer helix over neovim\n- I also use tmux every day' },
        { role: 'user', content: 'I started learning Zig' },
      ],
      { ...USER, recalled },
    );
    assert.deepEqual(
      result.skipped.map((item) => [item.index, item.reason, item.text]),
      [
        [0, 'recall_echo', 'Relevant memories:\n- I prefer helix over neovim\n- I am allergic to peanuts'],
        [1, 'recall_echo', 'I am allergic to peanuts.'],
        [2, 'recall_echo', 'I prefer helix over neovim'],
      ],
    );
    // A block that adds something new is not an echo: its new sentence is kept, the echoed one is not.
    assert.deepEqual(await current(memory), ['I also use tmux every day', 'I started learning Zig']);
    await memory.close();
  });

  test('expiresAt hides a memory from search and list once past, unless includeExpired', async () => {
    const { memory, advance } = await createMemoryFixture();
    const now = Date.parse('2026-03-02T10:00:00.000Z');
    const { results } = await memory.add('The office is closed this Friday for maintenance', {
      ...USER,
      expiresAt: new Date(now + 3_600_000),
    });
    const id = results[0]?.id ?? '';
    const visible = async (options: { includeExpired?: boolean } = {}) => ({
      search: (await memory.search('office closed Friday', { ...USER, ...options })).results.map(
        (hit) => hit.id,
      ),
      list: (await memory.list({ ...USER, ...options })).results.map((record) => record.id),
    });
    assert.deepEqual(await visible(), { search: [id], list: [id] });
    advance(2 * 3_600_000);
    assert.deepEqual(await visible(), { search: [], list: [] });
    assert.deepEqual(await visible({ includeExpired: true }), { search: [id], list: [id] });
    // Before it expired, it was visible: asOf answers the past.
    const past = await memory.list({ ...USER, asOf: new Date(now + 60_000) });
    assert.deepEqual(
      past.results.map((record) => record.id),
      [id],
    );
    assert.equal((await memory.get(id))?.expiresAt, '2026-03-02T11:00:00.000Z');
    await memory.close();
  });
});
