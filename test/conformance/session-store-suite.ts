/**
 * The shared conformance suite for the SessionStore seam (src/sessions/types.ts). Every backend runs it from a
 * short test file:
 *
 * ```ts
 * sessionStoreSuite({ name: 'file', capabilities: { multiProcess: true }, makeStore: async () => ({ store, url }) });
 * ```
 *
 * It checks every contract of the seam: null for unknown keys, exact round trips, idempotent append by uuid
 * (retries, overlaps, duplicates inside a batch, across store instances), order of first appearance, entries
 * without uuid, subpath isolation, listSessions and its mtime, summaries folded with the SDK's own
 * `foldSessionSummary` (and read back by the SDK's own `listSessions` / `getSessionMessages`), cascading
 * delete, bad keys (traversal, collisions, empty, too long), a large session (10,000 entries, 5 MB),
 * concurrent appends from one process, and from two OS processes. Each test gets a fresh store from
 * `makeStore`; checks needing a capability the backend lacks are skipped with a printed reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SessionStore as SdkSessionStore } from '@anthropic-ai/claude-agent-sdk';
import {
  foldSessionSummary,
  getSessionMessages,
  deleteSession as sdkDeleteSession,
  listSessions as sdkListSessions,
} from '@anthropic-ai/claude-agent-sdk';
import { StoreError, ValidationError } from '../../src/core/errors.js';
import { MAX_KEY_PART_LENGTH } from '../../src/sessions/keys.js';
import type {
  SessionKey,
  SessionStore,
  SessionStoreCapabilities,
  SessionStoreEntry,
  SessionSummaryEntry,
} from '../../src/sessions/types.js';

/** A store under test plus how to reach its data again and clean up. */
export interface SessionStoreFixture {
  /** A fresh store with no data (its own directory, table, prefix...). */
  store: SessionStore;
  /** A second, independent store instance on the same data (another connection; simulates another process). */
  reopen: () => SessionStore;
  /** A `createSessionStore` URL reaching the same data from a child process (multi-process test). */
  url?: string;
  /** Extra environment for child processes (e.g. S3 credentials). */
  env?: Record<string, string>;
  /** Asserts that nothing was written outside the store's own storage (file-based backends). */
  assertContained?: () => Promise<void>;
  /**
   * The same backend reached through other spellings of its location (an S3 prefix ending in `/`, a file root
   * URL ending in `/`...): the listing sequences run on each too. Each call returns a fresh store on storage
   * that `cleanup` removes.
   */
  variants?: Array<{ label: string; open: () => SessionStore }>;
  /** Removes what the fixture created. */
  cleanup?: () => Promise<void>;
}

/** Options for {@link sessionStoreSuite}. */
export interface SessionStoreSuiteOptions {
  /** Shown in test names; must equal `store.name`. */
  name: string;
  /** Shown after the name in the suite's title, for a second run of one backend in another configuration. */
  label?: string;
  /** Creates a fixture with a fresh, empty store. Called once per test. */
  makeStore: () => Promise<SessionStoreFixture>;
  /** What the backend declares; must equal `store.capabilities`. Decides (printed) skips. */
  capabilities: SessionStoreCapabilities;
  /** Skip the whole suite with this printed reason (e.g. a missing server URL). */
  skip?: string;
}

const WRITER_SCRIPT = fileURLToPath(new URL('../sessions/fixtures/append-writer.ts', import.meta.url));

let counter = 0;

/** A transcript-like entry with a fresh uuid. */
function entry(text: string, fields: Partial<SessionStoreEntry> = {}): SessionStoreEntry {
  counter += 1;
  return {
    type: 'user',
    uuid: randomUUID(),
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, counter % 60)).toISOString(),
    message: { role: 'user', content: text },
    ...fields,
  };
}

function project(): string {
  return `-tmp-project-${randomUUID()}`;
}

