import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runMneme } from '../support/cli.js';

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
    const forgot = await runMneme(['forget', id, '--store', store.url]);
    assert.equal(forgot.code, 0);
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
    assert.deepEqual(
      report.monday.users.alice?.skipped.map((item) => item.reason).sort(),
      ['assistant_message', 'assistant_message', 'low_signal', 'question'],
    );
    assert.ok(report.tuesday.change.profile.some((line) => /TypeScript for backend/.test(line)));
    assert.ok(!report.tuesday.change.profile.some((line) => /Python for backend/.test(line)));
  });
});
