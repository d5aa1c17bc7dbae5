/**
 * The Redis SessionStore runs the shared conformance suite against the real Redis at MNEME_TEST_REDIS_URL, each
 * test under its own key prefix (deleted afterwards).
 */
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
