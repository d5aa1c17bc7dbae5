/**
 * `mneme copy` from SQLite to PostgreSQL at scale, timed through the real CLI and checked row for row:
 *
 *   npm run build && node --import tsx bench/copy-check.ts <postgres-url> [memories=100000]
 *
 * Writes a fresh SQLite file of `memories` synthetic memories of one user (the latency suite's corpus, 512-d,
 * through `store.apply` with an ADD event each; every 50th memory also gets an UPDATE and a NOOP note, every 10th
 * an agent id and metadata, so history lengths, scopes and metadata vary), then runs
 * `node bin/mneme.js copy --from sqlite://... --to <url>?schema=<fresh> --json` as a child process and times it.
 * Then it reads both stores through `store.scan` and compares every memory: the whole record (id, text, scope,
 * metadata, timestamps, every other field), the vector byte for byte, and the history (ids, events, times), plus
 * the row counts of the PostgreSQL tables in SQL. The schema and the file are removed afterwards. The last stdout
 * line is the JSON result; the exit code is 1 when anything differs.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import pg from 'pg';
import type { HistoryEvent, MemoryRecord } from '../src/core/types.js';
import { createPostgresStore } from '../src/stores/postgres.js';
import { scanPages } from '../src/stores/scan-pages.js';
import { createSqliteStore } from '../src/stores/sqlite.js';
import type { MemoryChange, MemoryStore } from '../src/stores/types.js';
import { messageRecord } from './support/message-record.js';
import { nowMs, round } from './support/stats.js';
import { createSyntheticCorpus } from './support/synthetic.js';

const EMBEDDER = { id: 'local:use-lite-512', dimension: 512 };
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'mneme.js');

type Item = { record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] };

const load1 = () => round(loadavg()[0] ?? 0, 2);

async function writeSource(path: string, count: number): Promise<void> {
  const store = createSqliteStore({ path });
  await store.open({ embedder: EMBEDDER });
  const corpus = createSyntheticCorpus({ dimension: EMBEDDER.dimension, seed: 7 });
  const baseTime = Date.parse('2025-01-01T00:00:00.000Z');
  const updated: Array<{ id: string; text: string; embedding: Float32Array }> = [];
  for (let start = 0; start < count; start += 2000) {
    const changes: MemoryChange[] = [];
    for (let index = start; index < Math.min(count, start + 2000); index += 1) {
      const { text, vector } = corpus.memory();
      const at = new Date(baseTime + index * 60_000).toISOString();
      const plain = messageRecord(text, 'user-0', at);
      const record: MemoryRecord =
        index % 10 === 0
          ? {
              ...plain,
              agentId: 'agent-1',
              metadata: { index, tags: ['a', 'é'], nested: { even: index % 20 === 0 } },
            }
          : plain;
      changes.push({
        type: 'insert',
        record,
        embedding: vector,
        event: { event: 'ADD', newValue: text, actor: 'bench', createdAt: at },
      });
      if (index % 50 === 0) updated.push({ id: record.id, text, embedding: corpus.memory().vector });
    }
    await store.apply({ changes });
  }
  const at = '2026-06-01T00:00:00.000Z';
  for (let start = 0; start < updated.length; start += 500) {
    const changes: MemoryChange[] = updated
      .slice(start, start + 500)
      .flatMap(({ id, text, embedding }): MemoryChange[] => [
        {
          type: 'update',
          id,
          patch: { memory: `${text} (corrected)`, updatedAt: at },
          embedding,
          event: {
            event: 'UPDATE',
            previousValue: text,
            newValue: `${text} (corrected)`,
            reason: 'copy check',
            actor: 'bench',
            createdAt: at,
          },
        },
        { type: 'note', id, event: { event: 'NOOP', actor: 'bench', createdAt: at } },
      ]);
    await store.apply({ changes });
  }
  await store.close();
}

/** Runs the real CLI's `copy --json`; resolves with its summary line, rejects (with its stderr) on a failure. */
async function runCopy(from: string, to: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI, 'copy', '--from', from, '--to', to, '--json'],
    { env: { ...process.env, MNEME_LOG_LEVEL: 'error' }, maxBuffer: 2 ** 24 },
  );
  return stdout.trim().split('\n').at(-1) ?? '{}';
}

async function* scanAll(store: MemoryStore): AsyncGenerator<Item> {
  for await (const page of scanPages(store, 1000)) yield* page.items;
}

