/**
 * In-process server harness: a Memory on the in-memory store (or the store given) and the deterministic test
 * embedder, a real file key store in a temp dir with one key per app (plus an admin key), and the Hono app called
 * with `app.request`. {@link serverStores} lists the stores the store-sensitive server tests run on.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { Logger } from '../../src/core/logger.js';
import type { HistoryEvent, MemoryRecord } from '../../src/core/types.js';
import type { Memory } from '../../src/memory/memory.js';
import { createApp } from '../../src/server/app.js';
import { createFileKeyStore, type KeyStore } from '../../src/server/keys.js';
import type { AppEnv, ServerLimits } from '../../src/server/request.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { scanPages } from '../../src/stores/scan-pages.js';
import type { MemoryStore } from '../../src/stores/types.js';
import { sharedTestPostgres, uniqueSchema } from '../stores/postgres-support.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

export interface Harness {
  app: Hono<AppEnv>;
  memory: Memory;
  keys: KeyStore;
  keysFile: string;
  /** One key per app name given. */
  keyOf: Record<string, string>;
  adminKey: string;
  /** Request log lines the app wrote. */
  logs: Array<{ level: string; message: string; fields: Record<string, unknown> }>;
  /** Calls the app; `T` is the JSON body shape the caller expects (not checked at run time). */
  call<T = ErrorReply>(method: string, path: string, options?: CallOptions): Promise<Reply<T>>;
  advance(ms: number): void;
  /** Closes the memory (and its store). */
  close(): Promise<void>;
}

/** A store the server tests run on, made fresh per harness. */
export interface ServerStore {
  name: string;
  make(): Promise<{ store: MemoryStore; cleanup(): Promise<void> }>;
}

/**
 * The stores store-sensitive server tests (isolation, fuzz) run on: the in-memory store, and PostgreSQL (the real
 * server with pgvector at MNEME_TEST_POSTGRES_URL, else PGlite, the reason printed), each in a fresh schema.
 */
export async function serverStores(): Promise<ServerStore[]> {
  const postgres = await sharedTestPostgres();
  return [
    {
      name: 'in-memory',
      make: async () => ({ store: createInMemoryStore(), cleanup: async () => undefined }),
    },
    {
      name: `postgres (${postgres.label})`,
      make: async () => {
        const schema = uniqueSchema('mneme_server');
        return {
          store: createPostgresStore({ connectionString: postgres.storeUrl(schema) }),
          cleanup: () => postgres.dropSchema(schema),
        };
      },
    },
  ];
}

export interface CallOptions {
  /** The API key; `null` sends no Authorization header. */
  key?: string | null;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Reply<T> {
  status: number;
  /** The parsed JSON body (the raw text when it is not JSON). */
  body: T;
  text: string;
  headers: Headers;
}

/** Every error response. */
export interface ErrorReply {
  error: { code: string; message: string; field?: string };
}

/** A memory as the Mem0 routes return it. */
export interface Mem0Memory {
  id: string;
  memory: string;
  user_id: string | null;
  agent_id: string | null;
  app_id: string | null;
  run_id: string | null;
  metadata: Record<string, unknown>;
  categories: string[];
  observed_at: string;
  expiration_date: string | null;
  score?: number;
}

/** `/v3/memories/add/` and `/api/memories` (POST) replies. */
export interface AddReply {
  results: Array<{ id: string; event: string; memory: string; data?: { memory: string } }>;
}

export async function createHarness(
  options: { apps?: string[]; limits?: Partial<ServerLimits>; clock?: boolean; store?: MemoryStore } = {},
): Promise<Harness> {
  const fixture = await createMemoryFixture(options.store ? { store: options.store } : {});
  const keysFile = join(mkdtempSync(join(tmpdir(), 'mneme-keys-')), 'keys.json');
  const keys = createFileKeyStore({ path: keysFile });
  const keyOf: Record<string, string> = {};
  for (const appId of options.apps ?? ['acme']) keyOf[appId] = (await keys.create({ appId })).key;
  const adminKey = (await keys.create({ admin: true })).key;
  const logs: Harness['logs'] = [];
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logs.push({ level, message, fields: fields ?? {} });
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const app = createApp({
    memory: fixture.memory,
    keys,
    logger,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const firstKey = Object.values(keyOf)[0] ?? adminKey;
  return {
    app,
    memory: fixture.memory,
    keys,
    keysFile,
    keyOf,
    adminKey,
    logs,
    advance: fixture.advance,
    close: () => fixture.memory.close(),
    async call<T>(method: string, path: string, callOptions: CallOptions = {}): Promise<Reply<T>> {
      const key = callOptions.key === undefined ? firstKey : callOptions.key;
      const headers: Record<string, string> = { ...callOptions.headers };
      if (key !== null) headers.authorization = `Token ${key}`;
      let body: string | undefined;
      if (callOptions.body !== undefined) {
        body = typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // NDJSON and empty bodies stay text.
      }
      return { status: response.status, body: parsed as T, text, headers: response.headers };
    },
  };
}

/** Everything the store holds, for before/after comparisons: every record with its history, and row counts. */
export async function snapshotStore(memory: Memory): Promise<string> {
  const items: Array<{ record: MemoryRecord; history: HistoryEvent[] }> = [];
  for await (const page of scanPages(memory.store, 500)) {
    for (const item of page.items) items.push({ record: item.record, history: item.history });
  }
  return JSON.stringify({ stats: await memory.store.stats(), items });
}
