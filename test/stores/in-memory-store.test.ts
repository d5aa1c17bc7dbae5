import { createInMemoryStore } from '../../src/stores/in-memory.js';
import { memoryStoreSuite } from '../conformance/memory-store-suite.js';

memoryStoreSuite({
  name: 'in-memory',
  capabilities: { persistent: false, multiProcess: false },
  makeStore: () => ({ store: createInMemoryStore() }),
});
