import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, beforeEach, describe, test } from 'node:test';
import { ConfigError, EmbedderError } from '../../src/core/errors.js';
import {
  createOpenAICompatibleEmbedder,
  OpenAICompatibleEmbedder,
  type OpenAICompatibleEmbedderOptions,
} from '../../src/embedders/openai-compatible.js';
import { embedderSuite } from '../conformance/embedder-suite.js';
import { fakeEmbedding, startFakeOpenAIApi } from '../support/fake-openai-api.js';

const api = await startFakeOpenAIApi({ dimension: 32 });
after(() => api.close());

/** An embedder against the fake with fast retries; `overrides` change any option. */
function make(overrides: Partial<OpenAICompatibleEmbedderOptions> = {}): OpenAICompatibleEmbedder {
  return new OpenAICompatibleEmbedder({
    model: 'fake-embedding',
    baseURL: api.baseURL,
    dimension: 32,
    maxBatchSize: 8,
    retryBaseDelayMs: 1,
    timeoutMs: 2_000,
    ...overrides,
  });
}

const embed = (embedder: OpenAICompatibleEmbedder, texts: string[]) =>
  embedder.embed({ texts, purpose: 'document' });

/** Asserts `promise` rejects with an EmbedderError and returns it. */
async function rejection(promise: Promise<unknown>): Promise<EmbedderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EmbedderError, `expected EmbedderError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

embedderSuite({ name: 'OpenAICompatibleEmbedder (fake server)', make: () => make(), dimension: 32 });

describe('OpenAICompatibleEmbedder against the fake OpenAI API', () => {
  beforeEach(() => api.reset());

  test('id is openai-compatible:<model>; empty input makes no request', async () => {
    const embedder = make();
    assert.equal(embedder.id, 'openai-compatible:fake-embedding');
    assert.deepEqual(await embed(embedder, []), []);
    assert.equal(api.requests.length, 0);
  });

  test('sends the OpenAI request shape, the bearer key and extra headers; returns the server vectors', async () => {
    const embedder = make({ apiKey: 'sk-test', headers: { 'x-team': 'memory' } });
    const vectors = await embed(embedder, ['green tea', 'black coffee']);
    const [request] = api.embeddingsRequests();
    assert.ok(request);
    assert.equal(request.path, '/v1/embeddings');
    assert.deepEqual(request.body, {
      model: 'fake-embedding',
      input: ['green tea', 'black coffee'],
      encoding_format: 'float',
    });
    assert.equal(request.headers.authorization, 'Bearer sk-test');
    assert.equal(request.headers['x-team'], 'memory');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(vectors[0], Float32Array.from(fakeEmbedding('green tea', 32)));
    assert.deepEqual(vectors[1], Float32Array.from(fakeEmbedding('black coffee', 32)));
  });

  test('sends no authorization header without an API key (local servers)', async () => {
    await embed(make(), ['hello']);
    assert.equal(api.requests[0]?.headers.authorization, undefined);
  });

  test('splits large inputs into maxBatchSize requests and keeps order', async () => {
    const texts = Array.from({ length: 20 }, (_, index) => `memory ${index}`);
    const vectors = await embed(make(), texts);
    assert.deepEqual(
      api.embeddingsRequests().map((request) => (request.body as { input: string[] }).input.length),
      [8, 8, 4],
    );
    vectors.forEach((vector, index) => {
      assert.deepEqual(vector, Float32Array.from(fakeEmbedding(`memory ${index}`, 32)));
    });
  });

  test('orders a reply by `index` and normalises unnormalised vectors', async () => {
    const raw = (value: number) => Array.from({ length: 32 }, (_, index) => (index === 0 ? value : 0));
    api.setEmbeddingsHandler(() => ({
      status: 200,
      body: {
        data: [
          { index: 1, embedding: raw(-3) },
          { index: 0, embedding: raw(5) },
        ],
      },
    }));
    const [first, second] = await embed(make(), ['a', 'b']);
    assert.equal(first?.[0], 1);
    assert.equal(second?.[0], -1);
  });

  test('retries 429 honouring retry-after, then succeeds', async () => {
    api.enqueueEmbeddings({
      status: 429,
      headers: { 'retry-after': '0.3' },
      body: { error: { message: 'Rate limit reached' } },
    });
    const started = performance.now();
    const vectors = await embed(make(), ['hello']);
    const elapsed = performance.now() - started;
    assert.equal(vectors.length, 1);
    assert.equal(api.embeddingsRequests().length, 2);
    assert.ok(elapsed >= 280, `waited ${elapsed.toFixed(0)} ms for retry-after 0.3 s`);
  });

  test('honours retry-after-ms, and caps the wait at maxRetryDelayMs', async () => {
    api.enqueueEmbeddings({ status: 429, headers: { 'retry-after-ms': '150' } });
    let started = performance.now();
    await embed(make(), ['hello']);
    assert.ok(performance.now() - started >= 140);
    api.enqueueEmbeddings({ status: 429, headers: { 'retry-after': '60' } });
    started = performance.now();
    await embed(make({ maxRetryDelayMs: 50 }), ['hello']);
    assert.ok(performance.now() - started < 1_000, 'a 60 s retry-after is capped');
  });

  test('retries 500, 503 and dropped connections with backoff', async () => {
    api.enqueueEmbeddings(
      { status: 500 },
      { status: 503, body: 'upstream unavailable' },
      { dropConnection: true },
    );
    const vectors = await embed(make(), ['hello']);
    assert.deepEqual(vectors[0], Float32Array.from(fakeEmbedding('hello', 32)));
    assert.equal(api.embeddingsRequests().length, 4);
  });

  test('gives up after maxRetries with a retryable EmbedderError carrying the status and message', async () => {
    api.enqueueEmbeddings(
      { status: 502, body: { error: { message: 'bad gateway from upstream' } } },
      { status: 502, body: { error: { message: 'bad gateway from upstream' } } },
    );
    const error = await rejection(embed(make({ maxRetries: 1 }), ['hello']));
    assert.equal(error.retryable, true);
    assert.match(error.message, /HTTP 502/);
    assert.match(error.message, /bad gateway from upstream/);
    assert.match(error.message, /gave up after 2 attempts/);
    assert.equal(api.embeddingsRequests().length, 2);
  });

  test('times out a slow reply (retryable), and a retry can then succeed', async () => {
    api.enqueueEmbeddings({ delayMs: 1_000 });
    const error = await rejection(embed(make({ timeoutMs: 100, maxRetries: 0 }), ['hello']));
    assert.equal(error.retryable, true);
    assert.match(error.message, /timed out after 100 ms \(option timeoutMs\)/);

    api.enqueueEmbeddings({ delayMs: 1_000 });
    const vectors = await embed(make({ timeoutMs: 100, maxRetries: 1 }), ['hello']);
    assert.equal(vectors.length, 1);
  });

  test('401 is not retried and says which option holds the key', async () => {
    const secured = await startFakeOpenAIApi({ apiKey: 'sk-right', dimension: 32 });
    try {
      const embedder = make({ baseURL: secured.baseURL, apiKey: 'sk-wrong' });
      const error = await rejection(embed(embedder, ['hello']));
      assert.equal(error.retryable, false);
      assert.match(error.message, /HTTP 401/);
      assert.match(error.message, /Incorrect API key provided/);
      assert.match(error.message, /MNEME_EMBEDDER_API_KEY/);
      assert.equal(secured.requests.length, 1);
      const right = await embed(make({ baseURL: secured.baseURL, apiKey: 'sk-right' }), ['hello']);
      assert.equal(right.length, 1);
    } finally {
      await secured.close();
    }
  });

  test('400 is not retried and carries the server message (Ollama-style string errors too)', async () => {
    api.enqueueEmbeddings({ status: 400, body: { error: 'model "nomic" not found, try pulling it first' } });
    const error = await rejection(embed(make(), ['hello']));
    assert.equal(error.retryable, false);
    assert.match(error.message, /HTTP 400.*model "nomic" not found/);
    assert.equal(api.embeddingsRequests().length, 1);
  });

  test('a reply with the wrong dimension is an error, never a silently wrong vector', async () => {
    api.setEmbeddingsHandler((request) => ({ vectors: request.inputs.map(() => fakeEmbedding('x', 16)) }));
    const error = await rejection(embed(make(), ['hello']));
    assert.equal(error.retryable, false);
    assert.match(error.message, /16-dimensional embedding but 32 dimensions are configured/);
    assert.equal(api.embeddingsRequests().length, 1);
  });

  test('a reply with the wrong count, a duplicate index or non-numbers is an error', async () => {
    api.enqueueEmbeddings({ vectors: [fakeEmbedding('only one', 32)] });
    assert.match((await rejection(embed(make(), ['a', 'b']))).message, /returned 1 embeddings for 2 inputs/);
    const vector = fakeEmbedding('a', 32);
    api.enqueueEmbeddings({
      status: 200,
      body: {
        data: [
          { index: 0, embedding: vector },
          { index: 0, embedding: vector },
        ],
      },
    });
    assert.match((await rejection(embed(make(), ['a', 'b']))).message, /two embeddings for input 0/);
    api.enqueueEmbeddings({ status: 200, body: { data: [{ index: 0, embedding: 'AAAA' }] } });
    assert.match((await rejection(embed(make(), ['a']))).message, /not an array of finite numbers/);
    api.enqueueEmbeddings({ status: 200, body: { object: 'list' } });
    assert.match((await rejection(embed(make(), ['a']))).message, /no `data` array/);
  });

  test('a malformed JSON body is an error', async () => {
    api.enqueueEmbeddings({ malformed: '{"data": [' });
    assert.match((await rejection(embed(make(), ['a']))).message, /not JSON/);
  });

  test('an abort during backoff rejects promptly and is not retryable', async () => {
    api.enqueueEmbeddings({ status: 429, headers: { 'retry-after': '20' } });
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(
      make().embed({ texts: ['hello'], purpose: 'document', signal: controller.signal }),
    );
    assert.equal(error.retryable, false);
    assert.match(error.message, /aborted/);
    assert.ok(performance.now() - started < 1_000);
  });

  test('an abort during a slow request rejects promptly', async () => {
    api.enqueueEmbeddings({ delayMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const error = await rejection(
      make().embed({ texts: ['hello'], purpose: 'query', signal: controller.signal }),
    );
    assert.match(error.message, /aborted/);
    assert.ok(performance.now() - started < 1_000);
  });

  test('a server that is not running is a retryable error naming the base URL option', async () => {
    const port = await freePort();
    const error = await rejection(
      embed(make({ baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 1 }), ['a']),
    );
    assert.equal(error.retryable, true);
    assert.match(error.message, /MNEME_EMBEDDER_BASE_URL/);
  });

  test('createOpenAICompatibleEmbedder discovers the dimension with one probe request', async () => {
    const embedder = await createOpenAICompatibleEmbedder({ model: 'fake-embedding', baseURL: api.baseURL });
    assert.equal(embedder.dimension, 32);
    assert.equal(api.embeddingsRequests().length, 1);
    const [vector] = await embed(embedder, ['hello']);
    assert.equal(vector?.length, 32);
  });

  test('sendDimensions asks the server for shortened vectors', async () => {
    const embedder = await createOpenAICompatibleEmbedder({
      model: 'fake-embedding',
      baseURL: `${api.baseURL}/`,
      dimension: 12,
      sendDimensions: true,
    });
    const [vector] = await embed(embedder, ['hello']);
    assert.equal(vector?.length, 12);
    assert.deepEqual(api.requests[0]?.body, {
      model: 'fake-embedding',
      input: ['hello'],
      encoding_format: 'float',
      dimensions: 12,
    });
  });

  test('configuration errors are ConfigErrors naming the option and env var, before any request', async () => {
    assert.throws(
      () => new OpenAICompatibleEmbedder({ model: 'text-embedding-3-small', dimension: 1536 }),
      (error: unknown) => error instanceof ConfigError && /OPENAI_API_KEY/.test(error.message),
    );
    assert.throws(
      () => new OpenAICompatibleEmbedder({ model: 'm', baseURL: 'not a url', dimension: 3 }),
      (error: unknown) => error instanceof ConfigError && /MNEME_EMBEDDER_BASE_URL/.test(error.message),
    );
    assert.throws(
      () => new OpenAICompatibleEmbedder({ model: 'm', baseURL: api.baseURL, dimension: 0 }),
      (error: unknown) => error instanceof ConfigError && /MNEME_EMBEDDER_DIMENSION/.test(error.message),
    );
    await assert.rejects(createOpenAICompatibleEmbedder({ model: '', baseURL: api.baseURL }), ConfigError);
    assert.equal(api.requests.length, 0);
  });

  test('embed after close rejects', async () => {
    const embedder = make();
    await embedder.close();
    await rejection(embed(embedder, ['hello']));
  });
});

/** A port with nothing listening on it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}
