/**
 * The memory record the benchmarks write for one user message: role `user`, kind `message`, no metadata, a random
 * id and the text's hash, observed and valid from `observedAt`, created and updated at `writtenAt` (default: the
 * same instant), optionally in app `appId`.
 */
import { randomUUID } from 'node:crypto';
import { hashText } from '../../src/core/text.js';
import type { MemoryRecord } from '../../src/core/types.js';

export function messageRecord(
  text: string,
  userId: string,
  observedAt: string,
  options: { writtenAt?: string; appId?: string } = {},
): MemoryRecord {
  const writtenAt = options.writtenAt ?? observedAt;
  return {
    id: randomUUID(),
    memory: text,
    userId,
    ...(options.appId !== undefined ? { appId: options.appId } : {}),
    role: 'user',
    kind: 'message',
    metadata: {},
    hash: hashText(text),
    createdAt: writtenAt,
    updatedAt: writtenAt,
    observedAt,
    validFrom: observedAt,
  };
}