function sameBytes(left: Float32Array, right: Float32Array): boolean {
  return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(
    Buffer.from(right.buffer, right.byteOffset, right.byteLength),
  );
}

/** Every memory of `source` against `target`: how many differ in each part, and the first few ids that do. */
async function compare(source: MemoryStore, target: MemoryStore) {
  const expected = new Map<string, Item>();
  let sourceHistory = 0;
  for await (const item of scanAll(source)) {
    expected.set(item.record.id, item);
    sourceHistory += item.history.length;
  }
  const sourceMemories = expected.size;
  const differ = { record: 0, vector: 0, history: 0, unexpected: 0 };
  const examples: string[] = [];
  let targetMemories = 0;
  let targetHistory = 0;
  for await (const item of scanAll(target)) {
    targetMemories += 1;
    targetHistory += item.history.length;
    const want = expected.get(item.record.id);
    expected.delete(item.record.id);
    const wrong: string[] = [];
    if (want === undefined) {
      differ.unexpected += 1;
      wrong.push('not in source');
    } else {
      if (!isDeepStrictEqual(item.record, want.record)) wrong.push('record');
      if (!sameBytes(item.embedding, want.embedding)) wrong.push('vector');
      if (!isDeepStrictEqual(item.history, want.history)) wrong.push('history');
      if (wrong.includes('record')) differ.record += 1;
      if (wrong.includes('vector')) differ.vector += 1;
      if (wrong.includes('history')) differ.history += 1;
    }
    if (wrong.length > 0 && examples.length < 5) examples.push(`${item.record.id}: ${wrong.join(', ')}`);
  }
  for (const id of [...expected.keys()].slice(0, Math.max(0, 5 - examples.length))) {
    examples.push(`${id}: missing from target`);
  }
  return {
    sourceMemories,
    targetMemories,
    sourceHistory,
    targetHistory,
    missing: expected.size,
    differ,
    examples,
  };
}

async function main(): Promise<void> {
  const [base, size] = process.argv.slice(2);
  if (base === undefined) {
    console.error('usage: copy-check.ts <postgres-url> [memories=100000]');
    process.exit(2);
  }
  const count = Number(size ?? 100_000);
  const directory = mkdtempSync(join(tmpdir(), 'mneme-copy-check-'));
  const path = join(directory, 'source.db');
  const schema = `mneme_copy_check_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const target = new URL(base);
  target.searchParams.set('schema', schema);
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    const writeStart = nowMs();
    await writeSource(path, count);
    const writeS = round((nowMs() - writeStart) / 1000, 1);
    console.error(`copy-check: source of ${count} memories written in ${writeS} s (${path})`);
    const loadBefore = load1();
    const copyStart = nowMs();
    const copy = await runCopy(`sqlite://${path}`, target.toString());
    const copyS = (nowMs() - copyStart) / 1000;
    const loadAfter = load1();
    console.error(`copy-check: mneme copy took ${round(copyS, 1)} s; comparing`);
    const source = createSqliteStore({ path });
    const copied = createPostgresStore({ connectionString: target.toString() });
    await source.open({ embedder: EMBEDDER });
    await copied.open({ embedder: EMBEDDER });
    const compareStart = nowMs();
    const checked = await compare(source, copied);
    await source.close();
    await copied.close();
    const { rows } = await admin.query<{ memories: string; history: string }>(
      `SELECT (SELECT count(*) FROM "${schema}".memories) AS memories,
              (SELECT count(*) FROM "${schema}".history) AS history`,
    );
    const sql = { memories: Number(rows[0]?.memories), history: Number(rows[0]?.history) };
    const identical =
      checked.missing === 0 &&
      Object.values(checked.differ).every((value) => value === 0) &&
      checked.sourceMemories === count &&
      checked.targetMemories === count &&
      sql.memories === count &&
      sql.history === checked.sourceHistory &&
      checked.targetHistory === checked.sourceHistory;
    const result = {
      at: new Date().toISOString(),
      memories: count,
      source_mb: round(statSync(path).size / 2 ** 20, 1),
      source_write_s: writeS,
      copy_s: round(copyS, 1),
      copy_per_s: round(count / copyS, 0),
      load_average_before: loadBefore,
      load_average_after: loadAfter,
      cli: JSON.parse(copy) as unknown,
      compare_s: round((nowMs() - compareStart) / 1000, 1),
      ...checked,
      postgres_rows: sql,
      identical,
    };
    console.log(JSON.stringify(result));
    if (!identical) process.exitCode = 1;
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
