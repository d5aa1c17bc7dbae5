/**
 * File SessionStore: JSONL transcripts in a directory tree, for one machine (several processes may share it).
 *
 * Layout under `root` (every name made by `encodeKeyPart`, so no key can escape `root` or collide):
 * ```
 * <project>/<session>/main.jsonl          main transcript, one entry per line
 * <project>/<session>/summary.json        { mtime, data } folded by append
 * <project>/<session>/sub/<subpath>.jsonl subpath transcripts (subagents)
 * <project>/<session>/id.json             the raw sessionId, only when its name had to be shortened
 * <project>/<session>/sub/<subpath>.id.json  the raw subpath, likewise
 * <project>/<session>/.lock               the session's cross-process lock while held
 * .tmp/  .trash/                          staging for atomic renames and deletes
 * ```
 * Writes: an append takes the session's lock (a file created with O_EXCL naming its owner; a lock whose owner
 * process is gone, or older than a minute, is broken), repairs a torn last line left by a crash (a line without its
 * newline is truncated away), skips known uuids, writes all new lines with one `write` on an `O_APPEND`
 * descriptor, fsyncs by policy, stamps the file's mtime and replaces `summary.json` atomically (write to
 * `.tmp`, fsync by policy, rename). Loads never return a torn line. Deletes rename the session directory into
 * `.trash` (atomic) and then remove it.
 *
 * fsync policy (`fsync`, URL `?fsync=`): `'always'` (default) fsyncs the transcript before `append` resolves,
 * the directory of a newly created transcript, and each summary before its rename; `'never'` leaves flushing
 * to the OS (a process crash loses nothing, a power loss may lose the last appends).
 */
