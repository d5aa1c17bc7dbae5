/**
 * End to end: the real Claude Agent SDK and its bundled CLI, run by separate OS processes
 * (fixtures/agent-session.ts) against the fake Messages API, with `withMemory` on a real SQLite store file and the
 * real local embedder. The fake model scripts replies (text, memory tool calls, a subagent call) and records every
 * request, so the test sees exactly what the model was sent.
 *
 * Monday (process 1): alice states a preference; the agent calls remember, recall and a subagent; Stop captures
 * what alice said (never the assistant's or the subagent's text). Tuesday (process 2): a new session for alice
 * receives the preference in the profile section of its injected context, even though the prompt does not mention
 * it; bob's session in the same store does not. Embedder down (process 3): the run completes, the capture
 * stays queued, and a later process (this one) ingests it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { injectedTextsIn } from '../../src/integrations/claude-agent-sdk/transcript.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { type AgentSdkEnv, createAgentSdkEnv } from '../support/agent-sdk-env.js';
import {
  type FakeMessagesApi,
  type RecordedRequest,
  startFakeMessagesApi,
} from '../support/fake-messages-api.js';
import {
  type AgentSessionPlan,
  type AgentSessionReport,
  RESEARCHER_MARKER,
} from './fixtures/agent-session-plan.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const fixture = join(here, 'fixtures', 'agent-session.ts');

const MONDAY_PROMPT = 'For the record: I always indent with tabs, never spaces.';
const PREFERENCE = MONDAY_PROMPT;
const REMEMBERED = 'Alice deploys on Thursdays';

/** Scripts the fake model: which reply each request gets depends on what the conversation holds. */
function reply(request: RecordedRequest) {
  const raw = request.rawBody;
  if (raw.includes(RESEARCHER_MARKER)) {
    return { text: 'The CI provider is Buildkite, configured in .buildkite/pipeline.yml.' };
  }
  if (raw.includes(MONDAY_PROMPT)) {
    if (raw.includes('toolu_e2e_agent'))
      return { text: 'Noted: tabs, Thursday deploys, and Buildkite for CI.' };
    if (raw.includes('toolu_e2e_recall')) {
      return {
        toolUses: [
          {
            id: 'toolu_e2e_agent',
            name: 'Agent',
            input: {
              description: 'Find the CI provider',
              prompt: 'Which CI provider does this project use?',
              subagent_type: 'researcher',
              run_in_background: false,
            },
          },
        ],
      };
    }
    if (raw.includes('toolu_e2e_remember')) {
      return {
        toolUses: [
          {
            id: 'toolu_e2e_recall',
            name: 'mcp__memory__recall',
            input: { query: 'When does Alice deploy?' },
          },
        ],
      };
    }
    return {
      text: 'Let me write that down.',
      toolUses: [{ id: 'toolu_e2e_remember', name: 'mcp__memory__remember', input: { text: REMEMBERED } }],
    };
  }
  if (raw.includes('new billing module')) return { text: 'Use tabs for the billing module.' };
  if (raw.includes('new search module')) return { text: 'Follow the project style for the search module.' };
  if (raw.includes('my editor is Helix')) return { text: 'Helix, noted.' };
  return { text: 'ok' };
}

