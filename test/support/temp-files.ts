/**
 * Temporary database paths for a test file: `tempPath()` gives `<new directory>/<name>`, and `removeAll()`
 * (call it from the file's `after` hook) deletes every directory handed out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempPaths(prefix: string, name = 'mneme.db'): { tempPath(): string; removeAll(): void } {
  const directories: string[] = [];
  return {
    tempPath() {
      const directory = mkdtempSync(join(tmpdir(), prefix));
      directories.push(directory);
      return join(directory, name);
    },
    removeAll() {
      for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
    },
  };
}
