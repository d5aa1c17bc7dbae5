/**
 * Finds out what a Mem0 source names and reads it: an `http(s)://` URL serving a platform export, a `file://`
 * URL or a path to a platform export (JSON / JSON Lines), a Mem0 OSS vector store file (SQLite with a
 * `vectors` table), or a directory holding `vector_store.db` (and `memory.db`, its history, when present).
 * Nothing is written anywhere: SQLite files are opened read-only.
 */

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MnemeError, ValidationError } from '../core/errors.js';
import { parseMem0Export } from './mem0-export.js';
import type { Mem0Format, Mem0Read } from './mem0-memory.js';
import { mem0FileKind, readMem0Oss } from './mem0-oss.js';

const SQLITE_MAGIC = 'SQLite format 3\0';
const SOURCE_HINT =
  'give a Mem0 OSS vector store (vector_store.db, default ~/.mem0/vector_store.db), its directory, or a Mem0 ' +
  'platform export (a JSON file or an http(s):// URL)';

/** A read source: its format, how reports name it, and what it holds. */
export interface Mem0Source {
  format: Mem0Format;
  /** The source as reports show it (a URL without its query string). */
  name: string;
  /** The history DB read with an OSS store, if any. */
  history?: string;
  read: Mem0Read;
}

/**
 * Reads `source`. `history` is the OSS history DB (`memory.db`); for a directory it defaults to the
 * `memory.db` inside it.
 * @throws ValidationError (field `source` or `history`) naming what is wrong and what to give instead.
 */
export async function readMem0Source(
  source: string,
  options: { history?: string } = {},
): Promise<Mem0Source> {
  if (typeof source !== 'string' || source.trim().length === 0) {
    throw new ValidationError('source', `is empty; ${SOURCE_HINT}`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    rejectHistory(options.history);
    const { name, text } = await fetchExport(source);
    return { format: 'platform-export', name, read: parseMem0Export(text, name) };
  }
  if (scheme !== undefined && scheme !== 'file') {
    throw new ValidationError('source', `unsupported URL scheme "${scheme}:"; ${SOURCE_HINT}`);
  }
  const path = scheme === 'file' ? fileURLToPath(source) : source;
  if (!existsSync(path))
    throw new ValidationError('source', `${path}: no such file or directory; ${SOURCE_HINT}`);
  if (statSync(path).isDirectory()) return readDirectory(path, options.history);
  if (isSqlite(path)) return readStoreFile(path, options.history);
  rejectHistory(options.history);
  const text = await readFile(path, 'utf8');
  return { format: 'platform-export', name: path, read: parseMem0Export(text, path) };
}

function readDirectory(directory: string, history: string | undefined): Mem0Source {
  const vectorStore = join(directory, 'vector_store.db');
  if (!existsSync(vectorStore)) {
    throw new ValidationError(
      'source',
      `${directory} holds no vector_store.db; give the Mem0 vector store file itself (vectorStore.config.dbPath)`,
    );
  }
  const defaultHistory = join(directory, 'memory.db');
  return readStoreFile(vectorStore, history ?? (existsSync(defaultHistory) ? defaultHistory : undefined));
}

function readStoreFile(path: string, history: string | undefined): Mem0Source {
  const kind = mem0FileKind(path);
  if (kind === 'history') {
    throw new ValidationError(
      'source',
      `${path} is Mem0's history DB (memory_history); give the vector store (vector_store.db, default ` +
        `~/.mem0/vector_store.db) as the source and this file as --history`,
    );
  }
  if (kind === undefined) {
    throw new ValidationError(
      'source',
      `${path} is a SQLite file but not a Mem0 store (no vectors table); ${SOURCE_HINT}`,
    );
  }
  if (history !== undefined) checkHistory(history);
  return {
    format: 'oss',
    name: path,
    ...(history !== undefined ? { history } : {}),
    read: readMem0Oss({ vectorStore: path, ...(history !== undefined ? { history } : {}) }),
  };
}

function checkHistory(history: string): void {
  if (!existsSync(history) || statSync(history).isDirectory() || !isSqlite(history)) {
    throw new ValidationError(
      'history',
      `${history} is not a SQLite file; give Mem0's history DB (historyDbPath, default memory.db in the ` +
        'directory the Mem0 app ran in)',
    );
  }
  if (mem0FileKind(history) !== 'history') {
    throw new ValidationError(
      'history',
      `${history} has no memory_history table; give Mem0's history DB (memory.db)`,
    );
  }
}

function rejectHistory(history: string | undefined): void {
  if (history !== undefined) {
    throw new ValidationError(
      'history',
      'applies to a Mem0 OSS store only (its memory.db); a platform export has no history file: drop it',
    );
  }
}

function isSqlite(path: string): boolean {
  const descriptor = openSync(path, 'r');
  try {
    const header = Buffer.alloc(SQLITE_MAGIC.length);
    const read = readSync(descriptor, header, 0, header.length, 0);
    return read === header.length && header.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(descriptor);
  }
}

/** GETs an export; the name kept for reports drops the query string and credentials (signed links). */
async function fetchExport(url: string): Promise<{ name: string; text: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('source', `"${url}" is not a valid URL; ${SOURCE_HINT}`);
  }
  const name = `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  let response: Response;
  try {
    response = await fetch(parsed, { headers: { accept: 'application/json, application/x-ndjson, */*' } });
  } catch (error) {
    throw new MnemeError(
      `GET ${name} failed (${describeCause(error)}); check the URL and that the server is reachable`,
      {
        code: 'source_unreachable',
        cause: error,
      },
    );
  }
  if (!response.ok) {
    throw new ValidationError(
      'source',
      `GET ${name} answered ${response.status} ${response.statusText}; give the URL of a Mem0 platform export ` +
        '(JSON), e.g. a download link that needs no other credentials',
    );
  }
  return { name, text: await response.text() };
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
