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
 * The seam and its contract: `./types.ts`. Driver packages (`pg`, `ioredis`, `@aws-sdk/client-s3`) are
 * optional peer dependencies, loaded on first use.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import type { FsyncPolicy } from './file.js';
import { FileSessionStore } from './file.js';
import { PostgresSessionStore } from './postgres.js';
import { RedisSessionStore } from './redis.js';
import { S3SessionStore } from './s3.js';
import { SqliteSessionStore } from './sqlite.js';
import type { SessionStore } from './types.js';
import { redactUrlText } from './urls.js';

export type { FileSessionStoreOptions, FsyncPolicy } from './file.js';
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
export type {
  SessionKey,
  SessionStore,
  SessionStoreCapabilities,
  SessionStoreEntry,
  SessionSummaryEntry,
} from './types.js';

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
 *   (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles); an endpoint implies path-style addressing.
 * @throws ConfigError for an unknown scheme or a malformed URL.
 */
export function createSessionStore(url: string, options: CreateSessionStoreOptions = {}): SessionStore {
  if (url === 'sqlite::memory:')
    return new SqliteSessionStore({ path: ':memory:', fsync: options.fsync ?? 'always' });
  if (typeof url !== 'string' || !url.includes('://')) {
    throw new ConfigError(
      `invalid session store URL ${JSON.stringify(url)}: expected one of ${SESSION_STORE_SCHEMES.map((scheme) => `${scheme}://`).join(', ')}`,
    );
  }
  const scheme = url.slice(0, url.indexOf('://')).toLowerCase();
  switch (scheme) {
    case 'file': {
      const { path, params } = parsePathUrl(url, 'file');
      return new FileSessionStore({ root: path, fsync: options.fsync ?? parseFsync(params, url) });
    }
    case 'sqlite': {
      const { path, params } = parsePathUrl(url, 'sqlite');
      return new SqliteSessionStore({ path, fsync: options.fsync ?? parseFsync(params, url) });
    }
    case 'redis':
    case 'rediss':
      return new RedisSessionStore({ url: parseUrl(url).toString() });
    case 'redis+cluster':
    case 'rediss+cluster':
      return new RedisSessionStore({ url });
    case 'postgres':
    case 'postgresql':
      return new PostgresSessionStore({ connectionString: parseUrl(url).toString() });
    case 's3': {
      const parsed = parseUrl(url);
      const region = parsed.searchParams.get('region');
      const endpoint = parsed.searchParams.get('endpoint');
      return new S3SessionStore({
        bucket: parsed.hostname,
        prefix: decodeURIComponent(parsed.pathname),
        ...(region === null ? {} : { region }),
        ...(endpoint === null ? {} : { endpoint }),
      });
    }
    default:
      throw new ConfigError(
        `unknown session store URL scheme "${scheme}://" in ${JSON.stringify(redactUrlText(url))}: use ` +
          `${SESSION_STORE_SCHEMES.map((known) => `${known}://`).join(', ')}`,
      );
  }
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (error) {
    throw new ConfigError(`invalid session store URL ${JSON.stringify(redactUrlText(url))}`, {
      cause: error,
    });
  }
}

/** `scheme:///absolute`, `scheme://./relative`, `scheme://~/home`, `scheme://relative` or `sqlite://:memory:`. */
function parsePathUrl(url: string, scheme: string): { path: string; params: URLSearchParams } {
  const rest = url.slice(scheme.length + 3);
  const queryAt = rest.indexOf('?');
  const rawPath = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  if (rawPath === '') throw new ConfigError(`session store URL ${JSON.stringify(url)} names no path`);
  if (rawPath === ':memory:') return { path: rawPath, params };
  if (rawPath === '~' || rawPath.startsWith('~/')) {
    return { path: join(homedir(), decodeURIComponent(rawPath.slice(1))), params };
  }
  const path = rawPath.startsWith('/') ? fileURLToPath(`file://${rawPath}`) : decodeURIComponent(rawPath);
  return { path, params };
}

function parseFsync(params: URLSearchParams, url: string): FsyncPolicy {
  const value = params.get('fsync') ?? 'always';
  if (value !== 'always' && value !== 'never') {
    throw new ConfigError(`invalid ?fsync=${value} in ${JSON.stringify(url)}: use always or never`);
  }
  return value;
}
