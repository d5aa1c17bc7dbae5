/**
 * PostgreSQL restarted under load: the real `mneme serve` (the built bin, default offline embedder, store chosen
 * by env MNEME_STORE, default pool settings) on a PRIVATE throw-away cluster (test/support/private-postgres.ts;
 * the shared server on 5432 is never touched). Several clients add (201), read by id, search, and queue adds
 * (202) in a loop while the cluster is restarted with `pg_ctl restart -m fast` (what `pg_ctlcluster ... restart`
 * runs). Asserted:
 * - every request answers within {@link REQUEST_BOUND_MS} (no hang, no dropped connection), with a success or 503
 *   + `Retry-After: 1` and code `store_unavailable` / `store_pool_exhausted`: never a 500 or a 404 for a written id;
 * - the server recovers by itself: every client succeeds again within {@link RECOVERY_MS} of the restart, with no
 *   server restart (same process, still running);
 * - every add acknowledged with 201 (before, during or after) is there afterwards, exactly once, and an add
 *   answered 503 is there at most once (never half-applied, never doubled);
 * - every add queued with 202 is applied exactly once after recovery, and none is dead-lettered.
 * The figures (restart time, outage seen by clients, 503s, recovery) are printed for docs/scaling-out.md.
 * Requires `npm run build` (`npm test` builds first).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { runMneme } from '../support/cli.js';
import {
  type PrivatePostgres,
  privatePostgresUnavailable,
  startPrivatePostgres,
} from '../support/private-postgres.js';
import { type Served, serve, waitFor } from '../support/serve.js';

const unavailable = await privatePostgresUnavailable();
const skip = unavailable === undefined ? undefined : `needs a private PostgreSQL cluster: ${unavailable}`;

/** Clients adding, reading and searching; one more client queues adds. */
const CLIENTS = 4;
/** A request slower than this counts as a hang (aborted and reported). */
const REQUEST_BOUND_MS = 10_000;
/** After `pg_ctl restart` returns, every client must succeed again within this. */
const RECOVERY_MS = 20_000;
/** Load keeps running this long after every client recovered, to show the recovery holds. */
const STEADY_MS = 1500;
/** The longer outage: no server at all for this long. */
const DOWN_MS = 3000;
/** Queued adds sent at once just before the fault. */
const QUEUE_BURST = 24;

type Kind = 'add' | 'get' | 'search' | 'queue';

/** One request of the load, as the client saw it. */
interface Outcome {
  client: number;
  kind: Kind;
  startedAt: number;
  endedAt: number;
  /** Absent when no response came (connection dropped, or aborted after REQUEST_BOUND_MS). */
  status?: number;
  retryAfter?: string | null;
  code?: string;
  failure?: string;
  body?: Record<string, unknown>;
}

const SUCCESS: Record<Kind, number> = { add: 201, get: 200, search: 200, queue: 202 };
const isSuccess = (outcome: Outcome): boolean => outcome.status === SUCCESS[outcome.kind];

/** The text of one add: a plain statement of the user's, so verbatim capture keeps it as one memory. */
function itemText(label: string, index: number): string {
  const topics = ['sailing', 'pottery', 'chess', 'cycling', 'baking', 'astronomy', 'gardening', 'climbing'];
  return `I took up ${topics[index % topics.length]} in the year ${1000 + index} (${label} note ${index})`;
}

