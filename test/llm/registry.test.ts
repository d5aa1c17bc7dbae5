import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { AnthropicLanguageModel } from '../../src/llm/anthropic.js';
import { OpenAICompatibleLanguageModel } from '../../src/llm/openai-compatible.js';
import { createLanguageModel } from '../../src/llm/registry.js';
import type { LanguageModel } from '../../src/llm/types.js';
import { startFakeMessagesApi } from '../support/fake-messages-api.js';

test('anthropic:<model> builds the Anthropic backend with the given options', async () => {
  const api = await startFakeMessagesApi();
  try {
    api.enqueue({ text: 'from the registry' });
    const model = await createLanguageModel('anthropic:claude-haiku-4-5', { apiKey: 'k', baseURL: api.url });
    assert.ok(model instanceof AnthropicLanguageModel);
    assert.equal(model.id, 'anthropic:claude-haiku-4-5');
    const completion = await model.complete({ system: 's', messages: [{ role: 'user', content: 'u' }] });
    assert.equal(completion.text, 'from the registry');
  } finally {
    await api.close();
  }
});

test('openai-compatible:<model> keeps colons in the model name and needs a base URL', async () => {
  const model = await createLanguageModel('openai-compatible:llama3.1:8b', {
    baseURL: 'http://127.0.0.1:11434/v1',
  });
  assert.ok(model instanceof OpenAICompatibleLanguageModel);
  assert.equal(model.id, 'openai-compatible:llama3.1:8b');
  await assert.rejects(
    createLanguageModel('openai-compatible:llama3.1:8b', {}),
    (error) =>
      error instanceof ConfigError &&
      /llmOptions\.baseURL/.test(error.message) &&
      /MNEME_LLM_BASE_URL/.test(error.message),
  );
});

test('a LanguageModel object passes through; null means no LLM', async () => {
  const custom: LanguageModel = {
    id: 'custom:echo',
    complete: async (options) => ({ text: options.system, usage: { inputTokens: 0, outputTokens: 0 } }),
  };
  assert.equal(await createLanguageModel(custom), custom);
  assert.equal(await createLanguageModel(null), null);
});

test('unknown or incomplete specs -> ConfigError naming option llm and env MNEME_LLM', async () => {
  for (const spec of [
    'gpt-4',
    'openai:gpt-4',
    'anthropic:',
    'anthropic:  ',
    '',
    'constructor:x',
    '__proto__:x',
  ]) {
    await assert.rejects(
      createLanguageModel(spec, { apiKey: 'k', baseURL: 'http://127.0.0.1:1' }),
      (error) =>
        error instanceof ConfigError &&
        error.code === 'llm_unknown' &&
        /`llm`/.test(error.message) &&
        /MNEME_LLM/.test(error.message),
      `spec ${JSON.stringify(spec)}`,
    );
  }
});

test('anthropic without an API key -> ConfigError naming ANTHROPIC_API_KEY', async () => {
  await assert.rejects(
    createLanguageModel('anthropic:claude-haiku-4-5', {}),
    (error) => error instanceof ConfigError && /ANTHROPIC_API_KEY/.test(error.message),
  );
});
