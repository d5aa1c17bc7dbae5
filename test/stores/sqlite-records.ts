/**
 * Memory records and insert changes for the SQLite store's own test files (the shared conformance suite has its
 * own): one user by default, every timestamp at {@link NOW}, the hash derived from the text.
 */
import { randomUUID } from 'node:crypto';
import type { MemoryRecord, Scope } from '../../src/core/types.js';
import type { MemoryChange } from '../../src/stores/types.js';

/** The instant every record is created, updated and observed at. */
export const NOW = '2026-06-01T00:00:00.000Z';

/** A `user_fact` memory with `memory` as its text, in `scope`, with `fields` overriding the defaults. */
export function record(
  memory: string,
  scope: Scope = { userId: 'alice' },
  fields: Partial<MemoryRecord> = {},
): MemoryRecord {
  return {
    id: randomUUID(),
    memory,
    ...scope,
    kind: 'user_fact',
    metadata: {},
    hash: `hash-${memory}`,
    createdAt: NOW,
    updatedAt: NOW,
    observedAt: NOW,
    ...fields,
  };
}

/** Inserts `item` with `embedding` and an ADD event at the record's creation time. */
export function insertChange(item: MemoryRecord, embedding: Float32Array): MemoryChange {
  return {
    type: 'insert',
    record: item,
    embedding,
    event: { event: 'ADD', newValue: item.memory, actor: 'test', createdAt: item.createdAt },
  };
}