describe('mneme serve while PostgreSQL restarts under load', { skip }, () => {
  const home = mkdtempSync(join(tmpdir(), 'mneme-pg-restart-'));
  let cluster: PrivatePostgres;
  let server: Served;
  let key = '';

  async function call(
    client: number,
    kind: Kind,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Outcome> {
    const startedAt = Date.now();
    try {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Token ${key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      });
      const parsed = parseBody(await response.text());
      const code = (parsed.error as { code?: string } | undefined)?.code;
      return {
        client,
        kind,
        startedAt,
        endedAt: Date.now(),
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        ...(code !== undefined ? { code } : {}),
        body: parsed,
      };
    } catch (error) {
      return { client, kind, startedAt, endedAt: Date.now(), failure: String(error) };
    }
  }

  /** Runs one query on the private cluster, on a fresh connection (outside mneme's pool). */
  async function sql<Row extends pg.QueryResultRow>(text: string): Promise<Row[]> {
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try {
      return (await client.query<Row>(text)).rows;
    } finally {
      await client.end();
    }
  }

  before(async () => {
    cluster = await startPrivatePostgres();
    console.log(`private cluster: PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.port}`);
    const env = { MNEME_HOME: home, MNEME_KEYS_FILE: join(home, 'keys.json') };
    const created = await runMneme(['keys', 'create', '--app', 'acme', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    key = (JSON.parse(created.stdout) as { key: string }).key;
    // Default lease (120 s) and poll (30 s): claims cut by the fault must not wait for either.
    server = await serve([], { ...env, MNEME_STORE: cluster.url });
  });

  after(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await server?.exited;
    await cluster?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  /** Runs the load, applies `fault` once every client has succeeded, and returns what the clients saw. */
  async function underLoad(label: string, fault: () => Promise<number>): Promise<LoadRun> {
    const outcomes: Outcome[] = [];
    const texts = new Map<Outcome, string>();
    let stopping = false;

    // One user per add (as the queued ones): no dedup or supersession between items can hide a loss.
    const worker = async (client: number): Promise<void> => {
      const written: Array<{ id: string; userId: string }> = [];
      for (let index = 0; !stopping; index += 1) {
        const text = itemText(`${label} client ${client}`, index);
        const userId = `${label}-${client}-${index}`;
        const added = await call(client, 'add', 'POST', '/api/memories', { userId, messages: text });
        outcomes.push(added);
        texts.set(added, text);
        const id = addedId(added);
        if (added.status === 201 && id !== undefined) written.push({ id, userId });
        const known = written[index % Math.max(1, written.length)];
        if (known === undefined) continue;
        outcomes.push(await call(client, 'get', 'GET', `/api/memories/${known.id}`));
        outcomes.push(
          await call(client, 'search', 'POST', '/api/memories/search', {
            userId: known.userId,
            query: `when did I take up ${['chess', 'baking', 'sailing'][index % 3]}?`,
          }),
        );
      }
    };
    const queuer = async (client: number): Promise<void> => {
      for (let index = 0; !stopping; index += 1) {
        const text = itemText(`${label} queued`, index);
        const queued = await call(client, 'queue', 'POST', '/api/memories', {
          userId: `${label}-queued-${index}`,
          messages: text,
          async: true,
        });
        outcomes.push(queued);
        texts.set(queued, text);
        await delay(20);
      }
    };
    const load = [...Array.from({ length: CLIENTS }, (_, client) => worker(client)), queuer(CLIENTS)];
    const everyClientSucceededSince = (since: number): boolean =>
      Array.from({ length: CLIENTS + 1 }, (_, client) => client).every((client) =>
        outcomes.some(
          (outcome) => outcome.client === client && outcome.startedAt >= since && isSuccess(outcome),
        ),
      );

    try {
      const loadStarted = Date.now();
      await waitFor(
        () => everyClientSucceededSince(loadStarted),
        30_000,
        'every client to succeed before the fault',
      );
      // A burst of queued adds just before the fault, so the worker is mid-drain when it strikes.
      const burst = await Promise.all(
        Array.from({ length: QUEUE_BURST }, (_, index) => {
          const text = itemText(`${label} burst`, index);
          return call(CLIENTS + 1, 'queue', 'POST', '/api/memories', {
            userId: `${label}-burst-${index}`,
            messages: text,
            async: true,
          }).then((outcome) => {
            outcomes.push(outcome);
            texts.set(outcome, text);
            return outcome;
          });
        }),
      );
      assert.ok(burst.every(isSuccess), 'the burst was queued');
      const queuedAtFault = await queueSize();
      const faultStarted = Date.now();
      const faultMs = await fault();
      const faultEnded = Date.now();
      await waitFor(
        () => everyClientSucceededSince(faultEnded),
        RECOVERY_MS,
        'every client to succeed again after the fault',
      );
      const recovered = Date.now();
      await delay(STEADY_MS);
      return { label, outcomes, texts, queuedAtFault, faultStarted, faultMs, faultEnded, recovered };
    } finally {
      stopping = true;
      await Promise.all(load);
    }
  }

  /** No hang, only success or a well-formed 503, the load overlapped the fault, and the server recovered. */
  async function assertServedThrough(run: LoadRun, pid: number | undefined): Promise<void> {
    console.log(figures(run));
    const unanswered = run.outcomes.filter((outcome) => outcome.status === undefined);
    assert.deepEqual(unanswered.map(explain), [], 'every request got a response within the bound');
    for (const outcome of run.outcomes) {
      assert.ok(outcome.endedAt - outcome.startedAt < REQUEST_BOUND_MS, `${explain(outcome)}: no hang`);
      if (isSuccess(outcome)) continue;
      assert.equal(outcome.status, 503, `${explain(outcome)}: only success or 503`);
      assert.equal(outcome.retryAfter, '1', `${explain(outcome)}: 503 carries Retry-After`);
      assert.ok(
        outcome.code === 'store_unavailable' || outcome.code === 'store_pool_exhausted',
        `${explain(outcome)}: 503 says the store is unavailable`,
      );
    }
    const during = run.outcomes.filter(
      (outcome) => outcome.endedAt >= run.faultStarted && outcome.startedAt <= run.faultEnded,
    );
    assert.ok(during.length >= CLIENTS, `the load overlapped the fault (${during.length} requests)`);
    const late = run.outcomes.filter((outcome) => outcome.startedAt >= run.recovered);
    assert.deepEqual(
      late.filter((outcome) => !isSuccess(outcome)).map(explain),
      [],
      'no failure after recovery',
    );

    // The same server process, still running and serving: it recovered without a restart of its own.
    assert.equal(server.child.exitCode, null, 'the server process is still running');
    assert.equal(server.child.pid, pid);
    assert.doesNotThrow(() => process.kill(pid ?? -1, 0), 'the server pid is alive');
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  }

  /** Every 201 add there exactly once (and readable by id), a 503 add at most once, every 202 applied once. */
  async function assertNothingLost(run: LoadRun): Promise<void> {
    const acknowledged = run.outcomes.filter((outcome) => outcome.kind === 'add' && outcome.status === 201);
    assert.ok(acknowledged.length > 0);
    let copies = await copiesByText();
    for (const outcome of acknowledged) {
      assert.ok(addedId(outcome), `the 201 add of "${run.texts.get(outcome)}" created a memory`);
      const text = run.texts.get(outcome) ?? '';
      assert.equal(copies.get(text), 1, `acknowledged add "${text}" is there exactly once`);
      const read = await call(0, 'get', 'GET', `/api/memories/${addedId(outcome) ?? ''}`);
      assert.equal(read.status, 200, `acknowledged memory "${text}" reads back by id`);
    }
    for (const outcome of run.outcomes.filter((each) => each.kind === 'add' && each.status === 503)) {
      assert.ok((copies.get(run.texts.get(outcome) ?? '') ?? 0) <= 1, 'a 503 add is applied at most once');
    }

    const queued = run.outcomes.filter((outcome) => outcome.kind === 'queue' && outcome.status === 202);
    assert.ok(queued.length > 0);
    const draining = Date.now();
    await waitFor(
      async () => (await queueSize()) === 0,
      30_000,
      'the ingestion queue to drain after recovery',
    );
    console.log(`${run.label}: the queue drained ${Date.now() - draining} ms after the load stopped`);
    copies = await copiesByText();
    for (const outcome of queued) {
      const text = run.texts.get(outcome) ?? '';
      assert.equal(copies.get(text), 1, `queued add "${text}" applied exactly once`);
    }
    const dead = await sql<{ n: string }>('SELECT count(*) AS n FROM mneme.dead_letters');
    assert.equal(Number(dead[0]?.n), 0, 'no queued add was dead-lettered');
  }

  async function queueSize(): Promise<number> {
    return Number((await sql<{ n: string }>('SELECT count(*) AS n FROM mneme.queue'))[0]?.n);
  }

  async function copiesByText(): Promise<Map<string, number>> {
    const rows = await sql<{ memory: string; copies: string }>(
      `SELECT memory, count(*) AS copies FROM mneme.memories WHERE app_id = 'acme' GROUP BY memory`,
    );
    return new Map(rows.map((row) => [row.memory, Number(row.copies)]));
  }

  test('pg_ctl restart -m fast: 503 + Retry-After, recovery by itself, nothing acknowledged lost', async () => {
    const pid = server.child.pid;
    const run = await underLoad('restart', () => cluster.restart());
    await assertServedThrough(run, pid);
    await assertNothingLost(run);
  });

  test(`stopped for ${DOWN_MS} ms, then started: requests fail fast while it is down, then recover`, async () => {
    const pid = server.child.pid;
    const run = await underLoad('outage', () => cluster.restart({ downMs: DOWN_MS }));
    await assertServedThrough(run, pid);
    assert.ok(
      run.outcomes.some((outcome) => outcome.status === 503),
      'requests made while the server was down were refused with 503',
    );
    await assertNothingLost(run);
  });
});

/** What {@link underLoad} saw: every request, the text each add carried, and when the fault began and ended. */
interface LoadRun {
  label: string;
  outcomes: Outcome[];
  texts: Map<Outcome, string>;
  /** Items in the queue (not yet applied) just before the fault. */
  queuedAtFault: number;
  faultStarted: number;
  /** How long the fault itself took (pg_ctl), in ms. */
  faultMs: number;
  faultEnded: number;
  /** When every client had succeeded again. */
  recovered: number;
}

/** A JSON body as an object; anything else (an HTML error page, say) kept as `{ text }`. */
function parseBody(text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text };
  }
}

function addedId(outcome: Outcome): string | undefined {
  return (outcome.body?.results as Array<{ id: string }> | undefined)?.[0]?.id;
}

function explain(outcome: Outcome): string {
  return `${outcome.kind} by client ${outcome.client} (${outcome.endedAt - outcome.startedAt} ms): ${
    outcome.status ?? outcome.failure
  }${outcome.code ? ` ${outcome.code}` : ''}`;
}

/** What the clients saw around the fault, times relative to its start, for docs/scaling-out.md. */
function figures(run: LoadRun): string {
  const failures = run.outcomes.filter((outcome) => !isSuccess(outcome));
  const labels = new Map<string, number>();
  for (const outcome of failures) {
    const label = `${outcome.status ?? 'no response'} ${outcome.code ?? outcome.failure ?? ''}`;
    labels.set(label, (labels.get(label) ?? 0) + 1);
  }
  const relative = (at: number): number => at - run.faultStarted;
  const slowest = Math.max(...run.outcomes.map((outcome) => outcome.endedAt - outcome.startedAt));
  const count = (kind: Kind): number =>
    run.outcomes.filter((outcome) => outcome.kind === kind && isSuccess(outcome)).length;
  const window =
    failures.length === 0
      ? 'no failed request'
      : `failed requests from ${relative(Math.min(...failures.map((outcome) => outcome.startedAt)))} ms to ` +
        `${relative(Math.max(...failures.map((outcome) => outcome.endedAt)))} ms`;
  return (
    `${run.label}: ${run.queuedAtFault} items queued when it began; pg_ctl took ${run.faultMs} ms; ${run.outcomes.length} requests (${count('add')} x 201 add, ` +
    `${count('queue')} x 202 queued, ${count('get') + count('search')} x 200 read), ${failures.length} not ` +
    `successful (${[...labels].map(([label, n]) => `${n} x ${label}`).join(', ') || 'none'}); ${window}; every ` +
    `client succeeded again by ${relative(run.recovered)} ms; slowest request ${slowest} ms`
  );
}
