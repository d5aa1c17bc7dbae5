/**
 * Proves the fake OpenAI-compatible API speaks the real wire protocol: the official `openai` client (present in
 * node_modules as a dependency of mem0ai) runs unmodified against it. Without that package these tests are
 * skipped with a printed reason; the plain-fetch tests always run.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { fakeEmbedding, startFakeOpenAIApi } from './fake-openai-api.js';

interface ChatCompletion {
  model: string;
  choices: Array<{
    finish_reason: string;
    message: {
      content: string | null;
      tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
    };
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface ChatChunk {
  choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
  usage?: { completion_tokens: number } | null;
}
/** The parts of the `openai` client these tests use. */
interface OpenAIClient {
  chat: {
    completions: {
      create(body: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
    };
  };
  embeddings: {
    create(body: Record<string, unknown>): Promise<{ data: Array<{ index: number; embedding: number[] }> }>;
  };
}
type OpenAIConstructor = new (options: Record<string, unknown>) => OpenAIClient;

const openaiPackage = 'openai';
const OpenAI = await import(openaiPackage).then(
  (module: { default: OpenAIConstructor }) => module.default,
  () => undefined,
);
const clientSkip =
  OpenAI === undefined ? { skip: 'package "openai" is not installed (it comes with mem0ai)' } : {};

const api = await startFakeOpenAIApi({ dimension: 16, apiKey: 'sk-fake' });
after(() => api.close());

function client(options: Record<string, unknown> = {}): OpenAIClient {
  assert.ok(OpenAI !== undefined);
  return new OpenAI({ apiKey: 'sk-fake', baseURL: api.baseURL, maxRetries: 0, ...options });
}

describe('fake OpenAI API with the official openai client', clientSkip, () => {
  beforeEach(() => api.reset());

  test('chat completion: scripted content, usage, and the request is recorded', async () => {
    api.enqueueChat({
      content: '{"facts": ["likes tea"]}',
      usage: { prompt_tokens: 11, completion_tokens: 7 },
    });
    const reply = (await client().chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'I like tea' }],
      temperature: 0,
    })) as ChatCompletion;
    assert.equal(reply.choices[0]?.message.content, '{"facts": ["likes tea"]}');
    assert.equal(reply.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(reply.usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    const [request] = api.chatRequests();
    assert.equal(request?.headers.authorization, 'Bearer sk-fake');
    assert.deepEqual((request?.body as { messages: unknown } | undefined)?.messages, [
      { role: 'user', content: 'I like tea' },
    ]);
  });