import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { StoreError } from '../core/errors.js';
import type { AppendBatch } from './append.js';
import { type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { KeyedMutex, LruMap, mapLimit, sleep } from './internal.js';
import { addUuids, decodeKeyPart, encodeKeyPart, newEntryIndexes } from './keys.js';
import { nextMtime, type StoredSummary } from './summaries.js';
import type { SessionKey, SessionStoreEntry, SessionSummaryEntry } from './types.js';
import { type FsyncPolicy, requireOption } from './urls.js';

/** Options of {@link FileSessionStore}. */
export interface FileSessionStoreOptions {
  /** Directory holding the store; created on first write. URL: `file:///var/lib/app/sessions`. */
  root: string;
  /** Durability policy. URL `?fsync=always|never`. @default 'always' */
  fsync?: FsyncPolicy;
  /** How long an append or delete waits for another process's lock before a retryable StoreError. @default 10000 */
  lockTimeoutMs?: number;
}

/** A lock older than this is broken even if its owner seems alive (locks are held for milliseconds). */
const STALE_LOCK_MS = 60_000;
/** An ownerless lock (creator killed between creating and writing it) is stale after this long. */
const OWNERLESS_LOCK_MS = 2_000;
/** Transcripts whose uuids this process keeps in memory. */
const TRANSCRIPT_CACHE_SIZE = 256;
const MAIN_FILE = 'main.jsonl';
const SUMMARY_FILE = 'summary.json';
const ID_FILE = 'id.json';
const SUB_DIR = 'sub';
const LOCK_FILE = '.lock';

interface TranscriptPaths {
  sessionDir: string;
  transcript: string;
  /** Where the raw sessionId / subpath is kept when a name was shortened. */
  sidecars: Array<{ path: string; value: Record<string, string> }>;
}

/** What this process knows about a transcript file, to skip known uuids without rereading the file. */
interface TranscriptState {
  ino: number;
  birthtimeMs: number;
  size: number;
  uuids: Set<string>;
  /** Main transcripts: the summary this process last wrote, valid while no other process appended since. */
  summary?: StoredSummary | undefined;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  at: number;
}

/** The file-backed SessionStore. Create it with `createSessionStore('file:///path')` or directly. */
export class FileSessionStore extends SessionStoreFrame<'file'> {
  readonly root: string;
  readonly #fsync: FsyncPolicy;
  readonly #lockTimeoutMs: number;
  readonly #mutex = new KeyedMutex();
  /** Per transcript file: what this process knows of it (bounded; a miss means one rescan). */
  readonly #states = new LruMap<string, TranscriptState>(TRANSCRIPT_CACHE_SIZE);

  constructor(options: FileSessionStoreOptions) {
    super('file', { multiProcess: true });
    this.root = resolve(
      requireOption(
        options.root,
        'root',
        'the file session store needs a directory (file:///path/to/sessions)',
      ),
    );
    this.#fsync = options.fsync ?? 'always';
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const paths = this.#paths(key);
    await this.#mutex.run(paths.sessionDir, () =>
      this.#withLock(paths.sessionDir, true, async () => {
        for (const sidecar of paths.sidecars) await this.#writeOnce(sidecar.path, sidecar.value);
        const handle = await openCreatingParent(paths.transcript, 'a+');
        try {
          const { state, previousMtime, created } = await this.#syncState(paths.transcript, handle);
          const indexes = newEntryIndexes(entries, (uuid) => state.uuids.has(uuid));
          if (indexes.length === 0) return;
          const added = indexes.map((index) => entries[index] as SessionStoreEntry);
          const buffer = Buffer.from(`${indexes.map((index) => lines[index]).join('\n')}\n`, 'utf8');
          await writeAll(handle, buffer);
          if (this.#fsync === 'always') {
            await handle.sync();
            if (created) await syncDirectory(dirname(paths.transcript));
          }
          state.size += buffer.length;
          addUuids(state.uuids, added);
          if (fold === undefined) return;
          const mtime = nextMtime(Date.now(), previousMtime);
          // +0.5 ms: utimes keeps microseconds and its float conversion can land just below the intended
          // millisecond; the half millisecond makes Math.floor(stat.mtimeMs) read back exactly `mtime`.
          const stamp = (mtime + 0.5) / 1000;
          await handle.utimes(stamp, stamp);
          const summaryPath = join(paths.sessionDir, SUMMARY_FILE);
          const previous = state.summary ?? (await this.#readSummary(summaryPath));
          const summary = fold(previous, key, added, mtime);
          state.summary = undefined;
          await this.#writeAtomic(summaryPath, JSON.stringify({ mtime: summary.mtime, data: summary.data }));
          state.summary = { mtime: summary.mtime, data: summary.data };
        } finally {
          await handle.close();
        }
      }),
    );
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const { transcript } = this.#paths(key);
    const text = await readTextOrUndefined(transcript);
    if (text === undefined) return null;
    const entries = parseJsonl(text, transcript);
    return entries.length === 0 ? null : entries;
  }

  protected override async readSessions(projectKey: string): Promise<SessionMtime[]> {
    const sessions = await this.#sessionDirs(projectKey);
    const listed = await mapLimit(sessions, 16, async (directory) => {
      const info = await statOrUndefined(join(directory.path, MAIN_FILE));
      if (info === undefined || info.size === 0) return undefined;
      const sessionId = await this.#decodeName(directory.name, join(directory.path, ID_FILE), 'sessionId');
      return { sessionId, mtime: Math.floor(info.mtimeMs) };
    });
    return listed.filter((session) => session !== undefined);
  }

  protected override async readSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const sessions = await this.#sessionDirs(projectKey);
    const listed = await mapLimit(sessions, 16, async (directory) => {
      const summary = await this.#readSummary(join(directory.path, SUMMARY_FILE));
      if (summary === undefined) return undefined;
      const info = await statOrUndefined(join(directory.path, MAIN_FILE));
      if (info === undefined || info.size === 0) return undefined;
      const sessionId = await this.#decodeName(directory.name, join(directory.path, ID_FILE), 'sessionId');
      return { sessionId, mtime: summary.mtime, data: summary.data };
    });
    return listed.filter((summary) => summary !== undefined);
  }

  protected override async removeEntries(key: SessionKey): Promise<void> {
    const paths = this.#paths(key);
    await this.#mutex.run(paths.sessionDir, () =>
      this.#withLock(paths.sessionDir, false, async () => {
        if (key.subpath === undefined) {
          const trash = join(this.root, '.trash', randomUUID());
          await mkdir(dirname(trash), { recursive: true });
          await rename(paths.sessionDir, trash);
          this.#forgetUnder(paths.sessionDir);
          await rm(trash, { recursive: true, force: true });
        } else {
          await rm(paths.transcript, { force: true });
          for (const sidecar of paths.sidecars) {
            if (sidecar.path !== join(paths.sessionDir, ID_FILE)) await rm(sidecar.path, { force: true });
          }
          this.#states.delete(paths.transcript);
        }
      }),
    );
  }

  protected override async readSubpaths(session: SessionOfProject): Promise<string[]> {
    const subDir = join(this.#paths(session).sessionDir, SUB_DIR);
    let names: string[];
    try {
      names = await readdir(subDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
    const transcripts = names.filter((name) => name.endsWith('.jsonl')).map((name) => name.slice(0, -6));
    return await mapLimit(transcripts, 16, (name) =>
      this.#decodeName(name, join(subDir, `${name}.id.json`), 'subpath'),
    );
  }

  protected override async releaseEngine(): Promise<void> {
    this.#states.clear();
  }

  #paths(key: SessionKey): TranscriptPaths {
    const project = encodeKeyPart(key.projectKey);
    const session = encodeKeyPart(key.sessionId);
    const sessionDir = join(this.root, project.name, session.name);
    const sidecars: TranscriptPaths['sidecars'] = [];
    if (session.shortened)
      sidecars.push({ path: join(sessionDir, ID_FILE), value: { sessionId: key.sessionId } });
    if (key.subpath === undefined) return { sessionDir, transcript: join(sessionDir, MAIN_FILE), sidecars };
    const sub = encodeKeyPart(key.subpath);
    if (sub.shortened) {
      sidecars.push({
        path: join(sessionDir, SUB_DIR, `${sub.name}.id.json`),
        value: { subpath: key.subpath },
      });
    }
    return { sessionDir, transcript: join(sessionDir, SUB_DIR, `${sub.name}.jsonl`), sidecars };
  }

  async #sessionDirs(projectKey: string): Promise<Array<{ name: string; path: string }>> {
    const projectDir = join(this.root, encodeKeyPart(projectKey).name);
    try {
      const entries = await readdir(projectDir, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => ({ name: entry.name, path: join(projectDir, entry.name) }));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
  }

  /** The raw key part behind a directory or file name: decoded, or read from its sidecar when shortened. */
  async #decodeName(name: string, sidecarPath: string, field: 'sessionId' | 'subpath'): Promise<string> {
    const decoded = decodeKeyPart(name);
    if (decoded !== undefined) return decoded;
    const value: unknown = JSON.parse(await readFile(sidecarPath, 'utf8'));
    const raw = (value as Record<string, unknown> | null)?.[field];
    if (typeof raw !== 'string') throw new Error(`${sidecarPath} does not hold a ${field}`);
    return raw;
  }

  /**
   * Brings this process's view of a transcript up to date under the lock: a full scan when the file is new to
   * us or was replaced, else a scan of what other processes appended. Truncates a torn last line (no newline).
   */
  async #syncState(
    path: string,
    handle: FileHandle,
  ): Promise<{ state: TranscriptState; previousMtime: number | undefined; created: boolean }> {
    const info = await handle.stat();
    let state = this.#states.get(path);
    const replaced =
      state === undefined ||
      state.ino !== info.ino ||
      state.birthtimeMs !== info.birthtimeMs ||
      info.size < state.size;
    if (state === undefined || replaced) {
      state = { ino: info.ino, birthtimeMs: info.birthtimeMs, size: 0, uuids: new Set() };
      this.#states.set(path, state);
    }
    if (info.size > state.size) {
      // Another process appended (or this is the first look): its summary on disk is newer than ours.
      state.summary = undefined;
      const length = info.size - state.size;
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const result = await handle.read(buffer, read, length - read, state.size + read);
        if (result.bytesRead === 0) break;
        read += result.bytesRead;
      }
      const complete = buffer.lastIndexOf(0x0a, read - 1) + 1;
      if (complete < info.size - state.size) {
        // A crash tore the last line: it was never acknowledged, so drop it before appending after it.
        await handle.truncate(state.size + complete);
      }
      const text = buffer.subarray(0, complete).toString('utf8');
      addUuids(state.uuids, parseJsonl(text, path));
      state.size += complete;
    }
    const previousMtime = state.size > 0 ? Math.floor(info.mtimeMs) : undefined;
    return { state, previousMtime, created: info.size === 0 };
  }

  async #readSummary(path: string): Promise<StoredSummary | undefined> {
    const text = await readTextOrUndefined(path);
    if (text === undefined) return undefined;
    const value = JSON.parse(text) as { mtime?: unknown; data?: unknown };
    if (typeof value.mtime !== 'number' || typeof value.data !== 'object' || value.data === null) {
      throw new Error(`${path} is not a session summary`);
    }
    return { mtime: value.mtime, data: value.data as Record<string, unknown> };
  }

  /** Replaces `path` atomically: a reader sees the old or the new content, never a torn file. */
  async #writeAtomic(path: string, content: string): Promise<void> {
    const temporary = join(this.root, '.tmp', `${randomUUID()}.tmp`);
    const handle = await openCreatingParent(temporary, 'w');
    try {
      await handle.write(content, null, 'utf8');
      if (this.#fsync === 'always') await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }

  async #writeOnce(path: string, value: Record<string, string>): Promise<void> {
    if ((await statOrUndefined(path)) !== undefined) return;
    await mkdir(dirname(path), { recursive: true });
    await this.#writeAtomic(path, JSON.stringify(value));
  }

  #forgetUnder(directory: string): void {
    this.#states.deleteWhere((path) => path.startsWith(directory + sep));
  }

  /**
   * Runs `work` holding the session's cross-process lock: `<session>/.lock`, created with O_EXCL and holding
   * its owner (pid, host, token, time). With `create` false and no session directory, `work` is skipped
   * (nothing to delete).
   */
  async #withLock(sessionDir: string, create: boolean, work: () => Promise<void>): Promise<void> {
    const lockPath = join(sessionDir, LOCK_FILE);
    const deadline = Date.now() + this.#lockTimeoutMs;
    let delay = 1;
    let handle: FileHandle | undefined;
    while (handle === undefined) {
      try {
        handle = await open(lockPath, 'wx');
        break;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') {
          if (!create) return;
          await mkdir(sessionDir, { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') throw error;
      }
      if (await this.#breakIfStale(lockPath)) continue;
      if (Date.now() > deadline) {
        const holder = await readOwner(lockPath);
        throw new StoreError(
          `file session store: timed out after ${this.#lockTimeoutMs} ms waiting for the lock ${lockPath}` +
            (holder ? ` held by pid ${holder.pid} on ${holder.host}` : '') +
            '. Another process is writing this session; retry, or raise the `lockTimeoutMs` option.',
          { retryable: true, code: 'store_locked' },
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 25);
    }
    let lockIno: number;
    try {
      const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomUUID(), at: Date.now() };
      await handle.write(JSON.stringify(owner), null, 'utf8');
      lockIno = (await handle.stat()).ino;
    } catch (error) {
      await handle.close();
      await rm(lockPath, { force: true });
      throw error;
    }
    try {
      await work();
    } finally {
      try {
        // Only remove the lock if it is still ours (not gone with a deleted session, not broken and retaken).
        // The open handle keeps our inode number from being reused meanwhile.
        const current = await statOrUndefined(lockPath);
        if (current?.ino === lockIno) await rm(lockPath, { force: true });
      } finally {
        await handle.close();
      }
    }
  }

  /** Breaks the lock when its owner is a dead process on this host, it is older than a minute, or it has had no owner for 2 s. */
  async #breakIfStale(lockPath: string): Promise<boolean> {
    const holder = await readOwner(lockPath);
    if (holder === undefined) {
      // Released meanwhile (retry now), or not yet written by its creator: judge by its age.
      const info = await statOrUndefined(lockPath);
      if (info === undefined) return true;
      // The owner is written right after the lock file is created: an ownerless lock older than a moment
      // belongs to a process killed between the two steps.
      if (Date.now() - info.mtimeMs < OWNERLESS_LOCK_MS) return false;
    } else {
      const dead = holder.host === hostname() && !isProcessAlive(holder.pid);
      if (!dead && Date.now() - holder.at < STALE_LOCK_MS) return false;
    }
    // One breaker at a time, and only if the lock is still the stale one we inspected.
    const breaker = `${lockPath}.break`;
    try {
      await mkdir(breaker);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      const info = await statOrUndefined(breaker);
      if (info !== undefined && Date.now() - info.mtimeMs > 10_000)
        await rm(breaker, { recursive: true, force: true });
      return false;
    }
    try {
      const again = await readOwner(lockPath);
      if (again?.token !== holder?.token) return true;
      const away = join(this.root, '.tmp', `stale-${randomUUID()}`);
      await mkdir(dirname(away), { recursive: true });
      await rename(lockPath, away);
      await rm(away, { force: true });
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return true;
      throw error;
    } finally {
      await rm(breaker, { recursive: true, force: true });
    }
  }
}

/** Parses JSONL, ignoring a torn last line (no trailing newline); a corrupt complete line is an error. */
function parseJsonl(text: string, path: string): SessionStoreEntry[] {
  const end = text.lastIndexOf('\n');
  if (end === -1) return [];
  const lines = text.slice(0, end).split('\n');
  const entries: SessionStoreEntry[] = [];
  lines.forEach((line, index) => {
    if (line.length === 0) return;
    try {
      entries.push(JSON.parse(line) as SessionStoreEntry);
    } catch (error) {
      throw new StoreError(
        `file session store: ${path} line ${index + 1} is not valid JSON; the file was modified outside mneme`,
        { cause: error, code: 'store_corrupt' },
      );
    }
  });
  return entries;
}

/** The content of the file at `path`, or undefined when it does not exist. */
async function readTextOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Opens `path`, creating its parent directory first if it is missing. */
async function openCreatingParent(path: string, flags: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    return await open(path, flags);
  }
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const result = await handle.write(buffer, written, buffer.length - written);
    written += result.bytesWritten;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const value = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || typeof value.token !== 'string' || typeof value.at !== 'number') {
      return undefined;
    }
    return { pid: value.pid, host: String(value.host), token: value.token, at: value.at };
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
