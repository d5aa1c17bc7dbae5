/**
 * Soak test of the real `mneme serve`: the published bin (`bin/mneme.js`, so `npm run build` first) is spawned on a
 * SQLite file holding 10,000 memories over 100 users, with the local embedder and no LLM, and 8 keep-alive
 * connections (one `http.Agent` with one socket each) send a mixed load for N minutes (default 10; `--quick`: 1):
 *
 * - 60% `POST /api/memories/search` (hybrid: each request embeds its query),
 * - 30% `POST /api/memories` with `infer: false` (one memory, embedded),
 * - 10% `DELETE /api/memories/:id` (erasure) of a memory this connection's adds created (event ADD or SUPERSEDE, not
 *   NOOP; its oldest still held; an add when it has none).
 *
 * The mix draws from a fixed-seed generator, users round-robin. Seeding is bench/support/seed-memories.ts, the same
 * as the `http` suite, written into the file before the server starts. Per minute of load (by completion time):
 * requests, errors (any non-2xx, or a network error, counted by status), p50/p95 per operation, memories held (seeded
 * + created by adds - deleted; superseded ones included), and, sampled at the end of the minute, the server process's RSS (`VmRSS` of
 * /proc/<pid>/status) and open file descriptors (entries of /proc/<pid>/fd). Goal checks at the end: no errors; RSS
 * growth from minute 2 (after warm-up) to the last minute under 10%; the last minute's p95 of every operation within
 * 1.5x of minute 2's. With fewer than 3 minutes the last two checks are reported as not applicable.
 *
 * Run: `npm run bench -- soak [--minutes N] [--quick] [--json]`. Linux only (reads /proc).
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createConsoleLogger } from '../src/core/logger.js';
import { createMemory } from '../src/memory/memory.js';
import { createFileKeyStore } from '../src/server/keys.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { SEED_TEMPLATES, seedTemplateMemories } from './support/seed-memories.js';
import { nowMs, percentile, round } from './support/stats.js';
import { markdownTable } from './support/table.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OPERATIONS = ['search', 'add', 'delete'] as const;
type Operation = (typeof OPERATIONS)[number];

/** Options of {@link runSoakBench}. */
export interface SoakBenchOptions {
  /** One minute instead of ten. @default false */
  quick?: boolean;
  /** Minutes of load. @default 10 (quick: 1) */
  minutes?: number;
  /** Memories seeded. @default 10000 */
  memories?: number;
  /** Users they are spread over. @default 100 */
  users?: number;
  /** Concurrent connections. @default 8 */
  connections?: number;
}

