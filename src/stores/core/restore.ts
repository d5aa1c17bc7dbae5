/**
 * The restore program behind `MemoryStore.restore`, run inside one write transaction: items produced by `scan`
 * are written verbatim (ids, times, history). Idempotent: an item whose id exists is skipped, and so is a history
 * event whose id exists. Each written item is checked like an insert (`items[i].record` scope,
 * `items[i].embedding` dimension). An engine with a bulk path (`RestoreSteps.batch`, engine.ts) receives every
 * item checked and only the first of each id; otherwise items are written one by one.
 * @returns how many memories were written.
 */
import { keywordText } from '../../core/reply-context.js';
import { pickScope } from '../../core/scope.js';
import type { WriteSteps } from './engine.js';
import { memoryExists } from './errors.js';
import { type Program, step } from './program.js';
import type { ScanItem } from './results.js';
import { assertInsertable } from './validate.js';

/** The program of `restore({ items })` on an engine opened with vectors of `dimension`. */
export function* restoreItems<Tx, Row>(
  steps: WriteSteps<Tx, Row>,
  tx: Tx,
  items: readonly ScanItem[],
  dimension: number,
): Program<number> {
  const { restore } = steps;
  if ('batch' in restore) {
    const firstById = new Map<string, ScanItem>();
    for (const [index, item] of items.entries()) {
      assertInsertable(item.record, item.embedding, dimension, `items[${index}]`);
      if (!firstById.has(item.record.id)) firstById.set(item.record.id, item);
    }
    return firstById.size === 0 ? 0 : yield* step(restore.batch(tx, [...firstById.values()]));
  }
  let written = 0;
  for (const [index, { record, embedding, history }] of items.entries()) {
    if (yield* step(restore.memoryExists(tx, record.id))) continue;
    assertInsertable(record, embedding, dimension, `items[${index}]`);
    if (!(yield* step(steps.insert(tx, record, embedding, keywordText(record)))))
      throw memoryExists(record.id);
    const scope = pickScope(record);
    for (const event of history) {
      if (yield* step(restore.eventExists(tx, event.id))) continue;
      yield* step(steps.appendEvent(tx, { ...event, memoryId: record.id }, scope));
    }
    written += 1;
  }
  return written;
}
