/**
 * Session summaries, shared by every backend: the SDK's `foldSessionSummary` (loaded lazily, since the SDK is
 * an optional peer dependency), the write clock that stamps `mtime`, and reading a summary back from storage.
 */
import { StoreError } from '../core/errors.js';
import { importOptional } from './internal.js';
import type { SessionKey, SessionStoreEntry, SessionSummaryEntry } from './types.js';

type FoldSessionSummary = (
  previous: SessionSummaryEntry | undefined,
  key: SessionKey,
  entries: SessionStoreEntry[],
  options?: { mtime?: number },
) => SessionSummaryEntry;

let foldPromise: Promise<FoldSessionSummary> | undefined;

function loadFold(): Promise<FoldSessionSummary> {
  foldPromise ??= importOptional<{ foldSessionSummary: FoldSessionSummary }>(
    '@anthropic-ai/claude-agent-sdk',
    'Session summaries (SessionStore.append)',
  ).then((sdk) => sdk.foldSessionSummary);
  return foldPromise;
}

/** What a backend keeps of a session's summary: the `mtime` of its last fold and the SDK's `data`. */
export interface StoredSummary {
  mtime: number;
  data: Record<string, unknown>;
}

/** Folds the entries an append added into a session's summary; see {@link loadSummaryFolder}. */
export type SummaryFolder = (
  previous: StoredSummary | undefined,
  key: SessionKey,
  added: SessionStoreEntry[],
  mtime: number,
) => SessionSummaryEntry;

/**
 * Loads the SDK's own `foldSessionSummary` and returns a synchronous folder (synchronous so that SQLite can
 * fold inside its transaction). The folder folds only the entries an append added into the stored summary
 * (`previous`, or undefined for a session's first append) and stamps `mtime`.
 * @throws MissingDependencyError when `@anthropic-ai/claude-agent-sdk` is not installed.
 */
export async function loadSummaryFolder(): Promise<SummaryFolder> {
  const fold = await loadFold();
  return (previous, key, added, mtime) => {
    const main: SessionKey = { projectKey: key.projectKey, sessionId: key.sessionId };
    const prior =
      previous === undefined
        ? undefined
        : { sessionId: key.sessionId, mtime: previous.mtime, data: previous.data };
    return fold(prior, main, added, { mtime });
  };
}

/**
 * The next write stamp for a session: the clock in integer ms, but always after the previous stamp, so that
 * every append that changes a session moves its mtime forward even within one millisecond.
 */
export function nextMtime(nowMs: number, previous: number | undefined): number {
  const now = Math.floor(nowMs);
  return previous === undefined ? now : Math.max(now, previous + 1);
}

/**
 * A stored summary `data` blob as an object: `stored` is its JSON text (or an already parsed value, as `pg`
 * returns for `json` columns).
 * @throws StoreError (`store_corrupt`) when it is not a JSON object.
 */
export function parseSummaryData(stored: unknown, backend: string): Record<string, unknown> {
  const value: unknown = typeof stored === 'string' ? JSON.parse(stored) : stored;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError(`${backend} session store: a stored session summary is not a JSON object`, {
      code: 'store_corrupt',
    });
  }
  return value as Record<string, unknown>;
}

/**
 * A session's stored summary as a backend read it (a row, or Redis keys), for {@link SummaryFolder}'s
 * `previous`: `mtime` is a number or its decimal string (`pg` bigint, Redis score), `data` as for
 * {@link parseSummaryData}. Undefined when `mtime` is absent (null or undefined): the session has no summary yet.
 * @throws StoreError (`store_corrupt`) when `mtime` is present and `data` is not a JSON object.
 */
export function parseStoredSummary(
  mtime: number | string | null | undefined,
  data: unknown,
  backend: string,
): StoredSummary | undefined {
  if (mtime === null || mtime === undefined) return undefined;
  return { mtime: Number(mtime), data: parseSummaryData(data, backend) };
}

/**
 * One `listSessionSummaries` result from a stored summary; `mtime` and `data` as for {@link parseStoredSummary}.
 * @throws StoreError (`store_corrupt`) when `data` is not a JSON object.
 */
export function toSummaryEntry(
  sessionId: string,
  mtime: number | string,
  data: unknown,
  backend: string,
): SessionSummaryEntry {
  return { sessionId, mtime: Number(mtime), data: parseSummaryData(data, backend) };
}
