/**
 * The PostgreSQL SessionStore runs the shared conformance suite against the real PostgreSQL at
 * MNEME_TEST_POSTGRES_URL, each test in its own pair of tables (dropped afterwards).
 */
import { randomUUID } from 'node:crypto';
import { createSessionStore, PostgresSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';

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
    const url = postgresUrl ?? '';
    const table = `mneme_test_sessions_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const storeUrl = `${url}${url.includes('?') ? '&' : '?'}table=${table}`;
    return {
      store: createSessionStore(storeUrl),
      reopen: () => createSessionStore(storeUrl),
      url: storeUrl,
      cleanup: async () => {
        const admin = new PostgresSessionStore({ connectionString: storeUrl });
        try {
          await admin.dropTables();
        } finally {
          await admin.close();
        }
      },
    };
  },
});
