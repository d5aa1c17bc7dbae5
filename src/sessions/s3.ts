/**
 * S3 SessionStore (`@aws-sdk/client-s3`), for any S3-compatible service. S3 objects cannot be appended to, so
 * every append writes one new immutable object (a "part"), and compaction copies many parts into one snapshot
 * so that `load` reads a few objects instead of one per append. Names and the snapshot format: `./s3-objects.ts`.
 *
 * Layout under `s3://bucket/prefix/` (every name made by `encodeKeyPart`, so keys never collide):
 * ```
 * <project>/<session>/m/<part>.jsonl                 main transcript parts
 * <project>/<session>/m/compacted/<snapshot>.jsonl   main transcript snapshots
 * <project>/<session>/summary.json                   { watermark, mtime, data }
 * <project>/<session>/s/<subpath>/<part>.jsonl       subpath transcript parts (and compacted/ snapshots)
 * <project>/<session>/id, .../s/<subpath>/id         the raw sessionId / subpath, only when a name was shortened
 * ```
 * A part is named `<inverted ms timestamp>-<writer id>.jsonl`: S3 lists keys in ascending order, so the newest
 * part comes first (one small list finds a session's mtime) and each writer's parts keep their order (its
 * timestamps strictly increase). Appends from many processes never overwrite each other.
 *
 * Idempotency: `load` keeps the first occurrence of each uuid (a retried batch becomes a second part) and
 * each process skips uuids it has already written. Summaries: after writing its part, an append folds every
 * part newer than the summary's `watermark` (normally just its own) and writes the summary back; a summary
 * overwritten by a slower concurrent writer only lags (its mtime is then below `listSessions`' mtime, which the
 * SDK treats as stale) and the next append catches it up. The mtime is the newest part's timestamp.
 *
 * Compaction, without conditional writes (many S3-compatible servers lack If-None-Match / If-Match): once a
 * transcript holds `compactAfter` parts, the append that notices it (after writing and folding its own part)
 * 1. lists the transcript's folder (parts first, then snapshots: one listing), reads every snapshot and every
 *    part no snapshot holds (the load path, `#readTranscript`);
 * 2. writes a new snapshot holding all of those sections, under a fresh name;
 * 3. lists again and, if nothing it read is left and no other snapshot exists, concludes that the transcript was
 *    deleted meanwhile and removes its snapshot instead (a compaction never brings deleted entries back);
 * 4. deletes the snapshots it read (the new one holds all of their sections), then the parts it copied, except
 *    the newest ones: a main transcript keeps every part at or newer than the summary's watermark (the fold still
 *    reads them), a subpath transcript its newest part. The newest part is never deleted, so the first key listed
 *    still gives the session's mtime.
 * Every step leaves a state that loads every entry exactly once (readers take the union of snapshots and parts by
 * part name), so a crash or a failed request anywhere only leaves objects that the next compaction deletes. A
 * snapshot is deleted only by a compaction that read it before writing its superset, so two compactions can
 * never delete each other's snapshots; a part only after a snapshot holding it exists. A reader that finds an
 * object gone between its listing and its GET (a compaction moved it) lists again. A failed compaction does not
 * fail the append (its entries are already durable): it is logged as a warning and retried `compactAfter`
 * appends later.
 *
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles,
 * instance roles). A custom `endpoint` implies path-style addressing. `delete` removes every object of the key.
 */
