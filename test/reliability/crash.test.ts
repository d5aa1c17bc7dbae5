/**
 * Crash test: a child process (fixtures/crash-writer.ts) ingests continuously into a real SQLite file through
 * `memory.add` and `memory.enqueue` and is killed with SIGKILL at a random point. After every kill the parent
 * checks that the file opens cleanly (`PRAGMA integrity_check`, the FTS5 index's own integrity check, row counts
 * of memories / vectors / keyword entries agree), that every write acknowledged before the kill is present, that
 * every write is all-or-nothing, and that nothing was ingested twice. Every ten trials the file's queue is
 * drained by a fresh process-like Memory and every acknowledged `enqueue` must then be stored exactly once.
 *
 * 100 trials by default (two files written in parallel); `MNEME_LONG_TESTS=1` runs 1,000. `MNEME_CRASH_SEED`
 * replays the kill timings of a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createMemory } from '../../src/memory/memory.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import { createTestEmbedder } from '../support/test-embedder.js';
import { seededRandom } from '../support/vectors.js';
import { type TranspiledFixtures, transpileFixtures } from './fixtures/transpile.js';

const LONG = process.env.MNEME_LONG_TESTS === '1';
const TRIALS = LONG ? 1000 : 100;
const LANES = 2;
const TRIALS_PER_FILE = 10;
const SEED = Number(process.env.MNEME_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FIXTURE = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const EMBEDDER = { id: 'test:hash-32', dimension: 32 };

let fixtures: TranspiledFixtures;
before(() => {
  fixtures = transpileFixtures([FIXTURE]);
});
after(() => fixtures.remove());

interface Write {
  kind: 'add' | 'enqueue';
  texts: string[];
}

/** What the writers of one file announced and acknowledged, across all its trials. */
interface Ledger {
  intents: Write[];
  ackedAdds: Array<{ texts: string[]; ids: string[] }>;
  ackedEnqueues: Array<{ texts: string[]; queueItemId: string }>;
}

interface Totals {
  trials: number;
  killedBeforeReady: number;
  ackedWrites: number;
  checkedTexts: number;
  drains: number;
  drainedItems: number;
}

/**
 * Runs one writer and SIGKILLs it: 0-600 ms after spawn (often before the store is open), or 5-305 ms after
 * `ready` (often before or during its first write), or 5-305 ms after its first acknowledged add (so that, on a
 * loaded machine where the first write takes longer than that, most trials still kill a writer mid-stream).
 */
