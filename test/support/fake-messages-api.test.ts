import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { createAgentSdkEnv } from './agent-sdk-env.js';
import { type FakeMessagesApi, type RecordedRequest, startFakeMessagesApi } from './fake-messages-api.js';

/** Clients send the key as `x-api-key` (CLI) or `authorization: Bearer` (@anthropic-ai/sdk 1.x). */
function apiKeyOf(request: RecordedRequest): string | undefined {
  return request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '');
}

describe('fake Messages API with the official @anthropic-ai/sdk client', () => {
  let api: FakeMessagesApi;
  let client: Anthropic;

  before(async () => {
    api = await startFakeMessagesApi();
    client = new Anthropic({ apiKey: 'test-key', baseURL: api.url, maxRetries: 0 });
  });
  after(() => api.close());

  test('non-streaming: returns the scripted text and usage, records the request', async () => {
    api.enqueue({ text: 'hello from the fake', usage: { input_tokens: 12, output_tokens: 5 } });
    const before = api.messageRequests().length;
    const message = await client.messages.create({
      model: 'claude-test',
      max_tokens: 64,
      system: 'be brief',
      messages: [{ role: 'user', content: 'say hi' }],
    });
    assert.deepEqual(
      message.content.map((block) => (block.type === 'text' ? block.text : block.type)),
      ['hello from the fake'],
    );
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 5);
    assert.equal(message.model, 'claude-test');

    const recorded = api.messageRequests()[before];
    assert.ok(recorded);
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/v1/messages');
    assert.equal(apiKeyOf(recorded), 'test-key');
    assert.deepEqual(recorded.body, {
      model: 'claude-test',
      max_tokens: 64,
      system: 'be brief',
      messages: [{ role: 'user', content: 'say hi' }],
    });
    assert.equal(JSON.parse(recorded.rawBody).system, 'be brief');
  });

  test('streaming: text arrives as deltas and assembles into the scripted text', async () => {
    const long = 'a streamed reply that is longer than one sixteen-character chunk, with ünïcödé';
    api.enqueue({ text: long, usage: { input_tokens: 3, output_tokens: 9 } });
    const stream = client.messages.stream({
      model: 'claude-test',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'stream please' }],
    });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    assert.ok(deltas.length > 1, `expected several deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), long);
    const first = message.content[0];
    assert.ok(first && first.type === 'text');
    assert.equal(first.text, long);
    assert.equal(message.usage.output_tokens, 9);
    assert.equal(message.stop_reason, 'end_turn');
    const recorded = api.messageRequests().at(-1);
    assert.ok(recorded && typeof recorded.body === 'object' && recorded.body !== null);
    assert.equal((recorded.body as { stream?: unknown }).stream, true);
  });

  test('streaming tool use: input_json_delta assembles into the scripted input', async () => {
    const input = { query: 'favourite colour', limit: 3, nested: { ok: true } };
    api.enqueue({ text: 'let me look', toolUses: [{ id: 'toolu_1', name: 'search', input }] });
    const message = await client.messages
      .stream({ model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'use a tool' }] })
      .finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    assert.ok(toolUse && toolUse.type === 'tool_use');
    assert.equal(toolUse.id, 'toolu_1');
    assert.equal(toolUse.name, 'search');
    assert.deepEqual(toolUse.input, input);
  });

  test('error injection: status, body and headers reach the client as APIError', async () => {
    api.enqueue({ status: 429, headers: { 'retry-after': '7' } });
    const error = await client.messages
      .create({ model: 'claude-test', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
      .then(
        () => assert.fail('expected a 429'),
        (caught: unknown) => caught,
      );
    assert.ok(error instanceof Anthropic.RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.headers.get('retry-after'), '7');
    assert.equal(error.type, 'rate_limit_error');
  });

  test('malformed body: the client fails to parse it', async () => {
    api.enqueue({ malformed: '{"type":"message", oops' });
    await assert.rejects(
      client.messages.create({
        model: 'claude-test',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
  });

  test('queue first, then handler with a message index, then the default', async () => {
    const local = await startFakeMessagesApi({
      handler: (_request, index) => ({ text: `handled #${index}` }),
    });
    const localClient = new Anthropic({ apiKey: 'k', baseURL: local.url, maxRetries: 0 });
    const ask = async (): Promise<string> => {
      const message = await localClient.messages.create({
        model: 'm',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'q' }],
      });
      const block = message.content[0];
      return block?.type === 'text' ? block.text : '';
    };
    try {
      local.enqueue({ text: 'queued' });
      assert.equal(await ask(), 'queued');
      assert.equal(await ask(), 'handled #1');
      local.setHandler(async (request) => ({ text: `async ${request.method}` }));
      assert.equal(await ask(), 'async POST');
    } finally {
      await local.close();
    }
    const bare = await startFakeMessagesApi();
    try {
      const message = await new Anthropic({ apiKey: 'k', baseURL: bare.url, maxRetries: 0 }).messages.create({
        model: 'm',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'q' }],
      });
      assert.deepEqual(message.content, [{ type: 'text', text: 'ok' }]);
    } finally {
      await bare.close();
    }
  });

  test('count_tokens and probes answer; other paths are recorded', async () => {
    const counted = await client.messages.countTokens({
      model: 'claude-test',
      messages: [{ role: 'user', content: 'count these tokens please' }],
    });
    assert.ok(counted.input_tokens > 0);
    const head = await fetch(`${api.url}/api/hello`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(api.requests.some((request) => request.method === 'HEAD' && request.path === '/api/hello'));
    assert.ok(!api.messageRequests().some((request) => request.path.includes('count_tokens')));
  });

  test('a delayed reply lets the client time out, and the fake survives it', async () => {
    api.enqueue({ text: 'too late', delayMs: 500 });
    const impatient = new Anthropic({ apiKey: 'k', baseURL: api.url, maxRetries: 0, timeout: 100 });
    await assert.rejects(
      impatient.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'q' }] }),
      Anthropic.APIConnectionTimeoutError,
    );
    api.enqueue({ text: 'still alive' });
    const message = await client.messages.create({
      model: 'm',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'q' }],
    });
    assert.deepEqual(message.content, [{ type: 'text', text: 'still alive' }]);
  });
});

