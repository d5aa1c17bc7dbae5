/** The SQLite SessionStore runs the shared conformance suite on a real database file in a temp directory. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';

sessionStoreSuite({
  name: 'sqlite',
  capabilities: { multiProcess: true },
  makeStore: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mneme-sqlite-sessions-'));
    const url = `sqlite://${join(dir, 'sessions.db')}`;
    return {
      store: createSessionStore(url),
      reopen: () => createSessionStore(url),
      url,
      assertContained: async () => {
        const files = (await readdir(dir)).filter((name) => !/^sessions\.db(-wal|-shm)?$/.test(name));
        assert.deepEqual(files, [], 'only the database files exist');
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
