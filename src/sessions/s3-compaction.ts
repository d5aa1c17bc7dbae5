/**
 * Compaction of one S3 transcript (`./s3.ts` decides when): its parts copied into one snapshot object
 * (`./s3-objects.ts`), then deleted, with no conditional writes (many S3-compatible servers have no If-None-Match /
 * If-Match). The steps:
 * 1. list the transcript's folder; stop if it holds fewer than `minParts` parts;
 * 2. read it as a load does (`S3Bucket.readTranscript`: every snapshot, every part no snapshot holds);
 * 3. write a new snapshot holding all of those sections, under a fresh name;
 * 4. list again: if nothing it read is left and no other snapshot exists, the transcript was deleted meanwhile,
 *    so it removes its own snapshot instead (a compaction never brings deleted entries back);
 * 5. delete the snapshots it read (the new one holds all of their sections), then the parts it copied that are
 *    older than the horizon the caller gives: a main transcript keeps every part at or newer than its summary's
 *    watermark (the next append's fold reads them), a subpath transcript its newest part. So the newest part is
 *    never deleted, and the first key of a folder still gives the transcript's mtime.
 *
 * Why nothing is lost or duplicated: readers take the union of snapshots and parts by part name, so every state
 * between two steps loads every entry exactly once, and a crash or failed request anywhere only leaves objects
 * that the next compaction deletes. A part is deleted only after a snapshot holding it was written; a snapshot
 * only by a compaction that read it before writing its superset, so two compactions never delete each other's
 * snapshots. An append that lands meanwhile is a part the new snapshot does not hold, read on its own.
 */
import { randomBytes } from 'node:crypto';
import type { S3Bucket, TranscriptListing } from './s3-bucket.js';
import { encodeSnapshot, snapshotName } from './s3-objects.js';

/** What {@link compactTranscript} needs to know about the transcript. */
export interface CompactionPlan {
  /** The transcript's folder (`<session>/m/` or `<session>/s/<subpath>/`). */
  root: string;
  /** Compact only a transcript holding at least this many parts. */
  minParts: number;
  /**
   * The key of the oldest part to keep (it and every newer part stay), given what was read; undefined to leave
   * the transcript alone (a main transcript without a summary yet).
   */
  horizon: (listing: TranscriptListing) => Promise<string | undefined>;
}

/**
 * Compacts one transcript (the steps are in the module comment). Other instances and processes may append,
 * load, compact or delete meanwhile. Returns how many parts the transcript holds afterwards.
 */
export async function compactTranscript(bucket: S3Bucket, plan: CompactionPlan): Promise<number> {
  const { root } = plan;
  const count = (await bucket.listTranscript(root)).parts.length;
  if (count < plan.minParts) return count;
  const { listing, sections } = await bucket.readTranscript(root);
  const newest = [...sections.keys()].sort()[0];
  const horizon = await plan.horizon(listing);
  if (newest === undefined || horizon === undefined) return listing.parts.length;
  const snapshotKey = root + snapshotName(newest, randomBytes(8).toString('hex'));
  await bucket.put(snapshotKey, encodeSnapshot(sections), 'application/x-ndjson');
  const read = new Set([...listing.parts, ...listing.snapshots]);
  const after = await bucket.listTranscript(root);
  const survived =
    after.parts.some((part) => read.has(part)) ||
    after.snapshots.some((snapshot) => snapshot !== snapshotKey);
  if (!survived) {
    // Everything it copied is gone and no other snapshot holds it: the transcript was deleted meanwhile.
    await bucket.deleteAll([snapshotKey]);
    return 0;
  }
  await bucket.deleteAll(listing.snapshots);
  const copied = listing.parts.filter((part) => part > horizon);
  await bucket.deleteAll(copied);
  return listing.parts.length - copied.length;
}
