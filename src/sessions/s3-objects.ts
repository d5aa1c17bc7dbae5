/**
 * The objects of one S3 transcript and how they are read back, without I/O: the names of parts and compacted
 * snapshots, the snapshot format, and the merge of both into the transcript's entries (`./s3.ts` does the
 * requests).
 *
 * Under a transcript's folder (`<session>/m/` or `<session>/s/<subpath>/`):
 * ```
 * <inverted ms timestamp>-<writer id>.jsonl                          a part: the lines of one append
 * compacted/<newest part's name without .jsonl>.<snapshot id>.jsonl  a snapshot: a copy of many parts
 * ```
 * A part's name is its *section name*. A snapshot holds whole sections, each under its part's name: a header line
 * `{"snapshot":1,"sections":[["<part name>",<line count>],...]}` and then the lines of each section in that order.
 *
 * Reading is a union by section name: every section of every snapshot, plus every part whose name no snapshot
 * holds, each name once, in part-name order reversed (oldest first: names begin with inverted timestamps). So the
 * entries and their order depend only on which parts were ever written, never on what was compacted, by whom or
 * when; a part also present in a snapshot (a crash left it behind) and two snapshots holding the same sections
 * (two compactions ran at once) are read once. `snapshot` sorts after every part name (digits), so one listing
 * of the folder returns the parts first and the snapshots last: what `./s3.ts` relies on to never miss a part that
 * a compaction moved into a snapshot while the listing ran.
 */
import { StoreError } from '../core/errors.js';
import { entryUuid } from './keys.js';
import type { SessionStoreEntry } from './types.js';

/** The sub-folder of a transcript's folder holding its snapshots. */
export const SNAPSHOT_FOLDER = 'compacted/';
/** Timestamps are inverted against this (13 digits, until the year 2286) so newer parts sort first. */
const MAX_TIMESTAMP = 9_999_999_999_999;
const PART_PATTERN = /^(\d{13})-([0-9a-f]{16})\.jsonl$/;
const SNAPSHOT_PATTERN = /^compacted\/(\d{13}-[0-9a-f]{16})\.([0-9a-f]{16})\.jsonl$/;

/** The name of a part written at `timestamp` (ms) by `writer` (16 hex digits). */
export function partName(timestamp: number, writer: string): string {
  return `${String(MAX_TIMESTAMP - timestamp).padStart(13, '0')}-${writer}.jsonl`;
}

/** True when `name` (relative to a transcript's folder) is a part. */
export function isPartName(name: string): boolean {
  return PART_PATTERN.test(name);
}

/** The name, relative to the transcript's folder, of a snapshot whose newest section is `newestSection`. */
export function snapshotName(newestSection: string, snapshotId: string): string {
  return `${SNAPSHOT_FOLDER}${newestSection.replace(/\.jsonl$/, '')}.${snapshotId}.jsonl`;
}

/** True when `name` (relative to a transcript's folder) is a snapshot. */
export function isSnapshotName(name: string): boolean {
  return SNAPSHOT_PATTERN.test(name);
}

/**
 * The write timestamp (ms) of a part, or of the newest section of a snapshot, from its name relative to the
 * transcript's folder; undefined for any other name.
 */
export function objectTimestamp(name: string): number | undefined {
  const digits = PART_PATTERN.exec(name)?.[1] ?? SNAPSHOT_PATTERN.exec(name)?.[1]?.slice(0, 13);
  return digits === undefined ? undefined : MAX_TIMESTAMP - Number(digits);
}

/** The lines of one append, from a part or from a snapshot. `source` names the object, for errors. */
export interface Section {
  lines: string[];
  source: string;
}

/** A transcript's sections by part name, as read so far. */
export type Sections = Map<string, Section>;

/** The non-empty lines of a part's body. */
export function bodyLines(body: string): string[] {
  return body.split('\n').filter((line) => line.length > 0);
}

/** A snapshot's body holding `sections` (each name once), oldest first. */
export function encodeSnapshot(sections: Sections): string {
  const names = [...sections.keys()].sort().reverse();
  const header = {
    snapshot: 1,
    sections: names.map((name) => [name, sections.get(name)?.lines.length ?? 0]),
  };
  const lines = [JSON.stringify(header)];
  for (const name of names) lines.push(...(sections.get(name)?.lines ?? []));
  return `${lines.join('\n')}\n`;
}

/**
 * Adds the sections of a snapshot's body to `into` (names already there are kept: sections never change).
 * @throws StoreError (`store_corrupt`) when the body is not a snapshot.
 */
export function addSnapshotSections(body: string, objectKey: string, into: Sections): void {
  const lines = bodyLines(body);
  const corrupt = (detail: string) =>
    new StoreError(`s3 session store: ${objectKey} is not a transcript snapshot: ${detail}`, {
      code: 'store_corrupt',
    });
  let header: unknown;
  try {
    header = JSON.parse(lines[0] ?? '');
  } catch (error) {
    throw corrupt(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const sections = (header as { sections?: unknown } | null)?.sections;
  if ((header as { snapshot?: unknown } | null)?.snapshot !== 1 || !Array.isArray(sections)) {
    throw corrupt('its header has no `snapshot: 1` and `sections` list');
  }
  let next = 1;
  for (const section of sections as unknown[]) {
    const [name, count] = Array.isArray(section) ? section : [];
    if (typeof name !== 'string' || !isPartName(name) || !Number.isInteger(count) || (count as number) < 0) {
      throw corrupt(`bad section ${JSON.stringify(section)}`);
    }
    const end = next + (count as number);
    if (end > lines.length) throw corrupt(`section ${name} runs past the end`);
    if (!into.has(name)) {
      into.set(name, { lines: lines.slice(next, end), source: `${objectKey} (section ${name})` });
    }
    next = end;
  }
  if (next !== lines.length) throw corrupt(`${lines.length - next} lines after the last section`);
}

/**
 * The transcript's entries: every section oldest first, each line parsed, and the first occurrence of each uuid
 * kept (a retried batch is a second part holding the same uuids).
 * @throws StoreError (`store_corrupt`) for a line that is not JSON.
 */
export function sectionEntries(sections: Sections): SessionStoreEntry[] {
  const seen = new Set<string>();
  const entries: SessionStoreEntry[] = [];
  for (const name of [...sections.keys()].sort().reverse()) {
    const section = sections.get(name);
    if (section === undefined) continue;
    for (const entry of parseLines(section.lines, section.source)) {
      const uuid = entryUuid(entry);
      if (uuid !== undefined) {
        if (seen.has(uuid)) continue;
        seen.add(uuid);
      }
      entries.push(entry);
    }
  }
  return entries;
}

/**
 * JSON lines as entries.
 * @throws StoreError (`store_corrupt`) naming `source` and the line for a line that is not JSON.
 */
export function parseLines(lines: string[], source: string): SessionStoreEntry[] {
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as SessionStoreEntry;
    } catch (error) {
      throw new StoreError(`s3 session store: ${source} line ${index + 1} is not valid JSON`, {
        cause: error,
        code: 'store_corrupt',
      });
    }
  });
}
