/**
 * The change-list program behind `MemoryStore.apply`, run by every engine inside one write transaction. For each
 * change, in order (field names `changes[i]` in errors):
 * - insert: the record's scope and vector are checked, the memory is inserted with its keyword text
 *   (`keywordText`, core/reply-context.ts) or a StoreError `conflict` is thrown for a taken id, and the event is
 *   recorded in the record's scope;
 * - update / delete / note: the memory is found by id within the change's scope (NotFoundError otherwise); an
 *   update writes its patch, rewrites the keyword entry only when the text it indexes changes
 *   ({@link patchedKeywordText}) and replaces the vector when one is given; a delete removes the row (history
 *   stays); a note writes nothing but its event; the event is recorded in the row's scope.
 * Finally `completeQueueItem`, when given, is removed from the queue (NotFoundError when it is gone, so a retried
 * ingestion can never apply twice). Any throw rolls the whole transaction back.
 */
import { keywordText } from '../../core/reply-context.js';
import { pickScope } from '../../core/scope.js';
import type { Metadata } from '../../core/types.js';
import type { MemoryChange, MemoryPatch } from '../types.js';
import type { WriteSteps } from './engine.js';
import { completedItemNotFound, memoryExists, memoryNotFound } from './errors.js';
import { historyEvent } from './history.js';
import { type Program, step } from './program.js';
import { assertDimension, assertInsertable, assertOptionalScope } from './validate.js';

/**
 * What a memory's keyword entry must become after `patch`, or undefined when the patch leaves the indexed text as
 * it is (then the entry is not rewritten). `metadata` is read only when the patch changes the text or the metadata.
 */
export function patchedKeywordText(
  current: { memory: string; metadata: () => Metadata },
  patch: MemoryPatch,
): string | undefined {
  if (patch.memory === undefined && patch.metadata === undefined) return undefined;
  const metadata = current.metadata();
  const before = keywordText({ memory: current.memory, metadata });
  const after = keywordText({ memory: patch.memory ?? current.memory, metadata: patch.metadata ?? metadata });
  return after === before ? undefined : after;
}

/** The program of `apply({ changes, completeQueueItem })` on an engine opened with vectors of `dimension`. */
export function* applyChanges<Tx, Row>(
  steps: WriteSteps<Tx, Row>,
  tx: Tx,
  changes: readonly MemoryChange[],
  dimension: number,
  completeQueueItem: string | undefined,
): Program<void> {
  for (const [index, change] of changes.entries()) {
    const field = `changes[${index}]`;
    if (change.type === 'insert') {
      const { record } = change;
      assertInsertable(record, change.embedding, dimension, field);
      if (!(yield* step(steps.insert(tx, record, change.embedding, keywordText(record))))) {
        throw memoryExists(record.id);
      }
      yield* step(steps.appendEvent(tx, historyEvent(record.id, change.event), pickScope(record)));
      continue;
    }
    assertOptionalScope(change.scope, `${field}.scope`);
    const row = yield* step(steps.findForUpdate(tx, change.id, change.scope));
    if (row === undefined) throw memoryNotFound(change.id, change.scope);
    const current = steps.current(row);
    if (change.type === 'update') {
      if (change.embedding !== undefined) assertDimension(change.embedding, dimension, `${field}.embedding`);
      const update = {
        patch: change.patch,
        keywordText: patchedKeywordText(current, change.patch),
        embedding: change.embedding,
      };
      yield* step(steps.update(tx, row, update));
    } else if (change.type === 'delete') {
      yield* step(steps.remove(tx, row));
    }
    yield* step(steps.appendEvent(tx, historyEvent(current.id, change.event), current.scope));
  }
  if (completeQueueItem !== undefined && !(yield* step(steps.completeQueueItem(tx, completeQueueItem)))) {
    throw completedItemNotFound(completeQueueItem);
  }
}
