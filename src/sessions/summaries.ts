/**
 * Session summaries, shared by every backend: the SDK's `foldSessionSummary` (loaded lazily, since the SDK is
 * an optional peer dependency) and the write clock that stamps `mtime`.
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

/** Folds the entries an append added into a session's summary; see {@link loadSummaryFolder}. */
export type SummaryFolder = (
  previous: { mtime: number; data: Record<string, unknown> } | undefined,
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
