/**
 * Test support for the PostgreSQL store. {@link sharedTestPostgres} picks the server: the real PostgreSQL at
 * MNEME_TEST_POSTGRES_URL when it has pgvector (CI: `.ci/run` installs it), else PGlite (PostgreSQL 18 in WASM)
 * with pgvector, served over the wire protocol by `@electric-sql/pglite-socket` on a random loopback port. Both
 * are reached through the real `pg` driver. One server per test process (starting PGlite takes seconds); each
 * test works in its own schema, dropped after. PGlite is a single-process functional stand-in: never use it for
 * performance figures.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import type { MemoryRecord } from '../../src/core/types.js';
import { seededRandom, seededVector } from '../support/vectors.js';

/** A running PGlite socket server (or, through {@link sharedTestPostgres}, the real server). */
export interface PgliteServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  /** Runs one statement on an admin connection. */
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** Drops a schema and everything in it. */
  dropSchema(schema: string): Promise<void>;
  stop(): Promise<void>;
}

let shared: Promise<PgliteServer> | undefined;
let sharedTest: Promise<TestPostgres> | undefined;

/** The PostgreSQL a store test runs on: the real server when there is one with pgvector, else PGlite. */
export interface TestPostgres extends PgliteServer {
  /** `real`: MNEME_TEST_POSTGRES_URL with pgvector; `pglite`: the in-process WASM stand-in. */
  kind: 'real' | 'pglite';
  /** For test names, e.g. `PostgreSQL 15.20 + pgvector 0.8.6` or `PGlite + pgvector`. */
  label: string;
  /** {@link storeUrl} with the pool size this server takes (PGlite: one connection per store). */
  storeUrl(schema: string, extra?: Record<string, string>): string;
}

/**
 * The server store tests run on, chosen once per process: the real PostgreSQL at MNEME_TEST_POSTGRES_URL when it
 * offers pgvector (`CREATE EXTENSION vector` is run in its database), otherwise the shared PGlite server, with the
 * reason printed. Every test still works in its own schema on it.
 */
export function sharedTestPostgres(): Promise<TestPostgres> {
  sharedTest ??= chooseTestPostgres();
  return sharedTest;
}

/** Stops what {@link sharedTestPostgres} started (the admin connection; PGlite too when it was chosen). */
export async function stopSharedTestPostgres(): Promise<void> {
  const server = sharedTest;
  sharedTest = undefined;
  if (server) await (await server).stop();
}

/**
 * Why the real server cannot run the pgvector tests (MNEME_TEST_POSTGRES_URL unset, unreachable, or without
 * pgvector), or undefined when it can; `CREATE EXTENSION vector` has then been run in its database.
 */
export async function realPostgresUnavailable(): Promise<string | undefined> {
  const url = process.env.MNEME_TEST_POSTGRES_URL;
  if (url === undefined) return 'MNEME_TEST_POSTGRES_URL is not set';
  return realServerWithPgvector(url).then(
    (found) => (typeof found === 'string' ? found : undefined),
    (error: unknown) => `cannot reach MNEME_TEST_POSTGRES_URL (${String(error)})`,
  );
}

async function chooseTestPostgres(): Promise<TestPostgres> {
  const url = process.env.MNEME_TEST_POSTGRES_URL;
  const reason = await realPostgresUnavailable();
  if (url !== undefined && reason === undefined) {
    const admin = await adminConnection(url);
    const rows = await admin.query(
      "SELECT current_setting('server_version') AS server, extversion FROM pg_extension WHERE extname = 'vector'",
    );
    const version = String(rows[0]?.server).split(' ')[0];
    const label = `PostgreSQL ${version} + pgvector ${String(rows[0]?.extversion)}`;
    return {
      ...admin,
      url,
      kind: 'real',
      label,
      storeUrl: (schema, extra = {}) => storeUrl(url, schema, { poolSize: '4', ...extra }),
    };
  }
  console.log(
    `PostgreSQL store tests run on PGlite (a WASM stand-in), not a real server: ${reason}. ` +
      'Set MNEME_TEST_POSTGRES_URL to a server with pgvector (install it with ../shared/vendor/install-pgvector).',
  );
  const pglite = await sharedPgliteServer();
  return {
    ...pglite,
    stop: stopSharedPgliteServer,
    kind: 'pglite',
    label: 'PGlite + pgvector',
    storeUrl: (schema, extra) => storeUrl(pglite.url, schema, extra),
  };
}

/** True when the server at `url` has (or can create) the vector extension; otherwise why not. */
async function realServerWithPgvector(url: string): Promise<true | string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
    if (rows.length === 0) return 'the server at MNEME_TEST_POSTGRES_URL has no pgvector';
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      // Two test processes creating it at once: one wins, the other sees a duplicate; check it is there.
      const { rows: installed } = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
      if (installed.length === 0) return `CREATE EXTENSION vector failed (${String(error)})`;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** One admin connection with the query and dropSchema helpers. */
