/**
 * Erasing a memory also erases the copies of its text kept as other memories' reply context
 * (core/reply-context.ts): a named-speaker turn's text is copied into the context of the turns that followed it.
 * This runs just before the store erases the memory itself: every memory of the same scope whose context contains the
 * erased text loses its context (an UPDATE event with a reason, no text of the erased memory in it), so the
 * erased words survive nowhere, and the keyword index is re-indexed without them.
 */
import { REPLY_TO_KEY, REPLY_TO_TURN_LENGTH, replyContextOf } from '../core/reply-context.js';
import { pickScope } from '../core/scope.js';
import type { MemoryRecord } from '../core/types.js';
import { withoutSpeakerLabel } from '../ingest/verbatim.js';
import type { MemoryStore } from '../stores/types.js';

/** Characters of the erased text searched for: a context keeps at most this much of a turn uncut. */
const NEEDLE_LENGTH = Math.min(200, REPLY_TO_TURN_LENGTH - 1);
const PAGE = 200;

/** The part of an erased memory's text that its copies in reply contexts hold. */
function contextNeedle(record: Pick<MemoryRecord, 'memory' | 'speaker'>): string {
  const spoken = record.speaker ? withoutSpeakerLabel(record.memory, record.speaker) : record.memory;
  return spoken.trim().slice(0, NEEDLE_LENGTH);
}

/**
 * Removes the reply context of every memory in `erased`'s scope whose context holds `erased`'s text.
 * @returns how many memories lost their context.
 */
export async function eraseReplyContextCopies(
  store: MemoryStore,
  erased: Pick<MemoryRecord, 'id' | 'memory' | 'speaker' | 'userId' | 'agentId' | 'runId' | 'appId'>,
  now: string,
): Promise<number> {
  const needle = contextNeedle(erased);
  if (needle === '') return 0;
  // Copies are only ever taken within the exact scope of the turn (ingest/pipeline.ts, verbatim.ts).
  const scope = pickScope(erased);
  if (Object.keys(scope).length === 0) return 0;
  let cleared = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list({
      scope,
      filter: {
        op: 'compare',
        field: { kind: 'metadata', key: REPLY_TO_KEY },
        operator: 'contains',
        value: needle,
      },
      temporal: { now, includeSuperseded: true, includeExpired: true },
      page: { limit: PAGE, ...(cursor ? { cursor } : {}) },
    });
    const holders = page.records.filter((record) => replyContextOf(record.metadata)?.includes(needle));
    if (holders.length > 0) {
      await store.apply({
        changes: holders.map((record) => {
          const { [REPLY_TO_KEY]: _removed, ...metadata } = record.metadata;
          return {
            type: 'update' as const,
            id: record.id,
            patch: { metadata, updatedAt: now },
            event: {
              event: 'UPDATE' as const,
              previousValue: record.memory,
              newValue: record.memory,
              reason: `reply context removed: memory ${erased.id} was erased`,
              actor: 'system',
              createdAt: now,
            },
          };
        }),
      });
      cleared += holders.length;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return cleared;
}