  test('chat completion streaming: deltas concatenate to the content; usage arrives last', async () => {
    api.setChatHandler((_request, index) => ({ content: `streamed reply number ${index}` }));
    const stream = (await client().chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })) as AsyncIterable<ChatChunk>;
    let text = '';
    let finish: string | null = null;
    let usage: ChatChunk['usage'];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'streamed reply number 0');
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.completion_tokens > 0);
  });

  test('tool calls come back as function calls with JSON arguments', async () => {
    api.enqueueChat({
      content: null,
      toolCalls: [{ name: 'save_memory', arguments: '{"text":"likes tea"}' }],
    });
    const reply = (await client().chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'remember I like tea' }],
      tools: [{ type: 'function', function: { name: 'save_memory', parameters: { type: 'object' } } }],
    })) as ChatCompletion;
    assert.equal(reply.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(reply.choices[0]?.message.tool_calls?.[0]?.function.name, 'save_memory');
    assert.equal(reply.choices[0]?.message.tool_calls?.[0]?.function.arguments, '{"text":"likes tea"}');
  });

  test('a 429 with retry-after is retried by the client; a 400 surfaces the server message', async () => {
    api.enqueueChat({ status: 429, headers: { 'retry-after': '0' } }, { content: 'after retry' });
    const reply = (await client({ maxRetries: 1 }).chat.completions.create({
      model: 'fake-chat',
      messages: [{ role: 'user', content: 'x' }],
    })) as ChatCompletion;
    assert.equal(reply.choices[0]?.message.content, 'after retry');
    assert.equal(api.chatRequests().length, 2);

    api.enqueueChat({
      status: 400,
      body: { error: { message: 'context too long', type: 'invalid_request_error' } },
    });
    await assert.rejects(
      client().chat.completions.create({ model: 'fake-chat', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) =>
        (error as { status?: number }).status === 400 && /context too long/.test(String(error)),
    );
  });

  test('an unscripted chat call fails loudly with 500; a delay trips the client timeout', async () => {
    await assert.rejects(
      client().chat.completions.create({ model: 'fake-chat', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) =>
        (error as { status?: number }).status === 500 && /no scripted chat reply/.test(String(error)),
    );
    api.enqueueChat({ content: 'too late', delayMs: 2_000 });
    const started = performance.now();
    await assert.rejects(
      client({ timeout: 100 }).chat.completions.create({
        model: 'fake-chat',
        messages: [{ role: 'user', content: 'x' }],
      }),
      /timed out/i,
    );
    assert.ok(performance.now() - started < 1_500);
  });

  test('a malformed body makes the client throw', async () => {
    api.enqueueChat({ malformed: '{"choices": [' });
    await assert.rejects(
      client().chat.completions.create({ model: 'fake-chat', messages: [{ role: 'user', content: 'x' }] }),
    );
  });

  test('embeddings: the client default (base64) decodes to the fake vectors; dimensions is honoured', async () => {
    const reply = await client().embeddings.create({
      model: 'fake-embedding',
      input: ['green tea', 'coffee'],
    });
    assert.equal(
      (api.requests[0]?.body as { encoding_format?: string } | undefined)?.encoding_format,
      'base64',
    );
    assert.deepEqual(
      reply.data.map((item) => Array.from(item.embedding, (value) => Math.round(value * 1e5))),
      ['green tea', 'coffee'].map((text) => fakeEmbedding(text, 16).map((value) => Math.round(value * 1e5))),
    );
    const shortened = await client().embeddings.create({
      model: 'fake-embedding',
      input: 'tea',
      dimensions: 8,
    });
    assert.equal(shortened.data[0]?.embedding.length, 8);
  });
});

describe('fake OpenAI API over plain fetch', () => {
  beforeEach(() => api.reset());
  const headers = { authorization: 'Bearer sk-fake', 'content-type': 'application/json' };

  test('rejects a wrong key with 401, unknown paths with 404, and lists models', async () => {
    const unauthorised = await fetch(`${api.baseURL}/embeddings`, { method: 'POST', body: '{}' });
    assert.equal(unauthorised.status, 401);
    assert.match(await unauthorised.text(), /invalid_api_key/);
    const missing = await fetch(`${api.baseURL}/nothing`, { headers });
    assert.equal(missing.status, 404);
    await missing.text();
    const models = (await (await fetch(`${api.baseURL}/models`, { headers })).json()) as {
      data: Array<{ id: string }>;
    };
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['fake-embedding', 'fake-chat'],
    );
    assert.equal(api.requests.length, 3);
  });

  test('validates embeddings requests like OpenAI, and handlers see the parsed inputs and a counter', async () => {
    const noModel = await fetch(`${api.baseURL}/embeddings`, {
      method: 'POST',
      headers,
      body: '{"input": ["a"]}',
    });
    assert.equal(noModel.status, 400);
    await noModel.text();
    const seen: Array<[string[], number]> = [];
    api.setEmbeddingsHandler((request, index) => {
      seen.push([request.inputs, index]);
      return undefined;
    });
    const reply = await fetch(`${api.baseURL}/embeddings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'm', input: 'one text' }),
    });
    const body = (await reply.json()) as { data: Array<{ embedding: number[] }> };
    assert.deepEqual(body.data[0]?.embedding, fakeEmbedding('one text', 16));
    assert.deepEqual(seen, [[['one text'], 0]]);
  });

  test('dropConnection makes fetch fail with a network error', async () => {
    api.enqueueEmbeddings({ dropConnection: true });
    await assert.rejects(
      fetch(`${api.baseURL}/embeddings`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'm', input: 'x' }),
      }),
      TypeError,
    );
  });
});
