/**
 * The requests of the S3 session store (`./s3.ts`) to its bucket, through `@aws-sdk/client-s3`: objects put, read
 * and deleted, listings, and a transcript read back from its parts and snapshots (`./s3-objects.ts`), which both
 * `load` and compaction (`./s3-compaction.ts`) use.
 */
import type { ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { StoreError } from '../core/errors.js';
import { isTransient } from './frame.js';
import { mapLimit, sleep } from './internal.js';
import { addSnapshotSections, bodyLines, isPartName, isSnapshotName, type Sections } from './s3-objects.js';

/** The `@aws-sdk/client-s3` module, loaded lazily by the store. */
export type S3Module = typeof import('@aws-sdk/client-s3');

/** A transcript folder's objects, as one listing returned them (S3 order: newest part first). */
export interface TranscriptListing {
  parts: string[];
  snapshots: string[];
}

/** Listings a transcript read makes before giving up on a transcript that compactions keep changing under it. */
const READ_ATTEMPTS = 5;

/** One bucket reached through one client; `concurrency` bounds the parallel requests of one call. */
export class S3Bucket {
  readonly s3: S3Client;
  readonly #module: S3Module;
  readonly #bucket: string;
  readonly #concurrency: number;

  constructor(s3: S3Client, module: S3Module, bucket: string, concurrency: number) {
    this.s3 = s3;
    this.#module = module;
    this.#bucket = bucket;
    this.#concurrency = concurrency;
  }

  /** Writes one object. */
  async put(objectKey: string, body: string, contentType?: string): Promise<void> {
    await this.s3.send(
      new this.#module.PutObjectCommand({
        Bucket: this.#bucket,
        Key: objectKey,
        Body: body,
        ...(contentType === undefined ? {} : { ContentType: contentType }),
      }),
    );
  }

  /**
   * An object's body as text, or undefined when it does not exist. A connection reset while the body streams
   * (after the AWS SDK's own retries are done) is retried here, twice.
   */
  async getText(objectKey: string): Promise<string | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.s3.send(
          new this.#module.GetObjectCommand({ Bucket: this.#bucket, Key: objectKey }),
        );
        if (response.Body === undefined) return '';
        return await response.Body.transformToString('utf8');
      } catch (error) {
        if (error instanceof this.#module.NoSuchKey || (error as { name?: unknown }).name === 'NoSuchKey')
          return undefined;
        if (attempt >= 3 || !isTransient(error)) throw error;
        await sleep(20 * attempt);
      }
    }
  }

  /** Deletes objects (a missing one is not an error), `concurrency` at a time. */
  async deleteAll(objectKeys: string[]): Promise<void> {
    await mapLimit(objectKeys, this.#concurrency, (objectKey) =>
      this.s3.send(new this.#module.DeleteObjectCommand({ Bucket: this.#bucket, Key: objectKey })),
    );
  }

  /** Maps `items` through `work` with this bucket's concurrency. */
  map<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
    return mapLimit(items, this.#concurrency, work);
  }

  /**
   * Keys under `prefix` in S3 order (for parts: newest first). `partsOnly` keeps only parts directly under it;
   * `until` stops before that key (the summary's watermark: it and everything older are already folded).
   */
  async listKeys(prefix: string, options: { partsOnly: boolean; until?: string }): Promise<string[]> {
    const keys: string[] = [];
    const listing = { Prefix: prefix, MaxKeys: options.until === undefined ? 1000 : 50 };
    for await (const page of this.#pages(listing)) {
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

  /** The first key under `prefix` in S3 order, or undefined when there is none. */
  async firstKey(prefix: string): Promise<string | undefined> {
    const page = await this.s3.send(
      new this.#module.ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: 1 }),
    );
    return page.Contents?.[0]?.Key;
  }

  /** The `/`-delimited folders directly under `prefix`, each ending in `/`. */
  async commonPrefixes(prefix: string): Promise<string[]> {
    const prefixes: string[] = [];
    for await (const page of this.#pages({ Prefix: prefix, Delimiter: '/' })) {
      for (const common of page.CommonPrefixes ?? [])
        if (common.Prefix !== undefined) prefixes.push(common.Prefix);
    }
    return prefixes;
  }

  /** The parts and snapshots directly in a transcript's folder, from one listing (parts come first). */
  async listTranscript(root: string): Promise<TranscriptListing> {
    const listing: TranscriptListing = { parts: [], snapshots: [] };
    for await (const page of this.#pages({ Prefix: root })) {
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(root.length);
        if (name === undefined) continue;
        if (isPartName(name)) listing.parts.push(root + name);
        else if (isSnapshotName(name)) listing.snapshots.push(root + name);
      }
    }
    return listing;
  }

  /**
   * A transcript's sections: one listing of its folder (parts, then snapshots), every snapshot, and every part
   * no snapshot holds. A part missing from the listing because a compaction deleted it was deleted after that
   * compaction's snapshot was written, so the snapshots, listed later, hold it. An object gone by the time it is
   * fetched was moved by a compaction (or deleted): then it lists again, reusing what it fetched (objects never
   * change), up to {@link READ_ATTEMPTS} listings.
   * @throws StoreError (retryable) when the transcript kept changing under every listing.
   */
  async readTranscript(root: string): Promise<{ listing: TranscriptListing; sections: Sections }> {
    const fetched = new Map<string, string>();
    const fetch = async (objectKey: string): Promise<string | undefined> => {
      const cached = fetched.get(objectKey);
      if (cached !== undefined) return cached;
      const body = await this.getText(objectKey);
      if (body !== undefined) fetched.set(objectKey, body);
      return body;
    };
    for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt += 1) {
      const listing = await this.listTranscript(root);
      const sections: Sections = new Map();
      const snapshots = await this.map(listing.snapshots, fetch);
      if (snapshots.includes(undefined)) continue;
      snapshots.forEach((body, index) => {
        addSnapshotSections(body ?? '', listing.snapshots[index] as string, sections);
      });
      const missing = listing.parts.filter((part) => !sections.has(part.slice(root.length)));
      const parts = await this.map(missing, fetch);
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

  /** The pages of a listing of this bucket, following continuation tokens; stop iterating to stop listing. */
  async *#pages(listing: {
    Prefix: string;
    MaxKeys?: number;
    Delimiter?: string;
  }): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new this.#module.ListObjectsV2Command({ Bucket: this.#bucket, ...listing, ContinuationToken: token }),
      );
      yield page;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
}
