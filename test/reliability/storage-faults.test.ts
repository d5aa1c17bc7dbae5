/**
 * A full disk, simulated with a file-size limit (`ulimit -f`, no root needed): the SQLite file cannot grow, so a
 * write fails the way it does on a full volume. The caller must get a clear StoreError, every write acknowledged
 * before it must be intact, no write may land partly, and the store must work again once there is room.
 * (Read-only and corrupted files are covered by test/cli/doctor.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createMemory } from '../../src/memory/memory.js';
import { type ProcessOutput, processOutput } from '../support/process.js';
import { createTestEmbedder } from '../support/test-embedder.js';
import { type TranspiledFixtures, transpileFixtures } from './fixtures/transpile.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/disk-full-writer.ts', import.meta.url));

interface Described {
  name: string;
  code: string;
  message: string;
}

let fixtures: TranspiledFixtures;
let dir: string;
before(() => {
  fixtures = transpileFixtures([FIXTURE]);
  dir = mkdtempSync(join(tmpdir(), 'mneme-disk-full-'));
});
after(() => {
  fixtures.remove();
  rmSync(dir, { recursive: true, force: true });
});

function runUnderFileSizeLimit(blocks: number, path: string): Promise<ProcessOutput> {
  // `exec` keeps the limit on node itself; node ignores SIGXFSZ, so the write fails with EFBIG instead.
  const child = spawn(
    '/bin/sh',
    ['-c', `ulimit -f ${blocks} && exec "$0" "$@"`, process.execPath, fixtures.pathOf(FIXTURE), path],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return processOutput(child);
}

test('a full disk: a clear StoreError, acknowledged writes intact, nothing partial, usable again with room', async (t) => {
  const path = join(dir, 'full.db');
  // 4,096 blocks (2 MB with 512-byte blocks, 4 MB with 1 KB ones): room for the schema and a few dozen adds
  // (each commit appends ~20 pages to the WAL).
  const run = await runUnderFileSizeLimit(4096, path);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as {
    acked: Array<{ id: string; text: string }>;
    errors: Described[];
    closeError?: Described;
  };
  assert.ok(report.acked.length >= 5, `some adds fit before the limit (${report.acked.length})`);
  assert.equal(report.errors.length, 2, 'adds fail once the file cannot grow');
  for (const error of report.errors) {
    assert.equal(error.name, 'StoreError');
    assert.equal(error.code, 'store_io');
    assert.match(error.message, /disk error/);
    assert.match(error.message, /Free disk space or check the volume, then run `mneme doctor`/);
  }

  const db = new Database(path);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.prepare("INSERT INTO memory_fts (memory_fts, rank) VALUES ('integrity-check', 1)").run();
    const rows = db.prepare('SELECT id, memory FROM memories').all() as Array<{ id: string; memory: string }>;
    const byId = new Map(rows.map((row) => [row.id, row.memory]));
    for (const ack of report.acked)
      assert.equal(byId.get(ack.id), ack.text, `acknowledged ${ack.id} is intact`);
    // One memory per add: at most the failed adds are missing, nothing else, and none landed without its index.
    assert.equal(rows.length, report.acked.length, 'no failed add left a row behind');
    const count = (table: string) =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    assert.equal(count('memory_vectors'), rows.length);
    assert.equal(count('memory_fts'), rows.length);
    assert.equal(count("history WHERE event = 'ADD'"), rows.length);
  } finally {
    db.close();
  }

  // With room again (no limit in this process) the same file takes writes.
  const memory = await createMemory({
    store: `sqlite://${path}`,
    embedder: createTestEmbedder({ dimension: 64 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
  try {
    const { results } = await memory.add('after the disk was freed, pelicans again', { userId: 'user-0' });
    assert.equal(results[0]?.event, 'ADD');
    const stats = await memory.store.stats();
    assert.equal(stats.memories, report.acked.length + 1);
  } finally {
    await memory.close();
  }
  t.diagnostic(
    `${report.acked.length} adds acknowledged before the limit; the next ${report.errors.length} failed with ` +
      `${report.errors[0]?.code}${report.closeError ? `; close: ${report.closeError.code}` : '; close ok'}`,
  );
});
