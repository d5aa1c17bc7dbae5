/**
 * `mneme import --from mem0` from a Mem0 platform export (test/support/mem0/platform-export.json, written from
 * Mem0's documented v1.1 memory objects, with bad rows), as a file, as JSON Lines, and over HTTP from a local
 * server (as `{ results }`, getAll's shape), into a real SQLite store, through the library and the built CLI.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MnemeError, ValidationError } from '../../src/core/errors.js';
import { importFromMem0, type Mem0ImportReport, planMem0Import } from '../../src/import/mem0.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { createHarness, type Mem0Memory as HarnessMem0Memory } from '../server/harness.js';
import { runMneme } from '../support/cli.js';
import { createTestEmbedder } from '../support/test-embedder.js';

const FIXTURES = fileURLToPath(new URL('../support/mem0/', import.meta.url));
const EXPORT = join(FIXTURES, 'platform-export.json');
const JSONL = join(FIXTURES, 'platform-export.jsonl');

async function sqliteMemory(): Promise<{ memory: Memory; url: string; path: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'mneme-import-export-')), 'mneme.db');
  const url = `sqlite://${path}`;
  const memory = await createMemory({ store: url, embedder: createTestEmbedder(), llm: null, env: {} });
  return { memory, url, path };
}

/** The bad rows of the fixture, by where they are, and the field each reason must name. */
const EXPECTED_BAD: Array<[string, RegExp]> = [
  ['item 5 (id 0a0a0a0a-0000-4000-8000-000000000005)', /^memory: expected a string/],
  [
    'item 6 (id 0a0a0a0a-0000-4000-8000-000000000006)',
    /^user_id: is missing, and so are agent_id, run_id and app_id/,
  ],
  ['item 7 (id 0a0a0a0a-0000-4000-8000-000000000007)', /^created_at: expected an ISO-8601 date/],
  ['item 8 (id 3c90c3cc-0d44-4b50-8888-8dd25736052a)', /^id: 3c90c3cc-.* appears twice in the source/],
  ['item 9 (id 0a0a0a0a-0000-4000-8000-000000000009)', /^metadata: expected a plain object/],
  ['item 10', /^expected a Mem0 memory object/],
  ['item 11 (id 0a0a0a0a-0000-4000-8000-000000000011)', /^memory: .*NUL/],
  ['item 12 (id 0a0a0a0a-0000-4000-8000-000000000012)', /^categories: expected an array of strings/],
];

function assertBadRows(report: Mem0ImportReport, source: string): void {
  assert.equal(report.bad.length, EXPECTED_BAD.length, JSON.stringify(report.bad, null, 2));
  for (const [index, [at, reason]] of EXPECTED_BAD.entries()) {
    assert.equal(report.bad[index]?.at, `${source} ${at}`);
    assert.match(report.bad[index]?.reason ?? '', reason);
  }
}

