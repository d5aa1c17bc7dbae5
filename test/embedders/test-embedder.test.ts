import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbedderError } from '../../src/core/errors.js';
import { cosine, embedderSuite } from '../conformance/embedder-suite.js';
import { createTestEmbedder, stemWord } from '../support/test-embedder.js';

embedderSuite({
  name: 'test embedder (hashed bag-of-words)',
  make: () => createTestEmbedder(),
  dimension: 64,
});

test('test embedder: texts sharing words are similar, texts sharing none are not', async () => {
  const embedder = createTestEmbedder({ dimension: 256 });
  const [a, b, c] = await embedder.embed({
    texts: ['I love running in the park', 'She loves to run in parks', 'The quarterly tax report is due'],
    purpose: 'document',
  });
  assert.ok(a && b && c);
  assert.ok(cosine(a, b) > 0.9, `inflections share buckets: ${cosine(a, b)}`);
  assert.ok(cosine(a, c) < 0.3, `no shared words: ${cosine(a, c)}`);
});

test('test embedder: id names the dimension; calls are recorded; oversized batches can be rejected', async () => {
  const embedder = createTestEmbedder({ dimension: 8, maxBatchSize: 2, rejectOversizedBatches: true });
  assert.equal(embedder.id, 'test:hash-8');
  await embedder.embed({ texts: ['a', 'b'], purpose: 'query' });
  await assert.rejects(embedder.embed({ texts: ['a', 'b', 'c'], purpose: 'document' }), EmbedderError);
  assert.deepEqual(embedder.calls, [
    { texts: ['a', 'b'], purpose: 'query' },
    { texts: ['a', 'b', 'c'], purpose: 'document' },
  ]);
  await embedder.close();
  assert.equal(embedder.closed, true);
  await assert.rejects(embedder.embed({ texts: ['a'], purpose: 'document' }), EmbedderError);
});

test('test embedder: light stemming folds common inflections', () => {
  assert.deepEqual(['loves', 'loved', 'loving', 'love'].map(stemWord), ['lov', 'lov', 'lov', 'lov']);
  assert.equal(stemWord('boxes'), stemWord('box'));
  assert.equal(stemWord('coffees'), stemWord('coffee'));
  assert.equal(stemWord('parties'), 'party');
  assert.equal(stemWord('class'), 'class');
});
