/**
 * End to end: the mneme Claude Code plugin in the REAL Claude Code CLI (the one shipped inside
 * `@anthropic-ai/claude-agent-sdk`), run as separate OS processes against the fake Messages API, offline.
 *
 * The plugin is installed the way the README says, with one command (`claude plugin install mneme --marketplace
 * <this repository>`), which enables it in the sandbox's user settings; its hooks then call `mneme hook ...` from
 * PATH (a temp bin dir linking bin/mneme.js) on a real SQLite store file with the real local embedder.
 *
 * Session 1 (process 1): alice states a preference, with a `<private>` aside; Stop captures it into the queue and
 * the detached `mneme hook ingest` stores it. Session 2 (process 2): a new session for alice receives, in the
 * request the fake model sees, the preference in mneme's delimited block (SessionStart profile), and never the
 * private text. Session 3: bob, on the same store, receives nothing of alice's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { injectedTextsIn } from '../../src/integrations/claude-agent-sdk/transcript.js';
import { createMemory } from '../../src/memory/memory.js';
import { type AgentSdkEnv, createAgentSdkEnv } from '../support/agent-sdk-env.js';
import { MNEME_BIN } from '../support/cli.js';
import {
  type FakeMessagesApi,
  type RecordedRequest,
  startFakeMessagesApi,
} from '../support/fake-messages-api.js';
import { type ProcessOutput, processOutput } from '../support/process.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREFERENCE = 'For the record: I always indent with tabs, never spaces.';
const PRIVATE = 'My therapist is Dr. Quill on Tuesdays.';
const SESSION_1_PROMPT = `${PREFERENCE} <private>${PRIVATE}</private>`;
const SESSION_2_PROMPT = 'Set up the new billing module for me.';

function claudeBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const path = join(
      dirname(require.resolve('@anthropic-ai/claude-agent-sdk-linux-x64/package.json')),
      'claude',
    );
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const CLAUDE = claudeBinary();
const skip = CLAUDE
  ? false
  : 'the Claude Code CLI (@anthropic-ai/claude-agent-sdk-linux-x64, a devDependency) is not installed';

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<ProcessOutput> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return processOutput(child).finally(() => clearTimeout(timer));
}

/** The requests of one session (by the prompt the session was given). */
function requestsWith(api: FakeMessagesApi, text: string): RecordedRequest[] {
  return api.messageRequests().filter((request) => request.rawBody.includes(text));
}

