/**
 * The Claude Code plugin's session states: one JSON file per session in a directory (the plugin's data dir), since
 * every hook runs as a new `mneme hook` process. A file is named by a hash of the session id (ids are data, never
 * paths) and replaced atomically (write, then rename), so a reader sees a whole state or none; two hooks of one
 * session racing lose at most the later bookkeeping, which the transcript rebuilds (the pipeline drops a capture
 * queued twice). Unreadable files read as a fresh state.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createSessionState,
  parseSessionState,
  type SessionStateStore,
  serializeSessionState,
} from '../claude-agent-sdk/session-state.js';

/** A {@link SessionStateStore} over the files of `directory` (created on first save). */
export interface SessionFiles extends SessionStateStore {
  /** Deletes the states of sessions untouched for `maxAgeMs` (sessions that never reached SessionEnd). */
  prune(maxAgeMs: number): Promise<number>;
}

/** Session states kept as files in `directory`. */
export function createSessionFiles(directory: string): SessionFiles {
  const fileOf = (sessionId: string): string =>
    join(directory, `session-${createHash('sha256').update(sessionId).digest('hex').slice(0, 32)}.json`);
  return {
    async load(sessionId) {
      try {
        return parseSessionState(await readFile(fileOf(sessionId), 'utf8'));
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return createSessionState();
        throw error;
      }
    },
    async save(sessionId, state) {
      await mkdir(directory, { recursive: true });
      const file = fileOf(sessionId);
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, serializeSessionState(state), { mode: 0o600 });
      await rename(temporary, file);
    },
    async delete(sessionId) {
      await rm(fileOf(sessionId), { force: true });
    },
    async prune(maxAgeMs) {
      let names: string[];
      try {
        names = await readdir(directory);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return 0;
        throw error;
      }
      const cutoff = Date.now() - maxAgeMs;
      let removed = 0;
      for (const name of names) {
        if (!name.startsWith('session-')) continue;
        const path = join(directory, name);
        const info = await stat(path).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed += 1;
        }
      }
      return removed;
    },
  };
}
