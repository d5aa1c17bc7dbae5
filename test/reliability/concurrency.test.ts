/**
 * Concurrency on one SQLite file: separate processes (fixtures/concurrent-writer.ts) write through `memory.add`
 * at the same time. Nothing may be lost, no SQLITE_BUSY may reach a caller (busy_timeout + bounded retry), and
 * list and search must see every memory afterwards. A second test runs the built server (`mneme serve`, four
 * HTTP clients) and the built CLI (`node bin/mneme.js add`) while another process writes to the same file.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { MNEME_BIN, runMneme } from '../support/cli.js';
import { startFakeOpenAIApi } from '../support/fake-openai-api.js';
import { createTestEmbedder } from '../support/test-embedder.js';
import { type TranspiledFixtures, transpileFixtures } from './fixtures/transpile.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/concurrent-writer.ts', import.meta.url));
const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SEED = Number(process.env.MNEME_CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface WriterResult {
  ids: string[];
  texts: string[];
  /** The user each memory was written for (same order as `ids`). */
  users: string[];
  calls: number;
  errors: Array<{ name: string; code: string; message: string }>;
}

let fixtures: TranspiledFixtures;
let dir: string;
before(() => {
  fixtures = transpileFixtures([FIXTURE]);
  dir = mkdtempSync(join(tmpdir(), 'mneme-concurrency-'));
});
after(() => {
  fixtures.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A started writer: resolves `ready` once its store is open; `go()` starts it; `done` resolves with its result. */
function startWriter(options: {
  path: string;
  label: string;
  count: number;
  seed: number;
  untilStopped?: boolean;
  embedder?: { baseURL: string };
}): {
  ready: Promise<void>;
  go(): void;
  stop(): void;
  done: Promise<WriterResult & { finishedAt: number }>;
} {
  const resultPath = join(dir, `${options.label}.result.json`);
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [fixtures.pathOf(FIXTURE), JSON.stringify({ ...options, resultPath })],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('close', () => reject(new Error(`writer ${options.label} died before ready:\n${stderr}`)));
  });
  const done = new Promise<WriterResult & { finishedAt: number }>((resolve, reject) => {
    child.on('close', (code) => {
      const finishedAt = Date.now();
      if (!existsSync(resultPath)) {
        reject(new Error(`writer ${options.label} exited ${code} without a result:\n${stderr}`));
        return;
      }
      resolve({ ...(JSON.parse(readFileSync(resultPath, 'utf8')) as WriterResult), finishedAt });
    });
  });
  return {
    ready,
    go: () => (options.untilStopped ? child.stdin.write('go\n') : child.stdin.end('go\n')),
    stop: () => child.stdin.end(),
    done,
  };
}

