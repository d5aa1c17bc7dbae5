import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CachingEmbedder } from '../../bench/support/caching-embedder.js';
import { createTestEmbedder } from '../support/test-embedder.js';

test('each distinct text is embedded once and every caller gets the same vector', async () => {
  const inner = createTestEmbedder({ dimension: 16 });
  const embedder = new CachingEmbedder(inner, { symmetric: true });
  const first = await embedder.embed({
    texts: ['green tea', 'black coffee', 'green tea'],
    purpose: 'document',
  });
  const again = await embedder.embed({ texts: ['black coffee'], purpose: 'query' });
  assert.deepEqual(
    inner.calls.map((call) => call.texts),
    [['green tea', 'black coffee']],
  );
  assert.deepEqual([...(again[0] ?? [])], [...(first[1] ?? [])]);
  assert.deepEqual([...(first[0] ?? [])], [...(first[2] ?? [])]);
  assert.equal(embedder.stats.computed, 2);
  assert.equal(embedder.stats.hits, 2);
  // Handing out copies: a caller mutating its vector cannot change what the next caller gets.
  const original = [...(first[0] ?? [])];
  first[0]?.fill(0);
  const [fresh] = await embedder.embed({ texts: ['green tea'], purpose: 'document' });
  assert.deepEqual([...(fresh ?? [])], original);
  assert.ok(original.some((value) => value !== 0));
});

test('without symmetric, document and query vectors are cached apart', async () => {
  const inner = createTestEmbedder({ dimension: 16 });
  const embedder = new CachingEmbedder(inner);
  await embedder.embed({ texts: ['tea'], purpose: 'document' });
  await embedder.embed({ texts: ['tea'], purpose: 'query' });
  assert.equal(inner.calls.length, 2);
});

test('the cache file survives a restart and is ignored for another embedder', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-cache-test-'));
  try {
    const file = join(directory, 'vectors.bin');
    const first = new CachingEmbedder(createTestEmbedder({ dimension: 8 }), {
      symmetric: true,
      cacheFile: file,
    });
    const [vector] = await first.embed({ texts: ['remember me'], purpose: 'document' });
    await first.prefetch(['a', 'b', 'remember me'], 'document', { batchSize: 1 });

    const innerAgain = createTestEmbedder({ dimension: 8 });
    const second = new CachingEmbedder(innerAgain, { symmetric: true, cacheFile: file });
    assert.equal(second.stats.loaded, 3);
    const [loaded] = await second.embed({ texts: ['remember me'], purpose: 'query' });
    assert.deepEqual([...(loaded ?? [])], [...(vector ?? [])]);
    assert.equal(innerAgain.calls.length, 0);

    const other = new CachingEmbedder(createTestEmbedder({ dimension: 4 }), {
      symmetric: true,
      cacheFile: file,
    });
    assert.equal(other.stats.loaded, 0);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
