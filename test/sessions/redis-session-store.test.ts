/**
 * The Redis SessionStore runs the shared conformance suite against the real Redis at MNEME_TEST_REDIS_URL, each
 * test under its own key prefix (deleted afterwards), and checks that single-node keys keep their untagged names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';
import { redisScratch } from '../support/session-backends.js';

const redisUrl = process.env.MNEME_TEST_REDIS_URL;

sessionStoreSuite({
  name: 'redis',
  capabilities: { multiProcess: true },
  ...(redisUrl === undefined
    ? { skip: 'MNEME_TEST_REDIS_URL not set: set it to a Redis 7 URL, e.g. redis://127.0.0.1:6379/0' }
    : {}),
  makeStore: async () => {
    const { url, cleanup } = redisScratch(redisUrl ?? '', 'mneme-test');
    return { store: createSessionStore(url), reopen: () => createSessionStore(url), url, cleanup };
  },
});

test(
  'redis: single-node keys carry no cluster hash tag, so data written by earlier versions stays readable',
  redisUrl === undefined ? { skip: 'MNEME_TEST_REDIS_URL not set' } : {},
  async () => {
    const { url, cleanup } = redisScratch(redisUrl ?? '', 'mneme-test');
    const store = createSessionStore(url);
    const redis = new Redis(redisUrl ?? '');
    try {
      const prefix = new URL(url).searchParams.get('prefix');
      await store.append({ projectKey: 'proj', sessionId: 's1' }, [{ type: 'user', uuid: 'u-1' }]);
      assert.equal(await redis.exists(`${prefix}:main:proj:s1`, `${prefix}:sessions:proj`), 2);
      // A key an earlier version wrote, under the same names, is read back.
      await redis.rpush(`${prefix}:main:proj:old`, JSON.stringify({ type: 'user', uuid: 'u-0' }));
      assert.deepEqual(await store.load({ projectKey: 'proj', sessionId: 'old' }), [
        { type: 'user', uuid: 'u-0' },
      ]);
    } finally {
      await store.close();
      await redis.quit();
      await cleanup();
    }
  },
);
