import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runMneme } from '../support/cli.js';
import { seedProfileFile } from '../support/profile-seed.js';

function tempStore(): { url: string; path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mneme-cli-'));
  const path = join(dir, 'nested', 'mneme.db');
  return { url: `sqlite://${path}`, path, dir };
}

describe('mneme CLI (spawned, real SQLite file, default offline embedder)', () => {
  test('add in one process, search --json in another returns the memory with scores', async () => {
    const store = tempStore();
    const added = await runMneme([
      'add',
      '--user',
      'alice',
      '--store',
      store.url,
      '--json',
      'I prefer function-level docstrings and no inline comments',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const addResult = JSON.parse(added.stdout) as { results: Array<{ id: string; event: string }> };
    assert.equal(addResult.results[0]?.event, 'ADD');
    assert.ok(existsSync(store.path), 'the SQLite file exists where --store points');
    await runMneme(['add', '--user', 'bob', '--store', store.url, 'I prefer tabs and long comments']);

    const searched = await runMneme(['search', '--user', 'alice', '--json', 'how should I document code?'], {
      MNEME_STORE: store.url,
    });
    assert.equal(searched.code, 0, searched.stderr);
    const body = JSON.parse(searched.stdout) as {
      results: Array<{
        id: string;
        memory: string;
        userId: string;
        score: number;
        scores: Record<string, number>;
      }>;
    };
    assert.equal(body.results[0]?.id, addResult.results[0]?.id);
    assert.equal(body.results[0]?.memory, 'I prefer function-level docstrings and no inline comments');
    assert.ok(body.results.every((result) => result.userId === 'alice'));
    assert.ok((body.results[0]?.score ?? 0) > 0);
    assert.equal(typeof body.results[0]?.scores.dense, 'number');
    assert.equal(typeof body.results[0]?.scores.keyword, 'number');
    assert.equal(typeof body.results[0]?.scores.recency, 'number');
  });

  test('list, get, history, export, import and forget work across processes', async () => {
    const store = tempStore();
    const id = (
      JSON.parse(
        (
          await runMneme([
            'add',
            '--user',
            'carol',
            '--agent',
            'coach',
            '--store',
            store.url,
            '--json',
            'I train for a marathon in April',
          ])
        ).stdout,
      ) as { results: Array<{ id: string }> }
    ).results[0]?.id;
    assert.ok(id);
    const listed = await runMneme(['list', '--user', 'carol', '--store', store.url, '--json']);
    assert.equal((JSON.parse(listed.stdout) as { results: unknown[] }).results.length, 1);
    const got = await runMneme(['get', id, '--store', store.url, '--json']);
    assert.equal((JSON.parse(got.stdout) as { agentId: string }).agentId, 'coach');
    const history = await runMneme(['history', id, '--store', store.url, '--json']);
    assert.deepEqual(
      (JSON.parse(history.stdout) as { history: Array<{ event: string }> }).history.map(
        (event) => event.event,
      ),
      ['ADD'],
    );
    const exported = await runMneme(['export', '--user', 'carol', '--store', store.url]);
    assert.equal(exported.code, 0, exported.stderr);
    const file = join(store.dir, 'carol.jsonl');
    writeFileSync(file, exported.stdout);
    const other = tempStore();
    const imported = await runMneme(['import', file, '--store', other.url, '--json']);
    assert.deepEqual(JSON.parse(imported.stdout), { imported: 1, skipped: 0, total: 1 });
    const soft = await runMneme(['forget', id, '--soft', '--all', '--user', 'carol', '--store', store.url]);
    assert.equal(soft.code, 2, 'an id and --all together are a usage error');
    const forgot = await runMneme(['forget', id, '--store', store.url, '--json']);
    assert.equal(forgot.code, 0, forgot.stderr);
    assert.deepEqual(JSON.parse(forgot.stdout), { id, deleted: true, erased: true });
    const tombstone = await runMneme(['history', id, '--store', store.url, '--json']);
    assert.doesNotMatch(tombstone.stdout, /marathon/, 'forget erases the text from the history too');
    assert.match(tombstone.stdout, /ERASE/);
    const gone = await runMneme(['get', id, '--store', store.url, '--json']);
    assert.equal(gone.code, 1);
    assert.equal((JSON.parse(gone.stdout) as { error: { code: string } }).error.code, 'not_found');
    const erased = await runMneme(['forget', '--user', 'carol', '--all', '--store', other.url, '--json']);
    assert.deepEqual(JSON.parse(erased.stdout), { deleted: 1 });
  });

  test('usage errors exit 2 and name the fix; failures exit 1', async () => {
    const store = tempStore();
    const noUser = await runMneme(['add', '--store', store.url, 'text without a user']);
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /--user/);
    const unknownFlag = await runMneme(['search', '--user', 'a', '--bogus', 'x', '--store', store.url]);
    assert.equal(unknownFlag.code, 2);
    const unknownCommand = await runMneme(['frobnicate']);
    assert.equal(unknownCommand.code, 2);
    const badStore = await runMneme(['list', '--user', 'a', '--store', 'nosuch://x', '--json']);
    assert.equal(badStore.code, 1);
    assert.match(JSON.parse(badStore.stdout).error.message as string, /MNEME_STORE/);
    const badLimit = await runMneme(['search', '--user', 'a', '--limit', 'many', '--store', store.url, 'q']);
    assert.equal(badLimit.code, 2);
  });

  test('demo runs Monday and Tuesday in two processes and the users never mix', async () => {
    const store = tempStore();
    const demo = await runMneme(['demo', '--store', store.url, '--json']);
    assert.equal(demo.code, 0, demo.stderr);
    const report = JSON.parse(demo.stdout) as {
      monday: { pid: number; users: Record<string, { skipped: Array<{ reason: string; text: string }> }> };
      tuesday: {
        pid: number;
        isolated: boolean;
        checks: number;
        users: Record<string, { context: string }>;
        change: { event: string; profile: string[] };
      };
    };
    assert.notEqual(report.monday.pid, report.tuesday.pid);
    assert.equal(report.tuesday.isolated, true);
    assert.ok(report.tuesday.checks > 0);
    assert.match(report.tuesday.users.alice?.context ?? '', /docstrings/);
    assert.doesNotMatch(report.tuesday.users.alice?.context ?? '', /tabs/);
    assert.match(report.tuesday.users.bob?.context ?? '', /tabs/);
    assert.doesNotMatch(report.tuesday.users.bob?.context ?? '', /docstrings/);
    assert.equal(report.tuesday.change.event, 'SUPERSEDE');
    // The assistant's acknowledgement and guess are never memories about alice; her question is not either.
    const aliceContext = report.tuesday.users.alice?.context ?? '';
    assert.doesNotMatch(aliceContext, /Understood|Jenkins|How do I mock/);
    assert.match(aliceContext, /Profile \(the user/);
    assert.match(aliceContext, /stripe_client\.py/);
    assert.deepEqual(report.monday.users.alice?.skipped.map((item) => item.reason).sort(), [
      'assistant_message',
      'assistant_message',
      'low_signal',
      'question',
    ]);
    assert.ok(report.tuesday.change.profile.some((line) => /TypeScript for backend/.test(line)));
    assert.ok(!report.tuesday.change.profile.some((line) => /Python for backend/.test(line)));
  });
});

describe('mneme profile (spawned, real SQLite file, default offline embedder)', () => {
  type Profile = {
    items: Array<{ id: string; memory: string; kind: string }>;
    omitted: number;
    tokens: number;
  };

  test('--json and plain output give the standing memories, grouped and newest first, without the rest', async () => {
    const store = tempStore();
    const seed = await seedProfileFile(store.url, { userId: 'alice' });
    await seedProfileFile(store.url, { userId: 'bob', agentId: 'coach' });

    const json = await runMneme(['profile', '--user', 'alice', '--store', store.url, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const profile = JSON.parse(json.stdout) as Profile;
    assert.deepEqual(
      profile.items.map((item) => [item.kind, item.memory]),
      seed.expected,
    );
    assert.equal(profile.omitted, 0);
    assert.ok(profile.tokens > 0);
    // bob's memories (the same texts, under agent "coach") are not alice's.
    const listed = await runMneme(['list', '--user', 'alice', '--store', store.url, '--json']);
    const own = new Set(
      (JSON.parse(listed.stdout) as { results: Array<{ id: string }> }).results.map((r) => r.id),
    );
    assert.ok(profile.items.every((item) => own.has(item.id)));
    const bob = await runMneme([
      'profile',
      '--user',
      'bob',
      '--agent',
      'coach',
      '--store',
      store.url,
      '--json',
    ]);
    const bobIds = (JSON.parse(bob.stdout) as Profile).items.map((item) => item.id);
    assert.equal(bobIds.length, seed.expected.length);
    assert.ok(bobIds.every((id) => !own.has(id)));

    const plain = await runMneme(['profile', '--user', 'alice', '--store', store.url]);
    assert.equal(plain.code, 0, plain.stderr);
    const lines = plain.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^profile of alice \(5 items, \d+ tokens\):$/);
    assert.deepEqual(
      lines
        .slice(1)
        .map((line) =>
          /^\[(\w+)\] (.+) {2}\(([0-9a-f-]{36}), updated \d{4}-\d{2}-\d{2}\)$/.exec(line)?.slice(1),
        ),
      profile.items.map((item) => [item.kind, item.memory, item.id]),
    );
    assert.ok(!plain.stdout.includes(seed.superseded), 'a superseded memory is not in the profile');
    assert.ok(!plain.stdout.includes(seed.message), 'a plain message is not in the profile');

    const agentOnly = await runMneme(['profile', '--user', 'bob', '--agent', 'other', '--store', store.url]);
    assert.equal(agentOnly.code, 0, agentOnly.stderr);
    assert.equal(
      agentOnly.stdout.trim(),
      'no profile for bob: no instructions, preferences or facts about the user are stored',
    );
  });

  test('--max-tokens keeps the budget and says how many were left out', async () => {
    const store = tempStore();
    const seed = await seedProfileFile(store.url, { userId: 'alice' });
    const json = await runMneme([
      'profile',
      '-u',
      'alice',
      '--max-tokens',
      '30',
      '--store',
      store.url,
      '--json',
    ]);
    assert.equal(json.code, 0, json.stderr);
    const profile = JSON.parse(json.stdout) as Profile;
    assert.ok(profile.tokens <= 30);
    assert.ok(profile.items.length > 0 && profile.items.length < seed.expected.length, json.stdout);
    assert.equal(profile.omitted, seed.expected.length - profile.items.length);
    const plain = await runMneme(['profile', '-u', 'alice', '--max-tokens', '30', '--store', store.url]);
    assert.match(
      plain.stdout,
      new RegExp(
        `^${profile.omitted} more left out by the budget \\(raise --max-tokens to see them\\)$`,
        'm',
      ),
    );
    assert.equal(plain.stdout.trim().split('\n').length, 1 + profile.items.length + 1);
  });

  test('a missing --user or a bad --max-tokens is a usage error (exit 2) naming the flag', async () => {
    const store = tempStore();
    const noUser = await runMneme(['profile', '--store', store.url]);
    assert.equal(noUser.code, 2);
    assert.match(
      noUser.stderr,
      /--user is required: whose profile to show, e\.g\. mneme profile --user alice/,
    );
    for (const value of ['ten', '2.5', '0']) {
      const bad = await runMneme(['profile', '--user', 'alice', '--max-tokens', value, '--store', store.url]);
      assert.equal(bad.code, 2, `--max-tokens ${value}`);
      assert.match(
        bad.stderr,
        new RegExp(`--max-tokens must be a positive integer, got "${value.replace('.', '\\.')}"`),
      );
    }
    const help = await runMneme(['help']);
    assert.match(help.stdout, /^ {2}profile +show a user's standing instructions/m);
  });
});
