import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigError, EmbedderError } from '../../src/core/errors.js';
import { LocalEmbedder, localModelState } from '../../src/embedders/local.js';
import { embedderSuite } from '../conformance/embedder-suite.js';

// The local embedder must work offline: any fetch in this file fails the test that caused it.
const realFetch = globalThis.fetch;
const fetchCalls: string[] = [];
before(() => {
  globalThis.fetch = async (input: string | URL | Request) => {
    fetchCalls.push(String(input instanceof Request ? input.url : input));
    throw new Error('network blocked in local-embedder tests');
  };
});
after(() => {
  globalThis.fetch = realFetch;
});

embedderSuite({
  name: 'LocalEmbedder (USE Lite)',
  make: () => new LocalEmbedder(),
  semantic: true,
  dimension: 512,
});

test('LocalEmbedder never fetches: the model loads from the package with the network blocked', () => {
  assert.deepEqual(fetchCalls, []);
});

test('LocalEmbedder: concurrent first calls on two instances share one model load; the last close frees it', async () => {
  const before = localModelState();
  assert.equal(before.loaded, false, 'the suite closed its embedders, so no model is held');
  const first = new LocalEmbedder();
  const second = new LocalEmbedder({ maxBatchSize: 4 });
  assert.equal(localModelState().loads, before.loads, 'constructing does not load the model');
  const [a, b, c] = await Promise.all([
    first.embed({ texts: ['the cat sat on the mat'], purpose: 'document' }),
    first.embed({ texts: ['a dog barked'], purpose: 'query' }),
    second.embed({ texts: ['the cat sat on the mat'], purpose: 'document' }),
  ]);
  assert.equal(localModelState().loads, before.loads + 1, 'one load for three concurrent first calls');
  assert.deepEqual(localModelState(), { loads: before.loads + 1, loaded: true, holders: 2 });
  assert.ok(a?.[0] && b?.[0] && c?.[0]);
  assert.deepEqual(a[0], c[0], 'two instances share the model and agree');
  await first.close();
  assert.deepEqual(localModelState(), { loads: before.loads + 1, loaded: true, holders: 1 });
  await second.close();
  assert.deepEqual(localModelState(), { loads: before.loads + 1, loaded: false, holders: 0 });
});

test('LocalEmbedder: close waits for a running call; embed after close rejects with EmbedderError', async () => {
  const embedder = new LocalEmbedder();
  const running = embedder.embed({ texts: ['first call loads the model'], purpose: 'document' });
  await embedder.close();
  assert.equal((await running).length, 1, 'the call that was running completed');
  await assert.rejects(embedder.embed({ texts: ['too late'], purpose: 'document' }), EmbedderError);
  assert.equal(localModelState().holders, 0);
});

test('LocalEmbedder: newlines count as spaces and long texts are truncated at maxInputChars', async () => {
  const embedder = new LocalEmbedder({ maxInputChars: 40 });
  try {
    const base = 'The user keeps a journal about gardening.';
    const [spaced, lined, long] = await embedder.embed({
      texts: [
        'I like\ngreen  tea',
        'I like green tea',
        `${base}${' and then many more unrelated words'.repeat(50)}`,
      ],
      purpose: 'document',
    });
    const [prefix] = await embedder.embed({ texts: [base.slice(0, 40)], purpose: 'document' });
    assert.deepEqual(spaced, lined);
    assert.deepEqual(long, prefix);
  } finally {
    await embedder.close();
  }
});

test('LocalEmbedder: invalid options are a ConfigError', () => {
  assert.throws(() => new LocalEmbedder({ maxBatchSize: 0 }), ConfigError);
  assert.throws(() => new LocalEmbedder({ maxInputChars: 1.5 }), ConfigError);
});