/** One operation's figures in one minute. */
export interface SoakOperationFigures {
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** One minute of load. */
export interface SoakMinute {
  minute: number;
  requests: number;
  errors: number;
  /** Error counts by HTTP status, or `network`. */
  errorStatuses: Record<string, number>;
  operations: Record<Operation, SoakOperationFigures>;
  liveMemories: number;
  rssMb: number;
  openFds: number;
}

/** One goal, passed or not (`null`: not applicable to this run's length). */
export interface SoakCheck {
  goal: string;
  pass: boolean | null;
  detail: string;
}

/** What {@link runSoakBench} returns (also the `--json` line). */
export interface SoakBenchResult {
  machine: ReturnType<typeof machineInfo>;
  memories: number;
  users: number;
  connections: number;
  minutes: number;
  mix: Record<Operation, number>;
  store: 'sqlite';
  embedder: string;
  startRssMb: number;
  startOpenFds: number;
  /** Events of the successful adds (`ADD`, `SUPERSEDE` without an LLM, `NOOP` for a near-duplicate). */
  addEvents: Record<string, number>;
  rows: SoakMinute[];
  checks: SoakCheck[];
  pass: boolean;
}

const MIX: Record<Operation, number> = { search: 0.6, add: 0.3, delete: 0.1 };
const QUERIES = [
  'which indentation do I use?',
  'what do I drink?',
  'where does staging run?',
  'when do we deploy?',
];

interface Sample {
  operation: Operation;
  ms: number;
  /** HTTP status, or 0 for a network error. */
  status: number;
  minute: number;
  /** For an add: whether it created a memory (event ADD or SUPERSEDE; NOOP creates none). */
  created?: boolean;
}

/** Runs the soak test; prints the per-minute table and the goal checks (stdout), progress on stderr. */
export async function runSoakBench(options: SoakBenchOptions = {}): Promise<SoakBenchResult> {
  const minutes = options.minutes ?? (options.quick === true ? 1 : 10);
  if (!Number.isInteger(minutes) || minutes < 1)
    throw new Error(`--minutes must be a whole number >= 1, got ${minutes}`);
  const memories = options.memories ?? 10_000;
  const users = options.users ?? 100;
  const connections = options.connections ?? 8;
  const bin = join(REPO, 'bin', 'mneme.js');
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) {
    throw new Error(
      'the soak suite runs the built bin: run `npm run build` first (dist/cli/main.js is missing)',
    );
  }
  const machine = machineInfo();
  const progress = (text: string) => process.stderr.write(`[soak] ${text}\n`);
  const directory = mkdtempSync(join(tmpdir(), 'mneme-bench-soak-'));
  const store = `sqlite://${join(directory, 'soak.db')}`;
  try {
    const seeding = await createMemory({
      store,
      embedder: 'local',
      llm: null,
      env: {},
      logger: createConsoleLogger('info', () => undefined),
    });
    const embedder = seeding.embedder.id;
    try {
      progress(`seeding ${memories} memories over ${users} users (SQLite, ${embedder})`);
      await seedTemplateMemories(seeding, memories, users);
    } finally {
      await seeding.close();
    }
    const keysFile = join(directory, 'keys.json');
    const { key } = await createFileKeyStore({ path: keysFile }).create({ appId: 'bench' });
    const server = await startServe(bin, store, keysFile, directory);
    try {
      const startRssMb = rssMb(server.pid);
      const startOpenFds = openFds(server.pid);
      progress(`server pid ${server.pid} at ${server.url}: ${connections} connections for ${minutes} min`);
      const {
        samples,
        rows: sampled,
        addEvents,
      } = await load({
        url: server.url,
        key,
        users,
        connections,
        minutes,
        pid: server.pid,
        progress,
        crashed: () => server.exited,
      });
      const rows = summariseMinutes(samples, sampled, memories);
      const checks = goalChecks(rows);
      const result: SoakBenchResult = {
        machine,
        memories,
        users,
        connections,
        minutes,
        mix: MIX,
        store: 'sqlite',
        embedder,
        startRssMb,
        startOpenFds,
        addEvents,
        rows,
        checks,
        pass: checks.every((check) => check.pass !== false),
      };
      if (server.exited) progress(`the server exited during the run; its last output:\n${server.tail()}`);
      process.stdout.write(`${report(result)}\n`);
      return result;
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

interface ServeProcess {
  pid: number;
  url: string;
  readonly exited: boolean;
  tail(): string;
  stop(): Promise<void>;
}

/** Spawns `mneme serve --port 0 --json` and resolves once it prints its URL. */
async function startServe(bin: string, store: string, keysFile: string, home: string): Promise<ServeProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('MNEME_')) env[name] = value;
  Object.assign(env, { MNEME_HOME: home, MNEME_EMBEDDER: 'local', MNEME_LLM: 'none' });
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--store', store, '--keys', keysFile, '--json'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let exited = false;
  let tail = '';
  // The request log (info) goes to stderr; keep its end for a failure report.
  child.stderr.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  });
  const done = new Promise<void>((resolveExit) =>
    child.once('exit', () => {
      exited = true;
      resolveExit();
    }),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line && stdout.includes('\n')) resolveUrl((JSON.parse(line) as { url: string }).url);
    });
    void done.then(() => reject(new Error(`mneme serve exited before listening:\n${tail}`)));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('mneme serve has no pid');
  return {
    pid,
    url,
    get exited() {
      return exited;
    },
    tail: () => tail,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await done;
    },
  };
}

interface LoadOptions {
  url: string;
  key: string;
  users: number;
  connections: number;
  minutes: number;
  pid: number;
  progress: (text: string) => void;
  crashed: () => boolean;
}

interface ProcessSample {
  rssMb: number;
  openFds: number;
}

