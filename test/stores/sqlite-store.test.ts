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

// The same contract with every dense search answered through the binary index (`exactScanMaxRows: 0`): the
// candidates, their exact re-rank under scope, temporal rule and filter, and the fallback to the exact scan.
memoryStoreSuite({
  name: 'sqlite (binary index for every dense search)',
  capabilities: { persistent: true, multiProcess: true },
  makeStore: () => {
    const directory = mkdtempSync(join(tmpdir(), 'mneme-sqlite-'));
    const path = join(directory, 'mneme.db');
    return {
      store: createSqliteStore({ path, exactScanMaxRows: 0 }),
      reopen: () => createSqliteStore({ path, exactScanMaxRows: 0 }),
      cleanup: async () => rmSync(directory, { recursive: true, force: true }),
    };
  },
});
