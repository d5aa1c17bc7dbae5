/** The REST API's shapes the console reads (docs/server.md, GET /openapi.json). */
export interface MemoryRecord {
  id: string;
  memory: string;
  kind: string;
  userId?: string;
  agentId?: string;
  runId?: string;
  appId?: string;
  role?: string;
  speaker?: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  observedAt: string;
  validFrom?: string;
  validTo?: string;
  supersededBy?: string;
  expiresAt?: string;
}

export interface Scores {
  dense: number;
  keyword: number;
  recency: number;
  rrf: number;
}

export interface Candidate extends MemoryRecord {
  score: number;
  scores: Scores;
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

export interface HistoryEvent {
  id: string;
  memoryId: string;
  event: string;
  previousValue?: string;
  newValue?: string;
  reason?: string;
  actor: string;
  relatedId?: string;
  createdAt: string;
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
