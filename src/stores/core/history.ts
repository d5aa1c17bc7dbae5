/**
 * History events as every store records them. Each change appends one event; the store assigns its id (a random
 * UUID) and memory id ({@link historyEvent}). Events are kept after their memory is deleted and read back oldest
 * first; an erase strips their text and appends an ERASE tombstone (ids and times only).
 */
import { randomUUID } from 'node:crypto';
import type { HistoryEvent } from '../../core/types.js';
import type { NewHistoryEvent } from '../types.js';

/** The stored form of a change's event: `event` with its id (a new UUID unless given) and memory id. */
export function historyEvent(
  memoryId: string,
  event: NewHistoryEvent,
  id: string = randomUUID(),
): HistoryEvent {
  return { ...event, id, memoryId };
}

/** An ERASE tombstone for `memoryId`. */
export function eraseEvent(memoryId: string, actor: string, now: string): HistoryEvent {
  return { id: randomUUID(), memoryId, event: 'ERASE', actor, createdAt: now };
}

/** `events` grouped by their memory id, each group in the order given (stores pass them oldest first). */
export function historyByMemory(events: Iterable<HistoryEvent>): Map<string, HistoryEvent[]> {
  const byMemory = new Map<string, HistoryEvent[]>();
  for (const event of events) {
    const list = byMemory.get(event.memoryId);
    if (list === undefined) byMemory.set(event.memoryId, [event]);
    else list.push(event);
  }
  return byMemory;
}
