/**
 * `mneme/sessions`: production SessionStores for the Claude Agent SDK, chosen by URL.
 *
 * ```ts
 * import { query } from '@anthropic-ai/claude-agent-sdk';
 * import { createSessionStore } from 'mneme/sessions';
 *
 * const sessionStore = createSessionStore('redis://127.0.0.1:6379/0?prefix=mneme');
 * for await (const message of query({ prompt, options: { sessionStore, resume: sessionId } })) { ... }
 * await sessionStore.close();
 * ```
 * The seam and its contract: `./types.ts`; the frame every backend is built in (validation, `close()`, errors):
 * `./frame.ts`; how URLs and options are read: `./urls.ts`. Driver packages (`pg`, `ioredis`,
 * `@aws-sdk/client-s3`) are optional peer dependencies, loaded on first use.
 */
import { ConfigError } from '../core/errors.js';
import { FileSessionStore } from './file.js';
import { PostgresSessionStore } from './postgres.js';
import { RedisSessionStore } from './redis.js';
import { S3SessionStore } from './s3.js';
import { SqliteSessionStore } from './sqlite.js';
import type { SessionStore } from './types.js';
import {
  type FsyncPolicy,
  parseFsync,
  parsePathUrl,
  parseStoreUrl,
  redactUrlText,
  urlScheme,
} from './urls.js';

export type { FileSessionStoreOptions } from './file.js';
export { FileSessionStore } from './file.js';
export { MAX_KEY_PART_LENGTH, validateSessionKey } from './keys.js';
export type { PostgresSessionStoreOptions } from './postgres.js';
export { PostgresSessionStore } from './postgres.js';
export type { RedisSessionStoreOptions } from './redis.js';
export { RedisSessionStore } from './redis.js';
export type { S3SessionStoreOptions } from './s3.js';
export { S3SessionStore } from './s3.js';
export type { SqliteSessionStoreOptions } from './sqlite.js';
export { SqliteSessionStore } from './sqlite.js';
export type * from './types.js';
export type { FsyncPolicy } from './urls.js';

/** Options of {@link createSessionStore}; each applies to the backends it names and wins over the URL. */
export interface CreateSessionStoreOptions {
  /** file and sqlite: durability policy (see `docs/sessions.md`). URL `?fsync=always|never`. @default 'always' */
  fsync?: FsyncPolicy;
}

/** The URL schemes {@link createSessionStore} understands. */
export const SESSION_STORE_SCHEMES = [
  'file',
  'sqlite',
  'redis',
  'rediss',
  'redis+cluster',
  'rediss+cluster',
  'postgres',
  'postgresql',
  's3',
] as const;

/** Opens the store of one scheme from its URL (read with the frame in `./urls.ts`) and the caller's options. */
type OpenStore = (url: string, options: CreateSessionStoreOptions) => SessionStore;

const openFile: OpenStore = (url, options) => {
  const { path, params } = parsePathUrl(url);
  return new FileSessionStore({ root: path, fsync: options.fsync ?? parseFsync(params, url) });
};
const openSqlite: OpenStore = (url, options) => {
  const { path, params } = parsePathUrl(url);
  return new SqliteSessionStore({ path, fsync: options.fsync ?? parseFsync(params, url) });
};
const openRedis: OpenStore = (url) => new RedisSessionStore({ url: parseStoreUrl(url).toString() });
const openRedisCluster: OpenStore = (url) => new RedisSessionStore({ url });
const openPostgres: OpenStore = (url) =>
  new PostgresSessionStore({ connectionString: parseStoreUrl(url).toString() });
const openS3: OpenStore = (url) => {
  const parsed = parseStoreUrl(url);
  const region = parsed.searchParams.get('region');
  const endpoint = parsed.searchParams.get('endpoint');
  const compactAfter = parsed.searchParams.get('compactAfter');
  if (compactAfter !== null && !/^\d{1,15}$/.test(compactAfter)) {
    throw new ConfigError(
      `invalid ?compactAfter=${compactAfter} in ${JSON.stringify(redactUrlText(url))}: use a whole number of ` +
        'parts (0 disables compaction)',
    );
  }
  return new S3SessionStore({
    bucket: parsed.hostname,
    prefix: decodeURIComponent(parsed.pathname),
    ...(region === null ? {} : { region }),
    ...(endpoint === null ? {} : { endpoint }),
    ...(compactAfter === null ? {} : { compactAfter: Number(compactAfter) }),
  });
};

type SessionStoreScheme = (typeof SESSION_STORE_SCHEMES)[number];

/** The registry: one row per scheme. A new backend with a URL adds its scheme above and its row here. */
const OPENERS: Record<SessionStoreScheme, OpenStore> = {
  file: openFile,
  sqlite: openSqlite,
  redis: openRedis,
  rediss: openRedis,
  'redis+cluster': openRedisCluster,
  'rediss+cluster': openRedisCluster,
  postgres: openPostgres,
  postgresql: openPostgres,
  s3: openS3,
};

const ACCEPTED = SESSION_STORE_SCHEMES.map((scheme) => `${scheme}://`).join(', ');

/**
 * Creates a SessionStore from a URL. Nothing connects until the first call; call `close()` when done.
 * - `file:///var/lib/app/sessions` (or `file://./relative/dir`, `file://~/dir`): JSONL files; `?fsync=always|never`.
 * - `sqlite:///var/lib/app/sessions.db` (or `sqlite://./relative.db`, `sqlite://~/sessions.db`,
 *   `sqlite::memory:`); `?fsync=`.
 * - `redis://[:password@]host:6379/0?prefix=mneme` (also `rediss://`).
 * - `redis+cluster://[:password@]host:7000,host:7001/?prefix=mneme` (also `rediss+cluster://`): a Redis Cluster,
 *   reached through these seed nodes; each project's keys share one hash slot.
 * - `postgres://user@host:5432/db?table=mneme_sessions` (also `postgresql://`).
 * - `s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:4569`: credentials from the AWS chain
 *   (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles); an endpoint implies path-style addressing;
 *   `&compactAfter=64` compacts a transcript once it holds that many parts (`0`: never).
 * @throws ConfigError for an unknown scheme or a malformed URL.
 */
export function createSessionStore(url: string, options: CreateSessionStoreOptions = {}): SessionStore {
  if (url === 'sqlite::memory:')
    return new SqliteSessionStore({ path: ':memory:', fsync: options.fsync ?? 'always' });
  const scheme = urlScheme(url);
  if (scheme === undefined) {
    throw new ConfigError(`invalid session store URL ${JSON.stringify(url)}: expected one of ${ACCEPTED}`);
  }
  if (!isSessionStoreScheme(scheme)) {
    throw new ConfigError(
      `unknown session store URL scheme "${scheme}://" in ${JSON.stringify(redactUrlText(url))}: use ${ACCEPTED}`,
    );
  }
  return OPENERS[scheme](url, options);
}

function isSessionStoreScheme(scheme: string): scheme is SessionStoreScheme {
  return (SESSION_STORE_SCHEMES as readonly string[]).includes(scheme);
}
