/**
 * The first step of every backend's `append`, so that the seam's rules for it hold alike everywhere: the key
 * and the entries are validated before anything is written, an empty batch changes nothing, and only main
 * transcripts have a summary to fold.
 */
import { serializeEntries, validateSessionKey } from './keys.js';
import { loadSummaryFolder, type SummaryFolder } from './summaries.js';
import type { SessionKey, SessionStoreEntry } from './types.js';

/** An append that has something to write: what the frame hands a backend's `writeEntries`. */
export interface AppendBatch {
  /** The batch as the caller passed it (validated JSON objects, possibly repeating uuids). */
  entries: SessionStoreEntry[];
  /** Each entry serialized as one JSON line, in the batch's order (same indexes as the entries). */
  lines: string[];
  /** The summary folder for a main transcript; undefined for a `subpath` transcript (no summary). */
  fold: SummaryFolder | undefined;
}

/**
 * Validates `key` and `entries` and serializes the entries; loads the summary folder when `key` is a main
 * transcript. Undefined for an empty batch: the append is then a no-op.
 * @throws ValidationError for a bad key or an entry that is not a JSON object.
 * @throws MissingDependencyError when a main append needs `@anthropic-ai/claude-agent-sdk` and it is not installed.
 */
export async function prepareAppend(
  key: SessionKey,
  entries: SessionStoreEntry[],
): Promise<AppendBatch | undefined> {
  validateSessionKey(key);
  const lines = serializeEntries(entries);
  if (lines.length === 0) return undefined;
  const fold = key.subpath === undefined ? await loadSummaryFolder() : undefined;
  return { entries, lines, fold };
}
