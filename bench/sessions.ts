/**
 * The `sessions` suite: append and load throughput of every SessionStore (src/sessions/), on real backends:
 * files and SQLite in a temp directory (each with fsync `always`, the default, and `never`), Redis and
 * PostgreSQL at MNEME_TEST_REDIS_URL / MNEME_TEST_POSTGRES_URL (skipped with the reason when unset), and S3
 * through the real AWS client against a local s3rver on loopback (an S3 service adds its network latency), with
 * its default compaction and without (`compactAfter=0`).
 *
 * Append: one session written the way the SDK mirrors a transcript, one `append` at a time in batches of 10
 * realistic transcript entries (~1 KB each); reported as entries/s and per-batch latency. Load: the whole
 * session read back (as the SDK does once on resume), several times; reported as entries/s and ms per load.
 *
 *   node --import tsx bench/sessions.ts [--quick] [--json]      (or: npm run bench -- sessions [--quick])
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSessionStore } from '../src/sessions/index.js';
import type { SessionStore, SessionStoreEntry } from '../src/sessions/types.js';
import { type LocalS3, startLocalS3 } from '../test/support/s3-server.js';
import { postgresScratch, redisScratch } from '../test/support/session-backends.js';
import { describeMachine, type MachineInfo, machineInfo } from './support/machine.js';
import { log } from './support/progress.js';
import { type LatencySummary, nowMs, round, summarise } from './support/stats.js';
import { markdownTable } from './support/table.js';

/** Options of {@link runSessionsBench}. */
export interface SessionsBenchOptions {
  /** A small run (1,000 entries per store) that finishes in well under a minute. */
  quick: boolean;
  json?: boolean;
  /** Entries appended (and then loaded) per store. @default 5000 (quick: 1000) */
  entries?: number;
  /** Entries per append call. @default 10 */
  batchSize?: number;
  /** Full loads timed per store. @default 5 (quick: 3) */
  loads?: number;
}

/** Figures for one store. */
export interface SessionStoreFigures {
  /** e.g. `file (fsync always)`. */
  store: string;
  appendEntriesPerSecond: number;
  /** Latency of one append call (one batch), ms. */
  appendBatchMs: LatencySummary;
  loadEntriesPerSecond: number;
  /** Median time of one full load of the session, ms. */
  loadMs: number;
}

/** The suite's JSON. */
export interface SessionsBenchResult {
  suite: 'sessions';
  entries: number;
  batchSize: number;
  entryBytes: number;
  loads: number;
  stores: SessionStoreFigures[];
  skipped: Array<{ store: string; reason: string }>;
  machine: MachineInfo;
}

interface Target {
  label: string;
  url?: string;
  skip?: string;
  cleanup?: () => Promise<void>;
}

/** Runs the suite, prints a Markdown table on stdout and returns the figures. */
export async function runSessionsBench(options: SessionsBenchOptions): Promise<SessionsBenchResult> {
  const machine = machineInfo();
  const entries = options.entries ?? (options.quick ? 1_000 : 5_000);
  const batchSize = options.batchSize ?? 10;
  const loads = options.loads ?? (options.quick ? 3 : 5);
  const dir = await mkdtemp(join(tmpdir(), 'mneme-bench-sessions-'));
  let s3: LocalS3 | undefined;
  const stores: SessionStoreFigures[] = [];
  const skipped: SessionsBenchResult['skipped'] = [];
  try {
    s3 = await startLocalS3();
    // The S3 store reads credentials from the AWS chain, as in production.
    Object.assign(process.env, s3.env);
    const redisUrl = process.env.MNEME_TEST_REDIS_URL;
    const postgresUrl = process.env.MNEME_TEST_POSTGRES_URL;
    const targets: Target[] = [
      { label: 'file (fsync always)', url: pathToFileURL(join(dir, 'files-always')).href },
      { label: 'file (fsync never)', url: `${pathToFileURL(join(dir, 'files-never')).href}?fsync=never` },
      { label: 'sqlite (fsync always)', url: `sqlite://${join(dir, 'always.db')}` },
      { label: 'sqlite (fsync never)', url: `sqlite://${join(dir, 'never.db')}?fsync=never` },
      redisUrl === undefined
        ? { label: 'redis', skip: 'MNEME_TEST_REDIS_URL not set' }
        : { label: 'redis', ...redisScratch(redisUrl, 'mneme-bench') },
      postgresUrl === undefined
        ? { label: 'postgres', skip: 'MNEME_TEST_POSTGRES_URL not set' }
        : { label: 'postgres', ...postgresScratch(postgresUrl, 'mneme_bench_sessions') },
      { label: 's3 (local s3rver)', url: s3.url(`bench/${randomUUID()}`) },
      // The same without compaction: what a load costs at one GET per append.
      { label: 's3 (compactAfter=0)', url: `${s3.url(`bench/${randomUUID()}`)}&compactAfter=0` },
    ];
    for (const target of targets) {
      if (target.url === undefined) {
        skipped.push({ store: target.label, reason: target.skip ?? 'no URL' });
        log(`sessions bench: ${target.label} skipped: ${target.skip ?? 'no URL'}`);
        continue;
      }
      log(`sessions bench: ${target.label}: ${entries} entries in batches of ${batchSize}, ${loads} loads`);
      const store = createSessionStore(target.url);
      try {
        stores.push(await measure(target.label, store, { entries, batchSize, loads }));
      } finally {
        await store.close();
        await target.cleanup?.();
      }
    }
  } finally {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  }
  const result: SessionsBenchResult = {
    suite: 'sessions',
    entries,
    batchSize,
    entryBytes: JSON.stringify(transcriptEntry('x', 0)).length,
    loads,
    stores,
    skipped,
    machine,
  };
  process.stdout.write(`${formatSessionsReport(result)}\n`);
  return result;
}