import { randomBytes } from 'node:crypto';
import type { ListObjectsV2CommandOutput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfigError, StoreError, ValidationError } from '../core/errors.js';
import { createConsoleLogger, describeError, type Logger } from '../core/logger.js';
import type { AppendBatch } from './append.js';
import { LazyConnection } from './connection.js';
import { isTransient, type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { importOptional, KeyedMutex, LruMap, mapLimit, sleep } from './internal.js';
import { addUuids, decodeKeyPart, encodeKeyPart, newEntryIndexes } from './keys.js';
import {
  addSnapshotSections,
  bodyLines,
  encodeSnapshot,
  isPartName,
  isSnapshotName,
  objectTimestamp,
  parseLines,
  partName,
  type Sections,
  sectionEntries,
  snapshotName,
} from './s3-objects.js';
import { nextMtime, type StoredSummary, type SummaryFolder } from './summaries.js';
import type { SessionKey, SessionStoreEntry, SessionSummaryEntry } from './types.js';
import { requireOption } from './urls.js';

/** Options of {@link S3SessionStore}. */
export interface S3SessionStoreOptions {
  bucket: string;
  /**
   * Key prefix inside the bucket. Normalised to its non-empty `/`-separated segments plus one trailing `/`
   * (`/sess//x/` and `sess/x` are the same prefix); `.` and `..` segments are refused. @default ''
   */
  prefix?: string;
  /** Custom endpoint (MinIO, R2, a local server). URL `?endpoint=`. Implies path-style addressing. */
  endpoint?: string;
  /** AWS region. URL `?region=`. @default the AWS SDK's chain (AWS_REGION), else 'us-east-1' */
  region?: string;
  /** Path-style addressing. @default true when `endpoint` is set */
  forcePathStyle?: boolean;
  /** Parallel requests when loading, listing and deleting. @default 16 */
  concurrency?: number;
  /**
   * Compact a transcript (copy its parts into one snapshot object, then delete them) once it holds this many
   * parts, so that a load reads at most about this many objects. This instance checks after every
   * `compactAfter` of its own appends to a transcript, and at its first append after a load that found that
   * many; `0` disables compaction (loads then read one object per append). URL `?compactAfter=`. @default 64
   */
  compactAfter?: number;
  /** Where a failed compaction is reported (it never fails the append). @default JSON lines on stderr at `warn` */
  logger?: Logger;
  /**
   * An S3 client of your own (your credentials provider, retry strategy, middleware). The store sends every
   * request through it and never destroys it: that stays yours. Cannot be combined with `endpoint`, `region`
   * or `forcePathStyle`, which belong to the client. @default a client made from the other options
   */
  client?: S3Client;
}

/** The default of {@link S3SessionStoreOptions.compactAfter}. */
export const DEFAULT_COMPACT_AFTER = 64;

type S3Module = typeof import('@aws-sdk/client-s3');

/** Transcripts (and summaries) whose state this process keeps in memory. */
const CACHE_SIZE = 256;
/** Listings a load makes before giving up on a transcript that compactions keep changing under it. */
const READ_ATTEMPTS = 5;

/** A transcript folder's objects, as one listing returned them (S3 order: newest part first). */
interface TranscriptListing {
  parts: string[];
  snapshots: string[];
}

/** `summary.json`: the summary and the newest part folded into it (its name). */
interface WatermarkedSummary extends StoredSummary {
  watermark: string;
}

/** The S3-backed SessionStore. Create it with `createSessionStore('s3://bucket/prefix?region=...')` or directly. */
export class S3SessionStore extends SessionStoreFrame<'s3'> {
  readonly bucket: string;
  readonly prefix: string;
  readonly #config: S3ClientConfig;
  readonly #concurrency: number;
  readonly #writer = randomBytes(8).toString('hex');
  readonly #mutex = new KeyedMutex();
  /** Uuids this process wrote per transcript, to skip SDK retries without a read (bounded; load dedups too). */
  readonly #written = new LruMap<string, Set<string>>(CACHE_SIZE);
  /** The summary this instance last wrote, per summary key: saves rereading it when no one else wrote. */
  readonly #summaries = new LruMap<string, WatermarkedSummary>(CACHE_SIZE);
  /** Parts this instance appended (or a load found) per transcript since it last compacted or checked. */
  readonly #partCounts = new LruMap<string, number>(CACHE_SIZE);
  readonly #compactAfter: number;
  readonly #logger: Logger;
  #lastTimestamp: number | undefined;
  readonly #client: LazyConnection<{ s3: S3Client; module: S3Module }>;

  constructor(options: S3SessionStoreOptions) {
    super('s3', { multiProcess: true });
    this.bucket = requireOption(
      options.bucket,
      'bucket',
      'the S3 session store needs a bucket (s3://bucket/prefix)',
    );
    this.prefix = normalizePrefix(options.prefix ?? '');
    this.#concurrency = options.concurrency ?? 16;
    this.#compactAfter = options.compactAfter ?? DEFAULT_COMPACT_AFTER;
    if (!Number.isSafeInteger(this.#compactAfter) || this.#compactAfter < 0) {
      throw new ValidationError(
        'compactAfter',
        `must be a whole number of parts (0 disables compaction), got ${String(options.compactAfter)}`,
      );
    }
    this.#logger = options.logger ?? createConsoleLogger();
    const own = options.client;
    if (own !== undefined && (options.endpoint ?? options.region ?? options.forcePathStyle) !== undefined) {
      throw new ValidationError(
        'client',
        'cannot be combined with endpoint, region or forcePathStyle: set them on your S3Client instead',
      );
    }
    const config: S3ClientConfig = {};
    if (options.region !== undefined) config.region = options.region;
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    const pathStyle = options.forcePathStyle ?? options.endpoint !== undefined;
    if (pathStyle) config.forcePathStyle = true;
    this.#config = config;
    this.#client = new LazyConnection({
      backend: 's3',
      open: () => this.#openClient(own),
      dispose: ({ s3 }) => {
        if (own === undefined) s3.destroy();
      },
    });
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const names = this.#names(key);
    const { s3, module } = await this.#client.get();
    await this.#mutex.run(names.parts, async () => {
      // Stamped inside the transcript's turn, so this writer's part names increase in the order it writes them.
      const timestamp = nextMtime(Date.now(), this.#lastTimestamp);
      this.#lastTimestamp = timestamp;
      const written = this.#written.get(names.parts) ?? new Set<string>();
      const indexes = newEntryIndexes(entries, (uuid) => written.has(uuid));
      if (indexes.length === 0) return;
      const added = indexes.map((index) => entries[index] as SessionStoreEntry);
      for (const sidecar of names.sidecars) {
        const body = JSON.stringify(sidecar.value);
        await s3.send(new module.PutObjectCommand({ Bucket: this.bucket, Key: sidecar.key, Body: body }));
      }
      const partKey = names.parts + partName(timestamp, this.#writer);
      await s3.send(
        new module.PutObjectCommand({
          Bucket: this.bucket,
          Key: partKey,
          Body: `${indexes.map((index) => lines[index]).join('\n')}\n`,
          ContentType: 'application/x-ndjson',
        }),
      );
      addUuids(written, added);
      this.#written.set(names.parts, written);
      if (fold !== undefined) await this.#foldSummary(s3, module, key, names, partKey, added, fold);
      await this.#maybeCompact(s3, module, key, names);
    });
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const { s3, module } = await this.#client.get();
    const root = this.#names(key).parts;
    const { listing, sections } = await this.#readTranscript(s3, module, root);
    // A resumed session's next append compacts at once when this load found enough parts.
    if (listing.parts.length > (this.#partCounts.get(root) ?? 0)) {
      this.#partCounts.set(root, listing.parts.length);
    }
    const entries = sectionEntries(sections);
    return entries.length === 0 ? null : entries;
  }

  protected override async readSessions(projectKey: string): Promise<SessionMtime[]> {
    const { s3, module } = await this.#client.get();
    const sessions = await this.#sessionPrefixes(s3, module, projectKey);
    const listed = await mapLimit(sessions, this.#concurrency, async (sessionPrefix) => {
      const newest = await s3.send(
        new module.ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${sessionPrefix}m/`, MaxKeys: 1 }),
      );
      const first = newest.Contents?.[0]?.Key;
      if (first === undefined) return undefined;
      // The newest part (compaction never deletes it), or a snapshot's newest section if only snapshots are left.
      const mtime = objectTimestamp(first.slice(sessionPrefix.length + 2));
      if (mtime === undefined) return undefined;
      return { sessionId: await this.#sessionId(s3, module, sessionPrefix), mtime };
    });
    return listed.filter((session) => session !== undefined);
  }

  protected override async readSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const { s3, module } = await this.#client.get();
    const sessions = await this.#sessionPrefixes(s3, module, projectKey);
    const listed = await mapLimit(sessions, this.#concurrency, async (sessionPrefix) => {
      const summary = await this.#getSummary(s3, module, `${sessionPrefix}summary.json`);
      if (summary === undefined) return undefined;
      const sessionId = await this.#sessionId(s3, module, sessionPrefix);
      return { sessionId, mtime: summary.mtime, data: summary.data };
    });
    return listed.filter((summary) => summary !== undefined);
  }

  protected override async removeEntries(key: SessionKey): Promise<void> {
    const names = this.#names(key);
    const root = key.subpath === undefined ? names.session : names.parts;
    const { s3, module } = await this.#client.get();
    await this.#mutex.run(names.parts, async () => {
      const keys = await this.#listKeys(s3, module, root, { partsOnly: false });
      await this.#deleteObjects(s3, module, keys);
      this.#written.deleteWhere((transcript) => transcript.startsWith(root));
      this.#summaries.deleteWhere((summaryKey) => summaryKey.startsWith(root));
      this.#partCounts.deleteWhere((transcript) => transcript.startsWith(root));
    });
  }

  protected override async readSubpaths(session: SessionOfProject): Promise<string[]> {
    const subRoot = `${this.#names(session).session}s/`;
    const { s3, module } = await this.#client.get();
    const prefixes = await this.#commonPrefixes(s3, module, subRoot);
    const subpaths = await mapLimit(prefixes, this.#concurrency, async (prefix) => {
      const decoded = decodeKeyPart(prefix.slice(subRoot.length, -1));
      if (decoded !== undefined) return decoded;
      // A shortened name: the raw subpath is in its sidecar, written before the first part (so a failed
      // first append may leave a sidecar without parts or snapshots, which is not a transcript).
      const { parts, snapshots } = await this.#listTranscript(s3, module, prefix);
      if (parts.length === 0 && snapshots.length === 0) return undefined;
      const sidecar = await this.#getText(s3, module, `${prefix}id`);
      const subpath =
        sidecar === undefined ? undefined : (JSON.parse(sidecar) as { subpath?: unknown }).subpath;
      if (typeof subpath !== 'string') throw new StoreError(`s3 session store: ${prefix}id is missing`);
      return subpath;
    });
    return subpaths.filter((subpath) => subpath !== undefined);
  }

  protected override async releaseEngine(): Promise<void> {
    this.#written.clear();
    this.#summaries.clear();
    this.#partCounts.clear();
    await this.#client.close();
  }

  #names(key: SessionKey) {
    const project = encodeKeyPart(key.projectKey);
    const sessionPart = encodeKeyPart(key.sessionId);
    const session = `${this.prefix}${project.name}/${sessionPart.name}/`;
    const sidecars: Array<{ key: string; value: Record<string, string> }> = [];
    if (sessionPart.shortened) sidecars.push({ key: `${session}id`, value: { sessionId: key.sessionId } });
    if (key.subpath === undefined) return { session, parts: `${session}m/`, sidecars };
    const sub = encodeKeyPart(key.subpath);
    const parts = `${session}s/${sub.name}/`;
    if (sub.shortened) sidecars.push({ key: `${parts}id`, value: { subpath: key.subpath } });
    return { session, parts, sidecars };
  }

  /**
   * Folds every main part newer than the stored summary's watermark (oldest first) and writes the summary.
   * Normally that is only the part just written; after a crash or a lost race it also catches up others.
   */
  async #foldSummary(
    s3: S3Client,
    module: S3Module,
    key: SessionKey,
    names: { session: string; parts: string },
    partKey: string,
    added: SessionStoreEntry[],
    fold: SummaryFolder,
  ): Promise<void> {
    const summaryKey = `${names.session}summary.json`;
    const newerThan = (summary: WatermarkedSummary | undefined): Promise<string[]> =>
      this.#listKeys(
        s3,
        module,
        names.parts,
        summary === undefined
          ? { partsOnly: true }
          : { partsOnly: true, until: names.parts + summary.watermark },
      );
    // The summary this instance wrote last is current unless another writer added parts since: then reread it.
    let stored = this.#summaries.get(summaryKey);
    let newer = stored === undefined ? [] : await newerThan(stored);
    if (stored === undefined || newer.length !== 1 || newer[0] !== partKey) {
      stored = await this.#getSummary(s3, module, summaryKey);
      newer = await newerThan(stored);
    }
    // Another writer already folded our part (its watermark is newer): nothing left to do.
    if (newer.length === 0) return;
    const newest = newer[0] as string;
    newer.reverse();
    const bodies = await mapLimit(newer, this.#concurrency, async (part) =>
      part === partKey ? added : parseLines(bodyLines((await this.#getText(s3, module, part)) ?? ''), part),
    );
    const mtime = objectTimestamp(basename(newest));
    if (mtime === undefined) throw new StoreError(`s3 session store: unexpected part name ${newest}`);
    const previous = stored === undefined ? undefined : { mtime: stored.mtime, data: stored.data };
    const summary = fold(previous, key, bodies.flat(), mtime);
    const body: WatermarkedSummary = {
      watermark: basename(newest),
      mtime: summary.mtime,
      data: summary.data,
    };
    await s3.send(
      new module.PutObjectCommand({
        Bucket: this.bucket,
        Key: summaryKey,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
      }),
    );
    this.#summaries.set(summaryKey, body);
  }

  /**
   * Counts the part an append just wrote and, every `compactAfter` of them, compacts the transcript. A failed
   * compaction is logged, not thrown: the append's entries are durable and every object left behind is read
   * correctly and cleaned by a later compaction.
   */
  async #maybeCompact(
    s3: S3Client,
    module: S3Module,
    key: SessionKey,
    names: { session: string; parts: string },
  ): Promise<void> {
    if (this.#compactAfter === 0) return;
    const root = names.parts;
    const count = (this.#partCounts.get(root) ?? 0) + 1;
    this.#partCounts.set(root, count);
    if (count < this.#compactAfter) return;
    try {
      this.#partCounts.set(root, await this.#compact(s3, module, key, names));
    } catch (error) {
      this.#partCounts.set(root, 0);
      this.#logger.warn(
        's3 session store: compaction failed; the transcript is intact and is compacted again later',
        { bucket: this.bucket, transcript: root, ...describeError(error) },
      );
    }
  }

  /**
   * Compacts one transcript (the steps are in the module comment) if it holds at least `compactAfter` parts.
   * Runs inside the transcript's in-process turn, so this instance's appends and deletes wait for it; other
   * instances and processes may append, load, compact or delete meanwhile. Returns the parts it left.
   */
  async #compact(
    s3: S3Client,
    module: S3Module,
    key: SessionKey,
    names: { session: string; parts: string },
  ): Promise<number> {
    const root = names.parts;
    const count = (await this.#listTranscript(s3, module, root)).parts.length;
    if (count < this.#compactAfter) return count;
    const { listing, sections } = await this.#readTranscript(s3, module, root);
    const newest = [...sections.keys()].sort()[0];
    if (newest === undefined) return listing.parts.length;
    // Parts at or newer than the horizon stay: for a main transcript the summary's watermark (the fold of the
    // next append reads the parts newer than it), for a subpath its newest part.
    let horizon = listing.parts[0] ?? root + newest;
    if (key.subpath === undefined) {
      const summary = await this.#getSummary(s3, module, `${names.session}summary.json`);
      if (summary === undefined) return listing.parts.length;
      horizon = root + summary.watermark;
    }
    const snapshotKey = root + snapshotName(newest, randomBytes(8).toString('hex'));
    await s3.send(
      new module.PutObjectCommand({
        Bucket: this.bucket,
        Key: snapshotKey,
        Body: encodeSnapshot(sections),
        ContentType: 'application/x-ndjson',
      }),
    );
    const read = new Set([...listing.parts, ...listing.snapshots]);
    const after = await this.#listTranscript(s3, module, root);
    const survived =
      after.parts.some((part) => read.has(part)) ||
      after.snapshots.some((snapshot) => snapshot !== snapshotKey);
    if (!survived) {
      // Everything it copied is gone and no other snapshot holds it: the transcript was deleted meanwhile.
      await this.#deleteObjects(s3, module, [snapshotKey]);
      return 0;
    }
    await this.#deleteObjects(s3, module, listing.snapshots);
    const copied = listing.parts.filter((part) => part > horizon);
    await this.#deleteObjects(s3, module, copied);
    return listing.parts.length - copied.length;
  }

  /**
   * A transcript's sections: one listing of its folder (parts, then snapshots), every snapshot, and every part
   * no snapshot holds. An object gone by the time it is fetched was moved by a compaction (or deleted): then it
   * lists again, reusing what it fetched (objects never change), up to {@link READ_ATTEMPTS} listings.
   * @throws StoreError (retryable) when the transcript kept changing under every listing.
   */
  async #readTranscript(
    s3: S3Client,
    module: S3Module,
    root: string,
  ): Promise<{ listing: TranscriptListing; sections: Sections }> {
    const fetched = new Map<string, string>();
    const fetch = async (objectKey: string): Promise<string | undefined> => {
      const cached = fetched.get(objectKey);
      if (cached !== undefined) return cached;
      const body = await this.#getText(s3, module, objectKey);
      if (body !== undefined) fetched.set(objectKey, body);
      return body;
    };
    for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt += 1) {
      const listing = await this.#listTranscript(s3, module, root);
      const sections: Sections = new Map();
      const snapshots = await mapLimit(listing.snapshots, this.#concurrency, fetch);
      if (snapshots.includes(undefined)) continue;
      snapshots.forEach((body, index) => {
        addSnapshotSections(body ?? '', listing.snapshots[index] as string, sections);
      });
      const missing = listing.parts.filter((part) => !sections.has(part.slice(root.length)));
      const parts = await mapLimit(missing, this.#concurrency, fetch);
      if (parts.includes(undefined)) continue;
      parts.forEach((body, index) => {
        const part = missing[index] as string;
        sections.set(part.slice(root.length), { lines: bodyLines(body ?? ''), source: part });
      });
      return { listing, sections };
    }
    throw new StoreError(
      `s3 session store: ${root} changed under ${READ_ATTEMPTS} listings in a row (compactions by other ` +
        'processes); retry',
      { retryable: true },
    );
  }

  /** The parts and snapshots directly in a transcript's folder, from one listing (parts come first). */
  async #listTranscript(s3: S3Client, module: S3Module, root: string): Promise<TranscriptListing> {
    const listing: TranscriptListing = { parts: [], snapshots: [] };
    for await (const page of this.#pages(s3, module, { Prefix: root })) {
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(root.length);
        if (name === undefined) continue;
        if (isPartName(name)) listing.parts.push(root + name);
        else if (isSnapshotName(name)) listing.snapshots.push(root + name);
      }
    }
    return listing;
  }

  async #deleteObjects(s3: S3Client, module: S3Module, keys: string[]): Promise<void> {
    await mapLimit(keys, this.#concurrency, (objectKey) =>
      s3.send(new module.DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey })),
    );
  }

  /**
   * Keys under `prefix` in S3 order (for parts: newest first). `partsOnly` keeps only parts directly under it;
   * `until` stops before that key (the summary's watermark: it and everything older are already folded).
   */
  async #listKeys(
    s3: S3Client,
    module: S3Module,
    prefix: string,
    options: { partsOnly: boolean; until?: string },
  ): Promise<string[]> {
    const keys: string[] = [];
    const listing = { Prefix: prefix, MaxKeys: options.until === undefined ? 1000 : 50 };
    for await (const page of this.#pages(s3, module, listing)) {
      for (const object of page.Contents ?? []) {
        const objectKey = object.Key;
        if (objectKey === undefined) continue;
        if (options.partsOnly && !isPartName(objectKey.slice(prefix.length))) continue;
        if (options.until !== undefined && objectKey >= options.until) return keys;
        keys.push(objectKey);
      }
    }
    return keys;
  }

  async #commonPrefixes(s3: S3Client, module: S3Module, prefix: string): Promise<string[]> {
    const prefixes: string[] = [];
    for await (const page of this.#pages(s3, module, { Prefix: prefix, Delimiter: '/' })) {
      for (const common of page.CommonPrefixes ?? [])
        if (common.Prefix !== undefined) prefixes.push(common.Prefix);
    }
    return prefixes;
  }

  /** The pages of a listing of this bucket, following continuation tokens; stop iterating to stop listing. */
  async *#pages(
    s3: S3Client,
    module: S3Module,
    listing: { Prefix: string; MaxKeys?: number; Delimiter?: string },
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new module.ListObjectsV2Command({ Bucket: this.bucket, ...listing, ContinuationToken: token }),
      );
      yield page;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  #sessionPrefixes(s3: S3Client, module: S3Module, projectKey: string): Promise<string[]> {
    return this.#commonPrefixes(s3, module, `${this.prefix}${encodeKeyPart(projectKey).name}/`);
  }

  async #sessionId(s3: S3Client, module: S3Module, sessionPrefix: string): Promise<string> {
    const name = sessionPrefix.slice(0, -1).split('/').pop() ?? '';
    const decoded = decodeKeyPart(name);
    if (decoded !== undefined) return decoded;
    const sidecar = await this.#getText(s3, module, `${sessionPrefix}id`);
    const sessionId =
      sidecar === undefined ? undefined : (JSON.parse(sidecar) as { sessionId?: unknown }).sessionId;
    if (typeof sessionId !== 'string')
      throw new StoreError(`s3 session store: ${sessionPrefix}id is missing`);
    return sessionId;
  }

  async #getSummary(
    s3: S3Client,
    module: S3Module,
    objectKey: string,
  ): Promise<WatermarkedSummary | undefined> {
    const text = await this.#getText(s3, module, objectKey);
    if (text === undefined) return undefined;
    const value = JSON.parse(text) as Partial<WatermarkedSummary>;
    if (
      typeof value.watermark !== 'string' ||
      typeof value.mtime !== 'number' ||
      typeof value.data !== 'object' ||
      value.data === null
    ) {
      throw new StoreError(`s3 session store: ${objectKey} is not a session summary`, {
        code: 'store_corrupt',
      });
    }
    return { watermark: value.watermark, mtime: value.mtime, data: value.data };
  }

  /**
   * An object's body as text, or undefined when it does not exist. A connection reset while the body streams
   * (after the AWS SDK's own retries are done) is retried here, twice.
   */
  async #getText(s3: S3Client, module: S3Module, objectKey: string): Promise<string | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await s3.send(new module.GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
        if (response.Body === undefined) return '';
        return await response.Body.transformToString('utf8');
      } catch (error) {
        if (error instanceof module.NoSuchKey || (error as { name?: unknown }).name === 'NoSuchKey')
          return undefined;
        if (attempt >= 3 || !isTransient(error)) throw error;
        await sleep(20 * attempt);
      }
    }
  }

  async #openClient(own: S3Client | undefined): Promise<{ s3: S3Client; module: S3Module }> {
    const module = await importOptional<S3Module>('@aws-sdk/client-s3', 'The S3 session store (s3:// URLs)');
    if (own !== undefined) return { s3: own, module };
    const config: S3ClientConfig = { ...this.#config };
    if (
      config.region === undefined &&
      process.env.AWS_REGION === undefined &&
      process.env.AWS_DEFAULT_REGION === undefined
    ) {
      config.region = 'us-east-1';
    }
    return { s3: new module.S3Client(config), module };
  }
}

/**
 * `prefix` as the store uses it: its non-empty segments joined by `/`, with a trailing `/` (or `''`). Empty
 * segments would make keys with `//`, which S3-compatible servers that map keys to paths merge or reject.
 * @throws ConfigError for a `.` or `..` segment (servers and proxies resolve them as paths).
 */
export function normalizePrefix(prefix: string): string {
  const segments = prefix.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new ConfigError(
      `S3 session store prefix ${JSON.stringify(prefix)} has a "." or ".." segment: name the prefix without them`,
    );
  }
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

function basename(objectKey: string): string {
  return objectKey.slice(objectKey.lastIndexOf('/') + 1);
}