async function withStore(
  options: SessionStoreSuiteOptions,
  work: (store: SessionStore, fixture: SessionStoreFixture) => Promise<void>,
): Promise<void> {
  const fixture = await options.makeStore();
  try {
    await work(fixture.store, fixture);
  } finally {
    await fixture.store.close();
    await fixture.cleanup?.();
  }
}

/**
 * Starts writer processes (`node --import tsx` on the writer script), waits until every one reports `ready`
 * (startup done, store open), releases them together by writing `go` to their stdin, and resolves when all
 * exit 0. The handshake makes the writers overlap however slowly the processes start.
 */
async function runWriters(
  configs: Array<Record<string, unknown>>,
  env: Record<string, string> | undefined,
): Promise<void> {
  const children = configs.map((config) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER_SCRIPT, JSON.stringify(config)], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        output += chunk.toString();
        if (stdout.split('\n').includes('ready')) resolve();
      });
      child.on('exit', () =>
        reject(new Error(`writer ${String(config.writer)} exited before ready: ${output}`)),
      );
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`writer ${String(config.writer)} exited with ${code}: ${output}`));
      });
    });
    return { child, ready, exited };
  });
  // A writer that dies before `ready` fails the wait below with its output; its exit is reported there.
  void Promise.allSettled(children.map((each) => each.exited));
  try {
    await Promise.all(children.map((each) => each.ready));
    for (const { child } of children) child.stdin.end('go\n');
    await Promise.all(children.map((each) => each.exited));
  } finally {
    for (const { child } of children) if (child.exitCode === null) child.kill();
  }
}

/** The SDK's fold applied batch by batch to the entries each append added: what a store's summary must hold. */
function expectedSummary(
  key: SessionKey,
  batches: SessionStoreEntry[][],
  mtime: number,
): SessionSummaryEntry {
  let summary: SessionSummaryEntry | undefined;
  const seen = new Set<string>();
  for (const batch of batches) {
    const added = batch.filter((item) => {
      if (typeof item.uuid !== 'string') return true;
      if (seen.has(item.uuid)) return false;
      seen.add(item.uuid);
      return true;
    });
    if (added.length > 0) summary = foldSessionSummary(summary, key, added, { mtime });
  }
  if (summary === undefined) throw new Error('no summary expected');
  return summary;
}

/**
 * The sequence that once failed on S3 (issue 19): `load` of an unknown key, two appends sharing a uuid, a subpath
 * append, `listSubkeys`, an append to a second session, then `listSessions`, `listSessionSummaries` and loads.
 */
async function listingSequence(store: SessionStore, label: string): Promise<void> {
  const projectKey = project();
  const key = { projectKey, sessionId: randomUUID() };
  assert.equal(await store.load({ projectKey, sessionId: randomUUID() }), null, `${label}: unknown key`);
  const repeated = entry('repeated');
  const next = entry('next');
  await store.append(key, [repeated]);
  await store.append(key, [repeated, next]);
  const sub = entry('subagent');
  await store.append({ ...key, subpath: 'subagents/agent-1' }, [sub]);
  assert.deepEqual(await store.listSubkeys(key), ['subagents/agent-1'], `${label}: listSubkeys`);
  const second = { projectKey, sessionId: randomUUID() };
  const other = entry('second session');
  await store.append(second, [other]);
  const sessions = await store.listSessions(projectKey);
  assert.deepEqual(
    sessions.map((session) => session.sessionId).sort(),
    [key.sessionId, second.sessionId].sort(),
    `${label}: listSessions`,
  );
  const summaries = await store.listSessionSummaries(projectKey);
  assert.deepEqual(
    summaries.map((summary) => summary.sessionId).sort(),
    [key.sessionId, second.sessionId].sort(),
    `${label}: listSessionSummaries`,
  );
  assert.deepEqual(await store.load(key), [repeated, next], `${label}: load`);
  assert.deepEqual(await store.load({ ...key, subpath: 'subagents/agent-1' }), [sub], `${label}: subpath`);
  assert.deepEqual(await store.load(second), [other], `${label}: second session`);
}

