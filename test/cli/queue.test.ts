/**
 * Dead letters end to end: the real ingestion worker dead-letters items whose embedder is down (maxAttempts 1),
 * then the built `mneme` bin, spawned as users run it, reports them (`doctor`), lists them (`queue list`),
 * retries one back into the queue and drops the other (`queue retry`, `queue drop`), on the same SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DoctorCheck } from '../../src/cli/commands/doctor.js';
import { createMemory } from '../../src/memory/memory.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import type { DeadLetter } from '../../src/stores/types.js';
import { runMneme } from '../support/cli.js';
import { type FakeOpenAIApi, startFakeOpenAIApi } from '../support/fake-openai-api.js';

let api: FakeOpenAIApi;
let dir: string;
let url: string;
const queued: string[] = [];

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function env(): Record<string, string> {
  return {
    MNEME_STORE: url,
    MNEME_EMBEDDER: 'openai-compatible:fake-embedding',
    MNEME_EMBEDDER_BASE_URL: api.baseURL,
    MNEME_EMBEDDER_API_KEY: 'test',
    MNEME_EMBEDDER_DIMENSION: '64',
    MNEME_LLM: 'none',
    MNEME_LOG_LEVEL: 'silent',
  };
}

async function deadLettersInFile(): Promise<DeadLetter[]> {
  const store = createSqliteStore({ path: join(dir, 'mneme.db') });
  try {
    await store.open({ embedder: { id: 'openai-compatible:fake-embedding', dimension: 64 } });
    return await store.listDeadLetters({ limit: 10 });
  } finally {
    await store.close();
  }
}

before(async () => {
  api = await startFakeOpenAIApi({ dimension: 64 });
  dir = mkdtempSync(join(tmpdir(), 'mneme-queue-'));
  url = `sqlite://${join(dir, 'mneme.db')}`;
  const memory = await createMemory({
    store: url,
    embedder: 'openai-compatible:fake-embedding',
    embedderOptions: {
      baseURL: `http://127.0.0.1:${await closedPort()}/v1`,
      apiKey: 'test',
      dimension: 64,
    },
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false, maxAttempts: 1 },
  });
  try {
    for (const text of ['I moved to Lyon in May', 'My sister is called Ines']) {
      queued.push((await memory.enqueue(text, { userId: 'alice' })).queueItemId);
    }
    const drained = await memory.flush();
    assert.equal(drained.failed, 2, 'both items failed (the embedder is down)');
  } finally {
    await memory.close();
  }
});

after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mneme queue and doctor on dead letters (spawned bin, real SQLite file)', () => {
  test('the worker kept both failed items as dead letters with their error', async () => {
    const letters = await deadLettersInFile();
    assert.deepEqual(letters.map((letter) => letter.id).sort(), [...queued].sort());
    for (const letter of letters) {
      assert.match(letter.error, /^failed 1 times: /);
      assert.deepEqual(letter.scope, { userId: 'alice' });
    }
  });

  test('doctor warns with the count and names `mneme queue`', async () => {
    const run = await runMneme(['doctor', '--json'], env());
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const report = JSON.parse(run.stdout) as { checks: DoctorCheck[] };
    const check = report.checks.find((item) => item.name === 'dead letters');
    assert.equal(check?.status, 'warn', JSON.stringify(report.checks));
    assert.match(check?.message ?? '', /^2 items failed past their retries/);
    assert.match(check?.fix ?? '', /mneme queue list/);
  });

  test('queue list shows both; retry requeues one, drop deletes the other; unknown ids exit 1', async () => {
    const listed = await runMneme(['queue', 'list', '--json'], env());
    assert.equal(listed.code, 0, listed.stderr);
    const body = JSON.parse(listed.stdout) as { queued: number; deadLetters: number; items: DeadLetter[] };
    assert.equal(body.deadLetters, 2);
    assert.equal(body.queued, 0);
    assert.deepEqual(body.items.map((item) => item.id).sort(), [...queued].sort());
    const [first, second] = body.items;
    assert.ok(first && second);
    assert.deepEqual((first.payload as { messages: unknown[] }).messages.length, 1, 'the payload is kept');

    const text = await runMneme(['queue', 'list'], env());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^0 items queued; 2 dead letters$/m);
    assert.match(text.stdout, new RegExp(`^${first.id}  .*\\[user=alice\\]  failed 1 times: `, 'm'));

    const retried = await runMneme(['queue', 'retry', first.id], env());
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^requeued 1 dead letter$/m);
    const dropped = await runMneme(['queue', 'drop', second.id, '--json'], env());
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.deepEqual(JSON.parse(dropped.stdout), { dropped: 1, notFound: [] });
    assert.deepEqual(await deadLettersInFile(), []);

    const again = await runMneme(['queue', 'drop', second.id], env());
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`no dead letter ${second.id}`));
    const usage = await runMneme(['queue', 'retry'], env());
    assert.equal(usage.code, 2, usage.stderr);

    const doctor = await runMneme(['doctor', '--json'], env());
    const checks = (JSON.parse(doctor.stdout) as { checks: DoctorCheck[] }).checks;
    assert.equal(checks.find((item) => item.name === 'dead letters')?.status, 'ok');
  });
});
