import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConfigError, EmbedderError } from '../../src/core/errors.js';
import { LocalEmbedder, localModelState } from '../../src/embedders/local.js';
import { OpenAICompatibleEmbedder } from '../../src/embedders/openai-compatible.js';
import { createEmbedder } from '../../src/embedders/registry.js';
import { startFakeOpenAIApi } from '../support/fake-openai-api.js';
import { createTestEmbedder } from '../support/test-embedder.js';

const api = await startFakeOpenAIApi({ dimension: 24 });
after(() => api.close());

test('local and local:use-lite-512 create a LocalEmbedder without loading the model', async () => {
  for (const spec of ['local', 'local:use-lite-512', ' local ']) {
    const embedder = await createEmbedder(spec);
    assert.ok(embedder instanceof LocalEmbedder, spec);
    assert.equal(embedder.id, 'local:use-lite-512');
    assert.equal(embedder.dimension, 512);
    await embedder.close();
  }
  const tuned = await createEmbedder('local', { maxBatchSize: 4, baseURL: 'http://ignored.invalid/v1' });
  assert.equal(tuned.maxBatchSize, 4);
  assert.equal(localModelState().loaded, false, 'creating is cheap: the model loads on first embed');
});

test('openai-compatible:<model> passes baseURL, apiKey and dimension through', async () => {
  api.reset();
  const embedder = await createEmbedder('openai-compatible:fake-embedding', {
    baseURL: api.baseURL,
    apiKey: 'sk-local',
    dimension: 24,
    timeoutMs: 1_000,
  });
  assert.ok(embedder instanceof OpenAICompatibleEmbedder);
  assert.equal(embedder.id, 'openai-compatible:fake-embedding');
  assert.equal(embedder.dimension, 24);
  assert.equal(api.requests.length, 0, 'a known dimension needs no probe');
  await embedder.embed({ texts: ['hello'], purpose: 'document' });
  assert.equal(api.requests[0]?.headers.authorization, 'Bearer sk-local');
  assert.equal((api.requests[0]?.body as { model?: string } | undefined)?.model, 'fake-embedding');
});

test('openai-compatible without a dimension discovers it; model names may contain colons', async () => {
  api.reset();
  const embedder = await createEmbedder('openai-compatible:nomic-embed-text:latest', {
    baseURL: api.baseURL,
  });
  assert.equal(embedder.id, 'openai-compatible:nomic-embed-text:latest');
  assert.equal(embedder.dimension, 24);
  assert.equal((api.requests[0]?.body as { model?: string } | undefined)?.model, 'nomic-embed-text:latest');
});

test('openai:<model> is an alias with the same id', async () => {
  const embedder = await createEmbedder('openai:fake-embedding', { baseURL: api.baseURL, dimension: 24 });
  assert.equal(embedder.id, 'openai-compatible:fake-embedding');
});

test('an Embedder object passes through unchanged', async () => {
  const custom = createTestEmbedder();
  assert.equal(await createEmbedder(custom, { baseURL: 'ignored' }), custom);
});

test('unknown specs and missing models are ConfigErrors naming option `embedder` and env MNEME_EMBEDDER', async () => {
  for (const spec of [
    '',
    'sentence-transformers',
    'cohere:embed-v3',
    'openai-compatible',
    'openai-compatible:  ',
  ]) {
    await assert.rejects(
      createEmbedder(spec),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.includes('`embedder`') &&
        error.message.includes('MNEME_EMBEDDER'),
      JSON.stringify(spec),
    );
  }
});

test('a failing dimension probe is an EmbedderError', async () => {
  api.reset();
  api.enqueueEmbeddings({ status: 404, body: { error: { message: 'model not found' } } });
  await assert.rejects(
    createEmbedder('openai-compatible:missing', { baseURL: api.baseURL }),
    (error: unknown) => error instanceof EmbedderError && /404.*model not found/.test(error.message),
  );
});