describe('Claude Code plugin end to end (real Claude Code CLI, fake model, SQLite file)', { skip }, () => {
  let api: FakeMessagesApi;
  let sandbox: AgentSdkEnv;
  let env: Record<string, string>;
  let storeFile: string;

  const claude = async (prompt: string, user: string) => {
    const result = await run(
      CLAUDE ?? 'claude',
      ['-p', prompt, '--output-format', 'json'],
      { ...env, MNEME_USER: user },
      sandbox.cwd,
    );
    assert.equal(
      result.code,
      0,
      `claude exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
      subtype?: string;
      result?: string;
    };
    assert.equal(report.subtype, 'success', result.stdout);
    return report;
  };

  /** The plugin's hook log (in the plugin data dir Claude Code gives it), as JSON lines. */
  const hookLog = async (): Promise<Array<Record<string, unknown>>> => {
    const dataDir = join(sandbox.configDir, 'plugins', 'data');
    const lines: Array<Record<string, unknown>> = [];
    for (const name of existsSync(dataDir) ? await readdir(dataDir) : []) {
      const file = join(dataDir, name, 'hooks.log');
      if (!existsSync(file)) continue;
      for (const line of (await readFile(file, 'utf8')).split('\n')) if (line) lines.push(JSON.parse(line));
    }
    return lines;
  };

  before(async () => {
    api = await startFakeMessagesApi({
      handler: (request) =>
        request.rawBody.includes(SESSION_2_PROMPT)
          ? { text: 'Tabs it is, for the billing module.' }
          : { text: 'Noted.' },
    });
    sandbox = await createAgentSdkEnv({ baseURL: api.url, prefix: 'mneme-plugin-e2e-' });
    const bin = join(sandbox.dir, 'bin');
    await mkdir(bin);
    await symlink(MNEME_BIN, join(bin, 'mneme'));
    storeFile = join(sandbox.dir, 'memory.db');
    env = {
      ...sandbox.env,
      PATH: `${bin}:${sandbox.env.PATH}`,
      MNEME_STORE: `sqlite://${storeFile}`,
      MNEME_LLM: 'none',
      MNEME_LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    await sandbox?.cleanup();
    await api?.close();
  });

  test('installing the plugin takes one command', async () => {
    const installed = await run(
      CLAUDE ?? 'claude',
      ['plugin', 'install', 'mneme', '--marketplace', repoRoot],
      env,
      sandbox.cwd,
    );
    assert.equal(installed.code, 0, `${installed.stdout}\n${installed.stderr}`);
    const settings = JSON.parse(await readFile(join(sandbox.configDir, 'settings.json'), 'utf8')) as {
      enabledPlugins?: Record<string, boolean>;
    };
    assert.deepEqual(settings.enabledPlugins, { 'mneme@mneme': true });
  });

  test('session 1 (process 1): the hooks run, Stop captures what alice said, and it is ingested', async () => {
    const report = await claude(SESSION_1_PROMPT, 'alice');
    assert.equal(report.result, 'Noted.');
    const [first] = requestsWith(api, PREFERENCE);
    assert.ok(first, 'the fake model saw session 1');
    // The plugin's MCP server (`mneme mcp`) is offered to the model too.
    const mentions = [...new Set(first.rawBody.match(/mcp__[A-Za-z0-9_-]*search_memory/g) ?? [])];
    console.log(`# MCP tool names seen: ${JSON.stringify(mentions)}`);
    assert.ok(mentions.length > 0, 'the model was not told of the mneme MCP tools');
    // Ingestion runs in a detached `mneme hook ingest`: wait for it (the user would not notice).
    const memory = await createMemory({
      store: `sqlite://${storeFile}`,
      llm: null,
      env: {},
      ingestion: { background: false },
    });
    try {
      let texts: string[] = [];
      for (let attempt = 0; attempt < 120; attempt += 1) {
        texts = (await memory.list({ userId: 'alice', limit: 50 })).results.map((item) => item.memory);
        if (texts.length > 0 && (await memory.store.queueSize()) === 0) break;
        await new Promise((done) => setTimeout(done, 500));
      }
      assert.ok(
        texts.some((text) => text.includes('I always indent with tabs, never spaces.')),
        `not stored: ${JSON.stringify(texts)}`,
      );
      assert.ok(
        texts.every((text) => !text.includes('Quill') && !text.includes('Noted')),
        `private or assistant text stored: ${JSON.stringify(texts)}`,
      );
      const exported: unknown[] = [];
      for await (const item of memory.exportMemories({ userId: 'alice' })) exported.push(item);
      assert.equal(JSON.stringify(exported).includes('Quill'), false, 'private text in the history');
    } finally {
      await memory.close();
    }
    assert.deepEqual(
      (await hookLog()).filter((line) => line.level !== 'info' && line.level !== 'debug'),
      [],
      'the hooks logged failures',
    );
  });

  test('session 2 (process 2): a new session for alice is given what session 1 learned, and nothing private', async () => {
    const report = await claude(SESSION_2_PROMPT, 'alice');
    assert.equal(report.result, 'Tabs it is, for the billing module.');
    const requests = requestsWith(api, SESSION_2_PROMPT);
    const [request] = requests;
    assert.ok(request, 'the fake model saw session 2');
    const injected = injectedTextsIn(request.body);
    assert.ok(
      injected.some((text) => text.includes('I always indent with tabs, never spaces.')),
      `session 2 was not given the preference: ${JSON.stringify(injected)}`,
    );
    // The block is data, inside its delimiters, as the SessionStart hook's context.
    assert.match(
      request.rawBody,
      /<mneme-memories>[\s\S]*I always indent with tabs[\s\S]*<\/mneme-memories>/,
    );
    assert.equal(request.rawBody.includes('Quill'), false, 'private text reached the model');
    // Injected once: the UserPromptSubmit hook (a separate process) knew SessionStart had given it.
    assert.equal(
      injected.filter((text) => text.includes('indent with tabs')).length,
      1,
      JSON.stringify(injected),
    );
  });

  test("session 3: bob, on the same store, is given nothing of alice's", async () => {
    await claude('Set up the new search module.', 'bob');
    const [request] = requestsWith(api, 'Set up the new search module.');
    assert.ok(request);
    assert.deepEqual(injectedTextsIn(request.body), []);
    assert.equal(request.rawBody.includes('indent with tabs'), false);
  });
});
