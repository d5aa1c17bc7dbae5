/**
 * End to end with the real Claude Agent SDK and its bundled CLI, for every session store: process 1 (this test
 * process) runs a session with `sessionStore` set and an empty CLAUDE_CONFIG_DIR; process 2 (a separate OS
 * process, fixtures/sdk-resume.ts), with a different empty config dir, resumes it by id, and the fake Messages API
 * must receive the whole earlier conversation. One fake server serves every run; process 1 runs the stores in
 * sequence, then one process 2 resumes them all in sequence (one Node start instead of five); each store's test
 * then checks its own results.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getSessionMessages, listSessions, query } from '@anthropic-ai/claude-agent-sdk';
import { createSessionStore } from '../../src/sessions/index.js';
import { createAgentSdkEnv } from '../support/agent-sdk-env.js';
import {
  type FakeMessagesApi,
  type RecordedRequest,
  startFakeMessagesApi,
} from '../support/fake-messages-api.js';
import { processOutput } from '../support/process.js';
import { type LocalS3, startLocalS3 } from '../support/s3-server.js';
import { postgresScratch, redisScratch } from '../support/session-backends.js';
import type { ResumePlan, ResumeReport } from './fixtures/sdk-resume.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const resumeScript = join(here, 'fixtures', 'sdk-resume.ts');
const SECOND_PROMPT = 'Which word did I ask you to remember?';

interface StoreCase {
  name: string;
  /** Undefined when the store is skipped. */
  url?: string;
  skip?: string;
  cleanup?: () => Promise<void>;
}

/** What process 1 did for one store. */
interface FirstRun {
  word: string;
  firstPrompt: string;
  cwd: string;
  sessionId: string;
}

let api: FakeMessagesApi;
let work: string;
let s3: LocalS3 | undefined;
let cases: StoreCase[] = [];
const firstRuns = new Map<string, FirstRun | Error>();
const reports = new Map<string, ResumeReport>();
let resumeRequestsFrom = 0;

/** The fake model: acknowledges a word to remember, and answers the recall question. */
function reply(request: RecordedRequest) {
  if (request.rawBody.includes(SECOND_PROMPT)) return { text: 'Recalled.' };
  const word = /remember the word (\w+)/.exec(request.rawBody)?.[1];
  return { text: word === undefined ? 'ok' : `Noted, I will remember ${word}.` };
}

/** Process 1 for one store: runs a session into it and checks the SDK's own readers find it there. */
async function runFirst(storeUrl: string): Promise<FirstRun> {
  const word = `PINEAPPLE${randomUUID().slice(0, 8).toUpperCase()}`;
  const firstPrompt = `Please remember the word ${word} for later.`;
  const cwd = await mkdtemp(join(work, 'project-'));
  const sandbox = await createAgentSdkEnv({ baseURL: api.url, prefix: 'mneme-session-1-' });
  const store = createSessionStore(storeUrl);
  try {
    let sessionId = '';
    for await (const message of query({
      prompt: firstPrompt,
      options: {
        env: sandbox.env,
        cwd,
        sessionStore: store,
        model: 'claude-fake-model',
        maxTurns: 1,
        settingSources: [],
      },
    })) {
      if (message.type === 'result') {
        sessionId = message.session_id;
        assert.equal(message.subtype, 'success');
      }
    }
    assert.ok(sessionId !== '', 'process 1 reported a session id');
    const infos = await listSessions({ dir: cwd, sessionStore: store });
    assert.deepEqual(
      infos.map((info) => info.sessionId),
      [sessionId],
      'listSessions({ sessionStore }) finds the session',
    );
    assert.equal(infos[0]?.firstPrompt, firstPrompt, 'the summary holds the first prompt');
    const messages = await getSessionMessages(sessionId, { dir: cwd, sessionStore: store });
    assert.ok(
      JSON.stringify(messages).includes(`Noted, I will remember ${word}.`),
      'the reply is in the store',
    );
    return { word, firstPrompt, cwd, sessionId };
  } finally {
    await store.close();
    await sandbox.cleanup();
  }
}

/** Process 2: one child process resuming every plan in order; resolves with its reports. */
async function runResumes(plans: ResumePlan[]): Promise<ResumeReport[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', resumeScript, JSON.stringify(plans)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const { code, stdout, stderr } = await processOutput(child).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`resume process exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
  const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
  return lines.map((line) => JSON.parse(line) as ResumeReport);
}

/** The user and assistant texts of a Messages API request, in order (tool blocks and reminders left out). */
function conversation(request: RecordedRequest): Array<{ role: string; text: string }> {
  const messages = (request.body as { messages?: Array<{ role: string; content: unknown }> }).messages ?? [];
  return messages.flatMap((message) => {
    const blocks =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (!Array.isArray(blocks)) return [];
    return blocks
      .filter(
        (block): block is { type: string; text: string } =>
          block?.type === 'text' && typeof block.text === 'string',
      )
      .filter((block) => !block.text.startsWith('<system-reminder>'))
      .map((block) => ({ role: message.role, text: block.text }));
  });
}

