import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import { memoryStoreSuite } from '../conformance/memory-store-suite.js';

memoryStoreSuite({
  name: 'sqlite',
  capabilities: { persistent: true, multiProcess: true },
  makeStore: () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-sqlite-'));
    const path = join(directory, 'nested', 'mneme.db');
    return {
      store: createSqliteStore({ path }),
      reopen: () => createSqliteStore({ path }),
      cleanup: async () => rmSync(directory, { recursive: true, force: true }),
    };
  },
});