/** Every memory of `userId`, through `list` pages. */
async function listAll(memory: Memory, userId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await memory.list({ userId, limit: 1000, ...(cursor ? { cursor } : {}) });
    ids.push(...page.results.map((record) => record.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

test('two processes add 5,000 memories each to one SQLite file: none lost, no SQLITE_BUSY, all visible', {
  timeout: 180_000,
}, async (t) => {
  const path = join(dir, 'two-writers.db');
  const started = Date.now();
  const writers = ['A', 'B'].map((label, index) =>
    startWriter({ path, label, count: 5000, seed: SEED + index }),
  );
  await Promise.all(writers.map((writer) => writer.ready));
  for (const writer of writers) writer.go();
  const results = await Promise.all(writers.map((writer) => writer.done));
  const elapsed = Date.now() - started;

  for (const [index, result] of results.entries()) {
    assert.deepEqual(result.errors, [], `writer ${index}: errors reached the caller`);
    assert.equal(result.ids.length, 5000, `writer ${index}: acknowledged memories`);
  }

  const memory = await createMemory({
    store: `sqlite://${path}`,
    embedder: createTestEmbedder({ dimension: 64 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
  try {
    const stats = await memory.store.stats();
    assert.deepEqual(
      { memories: stats.memories, vectors: stats.vectors, keywordEntries: stats.keywordEntries },
      { memories: 10_000, vectors: 10_000, keywordEntries: 10_000 },
    );
    // list sees every memory of every user.
    for (const [index, label] of ['A', 'B'].entries()) {
      const expected = new Set(results[index]?.ids);
      const listed = new Set<string>();
      for (let user = 0; user < 20; user += 1) {
        for (const id of await listAll(memory, `${label}-user-${user}`)) listed.add(id);
      }
      assert.equal(listed.size, expected.size, `writer ${label}: listed memories`);
      for (const id of expected) assert.ok(listed.has(id), `writer ${label}: ${id} not listed`);
    }
    // search finds memories of both writers by their unique word (a sample, to keep the test fast).
    let searched = 0;
    for (const [index, label] of ['A', 'B'].entries()) {
      const result = results[index];
      if (!result) continue;
      for (let position = 0; position < result.texts.length; position += 50) {
        const text: string = result.texts[position] ?? '';
        const word: string = /orchid\w+/.exec(text)?.[0] ?? '';
        const { results: hits } = await memory.search(word, {
          userId: result.users[position] ?? '',
          limit: 3,
        });
        assert.equal(hits[0]?.id, result.ids[position], `writer ${label}: search for ${word}`);
        searched += 1;
      }
    }
    t.diagnostic(
      `seed ${SEED}: 2 processes wrote 10,000 memories in ${results[0]?.calls ?? 0} + ${results[1]?.calls ?? 0} ` +
        `add calls in ${(elapsed / 1000).toFixed(1)} s; 0 errors; listed 10,000; ${searched} searches found their memory`,
    );
  } finally {
    await memory.close();
  }
});

test('the server, the CLI and another process write to one file at once: none lost, no errors', {
  timeout: 120_000,
  skip: existsSync(BUILT_CLI) ? false : 'dist/ is missing: run `npm run build` first (npm test does)',
}, async (t) => {
  const api = await startFakeOpenAIApi({ dimension: 64 });
  const home = mkdtempSync(join(dir, 'home-'));
  const path = join(dir, 'server-cli-writer.db');
  const env = {
    MNEME_HOME: home,
    MNEME_STORE: `sqlite://${path}`,
    MNEME_EMBEDDER: 'openai-compatible:fake-embedding',
    MNEME_EMBEDDER_BASE_URL: api.baseURL,
    MNEME_EMBEDDER_API_KEY: 'test',
    MNEME_EMBEDDER_DIMENSION: '64',
    MNEME_LLM: 'none',
  };
  const server = spawn(
    process.execPath,
    [MNEME_BIN, 'serve', '--port', '0', '--json', '--log-level', 'warn'],
    {
      env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let serverErr = '';
  server.stderr.on('data', (chunk: Buffer) => {
    serverErr += chunk.toString();
  });
  const serverExit = new Promise<number | null>((resolve) => server.on('close', resolve));
  try {
    const created = await runMneme(['keys', 'create', '--app', 'acme', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0] ?? '{}') as { url: string }).url);
      });
      serverExit.then((code) => reject(new Error(`serve exited ${code}: ${serverErr}`)));
    });

    const writer = startWriter({
      path,
      label: 'S',
      count: 100,
      seed: SEED,
      untilStopped: true,
      embedder: { baseURL: api.baseURL },
    });
    await writer.ready;
    writer.go();
    // 4 HTTP clients x 25 adds, and the CLI, while the writer writes.
    const post = async (client: number, index: number) => {
      const response = await fetch(`${url}/api/memories`, {
        method: 'POST',
        headers: { authorization: `Token ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: `http-${client}`,
          messages: `http client ${client} note ${index} about wren${client}x${index}`,
          infer: false,
        }),
      });
      const body = (await response.json()) as { results?: Array<{ id: string }> };
      assert.equal(response.status, 201, JSON.stringify(body));
      return body.results?.[0]?.id ?? '';
    };
    const http = Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        const ids: string[] = [];
        for (let index = 0; index < 25; index += 1) ids.push(await post(client, index));
        return ids;
      }),
    );
    for (let index = 0; index < 3; index += 1) {
      const run = await runMneme(
        ['add', '--user', 'cli-user', `the CLI note ${index} about finch${index}`],
        env,
      );
      assert.equal(run.code, 0, run.stderr);
    }
    const httpIds = (await http).flat();
    writer.stop();
    const result = await writer.done;
    assert.deepEqual(result.errors, []);
    assert.equal(new Set(httpIds).size, 100);

    const search = await fetch(`${url}/api/memories/search`, {
      method: 'POST',
      headers: { authorization: `Token ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'http-2', query: 'wren2x17' }),
    });
    const found = (await search.json()) as { results: Array<{ memory: string }> };
    assert.equal(found.results[0]?.memory, 'http client 2 note 17 about wren2x17');

    server.kill('SIGTERM');
    assert.equal(await serverExit, 0, serverErr);
    const memory = await createMemory({
      store: `sqlite://${path}`,
      embedder: 'openai-compatible:fake-embedding',
      embedderOptions: { baseURL: api.baseURL, apiKey: 'test', dimension: 64 },
      llm: null,
      env: {},
      logLevel: 'silent',
      ingestion: { background: false },
    });
    try {
      const stats = await memory.store.stats();
      assert.equal(stats.memories, result.ids.length + 100 + 3);
      assert.equal(stats.vectors, stats.memories);
      assert.equal(stats.keywordEntries, stats.memories);
    } finally {
      await memory.close();
    }
    t.diagnostic(
      `server: 100 HTTP adds from 4 clients, CLI: 3 adds, writer process: ${result.ids.length} memories; no errors`,
    );
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await api.close();
  }
});
