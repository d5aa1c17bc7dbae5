import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { defaultDataDir, resolveConfig } from '../../src/memory/config.js';

test('defaults: SQLite in the per-user data dir, local embedder, no LLM without a key', () => {
  const config = resolveConfig({ env: { HOME: '/home/u' } });
  assert.equal(config.store, 'sqlite:///home/u/.local/share/mneme/mneme.db');
  assert.equal(config.embedder, 'local');
  assert.equal(config.llm, null);
  assert.equal(config.logLevel, 'warn');
  assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x' }, 'linux'), '/x/mneme');
  assert.equal(defaultDataDir({ HOME: '/Users/u' }, 'darwin'), '/Users/u/Library/Application Support/mneme');
  assert.equal(defaultDataDir({ MNEME_HOME: '/srv/m', HOME: '/h' }), '/srv/m');
});

test('precedence: explicit > env > config file > default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mneme-config-'));
  const file = join(dir, 'mneme.config.json');
  writeFileSync(
    file,
    JSON.stringify({ store: 'sqlite://file.db', embedder: 'openai-compatible:file', logLevel: 'info' }),
  );
  const fromFile = resolveConfig({ env: { MNEME_CONFIG: file } });
  assert.equal(fromFile.store, 'sqlite://file.db');
  assert.equal(fromFile.logLevel, 'info');
  const fromEnv = resolveConfig({
    env: { MNEME_CONFIG: file, MNEME_STORE: 'sqlite://env.db', MNEME_LOG_LEVEL: 'error' },
  });
  assert.equal(fromEnv.store, 'sqlite://env.db');
  assert.equal(fromEnv.logLevel, 'error');
  const explicit = resolveConfig({
    store: 'memory://',
    env: { MNEME_CONFIG: file, MNEME_STORE: 'sqlite://env.db' },
  });
  assert.equal(explicit.store, 'memory://');
});

test('Anthropic is the default LLM when ANTHROPIC_API_KEY is set; null or MNEME_LLM=none forces no LLM', () => {
  const withKey = resolveConfig({
    env: { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' },
  });
  assert.equal(withKey.llm, 'anthropic:claude-haiku-4-5');
  assert.equal(withKey.llmOptions.apiKey, 'sk-test');
  assert.equal(withKey.llmOptions.baseURL, 'http://127.0.0.1:1');
  assert.equal(resolveConfig({ llm: null, env: { ANTHROPIC_API_KEY: 'k' } }).llm, null);
  assert.equal(resolveConfig({ env: { ANTHROPIC_API_KEY: 'k', MNEME_LLM: 'none' } }).llm, null);
  assert.equal(
    resolveConfig({ env: { MNEME_LLM: 'openai-compatible:llama3', MNEME_LLM_BASE_URL: 'http://x' } })
      .llmOptions.baseURL,
    'http://x',
  );
});

test('bad settings name the option and env var', () => {
  assert.throws(
    () => resolveConfig({ env: { MNEME_LOG_LEVEL: 'loud' } }),
    (error: unknown) => error instanceof ConfigError && /MNEME_LOG_LEVEL/.test(error.message),
  );
  assert.throws(
    () => resolveConfig({ env: { MNEME_EMBEDDER_DIMENSION: 'big' } }),
    /MNEME_EMBEDDER_DIMENSION/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'mneme-config-'));
  const file = join(dir, 'broken.json');
  writeFileSync(file, '{ not json');
  assert.throws(() => resolveConfig({ env: { MNEME_CONFIG: file } }), /MNEME_CONFIG|JSON object/);
});
