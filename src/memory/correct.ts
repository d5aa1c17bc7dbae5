/**
 * "Mark as wrong": a memory is replaced by a correction. The correction is a new memory in the same scope, with
 * the same kind, role, speaker, topic and metadata; the old memory is closed (`validTo` = now) and points at it
 * (`supersededBy`), exactly as when ingestion finds a statement superseded (pipeline.ts), so search, profile and
 * `asOf` treat both the same way. Both changes go to the store in one `apply` (one transaction).
 *
 * History: the new memory gets ADD (reason `correction of <old id>`, relatedId the old id); the old one gets
 * SUPERSEDE (previousValue its text, newValue the correction, relatedId the new id).
 */
import { randomUUID } from 'node:crypto';
import { pickScope } from '../core/scope.js';
import { hashText } from '../core/text.js';
import type { MemoryRecord } from '../core/types.js';
import type { MemoryChange } from '../stores/types.js';

/** The two store changes that replace `current` with `text` (already validated and redacted). */
export function correctionChanges(options: {
  current: MemoryRecord;
  text: string;
  embedding: Float32Array;
  now: string;
  actor: string;
}): { id: string; changes: MemoryChange[] } {
  const { current, text, embedding, now, actor } = options;
  const id = randomUUID();
  const record: MemoryRecord = {
    id,
    memory: text,
    kind: current.kind,
    metadata: current.metadata,
    hash: hashText(text),
    createdAt: now,
    updatedAt: now,
    observedAt: now,
    validFrom: now,
    ...pickScope(current),
    ...(current.role ? { role: current.role } : {}),
    ...(current.speaker ? { speaker: current.speaker } : {}),
    ...(current.topic ? { topic: current.topic } : {}),
  };
  const reason = `correction of ${current.id}`;
  return {
    id,
    changes: [
      {
        type: 'insert',
        record,
        embedding,
        event: { event: 'ADD', newValue: text, actor, createdAt: now, reason, relatedId: current.id },
      },
      {
        type: 'update',
        id: current.id,
        scope: pickScope(current),
        patch: { validTo: now, supersededBy: id, updatedAt: now },
        event: {
          event: 'SUPERSEDE',
          previousValue: current.memory,
          newValue: text,
          reason: 'marked wrong and corrected',
          actor,
          relatedId: id,
          createdAt: now,
        },
      },
    ],
  };
}
