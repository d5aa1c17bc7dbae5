/**
 * The PostgreSQL store runs the shared conformance suite against PGlite + pgvector (PostgreSQL 18 in WASM,
 * served over the wire protocol on a random loopback port) through the real `pg` driver; each test gets its
 * own schema, dropped afterwards. PostgreSQL-specific behaviour is tested in `postgres-specific.test.ts`.
 */
import { after } from 'node:test';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { memoryStoreSuite } from '../conformance/memory-store-suite.js';
import { sharedPgliteServer, stopSharedPgliteServer, storeUrl, uniqueSchema } from './postgres-support.js';

after(stopSharedPgliteServer);

memoryStoreSuite({
  name: 'postgres (PGlite + pgvector)',
  capabilities: { persistent: true, multiProcess: true },
  skipWritesDuringSnapshot:
    'PGlite runs one backend session for all connections, so no write can run beside an open snapshot ' +
    '(covered on a real server by postgres-export-snapshot.test.ts)',
  makeStore: async () => {
    const server = await sharedPgliteServer();
    const url = storeUrl(server.url, uniqueSchema());
    return {
      store: createPostgresStore({ connectionString: url }),
      reopen: () => createPostgresStore({ connectionString: url }),
      cleanup: () => server.dropSchema(new URL(url).searchParams.get('schema') ?? ''),
    };
  },
});
