/**
 * Test support for the PostgreSQL store: PGlite (PostgreSQL 18 in WASM) with pgvector, served over the wire
 * protocol by `@electric-sql/pglite-socket` on a random loopback port and reached through the real `pg` driver.
 * One server per test process (starting it takes seconds); each test works in its own schema, dropped after.
 * PGlite is a single-process functional stand-in: never use it for performance figures.
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

/** A running PGlite socket server. */
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