export function sessionStoreSuite(options: SessionStoreSuiteOptions): void {
  const { name } = options;
  const suiteSkip = options.skip === undefined ? {} : { skip: options.skip };

  const title = options.label === undefined ? name : `${name} (${options.label})`;
  describe(`SessionStore conformance: ${title}`, suiteSkip, () => {
    test('declares its name and capabilities, and is assignable to the SDK SessionStore type', async () => {
      await withStore(options, async (store) => {
        assert.equal(store.name, name);
        assert.deepEqual(store.capabilities, options.capabilities);
        // Compile-time check: a mneme store is accepted by query({ options: { sessionStore } }).
        const sdkStore: SdkSessionStore = store;
        assert.equal(typeof sdkStore.append, 'function');
      });
    });

    test('unknown keys: load returns null, lists are empty', async () => {
      await withStore(options, async (store) => {
        const projectKey = project();
        assert.equal(await store.load({ projectKey, sessionId: 'nope' }), null);
        assert.equal(await store.load({ projectKey, sessionId: 'nope', subpath: 'subagents/agent-x' }), null);
        assert.deepEqual(await store.listSessions(projectKey), []);
        assert.deepEqual(await store.listSessionSummaries(projectKey), []);
        assert.deepEqual(await store.listSubkeys({ projectKey, sessionId: 'nope' }), []);
        await store.delete({ projectKey, sessionId: 'nope' });
        await store.delete({ projectKey, sessionId: 'nope', subpath: 'subagents/agent-x' });
      });
    });

    test('append then load returns deep-equal entries in order, whatever JSON they hold', async () => {
      await withStore(options, async (store) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        const batch1 = [
          entry('plain'),
          entry('unicode: héllo 世界 🎉 \u2028 line separator', {
            nested: { a: [1, 2.5, -3e-7, null, true] },
          }),
          entry('control characters \u0000 \u0001 \t "quotes" \\backslash\\ </script>', {
            empty: {},
            list: [],
          }),
          { type: 'custom-title', customTitle: 'no uuid here', sessionId: key.sessionId },
        ];
        const batch2 = [
          entry('x'.repeat(100_000), { big: true }),
          entry('last', { number: Number.MAX_SAFE_INTEGER }),
        ];
        await store.append(key, batch1);
        await store.append(key, batch2);
        assert.deepEqual(await store.load(key), [...batch1, ...batch2]);
      });
    });

    test('append is idempotent by uuid: retried and overlapping batches keep each uuid once, in first order', async () => {
      await withStore(options, async (store) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        const [a, b, c, d, e] = [entry('a'), entry('b'), entry('c'), entry('d'), entry('e')] as const;
        await store.append(key, [a, b]);
        await store.append(key, [a, b]); // the SDK's retry of the same batch
        await store.append(key, [b, c, d]); // overlap
        await store.append(key, [e, e, { ...a, message: 'changed body, same uuid' }]); // duplicates inside a batch
        assert.deepEqual(await store.load(key), [a, b, c, d, e]);
      });
    });

    test('entries without a uuid are always appended, in order', async () => {
      await withStore(options, async (store) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        const tag = { type: 'tag', tag: 'same' };
        const mode = { type: 'mode', mode: 'plan', uuid: '' };
        await store.append(key, [tag, entry('one'), tag]);
        await store.append(key, [tag, mode]);
        const loaded = await store.load(key);
        assert.equal(loaded?.length, 5);
        assert.deepEqual(loaded?.[0], tag);
        assert.deepEqual(loaded?.[2], tag);
        assert.deepEqual(loaded?.[3], tag);
        assert.deepEqual(loaded?.[4], mode);
      });
    });

    test('an empty batch changes nothing', async () => {
      await withStore(options, async (store) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        await store.append(key, []);
        assert.equal(await store.load(key), null);
        assert.deepEqual(await store.listSessions(key.projectKey), []);
      });
    });

    test('subpath transcripts are separate from the main one and from each other', async () => {
      await withStore(options, async (store) => {
        const main = { projectKey: project(), sessionId: randomUUID() };
        const agent1 = { ...main, subpath: 'subagents/agent-1' };
        const agent2 = { ...main, subpath: 'subagents/agent-2' };
        const shared = entry('same uuid in every transcript');
        const m = [shared, entry('main')];
        const s1 = [shared, entry('agent 1')];
        const s2 = [shared, entry('agent 2')];
        await store.append(agent1, s1); // a subpath first: the session is not listed until its main transcript exists
        assert.deepEqual(await store.listSessions(main.projectKey), []);
        await store.append(main, m);
        await store.append(agent2, s2);
        assert.deepEqual(await store.load(main), m);
        assert.deepEqual(await store.load(agent1), s1);
        assert.deepEqual(await store.load(agent2), s2);
        assert.deepEqual((await store.listSubkeys(main)).sort(), ['subagents/agent-1', 'subagents/agent-2']);
        assert.deepEqual(
          (await store.listSessions(main.projectKey)).map((session) => session.sessionId),
          [main.sessionId],
        );
        const other = { projectKey: main.projectKey, sessionId: randomUUID() };
        assert.deepEqual(await store.listSubkeys(other), []);
      });
    });

    test('listing sequence: unknown load, a repeated uuid, a subpath, a second session, then listSessions', async () => {
      await withStore(options, async (store, fixture) => {
        const targets = [{ label: 'the store', open: () => store, owned: false }];
        for (const variant of fixture.variants ?? []) targets.push({ ...variant, owned: true });
        for (const target of targets) {
          const opened = target.open();
          try {
            await listingSequence(opened, target.label);
          } finally {
            if (target.owned) await opened.close();
          }
        }
      });
    });

    test('listSessions returns each session once with its latest mtime (integer ms, moving forward)', async () => {
      await withStore(options, async (store) => {
        const projectKey = project();
        const first = { projectKey, sessionId: randomUUID() };
        const second = { projectKey, sessionId: randomUUID() };
        const before = Date.now();
        await store.append(first, [entry('1')]);
        await store.append(second, [entry('2')]);
        const initial = new Map((await store.listSessions(projectKey)).map((s) => [s.sessionId, s.mtime]));
        await store.append(first, [entry('3')]);
        await store.append(first, [entry('4')]);
        await store.append({ ...second, subpath: 'subagents/agent-1' }, [entry('sub')]);
        const sessions = await store.listSessions(projectKey);
        assert.equal(sessions.length, 2);
        assert.deepEqual(sessions.map((s) => s.sessionId).sort(), [first.sessionId, second.sessionId].sort());
        const now = new Map(sessions.map((s) => [s.sessionId, s.mtime]));
        for (const mtime of now.values()) {
          assert.ok(Number.isInteger(mtime), `mtime ${mtime} is an integer`);
          assert.ok(Math.abs(mtime - before) < 120_000, `mtime ${mtime} is a current Unix ms time`);
        }
        assert.ok((now.get(first.sessionId) ?? 0) > (initial.get(first.sessionId) ?? Infinity));
        assert.equal(
          now.get(second.sessionId),
          initial.get(second.sessionId),
          'a subpath append is not a session write',
        );
        const other = await store.listSessions(project());
        assert.deepEqual(other, []);
      });
    });

    test('summaries: folded with the SDK fold over the added entries, mtime equal to listSessions', async () => {
      await withStore(options, async (store) => {
        const projectKey = project();
        const key = { projectKey, sessionId: randomUUID() };
        const batches = [
          [
            entry('first prompt', { cwd: '/work/app', gitBranch: 'main' }),
            entry('reply', { type: 'assistant' }),
          ],
          [{ type: 'custom-title', customTitle: 'My title' }, entry('second prompt')],
          [entry('third prompt', { gitBranch: 'feature' })],
        ];
        for (const batch of batches) await store.append(key, batch);
        const firstBatch = batches[0] as SessionStoreEntry[];
        await store.append(key, firstBatch); // a retry: adds nothing, folds nothing
        await store.append({ ...key, subpath: 'subagents/agent-1' }, [entry('subagent prompt')]);
        const other = { projectKey, sessionId: randomUUID() };
        await store.append(other, [entry('other session')]);

        const summaries = await store.listSessionSummaries(projectKey);
        const sessions = await store.listSessions(projectKey);
        assert.equal(summaries.length, 2);
        const summary = summaries.find((s) => s.sessionId === key.sessionId);
        const listed = sessions.find((s) => s.sessionId === key.sessionId);
        assert.ok(summary !== undefined && listed !== undefined);
        assert.equal(summary.mtime, listed.mtime);
        assert.deepEqual(summary.data, expectedSummary(key, batches, summary.mtime).data);
        assert.equal(summary.data.customTitle, 'My title');
      });
    });

    test("the SDK's own listSessions, getSessionMessages and deleteSession work against the store", async () => {
      await withStore(options, async (store) => {
        const dir = `/tmp/mneme conformance ${randomUUID()}`;
        const projectKeys: string[] = [];
        const spy: SdkSessionStore = {
          append: async () => {},
          load: async () => null,
          listSessions: async (projectKey) => {
            projectKeys.push(projectKey);
            return [];
          },
        };
        await sdkListSessions({ dir, sessionStore: spy });
        const projectKey = projectKeys[0];
        assert.ok(projectKey !== undefined, 'the SDK asked for a projectKey');
        const sessionId = randomUUID();
        const userUuid = randomUUID();
        const now = new Date().toISOString();
        const common = { sessionId, timestamp: now, cwd: dir, isSidechain: false, userType: 'external' };
        await store.append({ projectKey, sessionId }, [
          {
            type: 'user',
            uuid: userUuid,
            parentUuid: null,
            message: { role: 'user', content: 'hello there' },
            ...common,
          },
          {
            type: 'assistant',
            uuid: randomUUID(),
            parentUuid: userUuid,
            message: {
              id: 'msg_1',
              type: 'message',
              role: 'assistant',
              model: 'claude-fake',
              content: [{ type: 'text', text: 'hi!' }],
              stop_reason: 'end_turn',
              usage: { input_tokens: 1, output_tokens: 1 },
            },
            ...common,
          },
        ]);
        const infos = await sdkListSessions({ dir, sessionStore: store });
        assert.equal(infos.length, 1);
        assert.equal(infos[0]?.sessionId, sessionId);
        assert.equal(infos[0]?.firstPrompt, 'hello there');
        const listed = await store.listSessions(projectKey);
        assert.equal(infos[0]?.lastModified, listed[0]?.mtime);
        const messages = await getSessionMessages(sessionId, { dir, sessionStore: store });
        assert.deepEqual(
          messages.map((message) => message.type),
          ['user', 'assistant'],
        );
        await sdkDeleteSession(sessionId, { dir, sessionStore: store });
        assert.equal(await store.load({ projectKey, sessionId }), null);
      });
    });

    test('delete of a session cascades to its subpaths and summary; deleting a subpath removes only it', async () => {
      await withStore(options, async (store) => {
        const projectKey = project();
        const key = { projectKey, sessionId: randomUUID() };
        const keep = { projectKey, sessionId: randomUUID() };
        const agent1 = { ...key, subpath: 'subagents/agent-1' };
        const agent2 = { ...key, subpath: 'subagents/agent-2' };
        const reused = entry('re-appended after delete');
        await store.append(key, [reused, entry('main')]);
        await store.append(agent1, [entry('agent 1')]);
        const agent2Entries = [entry('agent 2')];
        await store.append(agent2, agent2Entries);
        await store.append(keep, [entry('kept')]);
        await store.append({ ...keep, subpath: 'subagents/agent-1' }, [entry('kept subagent')]);

        await store.delete(agent1);
        assert.equal(await store.load(agent1), null);
        assert.deepEqual(await store.listSubkeys(key), ['subagents/agent-2']);
        assert.deepEqual(await store.load(agent2), agent2Entries);
        assert.equal((await store.load(key))?.length, 2);

        await store.delete(key);
        assert.equal(await store.load(key), null);
        assert.equal(await store.load(agent2), null);
        assert.deepEqual(await store.listSubkeys(key), []);
        assert.deepEqual(
          (await store.listSessions(projectKey)).map((s) => s.sessionId),
          [keep.sessionId],
        );
        assert.deepEqual(
          (await store.listSessionSummaries(projectKey)).map((s) => s.sessionId),
          [keep.sessionId],
        );
        assert.equal((await store.load(keep))?.length, 1);
        assert.deepEqual(await store.listSubkeys(keep), ['subagents/agent-1']);
        await store.delete(key); // again: not an error

        // After a delete the session starts afresh: earlier uuids are new again.
        await store.append(key, [reused]);
        assert.deepEqual(await store.load(key), [reused]);
        const summary = (await store.listSessionSummaries(projectKey)).find(
          (s) => s.sessionId === key.sessionId,
        );
        assert.deepEqual(summary?.data, expectedSummary(key, [[reused]], summary?.mtime ?? 0).data);
      });
    });

    test('another store instance sees the same data, and idempotency holds across instances', async () => {
      await withStore(options, async (store, fixture) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        const batch = [entry('one'), entry('two')];
        await store.append(key, batch);
        const second = fixture.reopen();
        try {
          assert.deepEqual(await second.load(key), batch);
          await second.append(key, batch); // a retry landing on another instance (or after a restart)
          const extra = entry('three');
          await second.append(key, [extra]);
          assert.deepEqual(await store.load(key), [...batch, extra]);
          assert.deepEqual(
            (await second.listSessions(key.projectKey)).map((s) => s.sessionId),
            [key.sessionId],
          );
        } finally {
          await second.close();
        }
      });
    });

    test('bad keys are rejected with a ValidationError naming the field', async () => {
      await withStore(options, async (store) => {
        const projectKey = project();
        const cases: Array<[string, SessionKey]> = [
          ['key.projectKey', { projectKey: '', sessionId: 's' }],
          ['key.sessionId', { projectKey, sessionId: '' }],
          ['key.subpath', { projectKey, sessionId: 's', subpath: '' }],
          ['key.sessionId', { projectKey, sessionId: 'x'.repeat(MAX_KEY_PART_LENGTH + 1) }],
          ['key.projectKey', { projectKey: 'nul\u0000byte', sessionId: 's' }],
          ['key.subpath', { projectKey, sessionId: 's', subpath: 'lone \uD800 surrogate' }],
          ['key.sessionId', { projectKey, sessionId: 42 as unknown as string }],
        ];
        for (const [field, key] of cases) {
          for (const call of [
            () => store.append(key, [entry('x')]),
            () => store.load(key),
            () => store.delete(key),
          ]) {
            await assert.rejects(call, (error: unknown) => {
              assert.ok(error instanceof ValidationError, `ValidationError for ${JSON.stringify(key)}`);
              assert.equal(error.field, field);
              return true;
            });
          }
        }
        await assert.rejects(() => store.listSessions(''), ValidationError);
        await assert.rejects(() => store.listSubkeys({ projectKey, sessionId: '' }), ValidationError);
        await assert.rejects(
          () => store.append({ projectKey, sessionId: 's' }, [null as unknown as SessionStoreEntry]),
          ValidationError,
        );
        assert.deepEqual(await store.listSessions(projectKey), []);
      });
    });

    test('hostile keys (traversal, separators, case, encodings, very long) are stored safely and never collide', async () => {
      await withStore(options, async (store, fixture) => {
        const base = project();
        const long = (tail: string): string => `${'Ä/x'.repeat((MAX_KEY_PART_LENGTH - 1) / 3)}${tail}`;
        const keys: SessionKey[] = [
          { projectKey: '../../../../escape', sessionId: '../../x' },
          { projectKey: base, sessionId: '..' },
          { projectKey: base, sessionId: '.' },
          { projectKey: base, sessionId: '/etc/passwd' },
          { projectKey: base, sessionId: 'C:\\Windows\\evil' },
          { projectKey: `${base}/a`, sessionId: 'b' },
          { projectKey: base, sessionId: 'a/b' },
          { projectKey: base, sessionId: 'a', subpath: 'b' },
          { projectKey: base, sessionId: 'a:b' },
          { projectKey: base, sessionId: 'a%2Fb' },
          { projectKey: base, sessionId: 'a%2fb' },
          { projectKey: base, sessionId: 'A' },
          { projectKey: base, sessionId: 'a' },
          { projectKey: base, sessionId: '^a' },
          { projectKey: base, sessionId: '%41' },
          { projectKey: base, sessionId: 'a', subpath: '../../../../escape' },
          { projectKey: base, sessionId: 'a', subpath: 'main' },
          { projectKey: base, sessionId: 'a', subpath: 'summary.json' },
          { projectKey: base, sessionId: 'a', subpath: 'subagents/../../../x' },
          { projectKey: base, sessionId: 'summary.json' },
          { projectKey: base, sessionId: 'main.jsonl' },
          { projectKey: base, sessionId: long('1') },
          { projectKey: base, sessionId: long('2') },
          { projectKey: base, sessionId: 'a', subpath: long('1') },
          { projectKey: base, sessionId: 'a', subpath: long('2') },
          { projectKey: long('p'), sessionId: long('s') },
          { projectKey: long('p'), sessionId: long('s'), subpath: long('t') },
        ];
        const written = keys.map((key, index) => ({
          key,
          entries: [entry(`key number ${index}`, { index })],
        }));
        for (const { key, entries } of written) await store.append(key, entries);
        for (const { key, entries } of written) {
          assert.deepEqual(
            await store.load(key),
            entries,
            `own entries for ${JSON.stringify(key).slice(0, 120)}`,
          );
        }
        const mainIds = keys
          .filter((key) => key.projectKey === base && key.subpath === undefined)
          .map((key) => key.sessionId);
        assert.deepEqual(
          (await store.listSessions(base)).map((s) => s.sessionId).sort(),
          [...mainIds].sort(),
        );
        const subpathsOfA = keys
          .filter((key) => key.projectKey === base && key.sessionId === 'a' && key.subpath !== undefined)
          .map((key) => key.subpath);
        assert.deepEqual(
          (await store.listSubkeys({ projectKey: base, sessionId: 'a' })).sort(),
          [...subpathsOfA].sort(),
        );
        assert.deepEqual(await store.listSubkeys({ projectKey: long('p'), sessionId: long('s') }), [
          long('t'),
        ]);
        assert.deepEqual(
          (await store.listSessions(long('p'))).map((s) => s.sessionId),
          [long('s')],
        );
        await fixture.assertContained?.();
        // Deleting one of two near-identical keys leaves the other alone.
        await store.delete({ projectKey: base, sessionId: 'A' });
        assert.equal(await store.load({ projectKey: base, sessionId: 'A' }), null);
        assert.equal((await store.load({ projectKey: base, sessionId: 'a' }))?.length, 1);
        assert.equal((await store.load({ projectKey: base, sessionId: 'a', subpath: 'main' }))?.length, 1);
      });
    });

    test('a large session (10,000 entries, 5 MB) loads completely and fast', async (t) => {
      await withStore(options, async (store) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        const padding = 'lorem ipsum dolor sit amet '.repeat(17);
        const all: SessionStoreEntry[] = [];
        for (let index = 0; index < 10_000; index += 1) all.push(entry(padding, { index }));
        const bytes = all.reduce((sum, item) => sum + JSON.stringify(item).length + 1, 0);
        assert.ok(bytes >= 5_000_000, `${bytes} bytes`);
        const appendStart = performance.now();
        // Batches of 500, like the SDK's importSessionToStore.
        for (let start = 0; start < all.length; start += 500)
          await store.append(key, all.slice(start, start + 500));
        const appendMs = performance.now() - appendStart;
        const loadStart = performance.now();
        const loaded = await store.load(key);
        const loadMs = performance.now() - loadStart;
        t.diagnostic(
          `${name}: appended ${bytes} bytes in ${appendMs.toFixed(0)} ms, loaded in ${loadMs.toFixed(0)} ms`,
        );
        assert.equal(loaded?.length, all.length);
        assert.deepEqual(
          loaded?.map((item) => item.index),
          all.map((item) => item.index),
        );
        assert.deepEqual(loaded?.[9_999], all[9_999]);
        // The SDK's default loadTimeoutMs is 60 s; a store must be far inside it.
        assert.ok(loadMs < 10_000, `load took ${loadMs} ms`);
      });
    });

    test('concurrent appends from one process keep call order and lose nothing', async () => {
      await withStore(options, async (store) => {
        const key = { projectKey: project(), sessionId: randomUUID() };
        const batches = Array.from({ length: 20 }, (_, batch) =>
          Array.from({ length: 5 }, (_, index) => entry(`batch ${batch} entry ${index}`)),
        );
        await Promise.all([
          ...batches.map((batch) => store.append(key, batch)),
          ...batches.slice(0, 5).map((batch) => store.append(key, batch)),
        ]);
        assert.deepEqual(await store.load(key), batches.flat());
      });
    });

    test('concurrent appends from two OS processes lose nothing and keep each writer order', async (t) => {
      if (!options.capabilities.multiProcess) {
        t.skip(`${name} does not declare multiProcess`);
        return;
      }
      await withStore(options, async (store, fixture) => {
        const url = fixture.url;
        if (url === undefined) {
          t.skip(`${name} fixture gives no URL for child processes`);
          return;
        }
        const key = { projectKey: project(), sessionId: randomUUID() };
        const batches = 12;
        const batchSize = 10;
        const common = { url, projectKey: key.projectKey, sessionId: key.sessionId, batches, batchSize };
        const started = performance.now();
        await runWriters(
          [
            { ...common, writer: 'w1' },
            { ...common, writer: 'w2' },
          ],
          fixture.env,
        );
        t.diagnostic(`${name}: two writer processes took ${(performance.now() - started).toFixed(0)} ms`);
        const loaded = (await store.load(key)) ?? [];
        assert.equal(loaded.length, 2 * batches * batchSize);
        assert.equal(new Set(loaded.map((item) => item.uuid)).size, loaded.length, 'no duplicates');
        for (const writer of ['w1', 'w2']) {
          const indexes = loaded.filter((item) => item.writer === writer).map((item) => item.index);
          assert.deepEqual(
            indexes,
            Array.from({ length: batches * batchSize }, (_, index) => index),
            `${writer} in order`,
          );
        }
        const interleaved = loaded.some(
          (item, index) => index > 0 && loaded[index - 1]?.writer !== item.writer,
        );
        t.diagnostic(`${name}: writers interleaved: ${interleaved}`);
        for (const writer of ['w1', 'w2']) {
          const sub = await store.load({ ...key, subpath: `subagents/agent-${writer}` });
          assert.equal(sub?.length, batches, `subagent transcript of ${writer}`);
        }
        assert.deepEqual((await store.listSubkeys(key)).sort(), ['subagents/agent-w1', 'subagents/agent-w2']);
        // One more append brings the summary up to date even if racing writers left it behind.
        await store.append(key, [entry('after the race')]);
        const [session] = await store.listSessions(key.projectKey);
        const [summary] = await store.listSessionSummaries(key.projectKey);
        assert.equal(summary?.mtime, session?.mtime);
        assert.equal(
          summary?.data.firstPrompt !== undefined || summary?.data.commandFallback !== undefined,
          true,
        );
      });
    });

    test('close is idempotent and a closed store refuses work', async () => {
      const fixture = await options.makeStore();
      try {
        const key = { projectKey: project(), sessionId: randomUUID() };
        await fixture.store.append(key, [entry('x')]);
        await fixture.store.close();
        await fixture.store.close();
        await assert.rejects(() => fixture.store.load(key), StoreError);
      } finally {
        await fixture.cleanup?.();
      }
    });
  });
}
