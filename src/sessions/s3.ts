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
 * Compaction (`./s3-compaction.ts`): once a transcript holds `compactAfter` parts, the append that notices it
 * (after writing and folding its own part, still in the transcript's in-process turn) copies the transcript into
 * one snapshot and deletes the parts it copied, keeping the newest ones. `load` reads the union of snapshots and
 * parts by part name (`./s3-objects.ts`), so that every intermediate state, including one a crash leaves, loads
 * every entry exactly once, and lists again when a compaction moved an object under it (`./s3-bucket.ts`). A
 * failed compaction does not fail the append (its entries are already durable): it is logged as a warning and
 * tried again `compactAfter` appends later.
 *
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles,
 * instance roles). A custom `endpoint` implies path-style addressing. `delete` removes every object of the key.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfigError, StoreError, ValidationError } from '../core/errors.js';
import { createConsoleLogger, describeError, type Logger } from '../core/logger.js';
import type { AppendBatch } from './append.js';
import { LazyConnection } from './connection.js';
import { type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { importOptional, KeyedMutex, LruMap } from './internal.js';
import { addUuids, decodeKeyPart, encodeKeyPart, newEntryIndexes } from './keys.js';
import { S3Bucket, type S3Module } from './s3-bucket.js';
import { compactTranscript } from './s3-compaction.js';
import { bodyLines, objectTimestamp, parseLines, partName, sectionEntries } from './s3-objects.js';
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

/** Transcripts (and summaries) whose state this process keeps in memory. */
const CACHE_SIZE = 256;
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
  readonly #client: LazyConnection<S3Bucket>;

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
      open: () => this.#openBucket(own),
      dispose: (bucket) => {
        if (own === undefined) bucket.s3.destroy();
      },
    });
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const names = this.#names(key);
    const bucket = await this.#client.get();
    await this.#mutex.run(names.parts, async () => {
      // Stamped inside the transcript's turn, so this writer's part names increase in the order it writes them.
      const timestamp = nextMtime(Date.now(), this.#lastTimestamp);
      this.#lastTimestamp = timestamp;
      const written = this.#written.get(names.parts) ?? new Set<string>();
      const indexes = newEntryIndexes(entries, (uuid) => written.has(uuid));
      if (indexes.length === 0) return;
      const added = indexes.map((index) => entries[index] as SessionStoreEntry);
      for (const sidecar of names.sidecars) await bucket.put(sidecar.key, JSON.stringify(sidecar.value));
      const partKey = names.parts + partName(timestamp, this.#writer);
      const body = `${indexes.map((index) => lines[index]).join('\n')}\n`;
      await bucket.put(partKey, body, 'application/x-ndjson');
      addUuids(written, added);
      this.#written.set(names.parts, written);
      if (fold !== undefined) await this.#foldSummary(bucket, key, names, partKey, added, fold);
      await this.#maybeCompact(bucket, key, names);
    });
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const bucket = await this.#client.get();
    const root = this.#names(key).parts;
    const { listing, sections } = await bucket.readTranscript(root);
    // A resumed session's next append compacts at once when this load found enough parts.
    if (listing.parts.length > (this.#partCounts.get(root) ?? 0)) {
      this.#partCounts.set(root, listing.parts.length);
    }
    const entries = sectionEntries(sections);
    return entries.length === 0 ? null : entries;
  }

  protected override async readSessions(projectKey: string): Promise<SessionMtime[]> {
    const bucket = await this.#client.get();
    const sessions = await this.#sessionPrefixes(bucket, projectKey);
    const listed = await bucket.map(sessions, async (sessionPrefix) => {
      const root = `${sessionPrefix}m/`;
      const first = await bucket.firstKey(root);
      if (first === undefined) return undefined;
      // The newest part (compaction never deletes it), or a snapshot's newest section if only snapshots are left.
      const mtime = objectTimestamp(first.slice(root.length));
      if (mtime === undefined) return undefined;
      return { sessionId: await this.#sessionId(bucket, sessionPrefix), mtime };
    });
    return listed.filter((session) => session !== undefined);
  }

  protected override async readSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const bucket = await this.#client.get();
    const sessions = await this.#sessionPrefixes(bucket, projectKey);
    const listed = await bucket.map(sessions, async (sessionPrefix) => {
      const summary = await this.#getSummary(bucket, `${sessionPrefix}summary.json`);
      if (summary === undefined) return undefined;
      const sessionId = await this.#sessionId(bucket, sessionPrefix);
      return { sessionId, mtime: summary.mtime, data: summary.data };
    });
    return listed.filter((summary) => summary !== undefined);
  }

  protected override async removeEntries(key: SessionKey): Promise<void> {
    const names = this.#names(key);
    const root = key.subpath === undefined ? names.session : names.parts;
    const bucket = await this.#client.get();
    await this.#mutex.run(names.parts, async () => {
      await bucket.deleteAll(await bucket.listKeys(root, { partsOnly: false }));
      this.#written.deleteWhere((transcript) => transcript.startsWith(root));
      this.#summaries.deleteWhere((summaryKey) => summaryKey.startsWith(root));
      this.#partCounts.deleteWhere((transcript) => transcript.startsWith(root));
    });
  }

  protected override async readSubpaths(session: SessionOfProject): Promise<string[]> {
    const subRoot = `${this.#names(session).session}s/`;
    const bucket = await this.#client.get();
    const prefixes = await bucket.commonPrefixes(subRoot);
    const subpaths = await bucket.map(prefixes, async (prefix) => {
      const decoded = decodeKeyPart(prefix.slice(subRoot.length, -1));
      if (decoded !== undefined) return decoded;
      // A shortened name: the raw subpath is in its sidecar, written before the first part (so a failed
      // first append may leave a sidecar without parts or snapshots, which is not a transcript).
      const { parts, snapshots } = await bucket.listTranscript(prefix);
      if (parts.length === 0 && snapshots.length === 0) return undefined;
      const sidecar = await bucket.getText(`${prefix}id`);
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
    bucket: S3Bucket,
    key: SessionKey,
    names: { session: string; parts: string },
    partKey: string,
    added: SessionStoreEntry[],
    fold: SummaryFolder,
  ): Promise<void> {
    const summaryKey = `${names.session}summary.json`;
    const newerThan = (summary: WatermarkedSummary | undefined): Promise<string[]> =>
      bucket.listKeys(
        names.parts,
        summary === undefined
          ? { partsOnly: true }
          : { partsOnly: true, until: names.parts + summary.watermark },
      );
    // The summary this instance wrote last is current unless another writer added parts since: then reread it.
    let stored = this.#summaries.get(summaryKey);
    let newer = stored === undefined ? [] : await newerThan(stored);
    if (stored === undefined || newer.length !== 1 || newer[0] !== partKey) {
      stored = await this.#getSummary(bucket, summaryKey);
      newer = await newerThan(stored);
    }
    // Another writer already folded our part (its watermark is newer): nothing left to do.
    if (newer.length === 0) return;
    const newest = newer[0] as string;
    newer.reverse();
    const bodies = await bucket.map(newer, async (part) =>
      part === partKey ? added : parseLines(bodyLines((await bucket.getText(part)) ?? ''), part),
    );
    const mtime = objectTimestamp(newest.slice(names.parts.length));
    if (mtime === undefined) throw new StoreError(`s3 session store: unexpected part name ${newest}`);
    const previous = stored === undefined ? undefined : { mtime: stored.mtime, data: stored.data };
    const summary = fold(previous, key, bodies.flat(), mtime);
    const body: WatermarkedSummary = {
      watermark: newest.slice(names.parts.length),
      mtime: summary.mtime,
      data: summary.data,
    };
    await bucket.put(summaryKey, JSON.stringify(body), 'application/json');
    this.#summaries.set(summaryKey, body);
  }

  /**
   * Counts the part an append just wrote and, every `compactAfter` of them, compacts the transcript. A failed
   * compaction is logged, not thrown: the append's entries are durable and every object left behind is read
   * correctly and cleaned by a later compaction.
   */
  async #maybeCompact(
    bucket: S3Bucket,
    key: SessionKey,
    names: { session: string; parts: string },
  ): Promise<void> {
    if (this.#compactAfter === 0) return;
    const root = names.parts;
    const count = (this.#partCounts.get(root) ?? 0) + 1;
    this.#partCounts.set(root, count);
    if (count < this.#compactAfter) return;
    // Parts at or newer than the horizon stay: for a main transcript the summary's watermark (the fold of the
    // next append reads the parts newer than it), for a subpath its newest part.
    const horizon =
      key.subpath === undefined
        ? async () => {
            const summary = await this.#getSummary(bucket, `${names.session}summary.json`);
            return summary === undefined ? undefined : root + summary.watermark;
          }
        : async ({ parts }: { parts: string[] }) => parts[0];
    try {
      this.#partCounts.set(
        root,
        await compactTranscript(bucket, { root, minParts: this.#compactAfter, horizon }),
      );
    } catch (error) {
      this.#partCounts.set(root, 0);
      this.#logger.warn(
        's3 session store: compaction failed; the transcript is intact and is compacted again later',
        { bucket: this.bucket, transcript: root, ...describeError(error) },
      );
    }
  }

  #sessionPrefixes(bucket: S3Bucket, projectKey: string): Promise<string[]> {
    return bucket.commonPrefixes(`${this.prefix}${encodeKeyPart(projectKey).name}/`);
  }

  async #sessionId(bucket: S3Bucket, sessionPrefix: string): Promise<string> {
    const name = sessionPrefix.slice(0, -1).split('/').pop() ?? '';
    const decoded = decodeKeyPart(name);
    if (decoded !== undefined) return decoded;
    const sidecar = await bucket.getText(`${sessionPrefix}id`);
    const sessionId =
      sidecar === undefined ? undefined : (JSON.parse(sidecar) as { sessionId?: unknown }).sessionId;
    if (typeof sessionId !== 'string')
      throw new StoreError(`s3 session store: ${sessionPrefix}id is missing`);
    return sessionId;
  }

  async #getSummary(bucket: S3Bucket, objectKey: string): Promise<WatermarkedSummary | undefined> {
    const text = await bucket.getText(objectKey);
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

  async #openBucket(own: S3Client | undefined): Promise<S3Bucket> {
    const module = await importOptional<S3Module>('@aws-sdk/client-s3', 'The S3 session store (s3:// URLs)');
    if (own !== undefined) return new S3Bucket(own, module, this.bucket, this.#concurrency);
    const config: S3ClientConfig = { ...this.#config };
    if (
      config.region === undefined &&
      process.env.AWS_REGION === undefined &&
      process.env.AWS_DEFAULT_REGION === undefined
    ) {
      config.region = 'us-east-1';
    }
    return new S3Bucket(new module.S3Client(config), module, this.bucket, this.#concurrency);
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