async function adminConnection(url: string): Promise<PgliteServer> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  return {
    url,
    async query(sql, params = []) {
      return (await admin.query(sql, params)).rows as Array<Record<string, unknown>>;
    },
    async dropSchema(schema) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
    async stop() {
      await admin.end();
    },
  };
}

/** Starts (once per process) and returns the shared PGlite server. */
export function sharedPgliteServer(): Promise<PgliteServer> {
  shared ??= startPgliteServer();
  return shared;
}

/** Stops the shared server if it was started. */
export async function stopSharedPgliteServer(): Promise<void> {
  const server = shared;
  shared = undefined;
  if (server) await (await server).stop();
}

/** A fresh schema name for one test. */
export function uniqueSchema(prefix = 'mneme_test'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/**
 * The URL of the server with mneme's `schema` (and other) parameters. PGlite runs ONE backend session for all
 * connections and interleaves their extended-protocol messages, so the pool defaults to one connection.
 */
export function storeUrl(base: string, schema: string, extra: Record<string, string> = {}): string {
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  url.searchParams.set('poolSize', '1');
  for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, value);
  return url.toString();
}

/**
 * A PGlite instance with pgvector enabled. A fresh instance runs initdb in WASM (~5-10 s on a busy 2-core
 * machine); its data directory is cached in the temp directory (keyed by the package versions) and loaded by
 * later runs, which halves start-up. A cache that fails to load is ignored.
 */
async function createPglite(): Promise<PGlite> {
  const versions = ['pglite', 'pglite-pgvector'].map(
    (name) =>
      (
        JSON.parse(
          readFileSync(
            new URL(`../../node_modules/@electric-sql/${name}/package.json`, import.meta.url),
            'utf8',
          ),
        ) as { version: string }
      ).version,
  );
  const cache = join(tmpdir(), `mneme-test-pglite-${versions.join('-')}.tar.gz`);
  if (existsSync(cache)) {
    try {
      const db = new PGlite({ extensions: { vector }, loadDataDir: new Blob([readFileSync(cache)]) });
      await db.waitReady;
      return db;
    } catch {
      // A stale or partial cache: build a fresh instance below.
    }
  }
  const db = new PGlite({ extensions: { vector } });
  await db.waitReady;
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
  const partial = `${cache}.${process.pid}.${randomUUID()}`;
  writeFileSync(partial, dump);
  renameSync(partial, cache);
  return db;
}

async function startPgliteServer(): Promise<PgliteServer> {
  const db = await createPglite();
  // Each store in a test holds up to `poolSize` connections; several stores can be open at once.
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  const url = `postgres://postgres@127.0.0.1:${address.port}/postgres`;
  const admin = await adminConnection(url);
  return {
    ...admin,
    async stop() {
      await admin.stop();
      await server.stop();
      await db.close();
    },
  };
}

const WORDS = (
  'coffee tea hiking mountains running marathon piano guitar lessons sister brother birthday party cake ' +
  'vegetarian cooking pasta italian travel japan tokyo kyoto flights hotel budget savings apartment rent ' +
  'dog cat walks vet allergies pollen spring garden tomatoes basil neovim emacs typescript rust database ' +
  'postgres sqlite deploy weekend friday meeting manager promotion salary'
).split(' ');

/** A seeded sentence over a small vocabulary, with inflections so stemming matters. */
export function sentence(random: () => number): string {
  const length = 4 + Math.floor(random() * 10);
  const words: string[] = [];
  for (let index = 0; index < length; index += 1) {
    const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'tea';
    const suffix = ['', '', '', 's', 'ing', 'ed'][Math.floor(random() * 6)] ?? '';
    words.push(`${word}${suffix}`);
  }
  return `I ${words.join(' ')}.`;
}

/**
 * `count` seeded memories of user alice (every third also of agent-1) with sentences and continuous random
 * vectors: no two memories tie on similarity, so different engines rank them identically.
 */
export function sentenceDataset(
  count: number,
  seed: number,
  dimension: number,
): Array<{ record: MemoryRecord; vector: Float32Array }> {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const text = sentence(random);
    const at = new Date(Date.parse('2026-01-01T00:00:00.000Z') + index * 3_600_000).toISOString();
    return {
      record: {
        id: randomUUID(),
        memory: text,
        userId: 'alice',
        ...(index % 3 === 0 ? { agentId: 'agent-1' } : {}),
        kind: 'user_fact',
        metadata: { index, even: index % 2 === 0 },
        hash: `hash-${index}`,
        createdAt: at,
        updatedAt: at,
        observedAt: at,
      },
      vector: seededVector(seed * 10_000 + index, dimension),
    };
  });
}