before(async () => {
  api = await startFakeMessagesApi({ handler: reply });
  work = await mkdtemp(join(tmpdir(), 'mneme-resume-e2e-'));
  s3 = await startLocalS3();
  // The S3 store reads credentials from the AWS chain in both processes, as in production.
  Object.assign(process.env, s3.env);
  const redisUrl = process.env.MNEME_TEST_REDIS_URL;
  const postgresUrl = process.env.MNEME_TEST_POSTGRES_URL;
  cases = [
    { name: 'file', url: pathToFileURL(join(work, 'file-store')).href },
    { name: 'sqlite', url: `sqlite://${join(work, 'sessions.db')}` },
    redisUrl === undefined
      ? {
          name: 'redis',
          skip: 'MNEME_TEST_REDIS_URL not set: set it to a Redis 7 URL, e.g. redis://127.0.0.1:6379/0',
        }
      : { name: 'redis', ...redisScratch(redisUrl, 'mneme-e2e') },
    postgresUrl === undefined
      ? { name: 'postgres', skip: 'MNEME_TEST_POSTGRES_URL not set: set it to a PostgreSQL URL' }
      : { name: 'postgres', ...postgresScratch(postgresUrl, 'mneme_e2e_sessions') },
    { name: 's3', url: s3.url(`e2e/${randomUUID()}`) },
  ];

  const plans: ResumePlan[] = [];
  for (const storeCase of cases) {
    if (storeCase.url === undefined) continue;
    try {
      const first = await runFirst(storeCase.url);
      firstRuns.set(storeCase.name, first);
      plans.push({
        name: storeCase.name,
        storeUrl: storeCase.url,
        baseURL: api.url,
        cwd: first.cwd,
        sessionId: first.sessionId,
        prompt: SECOND_PROMPT,
      });
    } catch (error) {
      firstRuns.set(storeCase.name, error instanceof Error ? error : new Error(String(error)));
    }
  }
  resumeRequestsFrom = api.messageRequests().length;
  for (const report of await runResumes(plans)) reports.set(report.name, report);
});

after(async () => {
  for (const storeCase of cases) await storeCase.cleanup?.();
  await api?.close();
  await s3?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('resume across processes with the real Claude Agent SDK', () => {
  for (const name of ['file', 'sqlite', 'redis', 'postgres', 's3']) {
    test(`${name} store`, async (t) => {
      const storeCase = cases.find((each) => each.name === name);
      if (storeCase?.url === undefined) {
        t.skip(storeCase?.skip ?? 'not configured');
        return;
      }
      const first = firstRuns.get(name);
      if (first instanceof Error) throw first;
      assert.ok(first !== undefined, 'process 1 ran');
      const report = reports.get(name);
      assert.ok(report !== undefined, 'process 2 reported');
      assert.equal(report.error, undefined, `process 2 failed: ${report.error}`);
      assert.equal(report.configDirWasEmpty, true);
      assert.equal(report.sessionId, first.sessionId, 'resume keeps the session id');
      assert.equal(report.result, 'Recalled.');

      const sent = api
        .messageRequests()
        .slice(resumeRequestsFrom)
        .find((request) => request.rawBody.includes(SECOND_PROMPT) && request.rawBody.includes(first.word));
      assert.ok(sent !== undefined, 'process 2 called the model with this session');
      const turns = conversation(sent);
      const firstAt = turns.findIndex(
        (turn) => turn.role === 'user' && turn.text.includes(first.firstPrompt),
      );
      const replyAt = turns.findIndex(
        (turn) => turn.role === 'assistant' && turn.text === `Noted, I will remember ${first.word}.`,
      );
      const secondAt = turns.findIndex((turn) => turn.role === 'user' && turn.text.includes(SECOND_PROMPT));
      assert.ok(firstAt !== -1, `the earlier prompt reached the model: ${JSON.stringify(turns)}`);
      assert.ok(replyAt > firstAt, 'then the earlier reply');
      assert.ok(secondAt > replyAt, 'then the new prompt');

      // Process 2 mirrored its own turn into the same session.
      const check = createSessionStore(storeCase.url);
      try {
        const text = JSON.stringify(
          await getSessionMessages(first.sessionId, { dir: first.cwd, sessionStore: check }),
        );
        assert.ok(
          text.includes(first.firstPrompt) && text.includes(SECOND_PROMPT) && text.includes('Recalled.'),
        );
      } finally {
        await check.close();
      }
    });
  }
});
