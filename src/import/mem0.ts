/**
 * `importFromMem0`: a way in from Mem0. Reads a Mem0 OSS store or a platform export (mem0-source.ts), validates
 * every row (mem0-memory.ts: what maps to what), and writes the memories with their history through
 * `Memory.importMemories`, which redacts secrets, re-embeds with this memory's embedder and writes ids, dates,
 * scope and history verbatim.
 *
 * Guarantees:
 * - Idempotent: a memory whose Mem0 id is already in the store, or has history there (deleted or erased since
 *   an earlier import), is skipped, so importing twice adds nothing the second time and never brings back a
 *   memory erased in mneme.
 * - Nothing is lost silently: every row that is not imported is in the report, with where it was and why
 *   (`bad`), and so are the memories Mem0 deleted (`deleted`: Mem0 keeps no user for them).
 * - `dryRun` reads and validates only; the store is not opened.
 */

import { ValidationError } from '../core/errors.js';
import type { ExportedMemory, Memory } from '../memory/memory.js';
import { type BadRow, type ConversionOptions, type Mem0Format, toExportedMemory } from './mem0-memory.js';
import { readMem0Source } from './mem0-source.js';

/** Options of {@link importFromMem0} and {@link planMem0Import}. */
export interface Mem0ImportOptions extends ConversionOptions {
  /** The Mem0 OSS history DB (`historyDbPath`, default `memory.db`); for a directory source, its `memory.db`. */
  history?: string;
  /** Read and count only; write nothing. @default false */
  dryRun?: boolean;
  /** Memories per write (each batch is embedded, then written in one transaction). @default 64 */
  batchSize?: number;
  /** Called after each batch is written. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** What an import read and did. */
export interface Mem0ImportReport {
  /** The source as read (a URL without its query string). */
  source: string;
  format: Mem0Format;
  /** The OSS history DB read, if any. */
  history?: string;
  dryRun: boolean;
  /** Distinct user ids among the importable memories. */
  users: number;
  agents: number;
  runs: number;
  /** Importable memories read. */
  memories: number;
  /** History events those memories carry into mneme. */
  historyEvents: number;
  /** Memories written now (0 on a dry run). */
  imported: number;
  /** Memories skipped because their id is already in the store (0 on a dry run). */
  alreadyPresent: number;
  /** Ids of memories deleted in Mem0: only their history is left there, with no user, so none is imported. */
  deleted: string[];
  /** Rows (memories or history rows) not imported, with where and why. */
  bad: BadRow[];
}

/** The validated memories of a source and the report of what reading found. */
export interface Mem0ImportPlan {
  items: ExportedMemory[];
  report: Mem0ImportReport;
}

const DEFAULT_BATCH = 64;

/** Reads and validates `source` (a path or URL, see mem0-source.ts) without writing anything. */
export async function planMem0Import(
  source: string,
  options: Mem0ImportOptions = {},
): Promise<Mem0ImportPlan> {
  const read = await readMem0Source(
    source,
    options.history !== undefined ? { history: options.history } : {},
  );
  const bad: BadRow[] = [];
  const items: ExportedMemory[] = [];
  const ids = new Set<string>();
  const conversion: ConversionOptions = options.appId !== undefined ? { appId: options.appId } : {};
  for (const row of read.read.rows) {
    if ('bad' in row) {
      bad.push(row.bad);
      continue;
    }
    const { memory } = row;
    try {
      const { item, badHistory } = toExportedMemory(memory, conversion);
      if (ids.has(item.record.id)) {
        bad.push({
          at: memory.at,
          reason: `id: ${item.record.id} appears twice in the source; the first is imported`,
        });
        continue;
      }
      ids.add(item.record.id);
      items.push(item);
      bad.push(...badHistory);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const id = typeof memory.id === 'string' && !memory.at.includes(memory.id) ? ` (id ${memory.id})` : '';
      bad.push({ at: `${memory.at}${id}`, reason: error.message });
    }
  }
  const distinct = (key: 'userId' | 'agentId' | 'runId'): number =>
    new Set(items.flatMap((item) => (item.record[key] === undefined ? [] : [item.record[key]]))).size;
  return {
    items,
    report: {
      source: read.name,
      format: read.format,
      ...(read.history !== undefined ? { history: read.history } : {}),
      dryRun: options.dryRun === true,
      users: distinct('userId'),
      agents: distinct('agentId'),
      runs: distinct('runId'),
      memories: items.length,
      historyEvents: items.reduce((sum, item) => sum + item.history.length, 0),
      imported: 0,
      alreadyPresent: 0,
      deleted: read.read.deleted,
      bad,
    },
  };
}

/**
 * Imports a Mem0 OSS store or platform export into `memory` (see the module comment for the guarantees).
 * @param source a path (vector store file, its directory, or an export file), or an http(s) / file URL.
 * @throws ValidationError (field `source` or `history`) when the source cannot be read at all.
 */
export async function importFromMem0(
  memory: Memory,
  source: string,
  options: Mem0ImportOptions = {},
): Promise<Mem0ImportReport> {
  const batch = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new ValidationError('batchSize', 'expected a positive integer');
  }
  const { items, report } = await planMem0Import(source, options);
  if (options.dryRun) return report;
  for (let start = 0; start < items.length; start += batch) {
    const slice = items.slice(start, start + batch);
    const fresh: ExportedMemory[] = [];
    for (const item of slice) {
      if ((await memory.history(item.record.id)).length > 0) report.alreadyPresent += 1;
      else fresh.push(item);
    }
    if (fresh.length > 0) {
      const result = await memory.importMemories(fresh);
      report.imported += result.imported;
      report.alreadyPresent += result.skipped;
    }
    options.onProgress?.({ done: Math.min(items.length, start + batch), total: items.length });
  }
  return report;
}
