/**
 * The PostgreSQL store runs the shared conformance suite through the real `pg` driver on the real PostgreSQL +
 * pgvector at MNEME_TEST_POSTGRES_URL, or, without one, on PGlite + pgvector (PostgreSQL 18 in WASM, served over
 * the wire protocol on a random loopback port; the reason is printed). Each test gets its own schema, dropped
 * afterwards. PostgreSQL-specific behaviour is tested in `postgres-specific.test.ts`.
 */
import { after } from 'node:test';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { memoryStoreSuite } from '../conformance/memory-store-suite.js';
import { sharedTestPostgres, stopSharedTestPostgres, uniqueSchema } from './postgres-support.js';

after(stopSharedTestPostgres);

const server = await sharedTestPostgres();

memoryStoreSuite({
  name: `postgres (${server.label})`,
  capabilities: { persistent: true, multiProcess: true },
  ...(server.kind === 'pglite'
    ? {
        skipWritesDuringSnapshot:
          'PGlite runs one backend session for all connections, so no write can run beside an open snapshot ' +
          '(set MNEME_TEST_POSTGRES_URL to run it on a real server)',
      }
    : {}),
  makeStore: async () => {
    const url = server.storeUrl(uniqueSchema());
    return {
      store: createPostgresStore({ connectionString: url }),
      reopen: () => createPostgresStore({ connectionString: url }),
      cleanup: () => server.dropSchema(new URL(url).searchParams.get('schema') ?? ''),
    };
  },
});