async function measure(
  label: string,
  store: SessionStore,
  plan: { entries: number; batchSize: number; loads: number },
): Promise<SessionStoreFigures> {
  const key = { projectKey: '-bench-project', sessionId: randomUUID() };
  // Warm-up (connection, schema, driver and SDK loading) on another session, outside the timed region.
  await store.append({ ...key, sessionId: randomUUID() }, [transcriptEntry(key.sessionId, 0)]);
  const batchMs: number[] = [];
  const appendStart = nowMs();
  for (let start = 0; start < plan.entries; start += plan.batchSize) {
    const batch: SessionStoreEntry[] = [];
    for (let index = start; index < Math.min(plan.entries, start + plan.batchSize); index += 1) {
      batch.push(transcriptEntry(key.sessionId, index));
    }
    const started = nowMs();
    await store.append(key, batch);
    batchMs.push(nowMs() - started);
  }
  const appendSeconds = (nowMs() - appendStart) / 1000;
  const loadMs: number[] = [];
  for (let round = 0; round < plan.loads; round += 1) {
    const started = nowMs();
    const loaded = await store.load(key);
    loadMs.push(nowMs() - started);
    if (loaded?.length !== plan.entries) {
      throw new Error(`${label}: loaded ${loaded?.length ?? 0} entries, expected ${plan.entries}`);
    }
  }
  const medianLoadMs = summarise(loadMs).p50;
  return {
    store: label,
    appendEntriesPerSecond: Math.round(plan.entries / appendSeconds),
    appendBatchMs: summarise(batchMs),
    loadEntriesPerSecond: Math.round(plan.entries / (medianLoadMs / 1000)),
    loadMs: round(medianLoadMs, 1),
  };
}

/** A transcript entry shaped like the CLI's (user or assistant message, ~1 KB). */
function transcriptEntry(sessionId: string, index: number): SessionStoreEntry {
  const assistant = index % 2 === 1;
  const text = `Entry ${index}: ${'The quick brown fox jumps over the lazy dog. '.repeat(14)}`;
  return {
    type: assistant ? 'assistant' : 'user',
    uuid: randomUUID(),
    parentUuid: null,
    sessionId,
    timestamp: new Date().toISOString(),
    cwd: '/home/user/project',
    version: '2.1.331',
    gitBranch: 'main',
    isSidechain: false,
    userType: 'external',
    message: assistant
      ? {
          role: 'assistant',
          model: 'claude-sonnet',
          content: [{ type: 'text', text }],
          stop_reason: 'end_turn',
        }
      : { role: 'user', content: text },
  };
}

/** The human-readable report: one table row per store. */
export function formatSessionsReport(result: SessionsBenchResult): string {
  const rows = result.stores.map((figures) => [
    figures.store,
    figures.appendEntriesPerSecond,
    figures.appendBatchMs.p50,
    figures.appendBatchMs.p95,
    figures.loadEntriesPerSecond,
    figures.loadMs,
  ]);
  return [
    `SessionStore throughput: ${result.entries} entries of ~${result.entryBytes} bytes, appended one batch of ` +
      `${result.batchSize} at a time, then loaded whole (median of ${result.loads}).`,
    '',
    markdownTable(
      [
        'store',
        'append entries/s',
        'append p50 ms/batch',
        'append p95 ms/batch',
        'load entries/s',
        `load ms (${result.entries})`,
      ],
      rows,
    ),
    ...result.skipped.map((skip) => `skipped ${skip.store}: ${skip.reason}`),
    '',
    `${describeMachine(result.machine)}, load average ${result.machine.loadAverage}.`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  runSessionsBench({ quick: argv.includes('--quick'), json: argv.includes('--json') }).then(
    (result) => {
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(
        `sessions bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