describe('fake Messages API with the real Claude Agent SDK', () => {
  test('one query() round trip: the fake sees the prompt and the SDK yields the scripted text', async () => {
    const { query } = await import('@anthropic-ai/claude-agent-sdk');
    const prompt = 'What colour is the mneme test sky? token-8c1f';
    const scripted = 'The mneme test sky is teal. token-4d2e';
    const api = await startFakeMessagesApi({
      handler: (request) =>
        JSON.stringify(request.body).includes('token-8c1f') ? { text: scripted } : { text: 'ok' },
    });
    const sandbox = await createAgentSdkEnv({ baseURL: api.url });
    try {
      const texts: string[] = [];
      let result: string | undefined;
      for await (const message of query({
        prompt,
        options: {
          env: sandbox.env,
          cwd: sandbox.cwd,
          model: 'claude-fake-model',
          maxTurns: 1,
          settingSources: [],
          persistSession: false,
        },
      })) {
        if (message.type === 'assistant') {
          for (const block of message.message.content) if (block.type === 'text') texts.push(block.text);
        }
        if (message.type === 'result' && message.subtype === 'success') result = message.result;
      }
      assert.ok(texts.includes(scripted), `assistant texts: ${JSON.stringify(texts)}`);
      assert.equal(result, scripted);
      const withPrompt = api.messageRequests().filter((request) => request.rawBody.includes('token-8c1f'));
      assert.ok(withPrompt.length >= 1, 'the fake never saw the prompt');
      const first = withPrompt[0];
      assert.ok(first);
      assert.match(first.path, /^\/v1\/messages(\?beta=true)?$/);
      assert.equal((first.body as { stream?: unknown }).stream, true);
      assert.equal(apiKeyOf(first), 'test');
    } finally {
      await sandbox.cleanup();
      await api.close();
    }
  });
});
