/**
 * HTTP load test of `mneme serve`: a bounded loopback run (autocannon, fixed duration and connection count, stops by
 * itself) of search requests against a server holding N memories in a SQLite file, with the default offline
 * embedder. Reports requests/s and latency p50/p95/p99 (computed from every response time) for three routes:
 *
 * - `mem0 search (hybrid)`: `POST /v3/memories/search/` as the Mem0 client sends it. Each request embeds its
 *   query with the local model (single-threaded WASM), which bounds throughput.
 * - `native search (keyword)`: `POST /api/memories/search` with `mode: "keyword"`: auth, validation, tenant scope,
 *   store query and JSON, without the embedder.
 * - `health`: the HTTP floor of this machine (Hono + @hono/node-server, no auth, no store).
 *
 * Seeding writes through the store seam (`store.restore`) with vectors derived from embedded template sentences
 * (each memory's vector is its template's plus noise; bench/support/seed-memories.ts), so seeding does not take minutes of embedding; searches
 * embed their queries for real. Requests carry a valid API key and are logged (to a discarded sink) as in
 * production. Every non-2xx response fails the run.
 *
 * Run alone: `node --import tsx bench/http.ts [--quick] [--json]`, or `npm run bench -- http [--quick] [--json]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createConsoleLogger } from '../src/core/logger.js';
import { createMemory } from '../src/memory/memory.js';
import { createApp } from '../src/server/app.js';
import { createFileKeyStore } from '../src/server/keys.js';
import { startServer } from '../src/server/listen.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { seedTemplateMemories } from './support/seed-memories.js';
import { markdownTable } from './support/table.js';

/** Options of {@link runHttpBench}. */
export interface HttpBenchOptions {
  /** Small and short (1,000 memories, 3 s per route). @default false */
  quick?: boolean;
  /** Memories in the store. @default 10000 (quick: 1000) */
  memories?: number;
  /** Users they are spread over. @default 100 (quick: 10) */
  users?: number;
  /** Concurrent connections. @default 8 (quick: 4) */
  connections?: number;
  /** Seconds per route. @default 10 (quick: 3) */
  durationSeconds?: number;
}

/** One route's figures. */
export interface HttpBenchRow {
  route: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** What {@link runHttpBench} returns (also the `--json` line). */
export interface HttpBenchResult {
  machine: ReturnType<typeof machineInfo>;
  memories: number;
  users: number;
  connections: number;
  durationSeconds: number;
  store: 'sqlite';
  embedder: string;
  rows: HttpBenchRow[];
}

interface AutocannonRequest {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}
interface AutocannonResult {
  requests: { total: number; average: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    requests: AutocannonRequest[];
    headers?: Record<string, string>;
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

/** Runs the load test and prints a Markdown table (stdout) with progress on stderr. */
export async function runHttpBench(options: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const quick = options.quick === true;
  const memories = options.memories ?? (quick ? 1000 : 10_000);
  const users = options.users ?? (quick ? 10 : 100);
  const connections = options.connections ?? (quick ? 4 : 8);
  const durationSeconds = options.durationSeconds ?? (quick ? 3 : 10);
  const machine = machineInfo();
  const directory = mkdtempSync(join(tmpdir(), 'mneme-bench-http-'));
  const progress = (text: string) => process.stderr.write(`[http] ${text}\n`);
  const silentLogger = createConsoleLogger('info', () => undefined);
  const memory = await createMemory({
    store: `sqlite://${join(directory, 'bench.db')}`,
    embedder: 'local',
    llm: null,
    env: {},
    logger: silentLogger,
  });
  try {
    progress(`seeding ${memories} memories over ${users} users (SQLite, ${memory.embedder.id})`);
    await seedTemplateMemories(memory, memories, users);
    const keys = createFileKeyStore({ path: join(directory, 'keys.json') });
    const { key } = await keys.create({ appId: 'bench' });
    const app = createApp({ memory, keys, logger: silentLogger });
    const server = await startServer({ app, memory, port: 0, logger: silentLogger });
    const headers = { authorization: `Token ${key}`, 'content-type': 'application/json' };
    const queries = [
      'which indentation do I use?',
      'what do I drink?',
      'where does staging run?',
      'when do we deploy?',
    ];
    const routes: Array<{ route: string; requests: AutocannonRequest[] }> = [
      {
        route: 'mem0 search (hybrid)',
        requests: queries.map((query, index) => ({
          method: 'POST',
          path: '/v3/memories/search/',
          headers,
          body: JSON.stringify({ query, filters: { user_id: `user-${index % users}` }, top_k: 10 }),
        })),
      },
      {
        route: 'native search (keyword)',
        requests: queries.map((query, index) => ({
          method: 'POST',
          path: '/api/memories/search',
          headers,
          body: JSON.stringify({ query, userId: `user-${index % users}`, limit: 10, mode: 'keyword' }),
        })),
      },
      { route: 'health', requests: [{ method: 'GET', path: '/health' }] },
    ];
    const rows: HttpBenchRow[] = [];
    try {
      await memory.embedder.embed({ texts: ['warm-up'], purpose: 'query' });
      for (const { route, requests } of routes) {
        progress(`${route}: ${connections} connections for ${durationSeconds} s`);
        rows.push(await load(server.url, route, requests, connections, durationSeconds));
      }
    } finally {
      await server.close();
    }
    const result: HttpBenchResult = {
      machine,
      memories,
      users,
      connections,
      durationSeconds,
      store: 'sqlite',
      embedder: memory.embedder.id,
      rows,
    };
    process.stdout.write(`${report(result)}\n`);
    return result;
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function load(
  url: string,
  route: string,
  requests: AutocannonRequest[],
  connections: number,
  durationSeconds: number,
): Promise<HttpBenchRow> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const times: number[] = [];
  const statuses = new Map<number, number>();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: durationSeconds, requests }, (error, done) =>
      error ? reject(error) : resolve(done),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      times.push(ms);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
  });
  const failures = [...statuses].filter(([status]) => status < 200 || status >= 300);
  if (failures.length > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${route}: ${JSON.stringify(Object.fromEntries(failures))} non-2xx, ${result.errors} errors, ` +
        `${result.timeouts} timeouts: the load test is invalid`,
    );
  }
  times.sort((left, right) => left - right);
  return {
    route,
    requests: times.length,
    requestsPerSecond: round(times.length / result.duration),
    p50Ms: round(percentile(times, 0.5)),
    p95Ms: round(percentile(times, 0.95)),
    p99Ms: round(percentile(times, 0.99)),
  };
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function report(result: HttpBenchResult): string {
  return [
    `HTTP search load test: ${result.memories} memories over ${result.users} users, SQLite, ${result.embedder}, ` +
      `${result.connections} connections x ${result.durationSeconds} s per route, loopback`,
    describeMachine(result.machine),
    '',
    markdownTable(
      ['route', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms'],
      result.rows.map((row) => [
        row.route,
        row.requests,
        row.requestsPerSecond,
        row.p50Ms,
        row.p95Ms,
        row.p99Ms,
      ]),
    ),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  runHttpBench({ quick: args.includes('--quick') }).then(
    (result) => {
      if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ suite: 'http', ...result })}\n`);
    },
    (error: unknown) => {
      process.stderr.write(
        `http bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
