import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, LLMError } from '../../src/core/errors.js';
import { OpenAICompatibleLanguageModel } from '../../src/llm/openai-compatible.js';
import {
  languageModelTestSuite,
  type ReceivedChat,
  type ScriptedReply,
} from '../conformance/language-model-suite.js';
import { type FakeChatReply, type RecordedRequest, startFakeOpenAIApi } from '../support/fake-openai-api.js';

function toFakeReply(reply: ScriptedReply): FakeChatReply {
  if ('malformed' in reply) return { malformed: reply.malformed };
  if ('status' in reply)
    return reply.headers ? { status: reply.status, headers: reply.headers } : { status: reply.status };
  const fake: FakeChatReply = { content: reply.text };
  if (reply.usage)
    fake.usage = { prompt_tokens: reply.usage.inputTokens, completion_tokens: reply.usage.outputTokens };
  if (reply.delayMs !== undefined) fake.delayMs = reply.delayMs;
  return fake;
}

function bodyOf(request: RecordedRequest | undefined): Record<string, unknown> {
  assert.ok(request, 'the fake received no such request');
  assert.ok(typeof request.body === 'object' && request.body !== null, 'the request body is not JSON');
  return request.body as Record<string, unknown>;
}

function toReceived(body: unknown): ReceivedChat {
  const request = body as { messages?: Array<{ role: string; content: string }>; max_tokens?: number };
  const messages = request.messages ?? [];
  const system = messages[0]?.role === 'system' ? messages[0].content : undefined;
  return {
    system,
    messages: system === undefined ? messages : messages.slice(1),
    maxTokens: request.max_tokens,
  };
}

languageModelTestSuite('openai-compatible', async () => {
  const api = await startFakeOpenAIApi();
  return {
    idPrefix: 'openai-compatible:',
    createModel: (options) =>
      new OpenAICompatibleLanguageModel({ model: 'llama3.1:8b', baseURL: api.baseURL, ...options }),
    enqueue: (...replies) => api.enqueueChat(...replies.map(toFakeReply)),
    received: () => api.chatRequests().map((request) => toReceived(request.body)),
    close: () => api.close(),
  };
});

describe('OpenAICompatibleLanguageModel specifics', () => {
  test('missing or non-http base URL -> ConfigError naming llmOptions.baseURL and MNEME_LLM_BASE_URL', () => {
    for (const baseURL of ['', 'localhost:11434/v1', 'ftp://host/v1']) {
      assert.throws(
        () => new OpenAICompatibleLanguageModel({ model: 'm', baseURL }),
        (error) =>
          error instanceof ConfigError &&
          /llmOptions\.baseURL/.test(error.message) &&
          /MNEME_LLM_BASE_URL/.test(error.message),
      );
    }
  });

  test('sends the bearer key only when set, temperature 0 by default, non-streaming', async () => {
    const api = await startFakeOpenAIApi({ apiKey: 'sk-local' });
    try {
      api.enqueueChat({ content: 'keyed' }, { content: 'hot' });
      const model = new OpenAICompatibleLanguageModel({
        model: 'qwen',
        baseURL: `${api.baseURL}/`,
        apiKey: 'sk-local',
      });
      assert.equal(
        (await model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] })).text,
        'keyed',
      );
      await model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }], temperature: 0.8 });
      const [first, second] = api.chatRequests();
      assert.equal(first?.path, '/v1/chat/completions');
      assert.equal(first?.headers.authorization, 'Bearer sk-local');
      assert.deepEqual([bodyOf(first).temperature, bodyOf(second).temperature], [0, 0.8]);
      assert.equal(bodyOf(first).stream, false);
      assert.equal(bodyOf(first).model, 'qwen');

      const keyless = new OpenAICompatibleLanguageModel({ model: 'qwen', baseURL: api.baseURL });
      const error = await keyless
        .complete({ system: 's', messages: [{ role: 'user', content: 'u' }] })
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof LLMError);
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /Incorrect API key/);
      assert.match(error.message, /MNEME_LLM_API_KEY/);
      assert.equal(api.chatRequests()[2]?.headers.authorization, undefined);
    } finally {
      await api.close();
    }
  });

  test('an empty system prompt is left out', async () => {
    const api = await startFakeOpenAIApi();
    try {
      api.enqueueChat({ content: 'fine' });
      const model = new OpenAICompatibleLanguageModel({ model: 'm', baseURL: api.baseURL });
      await model.complete({ system: '', messages: [{ role: 'user', content: 'only me' }] });
      assert.deepEqual(bodyOf(api.chatRequests()[0]).messages, [{ role: 'user', content: 'only me' }]);
    } finally {
      await api.close();
    }
  });

  test('content as text parts is joined; missing usage counts as 0', async () => {
    const api = await startFakeOpenAIApi();
    try {
      api.enqueueChat({
        malformed: JSON.stringify({
          choices: [
            {
              message: {
                role: 'assistant',
                content: [
                  { type: 'text', text: 'one ' },
                  { type: 'text', text: 'two' },
                ],
              },
            },
          ],
        }),
      });
      const model = new OpenAICompatibleLanguageModel({ model: 'm', baseURL: api.baseURL });
      const completion = await model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] });
      assert.deepEqual(completion, { text: 'one two', usage: { inputTokens: 0, outputTokens: 0 } });
    } finally {
      await api.close();
    }
  });

  test('valid JSON that is not a chat completion -> llm_invalid_response with rawText', async () => {
    const api = await startFakeOpenAIApi();
    try {
      api.enqueueChat({ malformed: '{"object":"list","data":[]}' });
      const model = new OpenAICompatibleLanguageModel({ model: 'm', baseURL: api.baseURL });
      await assert.rejects(model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }), {
        name: 'LLMError',
        code: 'llm_invalid_response',
        rawText: '{"object":"list","data":[]}',
        retryable: false,
      });
    } finally {
      await api.close();
    }
  });

  test('a dropped connection is retried', async () => {
    const api = await startFakeOpenAIApi();
    try {
      api.enqueueChat({ dropConnection: true }, { content: 'second try' });
      const model = new OpenAICompatibleLanguageModel({ model: 'm', baseURL: api.baseURL, retryDelayMs: 1 });
      const completion = await model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] });
      assert.equal(completion.text, 'second try');
      assert.equal(api.chatRequests().length, 2);
    } finally {
      await api.close();
    }
  });

  test('an unreachable server -> retryable LLMError naming MNEME_LLM_BASE_URL', async () => {
    const api = await startFakeOpenAIApi();
    const baseURL = api.baseURL;
    await api.close();
    const model = new OpenAICompatibleLanguageModel({ model: 'm', baseURL, maxRetries: 1, retryDelayMs: 1 });
    const error = await model
      .complete({ system: 's', messages: [{ role: 'user', content: 'u' }] })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMError);
    assert.equal(error.retryable, true);
    assert.match(error.message, /MNEME_LLM_BASE_URL/);
    assert.match(error.message, /gave up after 2 attempts/);
  });
});
