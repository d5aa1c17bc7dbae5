/**
 * The erase program behind `eraseScope` and `eraseMemory`, run by every engine inside one write transaction:
 * 1. the target's memories are deleted with their vectors and keyword entries;
 * 2. the text (`previousValue`, `newValue`, `reason`) of the target's history is cleared, also for memories
 *    deleted before;
 * 3. one ERASE tombstone (ids and times only) is appended per memory whose row or history text was erased, in the
 *    scope it was recorded in; a memory already erased gets none (so erasing twice writes nothing);
 * 4. a scope erase (no id) also deletes the scope's queue items and dead letters: they belong to a scope, not to
 *    one memory.
 * @returns the number of memory rows deleted and of tombstones written.
 */
import type { Scope } from '../../core/types.js';
import type { EraseTarget, WriteSteps } from './engine.js';
import { eraseEvent } from './history.js';
import { type Program, step } from './program.js';

/** The program of an erase of `target` by `actor` at `now`. */
export function* eraseTarget<Tx, Row>(
  steps: WriteSteps<Tx, Row>,
  tx: Tx,
  target: EraseTarget,
  now: string,
  actor: string,
): Program<{ deleted: number; tombstones: number }> {
  const deleted = yield* step(steps.eraseMemories(tx, target));
  const touched = yield* step(steps.stripHistory(tx, target));
  const tombstones = new Map<string, Scope>();
  for (const erased of [...touched, ...deleted]) tombstones.set(erased.id, erased.scope);
  for (const [memoryId, scope] of tombstones) {
    yield* step(steps.appendEvent(tx, eraseEvent(memoryId, actor, now), scope));
  }
  if (target.id === undefined) yield* step(steps.eraseQueue(tx, target.scope));
  return { deleted: deleted.length, tombstones: tombstones.size };
}
