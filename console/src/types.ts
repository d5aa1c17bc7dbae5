/** The REST API's shapes the console reads (docs/server.md, GET /openapi.json): the library's own types. */
import type { HistoryEvent, MemoryRecord, SearchScores } from '../../src/core/types.js';

export type { HistoryEvent, MemoryRecord };
export interface Candidate extends MemoryRecord {
  score: number;
  scores: SearchScores;
  included: boolean;
  reason?: string;
}

export interface ProfileItem {
  id: string;
  memory: string;
  kind: string;
  pinned: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface UserEntry {
  userId: string;
  appId?: string;
  memories: number;
}

/** The user a view is about: the user id, and the app when the session sees every app. */
export interface Subject {
  userId: string;
  appId?: string;
}

/** The scope fields of a subject, for bodies and query strings. */
export function scopeOf(subject: Subject): Record<string, string> {
  return { userId: subject.userId, ...(subject.appId !== undefined ? { appId: subject.appId } : {}) };
}

export function queryOf(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.set(name, value);
  return params.toString();
}
