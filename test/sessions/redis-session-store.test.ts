/**
 * The Redis SessionStore runs the shared conformance suite against the real Redis at MNEME_TEST_REDIS_URL, each
 * test under its own key prefix (deleted afterwards).
 */
import { randomUUID } from 'node:crypto';
import { createSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';

const redisUrl = process.env.MNEME_TEST_REDIS_URL;

/** Deletes every key under `prefix:` (SCAN, so the server is never blocked). */
async function dropPrefix(url: string, prefix: string): Promise<void> {
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

sessionStoreSuite({
  name: 'redis',
  capabilities: { multiProcess: true },
  ...(redisUrl === undefined
    ? { skip: 'MNEME_TEST_REDIS_URL not set: set it to a Redis 7 URL, e.g. redis://127.0.0.1:6379/0' }
    : {}),
  makeStore: async () => {
    const url = redisUrl ?? '';
    const prefix = `mneme-test-${randomUUID()}`;
    const storeUrl = `${url}${url.includes('?') ? '&' : '?'}prefix=${prefix}`;
    return {
      store: createSessionStore(storeUrl),
      reopen: () => createSessionStore(storeUrl),
      url: storeUrl,
      cleanup: () => dropPrefix(url, prefix),
    };
  },
});
