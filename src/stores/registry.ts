/**
 * Chooses a {@link MemoryStore} backend by URL scheme. One row per backend in {@link STORE_BACKENDS}; each row
 * imports its module lazily, so a backend's driver loads only when it is used. Adding a backend: its file, a
 * test file running the conformance suite, and one row here.
 */
import { homedir } from 'node:os';
import { ConfigError } from '../core/errors.js';
import type { MemoryStore } from './types.js';

/** Options for {@link createStore}; each backend reads the ones that apply to it. */
export interface CreateStoreOptions {
  /** SQLite: how long to wait for another process's write lock, in ms. @default 5000 */
  busyTimeoutMs?: number;
}

/** One backend: the URL schemes it serves and how to build it. */
export interface StoreBackend {
  /** Backend name (matches `MemoryStore.name`). */
  name: string;
  /** Lower-case URL schemes including the colon, e.g. `sqlite:`. */
  schemes: readonly string[];
  /** Example URLs, shown in errors and docs. */
  examples: readonly string[];
  /** Builds an unopened store for `url` (whose scheme is one of `schemes`). */
  create(url: string, options: CreateStoreOptions): Promise<MemoryStore>;
}

/** The backends, one row each. */
export const STORE_BACKENDS: readonly StoreBackend[] = [
  {
    name: 'sqlite',
    schemes: ['sqlite:'],
    examples: ['sqlite://./mneme.db', 'sqlite:///var/lib/mneme/mneme.db', 'sqlite::memory:'],
    async create(url, options) {
      const { createSqliteStore } = await import('./sqlite.js');
      return createSqliteStore({
        path: sqlitePathFromUrl(url),
        ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
      });
    },
  },
  {
    name: 'postgres',
    schemes: ['postgres:', 'postgresql:'],
    examples: ['postgres://user:password@localhost:5432/app?schema=mneme'],
    async create(url) {
      const { createPostgresStore } = await import('./postgres.js');
      return createPostgresStore({ connectionString: url });
    },
  },
  {
    name: 'memory',
    schemes: ['memory:'],
    examples: ['memory://'],
    async create() {
      const { createInMemoryStore } = await import('./in-memory.js');
      return createInMemoryStore();
    },
  },
];

/**
 * Creates the (unopened) store a URL names; call `open({ embedder })` next.
 * - `sqlite://./relative/path.db` (relative to the working directory), `sqlite:///absolute/path.db`,
 *   `sqlite://~/path.db` (home directory), `sqlite::memory:` (a private in-memory database);
 * - `memory://` (the in-memory store, for tests).
 * @throws ConfigError for an unknown scheme or a malformed URL, naming option `store` / env MNEME_STORE.
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<MemoryStore> {
  const backend = backendFor(url);
  return backend.create(url, options);
}

/** The backend serving `url`. @throws ConfigError naming option `store` / env MNEME_STORE. */
export function backendFor(url: string): StoreBackend {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1]?.toLowerCase();
  const backend = STORE_BACKENDS.find(
    (candidate) => scheme !== undefined && candidate.schemes.includes(`${scheme}:`),
  );
  if (backend) return backend;
  const known = STORE_BACKENDS.flatMap((candidate) => candidate.schemes).join(', ');
  const examples = STORE_BACKENDS.flatMap((candidate) => candidate.examples.slice(0, 1)).join(', ');
  const hint =
    scheme === undefined && url.trim().length > 0 ? ` (for a file, write sqlite://${url.trim()})` : '';
  throw new ConfigError(
    `unsupported store URL "${redactUrl(url)}"${hint}: option \`store\` / env MNEME_STORE must use one of the ` +
      `schemes ${known}, e.g. ${examples}`,
    { code: 'store_url_invalid' },
  );
}

/**
 * The file path of a `sqlite:` URL (see {@link createStore}); `:memory:` for an in-memory database.
 * @throws ConfigError when the URL has no path.
 */
export function sqlitePathFromUrl(url: string): string {
  let rest = url.trim().replace(/^sqlite:/i, '');
  if (rest.startsWith('//')) rest = rest.slice(2);
  if (rest === ':memory:' || rest === '') {
    if (rest === ':memory:') return ':memory:';
    throw new ConfigError(
      `store URL "${url}" has no file path: option \`store\` / env MNEME_STORE should look like ` +
        'sqlite://./mneme.db or sqlite:///absolute/path.db',
      { code: 'store_url_invalid' },
    );
  }
  if (rest === '~' || rest.startsWith('~/')) rest = homedir() + rest.slice(1);
  return rest;
}

/** The URL with any password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^@/]*@/i, '$1:***@');
}