async function load(
  options: LoadOptions,
): Promise<{ samples: Sample[]; rows: ProcessSample[]; addEvents: Record<string, number> }> {
  const samples: Sample[] = [];
  const addEvents: Record<string, number> = {};
  const processSamples: ProcessSample[] = [];
  const started = nowMs();
  const end = started + options.minutes * 60_000;
  const minuteOf = (at: number) => Math.min(options.minutes - 1, Math.floor((at - started) / 60_000));
  let state = 4242;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  let turn = 0;
  const headers = { authorization: `Token ${options.key}`, 'content-type': 'application/json' };
  const sampler = (async () => {
    for (let minute = 1; minute <= options.minutes; minute += 1) {
      const wait = started + minute * 60_000 - nowMs();
      if (wait > 0) await new Promise((resolveWait) => setTimeout(resolveWait, wait));
      const row = options.crashed()
        ? { rssMb: Number.NaN, openFds: Number.NaN }
        : { rssMb: rssMb(options.pid), openFds: openFds(options.pid) };
      processSamples.push(row);
      const inMinute = samples.filter((sample) => sample.minute === minute - 1);
      const failed = inMinute.filter((sample) => sample.status < 200 || sample.status >= 300).length;
      options.progress(
        `minute ${minute}/${options.minutes}: ${inMinute.length} requests, ${failed} errors, ` +
          `RSS ${row.rssMb} MB, ${row.openFds} fds`,
      );
    }
  })();
  const worker = async (connection: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const added: string[] = [];
    try {
      while (nowMs() < end) {
        const draw = random();
        const user = `user-${turn % options.users}`;
        turn += 1;
        let operation: Operation =
          draw < MIX.search ? 'search' : draw < MIX.search + MIX.add ? 'add' : 'delete';
        if (operation === 'delete' && added.length === 0) operation = 'add';
        let method = 'POST';
        let path = '/api/memories/search';
        let body: string | undefined;
        if (operation === 'search') {
          body = JSON.stringify({ query: QUERIES[turn % QUERIES.length], userId: user, limit: 10 });
        } else if (operation === 'add') {
          path = '/api/memories';
          const text = `${SEED_TEMPLATES[turn % SEED_TEMPLATES.length]} (soak ${connection}-${turn})`;
          body = JSON.stringify({ messages: text, userId: user, infer: false });
        } else {
          method = 'DELETE';
          path = `/api/memories/${added.shift() ?? ''}`;
        }
        const begin = nowMs();
        const response = await send(agent, options.url, method, path, headers, body);
        const finished = nowMs();
        const sample: Sample = {
          operation,
          ms: finished - begin,
          status: response.status,
          minute: minuteOf(finished),
        };
        samples.push(sample);
        if (operation === 'add' && response.status === 201) {
          const item = (JSON.parse(response.body) as { results?: Array<{ id: string; event: string }> })
            .results?.[0];
          if (item) addEvents[item.event] = (addEvents[item.event] ?? 0) + 1;
          // A NOOP names an existing memory (a near-duplicate), which another connection may hold: only memories
          // this add created are this connection's to delete.
          sample.created = item !== undefined && (item.event === 'ADD' || item.event === 'SUPERSEDE');
          if (item && sample.created) added.push(item.id);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, index) => worker(index)));
  await sampler;
  return { samples, rows: processSamples, addEvents };
}

function send(
  agent: Agent,
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolveResponse) => {
    const outgoing = request(new URL(path, base), { method, headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolveResponse({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      incoming.on('error', () => resolveResponse({ status: 0, body: '' }));
    });
    outgoing.on('error', () => resolveResponse({ status: 0, body: '' }));
    outgoing.end(body);
  });
}

function summariseMinutes(samples: Sample[], processSamples: ProcessSample[], seeded: number): SoakMinute[] {
  let live = seeded;
  return processSamples.map((processSample, minute) => {
    const inMinute = samples.filter((sample) => sample.minute === minute);
    const errorStatuses: Record<string, number> = {};
    for (const sample of inMinute) {
      if (sample.status >= 200 && sample.status < 300) {
        if (sample.created === true) live += 1;
        if (sample.operation === 'delete') live -= 1;
        continue;
      }
      const name = sample.status === 0 ? 'network' : String(sample.status);
      errorStatuses[name] = (errorStatuses[name] ?? 0) + 1;
    }
    const operations = Object.fromEntries(
      OPERATIONS.map((operation) => {
        const times = inMinute.filter((sample) => sample.operation === operation).map((sample) => sample.ms);
        return [
          operation,
          {
            requests: times.length,
            p50Ms: times.length > 0 ? round(percentile(times, 50), 2) : null,
            p95Ms: times.length > 0 ? round(percentile(times, 95), 2) : null,
          },
        ];
      }),
    ) as Record<Operation, SoakOperationFigures>;
    return {
      minute: minute + 1,
      requests: inMinute.length,
      errors: Object.values(errorStatuses).reduce((sum, count) => sum + count, 0),
      errorStatuses,
      operations,
      liveMemories: live,
      ...processSample,
    };
  });
}

function goalChecks(rows: SoakMinute[]): SoakCheck[] {
  const errors = rows.reduce((sum, row) => sum + row.errors, 0);
  const statuses: Record<string, number> = {};
  for (const row of rows) {
    for (const [status, count] of Object.entries(row.errorStatuses))
      statuses[status] = (statuses[status] ?? 0) + count;
  }
  const checks: SoakCheck[] = [
    {
      goal: '0 errors',
      pass: errors === 0,
      detail: errors === 0 ? '0 errors' : `${errors} errors ${JSON.stringify(statuses)}`,
    },
  ];
  const warm = rows[1];
  const last = rows[rows.length - 1];
  if (rows.length < 3 || !warm || !last) {
    const detail = 'needs at least 3 minutes (minute 2 is the post-warm-up baseline)';
    checks.push({ goal: 'RSS growth < 10% (minute 2 -> last)', pass: null, detail });
    checks.push({ goal: 'p95 flat (last <= 1.5x minute 2)', pass: null, detail });
    return checks;
  }
  const growth = (last.rssMb - warm.rssMb) / warm.rssMb;
  checks.push({
    goal: 'RSS growth < 10% (minute 2 -> last)',
    pass: growth < 0.1,
    detail: `${warm.rssMb} -> ${last.rssMb} MB (${round(growth * 100, 1)}%)`,
  });
  const ratios = OPERATIONS.map((operation) => {
    const before = warm.operations[operation].p95Ms;
    const after = last.operations[operation].p95Ms;
    return { operation, before, after, ratio: before && after !== null ? after / before : Number.NaN };
  });
  checks.push({
    goal: 'p95 flat (last <= 1.5x minute 2)',
    pass: ratios.every(({ ratio }) => ratio <= 1.5),
    detail: ratios
      .map(
        ({ operation, before, after, ratio }) =>
          `${operation} ${before} -> ${after} ms (${round(ratio, 2)}x)`,
      )
      .join(', '),
  });
  return checks;
}

function rssMb(pid: number): number {
  const match = /^VmRSS:\s*(\d+)\s*kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? round(Number(match[1]) / 1024, 1) : Number.NaN;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function report(result: SoakBenchResult): string {
  const cell = (figures: SoakOperationFigures) => `${figures.p50Ms ?? '-'} / ${figures.p95Ms ?? '-'}`;
  return [
    `Soak test of \`mneme serve\`: ${result.memories} memories seeded over ${result.users} users, SQLite, ` +
      `${result.embedder}, ${result.connections} connections x ${result.minutes} min, mix ` +
      `${OPERATIONS.map((operation) => `${Math.round(result.mix[operation] * 100)}% ${operation}`).join(' / ')}, loopback`,
    `${describeMachine(result.machine)}, load average ${result.machine.loadAverage}; server at start: ` +
      `RSS ${result.startRssMb} MB, ${result.startOpenFds} fds; add events ${JSON.stringify(result.addEvents)}`,
    '',
    markdownTable(
      [
        'minute',
        'requests',
        'errors',
        'search p50 / p95 ms',
        'add p50 / p95 ms',
        'delete p50 / p95 ms',
        'memories',
        'RSS MB',
        'open fds',
      ],
      result.rows.map((row) => [
        row.minute,
        row.requests,
        row.errors === 0 ? 0 : `${row.errors} ${JSON.stringify(row.errorStatuses)}`,
        cell(row.operations.search),
        cell(row.operations.add),
        cell(row.operations.delete),
        row.liveMemories,
        row.rssMb,
        row.openFds,
      ]),
    ),
    '',
    ...result.checks.map(
      (check) =>
        `${check.pass === null ? 'n/a ' : check.pass ? 'PASS' : 'FAIL'}  ${check.goal}: ${check.detail}`,
    ),
  ].join('\n');
}
