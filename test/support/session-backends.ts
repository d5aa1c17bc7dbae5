/**
 * Scratch space for session stores on the real Redis and PostgreSQL servers that the session tests and the
 * sessions benchmark use (MNEME_TEST_REDIS_URL, MNEME_TEST_POSTGRES_URL): a `createSessionStore` URL under a
 * fresh Redis key prefix or a fresh pair of PostgreSQL tables, and a cleanup that removes what the store wrote.
 */
import { randomUUID } from 'node:crypto';
import { PostgresSessionStore } from '../../src/sessions/index.js';

/** A store URL on a server, in scratch space nothing else uses, and how to remove that space. */
export interface ScratchStore {
  /** A `createSessionStore` URL (the server URL plus `?prefix=` or `?table=`). */
  url: string;
  /** Deletes everything stored in the scratch space. */
  cleanup: () => Promise<void>;
}

/** Scratch space on the Redis at `serverUrl`: the key prefix `<label>-<uuid>`. */
export function redisScratch(serverUrl: string, label: string): ScratchStore {
  const prefix = `${label}-${randomUUID()}`;
  return {
    url: withParam(serverUrl, 'prefix', prefix),
    cleanup: () => dropRedisPrefix(serverUrl, prefix),
  };
}

/** Scratch space on the PostgreSQL at `serverUrl`: the tables `<label>_<16 hex digits>` (and its `_entries`). */
export function postgresScratch(serverUrl: string, label: string): ScratchStore {
  const url = withParam(serverUrl, 'table', `${label}_${randomUUID().replaceAll('-', '').slice(0, 16)}`);
  return {
    url,
    cleanup: async () => {
      const admin = new PostgresSessionStore({ connectionString: url });
      try {
        await admin.dropTables();
      } finally {
        await admin.close();
      }
    },
  };
}

function withParam(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${name}=${value}`;
}

/** Deletes every key under `prefix:` (SCAN, so the server is never blocked). */
async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
