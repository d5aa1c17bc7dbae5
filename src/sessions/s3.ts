/**
 * S3 SessionStore (`@aws-sdk/client-s3`), for any S3-compatible service. S3 objects cannot be appended to, so
 * every append writes one new immutable object (a "part") and `load` reads the parts back in order.
 *
 * Layout under `s3://bucket/prefix/` (every name made by `encodeKeyPart`, so keys never collide):
 * ```
 * <project>/<session>/m/<part>.jsonl         main transcript parts
 * <project>/<session>/summary.json           { watermark, mtime, data }
 * <project>/<session>/s/<subpath>/<part>.jsonl  subpath transcript parts
 * <project>/<session>/id, .../s/<subpath>/id  the raw sessionId / subpath, only when a name was shortened
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
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles,
 * instance roles). A custom `endpoint` implies path-style addressing. `delete` removes every object of the key.
 */
import { randomBytes } from 'node:crypto';
import type { ListObjectsV2CommandOutput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfigError, StoreError } from '../core/errors.js';
import type { AppendBatch } from './append.js';
import { LazyConnection } from './connection.js';
import { isTransient, type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { importOptional, KeyedMutex, LruMap, mapLimit, sleep } from './internal.js';
import { addUuids, decodeKeyPart, encodeKeyPart, entryUuid, newEntryIndexes } from './keys.js';
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
}

type S3Module = typeof import('@aws-sdk/client-s3');

/** Timestamps are inverted against this (13 digits, until the year 2286) so newer parts sort first. */
const MAX_TIMESTAMP = 9_999_999_999_999;
/** Transcripts (and summaries) whose state this process keeps in memory. */
const CACHE_SIZE = 256;
const PART_PATTERN = /^(\d{13})-([0-9a-f]{16})\.jsonl$/;

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
    const config: S3ClientConfig = {};
    if (options.region !== undefined) config.region = options.region;
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    const pathStyle = options.forcePathStyle ?? options.endpoint !== undefined;
    if (pathStyle) config.forcePathStyle = true;
    this.#config = config;
    this.#client = new LazyConnection({
      backend: 's3',
      open: () => this.#openClient(),
      dispose: ({ s3 }) => s3.destroy(),
    });
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const timestamp = nextMtime(Date.now(), this.#lastTimestamp);
    this.#lastTimestamp = timestamp;
    const names = this.#names(key);
    const { s3, module } = await this.#client.get();
    await this.#mutex.run(names.parts, async () => {
      const written = this.#written.get(names.parts) ?? new Set<string>();
      const indexes = newEntryIndexes(entries, (uuid) => written.has(uuid));
      if (indexes.length === 0) return;
      const added = indexes.map((index) => entries[index] as SessionStoreEntry);
      for (const sidecar of names.sidecars) {
        const body = JSON.stringify(sidecar.value);
        await s3.send(new module.PutObjectCommand({ Bucket: this.bucket, Key: sidecar.key, Body: body }));
      }
      const partName = `${String(MAX_TIMESTAMP - timestamp).padStart(13, '0')}-${this.#writer}.jsonl`;
      const partKey = names.parts + partName;
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
    });
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const { s3, module } = await this.#client.get();
    const parts = await this.#listKeys(s3, module, this.#names(key).parts, { partsOnly: true });
    if (parts.length === 0) return null;
    parts.reverse();
    const bodies = await mapLimit(parts, this.#concurrency, (part) => this.#getText(s3, module, part));
    const seen = new Set<string>();
    const entries: SessionStoreEntry[] = [];
    bodies.forEach((body, index) => {
      if (body === undefined) return;
      for (const entry of parseParts(body, parts[index] as string)) {
        const uuid = entryUuid(entry);
        if (uuid !== undefined) {
          if (seen.has(uuid)) continue;
          seen.add(uuid);
        }
        entries.push(entry);
      }
    });
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
      const mtime = partTimestamp(first);
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
      await mapLimit(keys, this.#concurrency, (objectKey) =>
        s3.send(new module.DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey })),
      );
      this.#written.deleteWhere((transcript) => transcript.startsWith(root));
      this.#summaries.deleteWhere((summaryKey) => summaryKey.startsWith(root));
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
      // first append may leave a sidecar without parts, which is not a transcript).
      const parts = await this.#listKeys(s3, module, prefix, { partsOnly: true });
      if (parts.length === 0) return undefined;
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
      part === partKey ? added : parseParts((await this.#getText(s3, module, part)) ?? '', part),
    );
    const mtime = partTimestamp(newest);
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
        if (options.partsOnly && !PART_PATTERN.test(objectKey.slice(prefix.length))) continue;
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

  async #openClient(): Promise<{ s3: S3Client; module: S3Module }> {
    const module = await importOptional<S3Module>('@aws-sdk/client-s3', 'The S3 session store (s3:// URLs)');
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

/** The write timestamp (ms) encoded in a part's key, or undefined for a key that is not a part. */
function partTimestamp(objectKey: string): number | undefined {
  const match = PART_PATTERN.exec(basename(objectKey));
  return match?.[1] === undefined ? undefined : MAX_TIMESTAMP - Number(match[1]);
}

function basename(objectKey: string): string {
  return objectKey.slice(objectKey.lastIndexOf('/') + 1);
}

function parseParts(body: string, objectKey: string): SessionStoreEntry[] {
  return body
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line, index) => {
      try {
        return JSON.parse(line) as SessionStoreEntry;
      } catch (error) {
        throw new StoreError(`s3 session store: ${objectKey} line ${index + 1} is not valid JSON`, {
          cause: error,
          code: 'store_corrupt',
        });
      }
    });
}
