/** Builds a Memory on the in-memory store and the deterministic test embedder, with a controllable clock. */

import type { Logger } from '../../src/core/logger.js';
import type { MemoryOptions } from '../../src/memory/config.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import { createTestEmbedder } from './test-embedder.js';

export interface MemoryFixture {
  memory: Memory;
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Log lines captured from the memory's logger. */
  logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
}

export async function createMemoryFixture(options: MemoryOptions = {}): Promise<MemoryFixture> {
  let now = Date.parse('2026-03-02T10:00:00.000Z');
  const logs: MemoryFixture['logs'] = [];
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logs.push({ level, message, ...(fields ? { fields } : {}) });
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const memory = await createMemory({
    store: createInMemoryStore(),
    embedder: createTestEmbedder({ dimension: 128 }),
    llm: null,
    logger,
    env: {},
    clock: () => new Date(now),
    ...options,
  });
  return {
    memory,
    logs,
    advance(ms) {
      now += ms;
    },
  };
}
