import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { AnthropicLanguageModel } from '../../src/llm/anthropic.js';
import {
  languageModelTestSuite,
  type ReceivedChat,
  type ScriptedReply,
} from '../conformance/language-model-suite.js';
import { type FakeReply, startFakeMessagesApi } from '../support/fake-messages-api.js';

function toFakeReply(reply: ScriptedReply): FakeReply {
  if ('malformed' in reply) return { malformed: reply.malformed };
  if ('status' in reply)
    return reply.headers ? { status: reply.status, headers: reply.headers } : { status: reply.status };
  const fake: FakeReply = { text: reply.text };
  if (reply.usage)
    fake.usage = { input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens };
  if (reply.delayMs !== undefined) fake.delayMs = reply.delayMs;
  return fake;
}

function toReceived(body: unknown): ReceivedChat {
  const request = body as {
    system?: unknown;
    messages?: Array<{ role: string; content: string }>;
    max_tokens?: number;
  };
  return {
    system: typeof request.system === 'string' ? request.system : undefined,
    messages: request.messages ?? [],
    maxTokens: request.max_tokens,
  };
}

languageModelTestSuite('anthropic', async () => {
  const api = await startFakeMessagesApi();
  return {
    idPrefix: 'anthropic:',
    createModel: (options) =>
      new AnthropicLanguageModel({
        model: 'claude-haiku-4-5',
        apiKey: 'test-key',
        baseURL: api.url,
        ...options,
      }),
    enqueue: (...replies) => api.enqueue(...replies.map(toFakeReply)),
    received: () => api.messageRequests().map((request) => toReceived(request.body)),
    close: () => api.close(),
  };
});

describe('AnthropicLanguageModel specifics', () => {
  test('missing API key -> ConfigError naming option llm and ANTHROPIC_API_KEY', () => {
    for (const apiKey of [undefined, '', '  ']) {
      assert.throws(
        () => new AnthropicLanguageModel(apiKey === undefined ? { model: 'm' } : { model: 'm', apiKey }),
        (error) =>
          error instanceof ConfigError &&
          /ANTHROPIC_API_KEY/.test(error.message) &&
          /`llm`/.test(error.message) &&
          /anthropic:m/.test(error.message),
      );
    }
  });

  test('sends the key, the model, a non-streaming request, and no temperature', async () => {
    const api = await startFakeMessagesApi();
    try {
      api.enqueue({ text: 'hi' });
      const model = new AnthropicLanguageModel({
        model: 'claude-haiku-4-5',
        apiKey: 'sk-test-123',
        baseURL: api.url,
      });
      assert.equal(model.id, 'anthropic:claude-haiku-4-5');
      await model.complete({ system: 'sys', messages: [{ role: 'user', content: 'u' }], temperature: 0.7 });
      const [request] = api.messageRequests();
      assert.ok(request);
      const key = request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '');
      assert.equal(key, 'sk-test-123');
      const body = request.body as Record<string, unknown>;
      assert.equal(body.model, 'claude-haiku-4-5');
      assert.equal(body.stream, undefined);
      assert.equal('temperature' in body, false);
    } finally {
      await api.close();
    }
  });

  test('an empty system prompt is left out; text blocks are joined, tool blocks ignored', async () => {
    const api = await startFakeMessagesApi();
    try {
      api.enqueue({ text: 'part one', toolUses: [{ name: 'noop', input: {} }] });
      const model = new AnthropicLanguageModel({ model: 'm', apiKey: 'k', baseURL: api.url });
      const completion = await model.complete({ system: '', messages: [{ role: 'user', content: 'u' }] });
      assert.equal(completion.text, 'part one');
      const body = api.messageRequests()[0]?.body as Record<string, unknown>;
      assert.equal('system' in body, false);
    } finally {
      await api.close();
    }
  });

  test('cached prompt tokens count as input tokens', async () => {
    const api = await startFakeMessagesApi();
    try {
      api.enqueue({
        malformed: JSON.stringify({
          type: 'message',
          content: [{ type: 'text', text: 'cached' }],
          usage: {
            input_tokens: 10,
            cache_creation_input_tokens: 5,
            cache_read_input_tokens: 100,
            output_tokens: 3,
          },
        }),
      });
      const model = new AnthropicLanguageModel({ model: 'm', apiKey: 'k', baseURL: api.url });
      const completion = await model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] });
      assert.deepEqual(completion.usage, { inputTokens: 115, outputTokens: 3 });
    } finally {
      await api.close();
    }
  });

  test('valid JSON that is not a Messages reply -> llm_invalid_response with rawText', async () => {
    const api = await startFakeMessagesApi();
    try {
      api.enqueue({ malformed: '{"hello":"world"}' });
      const model = new AnthropicLanguageModel({ model: 'm', apiKey: 'k', baseURL: api.url });
      await assert.rejects(model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }), {
        name: 'LLMError',
        code: 'llm_invalid_response',
        rawText: '{"hello":"world"}',
        retryable: false,
      });
    } finally {
      await api.close();
    }
  });

  test('an unreachable base URL -> retryable connection LLMError naming ANTHROPIC_BASE_URL', async () => {
    const api = await startFakeMessagesApi();
    const url = api.url;
    await api.close();
    const model = new AnthropicLanguageModel({
      model: 'm',
      apiKey: 'k',
      baseURL: url,
      maxRetries: 1,
      retryDelayMs: 1,
    });
    await assert.rejects(
      model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      (error: unknown) =>
        error instanceof Error &&
        error.name === 'LLMError' &&
        /ANTHROPIC_BASE_URL/.test(error.message) &&
        /gave up after 2 attempts/.test(error.message) &&
        (error as { retryable?: unknown }).retryable === true,
    );
  });
});