function runTrial(
  path: string,
  label: string,
  rng: () => number,
  ledger: Ledger,
): Promise<{ ready: boolean }> {
  const point = rng();
  const early = point < 0.15;
  const afterAck = point >= 0.5;
  const delay = early ? rng() * 600 : 5 + rng() * 300;
  const ledgerPath = `${path}.${label}.ledger`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixtures.pathOf(FIXTURE), path, ledgerPath, label], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = false;
    let stderr = '';
    const kill = () => child.kill('SIGKILL');
    const guard = setTimeout(kill, 60_000);
    if (early) setTimeout(kill, delay);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let acked = false;
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (!ready && text.includes('ready')) {
        ready = true;
        if (!early && !afterAck) setTimeout(kill, delay);
      }
      if (!acked && text.includes('acked')) {
        acked = true;
        if (afterAck) setTimeout(kill, delay);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (existsSync(ledgerPath)) readLedger(readFileSync(ledgerPath, 'utf8'), ledger);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ${label} exited on its own (code ${code}, signal ${signal}):\n${stderr}`));
      } else if (!ready && !early) {
        reject(new Error(`writer ${label} never became ready:\n${stderr}`));
      } else {
        resolve({ ready });
      }
    });
  });
}

/** Adds a writer's ledger lines to `ledger`. A last line without its newline was cut by the kill: ignored. */
function readLedger(text: string, ledger: Ledger): void {
  const lines = text.split('\n');
  lines.pop();
  for (const line of lines) {
    if (line.startsWith('I ')) ledger.intents.push(JSON.parse(line.slice(2)) as Write);
    else if (line.startsWith('A '))
      ledger.ackedAdds.push(JSON.parse(line.slice(2)) as Ledger['ackedAdds'][number]);
    else if (line.startsWith('Q ')) {
      ledger.ackedEnqueues.push(JSON.parse(line.slice(2)) as Ledger['ackedEnqueues'][number]);
    }
  }
}

/** The checks that must hold after any kill. Returns how many acknowledged texts were verified. */
async function verifyAfterKill(path: string, ledger: Ledger, context: string): Promise<number> {
  const acknowledged = ledger.ackedAdds.length + ledger.ackedEnqueues.length;
  if (!existsSync(path)) {
    assert.equal(acknowledged, 0, `${context}: writes were acknowledged but the file is missing`);
    return 0;
  }
  const db = new Database(path);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `${context}: integrity_check`);
    const hasSchema = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'memories'").get() !== undefined;
    if (!hasSchema) {
      // Migrations run in one transaction: a kill during the first open leaves no half-made schema.
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
        name: string;
      }>;
      assert.deepEqual(
        tables.map((table) => table.name).filter((name) => name !== 'meta'),
        [],
        `${context}: partial schema`,
      );
      assert.equal(acknowledged, 0, `${context}: writes were acknowledged but there is no schema`);
      return 0;
    }
    db.prepare("INSERT INTO memory_fts (memory_fts, rank) VALUES ('integrity-check', 1)").run();
  } finally {
    db.close();
  }

  // The store opens cleanly through mneme's own code path (migrations, embedder check) and its counts agree.
  const store = createSqliteStore({ path });
  await store.open({ embedder: EMBEDDER });
  try {
    const stats = await store.stats();
    assert.equal(stats.vectors, stats.memories, `${context}: vectors vs memories`);
    assert.equal(stats.keywordEntries, stats.memories, `${context}: keyword entries vs memories`);
  } finally {
    await store.close();
  }

  const read = new Database(path, { readonly: true });
  try {
    const present = presentTexts(read);
    let checked = 0;
    const idRows = read.prepare('SELECT id, memory FROM memories').all() as Array<{
      id: string;
      memory: string;
    }>;
    const byId = new Map(idRows.map((row) => [row.id, row.memory]));
    for (const ack of ledger.ackedAdds) {
      assert.equal(
        ack.ids.length,
        ack.texts.length,
        `${context}: add acknowledged ${ack.texts.length} texts`,
      );
      ack.ids.forEach((id, index) => {
        assert.equal(byId.get(id), ack.texts[index], `${context}: acknowledged add ${id} is missing`);
      });
      checked += ack.texts.length;
    }
    const queued = new Set(
      (read.prepare('SELECT id FROM queue').all() as Array<{ id: string }>).map((row) => row.id),
    );
    for (const ack of ledger.ackedEnqueues) {
      const stored = ack.texts.filter((text) => present.has(text)).length;
      assert.ok(
        queued.has(ack.queueItemId) ? stored === 0 : stored === ack.texts.length,
        `${context}: acknowledged enqueue ${ack.queueItemId} is neither queued nor ingested (${stored}/${ack.texts.length} stored)`,
      );
      checked += ack.texts.length;
    }
    for (const intent of ledger.intents) {
      const stored = intent.texts.filter((text) => present.has(text)).length;
      assert.ok(
        stored === 0 || stored === intent.texts.length,
        `${context}: a ${intent.kind} of ${intent.texts.length} texts landed partly (${stored})`,
      );
    }
    assertNoDuplicates(read, context);
    return checked;
  } finally {
    read.close();
  }
}

/** Texts stored now, each mapped to how many rows hold it. */
function presentTexts(db: Database.Database): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of db.prepare('SELECT memory FROM memories').all() as Array<{ memory: string }>) {
    counts.set(row.memory, (counts.get(row.memory) ?? 0) + 1);
  }
  return counts;
}

/** No memory was ingested twice: one row per hash and user, one ADD per memory, no NOOP ("stated again"). */
function assertNoDuplicates(db: Database.Database, context: string): void {
  const duplicates = db
    .prepare('SELECT user_id, hash, COUNT(*) AS n FROM memories GROUP BY user_id, hash HAVING n > 1')
    .all();
  assert.deepEqual(duplicates, [], `${context}: duplicate memories`);
  const repeatedAdds = db
    .prepare(
      "SELECT memory_id, COUNT(*) AS n FROM history WHERE event = 'ADD' GROUP BY memory_id HAVING n > 1",
    )
    .all();
  assert.deepEqual(repeatedAdds, [], `${context}: a memory was added twice`);
  const noops = db.prepare("SELECT COUNT(*) AS n FROM history WHERE event = 'NOOP'").get() as { n: number };
  assert.equal(noops.n, 0, `${context}: an item was ingested again (NOOP events)`);
}

/**
 * Resumes the file's queue the way a new process does (its clock set past every lease a killed writer held) and
 * checks that every acknowledged enqueue is now stored exactly once. @returns items drained.
 */
async function drainAndVerify(path: string, ledger: Ledger, context: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const memory = await createMemory({
    store: `sqlite://${path}`,
    embedder: createTestEmbedder({ dimension: 32 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    clock: () => new Date(Date.now() + 3_600_000),
    ingestion: { background: false },
  });
  let processed: number;
  try {
    const drained = await memory.flush();
    assert.equal(drained.failed, 0, `${context}: queue items failed`);
    assert.equal(drained.pending, 0, `${context}: queue not drained`);
    processed = drained.processed;
  } finally {
    await memory.close();
  }
  const db = new Database(path, { readonly: true });
  try {
    const present = presentTexts(db);
    for (const ack of ledger.ackedEnqueues) {
      for (const text of ack.texts) {
        assert.equal(
          present.get(text),
          1,
          `${context}: acknowledged enqueue "${text}" stored ${present.get(text) ?? 0} times`,
        );
      }
    }
    for (const intent of ledger.intents) {
      const stored = intent.texts.filter((text) => present.has(text)).length;
      assert.ok(stored === 0 || stored === intent.texts.length, `${context}: partial ${intent.kind}`);
    }
    assertNoDuplicates(db, context);
  } finally {
    db.close();
  }
  return processed;
}