describe('import from a Mem0 platform export', () => {
  let server: Server;
  let base: string;
  before(async () => {
    const results = JSON.parse(readFileSync(EXPORT, 'utf8')) as unknown[];
    server = createServer((request, response) => {
      if (request.url?.startsWith('/exports/alex.json')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ count: results.length, next: null, previous: null, results }));
      } else {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end('{"detail":"Not found."}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a JSON file: good rows keep id, scope, dates, metadata and categories; every bad row is reported', async () => {
    const { memory } = await sqliteMemory();
    try {
      const report = await importFromMem0(memory, EXPORT);
      assert.equal(report.format, 'platform-export');
      assert.equal(report.memories, 4);
      assert.equal(report.imported, 4);
      assert.equal(report.users, 2);
      assert.equal(report.agents, 2);
      assert.equal(report.runs, 1);
      assert.equal(report.historyEvents, 4, 'one ADD each: the export has no history');
      assertBadRows(report, EXPORT);

      const preference = await memory.get('3c90c3cc-0d44-4b50-8888-8dd25736052a');
      assert.deepEqual(
        {
          memory: preference?.memory,
          userId: preference?.userId,
          agentId: preference?.agentId,
          createdAt: preference?.createdAt,
          updatedAt: preference?.updatedAt,
          metadata: preference?.metadata,
        },
        {
          memory: 'Prefers morning meetings and async communication',
          userId: 'alex',
          agentId: undefined,
          createdAt: '2024-07-01T09:30:00.000Z',
          updatedAt: '2024-07-03T18:05:12.000Z',
          metadata: {
            type: 'preference',
            'mneme:importedFrom': {
              system: 'mem0',
              id: '3c90c3cc-0d44-4b50-8888-8dd25736052a',
              format: 'platform-export',
              categories: ['user_preferences', 'work'],
              immutable: false,
            },
          },
        },
      );
      const history = await memory.history('3c90c3cc-0d44-4b50-8888-8dd25736052a');
      assert.deepEqual(
        history.map((event) => [event.event, event.newValue, event.createdAt]),
        [['ADD', 'Prefers morning meetings and async communication', '2024-07-01T09:30:00.000Z']],
      );

      const trip = await memory.get('9b2f4c1e-6a7d-4f3b-9e21-5c8a0d7e1f42');
      assert.equal(trip?.appId, 'concierge');
      assert.equal(trip?.agentId, 'travel-agent');
      assert.equal(trip?.runId, 'trip-2024');
      assert.equal(trip?.createdAt, '2024-07-20T17:15:00.000Z', 'the offset is normalised to UTC');
      assert.equal(trip?.updatedAt, trip?.createdAt, 'updated_at null means never updated');
      assert.equal(trip?.expiresAt, '2031-07-01T00:00:00.000Z', 'visible through its expiration day');

      const rule = await memory.get('5f0e2d6b-1c4a-4e7f-8b3d-2a9c6e1f7b80');
      assert.equal(rule?.userId, undefined);
      assert.equal(rule?.agentId, 'support-bot');
      assert.deepEqual(rule?.metadata['mneme:importedFrom'], {
        system: 'mem0',
        id: '5f0e2d6b-1c4a-4e7f-8b3d-2a9c6e1f7b80',
        format: 'platform-export',
        immutable: true,
      });

      const listed = await memory.list({ userId: 'jordan' });
      assert.deepEqual(
        listed.results.map((record) => record.memory),
        ['Is vegetarian and avoids mushrooms'],
        "none of jordan's bad rows was written",
      );

      const again = await importFromMem0(memory, EXPORT);
      assert.equal(again.imported, 0);
      assert.equal(again.alreadyPresent, 4);
      assert.equal((await memory.store.stats()).memories, 4);
    } finally {
      await memory.close();
    }
  });

  test('--app gives memories without an app_id that app, and keeps the ones that have one', async () => {
    const { memory } = await sqliteMemory();
    try {
      await importFromMem0(memory, EXPORT, { appId: 'migrated' });
      assert.equal((await memory.get('3c90c3cc-0d44-4b50-8888-8dd25736052a'))?.appId, 'migrated');
      assert.equal((await memory.get('9b2f4c1e-6a7d-4f3b-9e21-5c8a0d7e1f42'))?.appId, 'concierge');
      const app = await memory.list({ appId: 'migrated' });
      assert.equal(app.results.length, 3);
    } finally {
      await memory.close();
    }
  });

  test('Mem0 ids keep working through mneme serve: a key of the --app app reads imported memories by their Mem0 id', async () => {
    const harness = await createHarness({ apps: ['migrated'] });
    try {
      await importFromMem0(harness.memory, EXPORT, { appId: 'migrated' });
      const found = await harness.call<HarnessMem0Memory>(
        'GET',
        '/v1/memories/3c90c3cc-0d44-4b50-8888-8dd25736052a/',
      );
      assert.equal(found.status, 200, found.text);
      assert.equal(found.body.memory, 'Prefers morning meetings and async communication');
      assert.equal(found.body.user_id, 'alex');
      assert.equal(found.body.app_id, 'migrated');
      // A memory of another app (its own app_id kept) stays out of this key's reach.
      const other = await harness.call('GET', '/v1/memories/9b2f4c1e-6a7d-4f3b-9e21-5c8a0d7e1f42/');
      assert.equal(other.status, 404);
    } finally {
      await harness.close();
    }
  });

  test('JSON Lines: bad lines are reported by file:line, the rest imported', async () => {
    const { report } = await planMem0Import(JSONL);
    assert.equal(report.memories, 2);
    assert.deepEqual(report.bad, [
      {
        at: `${JSONL}:3`,
        reason: 'is not valid JSON; expected one Mem0 memory object per line',
      },
    ]);
  });

  test('over HTTP: getAll output ({ results }) from a local server; the query string never reaches a report', async () => {
    const { memory } = await sqliteMemory();
    try {
      const url = `${base}/exports/alex.json?signature=s3cret`;
      const report = await importFromMem0(memory, url);
      assert.equal(report.source, `${base}/exports/alex.json?…`);
      assert.equal(report.imported, 4);
      assertBadRows(report, report.source);
      assert.ok(!JSON.stringify(report).includes('s3cret'));

      await assert.rejects(importFromMem0(memory, `${base}/missing.json`), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.field, 'source');
        assert.match(
          error.message,
          /GET http:\/\/127\.0\.0\.1:\d+\/missing\.json answered 404 Not Found; give the URL/,
        );
        return true;
      });
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      await assert.rejects(
        importFromMem0(memory, `http://127.0.0.1:${closedPort}/export.json`),
        (error: unknown) => {
          assert.ok(error instanceof MnemeError);
          assert.equal(error.code, 'source_unreachable');
          assert.match(error.message, /ECONNREFUSED.*check the URL and that the server is reachable/);
          return true;
        },
      );
      await assert.rejects(
        importFromMem0(memory, url, { history: 'memory.db' }),
        /history: applies to a Mem0 OSS store only/,
      );
    } finally {
      await memory.close();
    }
  });

  test('CLI (built binary) with a URL: bad rows on stderr, exit 1, good rows imported; twice adds nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mneme-import-cli-')), 'mneme.db');
    const args = ['import', '--from', 'mem0', `${base}/exports/alex.json`, '--store', `sqlite://${path}`];
    const dry = await runMneme([...args, '--dry-run']);
    assert.equal(dry.code, 1, 'bad rows make even a dry run fail');
    assert.match(dry.stdout, /^dry run, nothing written: would import 4 memories of 2 users/);
    assert.equal(existsSync(path), false);

    const first = await runMneme([...args, '--json']);
    assert.equal(first.code, 1);
    const report = JSON.parse(first.stdout) as Mem0ImportReport;
    assert.equal(report.imported, 4);
    for (const [at] of EXPECTED_BAD)
      assert.ok(first.stderr.includes(`mneme: not imported: ${report.source} ${at}: `), at);
    assert.match(
      first.stderr,
      /8 bad rows \(listed above\) were not imported; fix them in the source and rerun/,
    );

    const second = await runMneme([...args, '--json']);
    const again = JSON.parse(second.stdout) as Mem0ImportReport;
    assert.equal(again.imported, 0);
    assert.equal(again.alreadyPresent, 4);
  });

  test('secrets in imported text are redacted, in the memory and in its history', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-import-secret-'));
    const file = join(directory, 'export.jsonl');
    const key = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345';
    writeFileSync(
      file,
      `${JSON.stringify({ id: 'e7a1c0de-0000-4000-8000-00000000beef', memory: `Deploy key is ${key}`, user_id: 'sam', created_at: '2024-09-01T07:00:00Z' })}\n`,
    );
    const { memory } = await sqliteMemory();
    try {
      await importFromMem0(memory, file);
      const record = await memory.get('e7a1c0de-0000-4000-8000-00000000beef');
      assert.match(record?.memory ?? '', /^Deploy key is \[REDACTED:anthropic_key\]/);
      const [add] = await memory.history('e7a1c0de-0000-4000-8000-00000000beef');
      assert.equal(add?.newValue, record?.memory);
      assert.ok(!JSON.stringify(await memory.history('e7a1c0de-0000-4000-8000-00000000beef')).includes(key));
    } finally {
      await memory.close();
    }
  });

  test('unreadable sources: an empty file, a broken JSON array, a SQLite file that is not Mem0', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-import-bad-'));
    writeFileSync(join(directory, 'empty.json'), '  \n');
    writeFileSync(join(directory, 'broken.json'), '[{"id": "a", "memory": "x"},');
    await assert.rejects(planMem0Import(join(directory, 'empty.json')), /source: .*empty\.json is empty/);
    await assert.rejects(
      planMem0Import(join(directory, 'broken.json')),
      /source: .*broken\.json is not valid JSON/,
    );
    const { memory, path } = await sqliteMemory();
    await memory.close();
    await assert.rejects(planMem0Import(path), /is a SQLite file but not a Mem0 store \(no vectors table\)/);
    await assert.rejects(planMem0Import('ftp://example/x.json'), /unsupported URL scheme "ftp:"/);
  });
});
