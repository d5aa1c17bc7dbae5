/**
 * The PostgreSQL SessionStore runs the shared conformance suite against the real PostgreSQL at
 * MNEME_TEST_POSTGRES_URL, each test in its own pair of tables (dropped afterwards).
 */
import { createSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';
import { postgresScratch } from '../support/session-backends.js';

const postgresUrl = process.env.MNEME_TEST_POSTGRES_URL;

sessionStoreSuite({
  name: 'postgres',
  capabilities: { multiProcess: true },
  ...(postgresUrl === undefined
    ? {
        skip: 'MNEME_TEST_POSTGRES_URL not set: set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test',
      }
    : {}),
  makeStore: async () => {
    const { url, cleanup } = postgresScratch(postgresUrl ?? '', 'mneme_test_sessions');
    return { store: createSessionStore(url), reopen: () => createSessionStore(url), url, cleanup };
  },
});