async function runLane(lane: number, trials: number, rng: () => number, totals: Totals): Promise<void> {
  let dir: string | undefined;
  let path = '';
  let ledger: Ledger = { intents: [], ackedAdds: [], ackedEnqueues: [] };
  const finishFile = async (context: string) => {
    if (!dir) return;
    totals.drainedItems += await drainAndVerify(path, ledger, context);
    totals.drains += 1;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let trial = 0; trial < trials; trial += 1) {
    if (trial % TRIALS_PER_FILE === 0) {
      await finishFile(`lane ${lane} before trial ${trial}`);
      dir = mkdtempSync(join(tmpdir(), 'mneme-crash-'));
      path = join(dir, 'crash.db');
      ledger = { intents: [], ackedAdds: [], ackedEnqueues: [] };
    }
    const label = `l${lane}t${trial}`;
    const before = ledger.ackedAdds.length + ledger.ackedEnqueues.length;
    const { ready } = await runTrial(path, label, rng, ledger);
    totals.trials += 1;
    if (!ready) totals.killedBeforeReady += 1;
    totals.ackedWrites += ledger.ackedAdds.length + ledger.ackedEnqueues.length - before;
    totals.checkedTexts += await verifyAfterKill(path, ledger, `lane ${lane} trial ${trial} (seed ${SEED})`);
  }
  await finishFile(`lane ${lane} at the end`);
}

test(`SIGKILL at random points: ${TRIALS} trials, acknowledged writes survive, the queue drains exactly once`, {
  timeout: LONG ? 4 * 3_600_000 : 600_000,
}, async (t) => {
  const totals: Totals = {
    trials: 0,
    killedBeforeReady: 0,
    ackedWrites: 0,
    checkedTexts: 0,
    drains: 0,
    drainedItems: 0,
  };
  const started = Date.now();
  await Promise.all(
    Array.from({ length: LANES }, (_, lane) =>
      runLane(lane, Math.ceil(TRIALS / LANES), seededRandom(SEED + lane), totals),
    ),
  );
  assert.equal(totals.trials, LANES * Math.ceil(TRIALS / LANES));
  assert.ok(totals.ackedWrites > totals.trials, 'writers acknowledged writes before most kills');
  assert.ok(totals.drainedItems > 0, 'some queued items were left for the resuming process');
  t.diagnostic(
    `seed ${SEED}: ${totals.trials} trials (${totals.killedBeforeReady} killed before the store was open), ` +
      `${totals.ackedWrites} acknowledged writes, ${totals.checkedTexts} acknowledged texts re-checked after ` +
      `kills, ${totals.drains} drains resumed ${totals.drainedItems} queued items, ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});
