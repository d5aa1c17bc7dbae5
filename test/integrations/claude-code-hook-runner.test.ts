/**
 * The Claude Code plugin's hook calls (`runHook`, what `mneme hook <event>` runs), without the CLI: every call is a
 * fresh hooks instance (as every `mneme hook` is a fresh process) sharing only the session files and the store.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Logger } from '../../src/core/logger.js';
import { injectedTextsIn } from '../../src/integrations/claude-agent-sdk/transcript.js';
import { PLUGIN_CAPTURE_SOURCE, runHook } from '../../src/integrations/claude-code/hook-runner.js';
import { createSessionFiles } from '../../src/integrations/claude-code/session-files.js';
import { resolveAgentScope } from '../../src/memory/config.js';
import type { Memory } from '../../src/memory/memory.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

describe('runHook: one Claude Code hook call of the plugin', () => {
  let dir: string;
  let memory: Memory;
  const logs: Array<{ level: string; message: string }> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => logs.push({ level: 'warn', message }),
    error: (message) => logs.push({ level: 'error', message }),
  };
  let ingestions = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mneme-hook-runner-'));
    ({ memory } = await createMemoryFixture({ ingestion: { background: false } }));
  });
  after(async () => {
    await memory.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (
    event: string,
    input: unknown,
    extra: { deadlineMs?: number; openMemory?: () => Promise<Memory> } = {},
  ) =>
    runHook({
      event,
      input: typeof input === 'string' ? input : JSON.stringify(input),
      openMemory: extra.openMemory ?? (async () => memory),
      scope: { userId: 'alice' },
      sessions: createSessionFiles(join(dir, 'sessions')),
      logger,
      startIngestion: () => {
        ingestions += 1;
      },
      ...(extra.deadlineMs ? { deadlineMs: extra.deadlineMs } : {}),
    });

  test('bad input, an unknown event or a wrong hook_event_name print nothing and log why', async () => {
    logs.length = 0;
    const base = { session_id: 's0', transcript_path: join(dir, 's0.jsonl') };
    assert.equal(await call('session-start', 'not json'), '');
    assert.equal(await call('session-start', '[]'), '');
    assert.equal(await call('nonsense', { ...base, hook_event_name: 'SessionStart' }), '');
    assert.equal(await call('stop', { ...base, hook_event_name: 'SessionStart' }), '');
    assert.equal(await call('stop', { hook_event_name: 'Stop', transcript_path: 'x' }), '');
    assert.equal(await call('user-prompt-submit', { ...base, hook_event_name: 'UserPromptSubmit' }), '');
    const messages = logs.map((line) => line.message).join('\n');
    assert.equal(logs.length, 6, messages);
    assert.ok(logs.every((line) => line.level === 'warn'));
  });

  test('a store that never opens: nothing printed once the deadline passes', async () => {
    logs.length = 0;
    const started = Date.now();
    const output = await call(
      'session-start',
      {
        session_id: 's1',
        transcript_path: join(dir, 's1.jsonl'),
        hook_event_name: 'SessionStart',
        source: 'startup',
      },
      { deadlineMs: 300, openMemory: () => new Promise<Memory>(() => undefined) },
    );
    assert.equal(output, '');
    assert.ok(Date.now() - started < 2000);
    assert.match(logs[0]?.message ?? '', /gave up after 300 ms/);
  });

  test('a session across separate calls: profile at start, relevant memories at a prompt, capture at stop, state gone at end', async () => {
    await memory.add('I always indent with tabs.', { userId: 'alice', infer: false });
    await memory.add('The billing service runs on PostgreSQL 15.', { userId: 'alice', infer: false });
    const transcript = join(dir, 's2.jsonl');
    const base = { session_id: 's2', transcript_path: transcript, cwd: dir };

    const start = JSON.parse(
      await call('session-start', { ...base, hook_event_name: 'SessionStart', source: 'startup' }),
    );
    assert.equal(start.hookSpecificOutput.hookEventName, 'SessionStart');
    assert.deepEqual(injectedTextsIn(start), ['I always indent with tabs.']);

    const prompt = 'Which PostgreSQL version does the billing service use, and how do I indent?';
    const submitted = JSON.parse(
      await call('user-prompt-submit', {
        ...base,
        prompt_id: 'p1',
        hook_event_name: 'UserPromptSubmit',
        prompt,
      }),
    );
    assert.equal(submitted.hookSpecificOutput.hookEventName, 'UserPromptSubmit');
    const given = injectedTextsIn(submitted);
    assert.ok(given.includes('The billing service runs on PostgreSQL 15.'), JSON.stringify(given));
    assert.equal(given.includes('I always indent with tabs.'), false, 'the profile was given twice');

    // The transcript as the CLI writes it (it may lag: the prompt comes from the saved state if missing).
    await appendFile(
      transcript,
      `${JSON.stringify({ type: 'assistant', uuid: 'a1', message: { content: [{ type: 'text', text: 'PostgreSQL 15; tabs.' }] } })}\n`,
    );
    ingestions = 0;
    const stopped = await call('stop', {
      ...base,
      prompt_id: 'p1',
      hook_event_name: 'Stop',
      last_assistant_message: 'PostgreSQL 15; tabs.',
    });
    assert.equal(stopped, '');
    assert.equal(ingestions, 1, 'ingestion was not started after the capture');
    const [item] = await memory.store.claimQueue({
      limit: 5,
      leaseMs: 1000,
      now: '2030-01-01T00:00:00.000Z',
    });
    assert.ok(item, 'the exchange was queued');
    const payload = item.payload as {
      messages: Array<{ role: string; content: string }>;
      options: { metadata: Record<string, unknown> };
    };
    assert.deepEqual(
      payload.messages.map((message) => [message.role, message.content]),
      [
        ['user', prompt],
        ['assistant', 'PostgreSQL 15; tabs.'],
      ],
    );
    assert.equal(payload.options.metadata.source, PLUGIN_CAPTURE_SOURCE);

    // A second Stop with nothing new queues nothing (the saved cursor and capture keys).
    ingestions = 0;
    await call('stop', {
      ...base,
      prompt_id: 'p1',
      hook_event_name: 'Stop',
      last_assistant_message: 'PostgreSQL 15; tabs.',
    });
    assert.equal(ingestions, 0);

    assert.equal((await readdir(join(dir, 'sessions'))).length, 1);
    await call('session-end', { ...base, hook_event_name: 'SessionEnd', reason: 'other' });
    assert.deepEqual(await readdir(join(dir, 'sessions')), [], 'the session state outlived SessionEnd');
  });
});

describe('session files', () => {
  test('round trip, unknown and corrupt sessions read as fresh, prune removes old files only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mneme-session-files-'));
    try {
      const files = createSessionFiles(dir);
      const fresh = await files.load('../../etc/passwd');
      assert.equal(fresh.transcriptOffset, undefined);
      fresh.transcriptOffset = 42;
      fresh.profileGiven = true;
      fresh.injected.add('i use tabs');
      fresh.injectedTexts.push('I use tabs');
      fresh.prompts.set('p1', 'hello');
      fresh.captured.add('abc');
      await files.save('../../etc/passwd', fresh);
      const [name] = await readdir(dir);
      assert.match(name ?? '', /^session-[0-9a-f]{32}\.json$/, 'the id became a path');
      const back = await files.load('../../etc/passwd');
      assert.equal(back.transcriptOffset, 42);
      assert.equal(back.profileGiven, true);
      assert.deepEqual([...back.injected], ['i use tabs']);
      assert.deepEqual(back.injectedTexts, ['I use tabs']);
      assert.equal(back.prompts.get('p1'), 'hello');
      assert.ok(back.captured.has('abc'));
      await writeFile(join(dir, name ?? ''), '{not json');
      assert.equal((await files.load('../../etc/passwd')).transcriptOffset, undefined);
      await files.save('recent', back);
      const old = new Date(Date.now() - 30 * 24 * 3600 * 1000);
      await utimes(join(dir, name ?? ''), old, old);
      assert.equal(await files.prune(14 * 24 * 3600 * 1000), 1);
      assert.equal((await files.load('recent')).transcriptOffset, 42);
      await files.delete('recent');
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveAgentScope', () => {
  test('flags > env > config file > the OS account name; a missing account is a ConfigError naming the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mneme-agent-scope-'));
    try {
      const configFile = join(dir, 'mneme.config.json');
      await writeFile(configFile, JSON.stringify({ user: 'from-file', app: 'file-app' }));
      const accountName = () => 'account';
      assert.deepEqual(resolveAgentScope({ env: {}, accountName }), { userId: 'account' });
      assert.deepEqual(resolveAgentScope({ env: {}, configFile, accountName }), {
        userId: 'from-file',
        appId: 'file-app',
      });
      assert.deepEqual(
        resolveAgentScope({ env: { MNEME_USER: 'env-user', MNEME_AGENT: 'cc' }, configFile, accountName }),
        {
          userId: 'env-user',
          agentId: 'cc',
          appId: 'file-app',
        },
      );
      assert.deepEqual(resolveAgentScope({ userId: 'flag', env: { MNEME_USER: 'env-user' }, accountName }), {
        userId: 'flag',
      });
      assert.throws(
        () =>
          resolveAgentScope({
            env: { MNEME_USER: ' ' },
            accountName: () => {
              throw new Error('no passwd entry');
            },
          }),
        /no user: pass --user U, or set env MNEME_USER/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