function runProcess(plan: AgentSessionPlan): Promise<AgentSessionReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(plan)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`agent process exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolvePromise(JSON.parse(last) as AgentSessionReport);
    });
  });
}

/** The text of the tool_result block answering `toolUseId` in a recorded request, if any. */
function toolResultText(request: RecordedRequest, toolUseId: string): string | undefined {
  const messages = (request.body as { messages?: Array<{ content: unknown }> }).messages ?? [];
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content as Array<Record<string, unknown>>) {
      if (block.type !== 'tool_result' || block.tool_use_id !== toolUseId) continue;
      const content = block.content;
      if (typeof content === 'string') return content;
      if (Array.isArray(content)) {
        return (content as Array<{ text?: unknown }>)
          .map((item) => (typeof item.text === 'string' ? item.text : ''))
          .join('');
      }
    }
  }
  return undefined;
}

describe('Claude Agent SDK integration end to end (real SDK and CLI, fake model, SQLite file)', () => {
  let api: FakeMessagesApi;
  let sandbox: AgentSdkEnv;
  let dir: string;
  let storeUrl: string;

  before(async () => {
    api = await startFakeMessagesApi({ handler: reply });
    sandbox = await createAgentSdkEnv({ baseURL: api.url, prefix: 'mneme-sdk-e2e-' });
    dir = await mkdtemp(join(tmpdir(), 'mneme-sdk-e2e-store-'));
    storeUrl = `sqlite://${join(dir, 'memory.db')}`;
  });
  after(async () => {
    await sandbox?.cleanup();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function withStore<T>(run: (memory: Memory) => Promise<T>): Promise<T> {
    const memory = await createMemory({
      store: storeUrl,
      embedder: 'local',
      llm: null,
      env: {},
      ingestion: { background: false },
    });
    try {
      return await run(memory);
    } finally {
      await memory.close();
    }
  }

  const plan = (
    sessions: AgentSessionPlan['sessions'],
    extra: Partial<AgentSessionPlan> = {},
  ): AgentSessionPlan => ({
    storeUrl,
    env: sandbox.env,
    cwd: sandbox.cwd,
    sessions,
    ...extra,
  });

  test('Monday (process 1): memory tools round-trip, a subagent runs, Stop captures only what the user said', async () => {
    const report = await runProcess(
      plan([{ userId: 'alice', prompt: MONDAY_PROMPT, researcher: true, claudeCodePreset: true }]),
    );
    const session = report.sessions[0];
    assert.ok(session, JSON.stringify(report));
    assert.equal(session.subtype, 'success', JSON.stringify(report));
    console.log(`# process 1 timings (ms): ${JSON.stringify(report.timings)}`);
    assert.equal(session.result, 'Noted: tabs, Thursday deploys, and Buildkite for CI.');
    // The caller gave no allowedTools; without ours the CLI denies MCP tools in its default permission mode.
    assert.deepEqual(session.permissionDenials, []);
    assert.ok(session.callerStopTranscript, 'the caller’s own Stop hook ran next to ours');
    // The background worker usually ingests before the fixture's flush does: what matters is that nothing is left.
    assert.equal(report.drained.failed, 0);
    assert.equal(report.drained.pending, 0, 'captures left in the queue');
    assert.deepEqual(
      report.logs.filter((line) => line.level !== 'info'),
      [],
    );

    const main = api.messageRequests().filter((request) => request.rawBody.includes(MONDAY_PROMPT));
    const first = main[0];
    assert.ok(first);
    const body = first.body as { system?: unknown; tools?: Array<{ name: string }> };
    const toolNames = (body.tools ?? []).map((item) => item.name);
    for (const name of ['mcp__memory__recall', 'mcp__memory__remember', 'mcp__memory__forget', 'Read']) {
      assert.ok(toolNames.includes(name), `${name} missing from ${toolNames.join(',')}`);
    }
    assert.ok(
      !JSON.stringify(body.system).includes('persistent file-based memory'),
      'Claude Code’s auto memory is still on',
    );

    const afterRemember = main.find((request) => toolResultText(request, 'toolu_e2e_remember') !== undefined);
    assert.ok(afterRemember, 'the model never saw the remember result');
    const stored = toolResultText(afterRemember, 'toolu_e2e_remember') ?? '';
    const id = /^Stored: id=([0-9a-f-]{36}) "Alice deploys on Thursdays"$/.exec(stored)?.[1];
    assert.ok(id, stored);
    const afterRecall = main.find((request) => toolResultText(request, 'toolu_e2e_recall') !== undefined);
    assert.ok(afterRecall, 'the model never saw the recall result');
    assert.match(
      toolResultText(afterRecall, 'toolu_e2e_recall') ?? '',
      new RegExp(`id=${id} .*"${REMEMBERED}"`),
    );

    await withStore(async (memory) => {
      const { results } = await memory.list({ userId: 'alice', limit: 100 });
      const byText = new Map(results.map((record) => [record.memory, record]));
      const preference = byText.get(PREFERENCE);
      assert.ok(preference, `captured: ${results.map((record) => record.memory).join(' | ')}`);
      assert.equal(preference.role, 'user');
      assert.equal(preference.agentId, undefined);
      assert.equal(preference.metadata.hookEvent, 'Stop');
      assert.equal(preference.metadata.sessionId, session.sessionId);
      assert.equal(preference.kind, 'preference');
      assert.equal(byText.get(REMEMBERED)?.id, id);
      // Assistant text and subagent findings are not memories about the user.
      assert.ok(!results.some((record) => record.role === 'assistant'), 'assistant text was stored');
      assert.ok(
        !results.some((record) => record.memory.includes('Buildkite')),
        'the subagent’s finding was stored as a memory about alice',
      );
      assert.ok(
        !results.some((record) => record.memory.includes('stored memories about')),
        'a tool result was stored',
      );
    });
  });

  test('Tuesday (process 2): alice’s new session gets her preference injected; bob’s does not', async () => {
    const before = api.messageRequests().length;
    const report = await runProcess(
      plan([
        { userId: 'alice', prompt: 'How should I indent the new billing module?', perUserSessions: true },
        { userId: 'bob', prompt: 'How should I indent the new search module?', perUserSessions: true },
      ]),
    );
    console.log(`# process 2 timings (ms): ${JSON.stringify(report.timings)}`);
    const [alice, bob] = report.sessions;
    assert.equal(alice?.subtype, 'success', JSON.stringify(report));
    assert.equal(bob?.subtype, 'success');
    assert.notEqual(alice?.sessionId, bob?.sessionId);
    // Per-user session keys: each user's transcripts live under their own project key.
    assert.match(alice?.callerStopTranscript ?? '', /\/projects\/mneme-user-alice\//);
    assert.match(bob?.callerStopTranscript ?? '', /\/projects\/mneme-user-bob\//);

    const requests = api.messageRequests().slice(before);
    const aliceRequest = requests.find((request) => request.rawBody.includes('new billing module'));
    const bobRequest = requests.find((request) => request.rawBody.includes('new search module'));
    assert.ok(aliceRequest && bobRequest);
    const aliceInjected = injectedTextsIn(aliceRequest.body);
    assert.ok(
      aliceInjected.includes(PREFERENCE),
      `alice was sent: ${JSON.stringify(aliceInjected)}; logs: ${JSON.stringify(report.logs)}`,
    );
    assert.match(aliceRequest.rawBody, /not instructions/);
    assert.ok(aliceRequest.rawBody.includes('Profile (the user'), 'the profile section is missing');
    assert.deepEqual(injectedTextsIn(bobRequest.body), [], 'bob was sent memories');
    assert.ok(!bobRequest.rawBody.includes('indent with tabs'), 'alice’s preference reached bob’s session');
  });

  test('embedder down (process 3): the run completes, the capture stays queued, a later process ingests it', async () => {
    const before = api.messageRequests().length;
    const report = await runProcess(
      plan([{ userId: 'alice', prompt: 'Please remember that my editor is Helix.' }], { failEmbedder: true }),
    );
    console.log(`# process 3 timings (ms): ${JSON.stringify(report.timings)}`);
    const session = report.sessions[0];
    assert.equal(session?.subtype, 'success', JSON.stringify(report));
    assert.equal(session?.result, 'Helix, noted.');
    assert.ok(
      report.logs.some(
        (line) =>
          /UserPromptSubmit hook failed/.test(line.message) && line.fields?.errorName === 'EmbedderError',
      ),
      JSON.stringify(report.logs),
    );
    assert.equal(report.drained.processed, 0);
    assert.equal(report.drained.pending, 1, 'the capture must stay queued');
    assert.ok(
      report.logs.some(
        (line) =>
          line.message === 'ingestion failed; will retry' && line.fields?.errorName === 'EmbedderError',
      ),
      JSON.stringify(report.logs),
    );
    const request = api
      .messageRequests()
      .slice(before)
      .find((item) => item.rawBody.includes('my editor is Helix'));
    assert.ok(request);
    assert.deepEqual(injectedTextsIn(request.body), []);

    // This test process is the "later process": with a working embedder it drains what process 3 queued
    // (after the item's retry delay, 1 s for a first failure).
    await withStore(async (memory) => {
      const missing = await memory.list({ userId: 'alice', limit: 100 });
      assert.ok(!missing.results.some((record) => record.memory.includes('Helix')));
      let processed = 0;
      for (let attempt = 0; attempt < 40 && processed === 0; attempt += 1) {
        processed = (await memory.flush()).processed;
        if (processed === 0) await new Promise((done) => setTimeout(done, 250));
      }
      assert.equal(processed, 1);
      const { results } = await memory.list({ userId: 'alice', limit: 100 });
      assert.ok(results.some((record) => record.memory === 'Please remember that my editor is Helix.'));
    });
  });
});
