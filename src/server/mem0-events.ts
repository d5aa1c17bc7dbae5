/**
 * The events of Mem0's asynchronous add (`GET /v1/event/{event_id}/`): an event id is the id of the durable queue
 * item the add became. While the item is queued the event is `PENDING`; once the worker has ingested it the item is
 * gone from the queue, so this server remembers the events it issued (the newest {@link EVENT_MEMORY} of them, in
 * this process) to tell "done" from "never issued here".
 *
 * | the queue item | issued by this process | status |
 * |---|---|---|
 * | queued, no failed attempt | any | `PENDING` |
 * | queued after failed attempts | any | `PENDING`, with `attempts` and `last_error` |
 * | gone | yes | `SUCCEEDED` (a dead-lettered item, dropped after too many attempts, is in the server log) |
 * | gone | no (another process, or before a restart) | 404 |
 *
 * Every lookup is confined to the key's app: another app's event id is a 404.
 */
import { NotFoundError } from '../core/errors.js';
import type { MemoryStore } from '../stores/types.js';

/** How many issued events a server remembers. */
export const EVENT_MEMORY = 10_000;

interface IssuedEvent {
  appId: string;
  createdAt: string;
  messages: number;
}

/** Mem0's event object. */
export interface Mem0Event {
  id: string;
  event_type: 'ADD';
  status: 'PENDING' | 'SUCCEEDED';
  payload: { messages: number } | null;
  metadata: { attempts: number; last_error: string | null } | null;
  results: [];
  created_at: string;
  updated_at: string;
}

/** The events one server issued, and their status from the durable queue. */
export class Mem0Events {
  private readonly issued = new Map<string, IssuedEvent>();

  constructor(private readonly store: MemoryStore) {}

  /** Remembers an event issued for queue item `id`. */
  issue(id: string, event: IssuedEvent): void {
    this.issued.set(id, event);
    if (this.issued.size > EVENT_MEMORY) {
      const oldest = this.issued.keys().next().value;
      if (oldest !== undefined) this.issued.delete(oldest);
    }
  }

  /** The event `id` of app `appId`; 404 when it is unknown here or belongs to another app. */
  async get(id: string, appId: string): Promise<Mem0Event> {
    const item = await this.store.getQueueItem({ id, scope: { appId } });
    const issued = this.issued.get(id);
    if (item) {
      return {
        id,
        event_type: 'ADD',
        status: 'PENDING',
        payload: issued ? { messages: issued.messages } : null,
        metadata: { attempts: item.attempts, last_error: item.lastError ?? null },
        results: [],
        created_at: item.enqueuedAt,
        updated_at: item.enqueuedAt,
      };
    }
    if (!issued || issued.appId !== appId) {
      throw new NotFoundError(
        `event ${id} not found: it is not queued, and this server did not issue it (events are remembered by ` +
          'the server process that queued them)',
      );
    }
    return {
      id,
      event_type: 'ADD',
      status: 'SUCCEEDED',
      payload: { messages: issued.messages },
      metadata: null,
      results: [],
      created_at: issued.createdAt,
      updated_at: issued.createdAt,
    };
  }
}
