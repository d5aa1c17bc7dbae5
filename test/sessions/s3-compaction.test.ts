/**
 * Compaction of the S3 SessionStore (src/sessions/s3.ts), against a real S3-compatible server (s3rver on a random
 * loopback port) through the real `@aws-sdk/client-s3`. Each store gets its own S3Client with a middleware that
 * records every request and can run work before or after one (an append or a delete from another instance, a load)
 * or fail it (a crash between writing a snapshot and deleting what it copied). The conformance suite also runs
 * with compaction on every second part (s3-session-store.test.ts); these checks count requests and force races.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ConfigError, ValidationError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { createSessionStore, S3SessionStore } from '../../src/sessions/index.js';
import type { SessionKey, SessionStoreEntry } from '../../src/sessions/types.js';
import { type LocalS3, startLocalS3 } from '../support/s3-server.js';

let s3: LocalS3 | undefined;
let admin: S3Client | undefined;

before(async () => {
  s3 = await startLocalS3();
  Object.assign(process.env, s3.env);
  admin = newClient();
});

after(async () => {
  admin?.destroy();
  await s3?.close();
});

function server(): LocalS3 {
  if (s3 === undefined) throw new Error('the local S3 server did not start');
  return s3;
}

function newClient(): S3Client {
  return new S3Client({ endpoint: server().endpoint, forcePathStyle: true, region: 'us-east-1' });
}

/** One request a store sent: the command's name and the object key (or listing prefix). */
interface Call {
  command: string;
  key: string;
}

/** Runs before (and, if it returns a function, after) a request; throwing fails the request. */
type Hook = (call: Call) => Promise<(() => Promise<void>) | undefined> | undefined;

/** A store on `prefix` with its own recorded client, and the warnings it logged. */
function openStore(prefix: string, options: { compactAfter: number; hook?: Hook }) {
  const client = newClient();
  const calls: Call[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string; Prefix?: string };
      const call = { command: context.commandName ?? '', key: input.Key ?? input.Prefix ?? '' };
      calls.push(call);
      const afterwards = await options.hook?.(call);
      const result = await next(args);
      await afterwards?.();
      return result;
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
    error: (message) => warnings.push(message),
  };
  const store = new S3SessionStore({
    bucket: server().bucket,
    prefix,
    client,
    logger,
    compactAfter: options.compactAfter,
  });
  return {
    store,
    calls,
    warnings,
    close: async () => {
      await store.close();
      client.destroy();
    },
  };
}

/** Every object key under `prefix` in the bucket. */
async function objectKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await (admin as S3Client).send(
      new ListObjectsV2Command({ Bucket: server().bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

const isSnapshot = (objectKey: string) => objectKey.includes('/compacted/');
const isPart = (objectKey: string) => /\/\d{13}-[0-9a-f]{16}\.jsonl$/.test(objectKey);

function newKey(): SessionKey {
  return { projectKey: `-compaction-${randomUUID()}`, sessionId: randomUUID() };
}

/** A batch from `writer`: entries with a uuid, and every third batch also one without (never deduplicated). */
function batch(writer: string, index: number): SessionStoreEntry[] {
  const entries: SessionStoreEntry[] = [
    {
      type: 'user',
      uuid: randomUUID(),
      writer,
      index,
      message: { role: 'user', content: `${writer} ${index}` },
    },
    { type: 'assistant', uuid: randomUUID(), writer, index, message: { role: 'assistant', content: 'ok' } },
  ];
  if (index % 3 === 0) entries.push({ type: 'tag', tag: `${writer}-${index}`, writer, index });
  return entries;
}

/** Appends `batch('w', index)` for each index in [from, to) to `key`, one append each, adding them to `into`. */
async function appendBatches(
  store: S3SessionStore,
  key: SessionKey,
  range: [from: number, to: number],
  into: SessionStoreEntry[],
): Promise<void> {
  for (let index = range[0]; index < range[1]; index += 1) {
    const entries = batch('w', index);
    await store.append(key, entries);
    into.push(...entries);
  }
}

/** Each entry of `expected` once and nothing else, each writer's entries in their order. */
function assertExactly(
  loaded: SessionStoreEntry[] | null,
  expected: SessionStoreEntry[],
  label: string,
): void {
  assert.equal(loaded?.length, expected.length, `${label}: entry count`);
  assert.deepEqual(
    [...(loaded ?? [])].sort(byIdentity),
    [...expected].sort(byIdentity),
    `${label}: the same entries`,
  );
  for (const writer of new Set(expected.map((entry) => entry.writer))) {
    assert.deepEqual(
      (loaded ?? []).filter((entry) => entry.writer === writer),
      expected.filter((entry) => entry.writer === writer),
      `${label}: ${String(writer)} in order`,
    );
  }
}

function byIdentity(a: SessionStoreEntry, b: SessionStoreEntry): number {
  const identity = (entry: SessionStoreEntry) =>
    JSON.stringify([entry.uuid, entry.tag, entry.writer, entry.index]);
  return identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : 0;
}

describe('S3 session store compaction', () => {
  test('compaction cuts the GETs of a load from one per append to about compactAfter', async () => {
    const key = newKey();
    const subKey = { ...key, subpath: 'subagents/agent-1' };
    const compacting = `compaction/${randomUUID()}`;
    const plain = `compaction/${randomUUID()}`;
    const batches = Array.from({ length: 200 }, (_, index) => batch('w', index));
    const subEntries = Array.from({ length: 40 }, (_, index) => ({ type: 'x', uuid: `sub-${index}`, index }));
    for (const prefix of [compacting, plain]) {
      const writer = openStore(prefix, { compactAfter: prefix === compacting ? 16 : 0 });
      try {
        for (const [index, entries] of batches.entries()) {
          await writer.store.append(key, entries);
          const sub = subEntries[index];
          if (sub !== undefined) await writer.store.append(subKey, [sub]);
        }
        assert.deepEqual(writer.warnings, []);
      } finally {
        await writer.close();
      }
    }
    const expected = batches.flat();
    const gets: Record<string, number> = {};
    for (const prefix of [compacting, plain]) {
      const reader = openStore(prefix, { compactAfter: 0 });
      try {
        assertExactly(await reader.store.load(key), expected, prefix);
        gets[prefix] = reader.calls.filter((call) => call.command === 'GetObjectCommand').length;
        assert.deepEqual(await reader.store.load(subKey), subEntries, `${prefix} subpath`);
      } finally {
        await reader.close();
      }
    }
    assert.equal(gets[plain], 200, 'without compaction: one GET per append');
    assert.ok((gets[compacting] ?? 0) <= 17, `with compactAfter 16: ${gets[compacting]} GETs`);
    const objects = await objectKeys(`${compacting}/`);
    assert.equal(objects.filter((objectKey) => isSnapshot(objectKey) && objectKey.includes('/m/')).length, 1);
    assert.ok(objects.filter(isPart).length < 16 + 16, `${objects.filter(isPart).length} parts left`);
  });

  test('appends, loads and compactions of other instances during a compaction lose and duplicate nothing', async () => {
    const prefix = `compaction/${randomUUID()}`;
    const key = newKey();
    const acknowledged: SessionStoreEntry[] = [];
    const written: SessionStoreEntry[] = [];
    const counters = { a: 0, b: 0, injected: 0, loads: 0 };
    // B appends (and compacts: compactAfter 3) and C loads at every step of A's compactions.
    const other = openStore(prefix, { compactAfter: 3 });
    const reader = openStore(prefix, { compactAfter: 0 });
    const appendB = async () => {
      const entries = batch('b', counters.b++);
      written.push(...entries);
      await other.store.append(key, entries);
      acknowledged.push(...entries);
    };
    const checkLoad = async () => {
      const before = [...acknowledged];
      const loaded = (await reader.store.load(key)) ?? [];
      counters.loads += 1;
      const ids = loaded.map((entry) => JSON.stringify([entry.uuid, entry.tag]));
      assert.equal(new Set(ids).size, ids.length, 'a load during compaction has no duplicates');
      const present = new Set(ids);
      for (const entry of before) {
        assert.ok(
          present.has(JSON.stringify([entry.uuid, entry.tag])),
          'a load has every acknowledged entry',
        );
      }
      for (const writer of ['a', 'b']) {
        const indexes = loaded
          .filter((entry) => entry.writer === writer)
          .map((entry) => entry.index as number);
        assert.deepEqual(
          indexes,
          [...indexes].sort((x, y) => x - y),
          `${writer} in order in a load`,
        );
      }
    };
    const injectDuring = async () => {
      counters.injected += 1;
      await Promise.all([appendB(), checkLoad()]);
    };
    let deletesThisCompaction = 0;
    const compacting = openStore(prefix, {
      compactAfter: 3,
      hook: (call) => {
        if (call.command === 'PutObjectCommand' && isSnapshot(call.key)) {
          deletesThisCompaction = 0;
          return injectDuring().then(() => injectDuring);
        }
        if (call.command === 'DeleteObjectCommand' && deletesThisCompaction++ === 0) {
          return injectDuring().then(() => undefined);
        }
        return undefined;
      },
    });
    try {
      for (let round = 0; round < 40; round += 1) {
        const entries = batch('a', counters.a++);
        written.push(...entries);
        await Promise.all([
          compacting.store.append(key, entries).then(() => acknowledged.push(...entries)),
          appendB(),
          round % 4 === 0 ? checkLoad() : Promise.resolve(),
        ]);
      }
      const snapshotsA = compacting.calls.filter(
        (call) => call.command === 'PutObjectCommand' && isSnapshot(call.key),
      );
      const snapshotsB = other.calls.filter(
        (call) => call.command === 'PutObjectCommand' && isSnapshot(call.key),
      );
      assert.ok(snapshotsA.length >= 8, `A compacted ${snapshotsA.length} times`);
      assert.ok(snapshotsB.length >= 4, `B compacted ${snapshotsB.length} times`);
      assert.ok(counters.injected >= 3 * snapshotsA.length - 2, `${counters.injected} injected steps`);
      assert.deepEqual(compacting.warnings, []);
      assert.deepEqual(other.warnings, []);
      const fresh = openStore(prefix, { compactAfter: 0 });
      try {
        assertExactly(await fresh.store.load(key), written, 'final load');
      } finally {
        await fresh.close();
      }
    } finally {
      await Promise.all([compacting.close(), other.close(), reader.close()]);
    }
  });

  test('a load whose listed parts a compaction deletes before it reads them lists again', async () => {
    const prefix = `compaction/${randomUUID()}`;
    const key = newKey();
    const expected: SessionStoreEntry[] = [];
    const writer = openStore(prefix, { compactAfter: 0 });
    const compactor = openStore(prefix, { compactAfter: 1 });
    let raced = false;
    const reader = openStore(prefix, {
      compactAfter: 0,
      hook: async (call) => {
        if (call.command !== 'GetObjectCommand' || raced) return undefined;
        raced = true;
        const extra = batch('w', 10);
        await compactor.store.append(key, extra);
        expected.push(...extra);
        return undefined;
      },
    });
    try {
      await appendBatches(writer.store, key, [0, 10], expected);
      const loaded = await reader.store.load(key);
      assert.ok(raced);
      assert.equal(compactor.calls.filter((call) => isSnapshot(call.key)).length > 0, true, 'it compacted');
      const listings = reader.calls.filter((call) => call.command === 'ListObjectsV2Command').length;
      assert.ok(listings >= 2, `the reader listed ${listings} times`);
      assertExactly(loaded, expected, 'load across a compaction');
    } finally {
      await Promise.all([writer.close(), compactor.close(), reader.close()]);
    }
  });

  test('a compaction that fails after writing its snapshot leaves every entry loadable exactly once', async () => {
    for (const failing of ['every delete', 'every second delete']) {
      const prefix = `compaction/${randomUUID()}`;
      const key = newKey();
      const expected: SessionStoreEntry[] = [];
      let deletes = 0;
      const crashing = openStore(prefix, {
        compactAfter: 4,
        hook: async (call) => {
          if (call.command !== 'DeleteObjectCommand') return undefined;
          deletes += 1;
          if (failing === 'every delete' || deletes % 2 === 0)
            throw new Error('simulated crash before delete');
          return undefined;
        },
      });
      try {
        await appendBatches(crashing.store, key, [0, 30], expected);
        assert.ok(crashing.warnings.length >= 5, `${failing}: ${crashing.warnings.length} warnings`);
        assert.match(crashing.warnings[0] ?? '', /compaction failed.*simulated crash/);
      } finally {
        await crashing.close();
      }
      const left = await objectKeys(`${prefix}/`);
      assert.ok(left.filter(isSnapshot).length >= 2, `${failing}: several snapshots left behind`);
      const reader = openStore(prefix, { compactAfter: 0 });
      const healthy = openStore(prefix, { compactAfter: 4 });
      try {
        assertExactly(await reader.store.load(key), expected, `${failing}: after the crashes`);
        // A later compaction cleans up what the failed ones left.
        await appendBatches(healthy.store, key, [30, 34], expected);
        assert.deepEqual(healthy.warnings, []);
        const cleaned = await objectKeys(`${prefix}/`);
        assert.equal(cleaned.filter(isSnapshot).length, 1, `${failing}: one snapshot after cleanup`);
        assert.ok(cleaned.filter(isPart).length <= 2, `${failing}: ${cleaned.filter(isPart).length} parts`);
        assertExactly(await reader.store.load(key), expected, `${failing}: after cleanup`);
      } finally {
        await Promise.all([reader.close(), healthy.close()]);
      }
    }
  });

  test('listSessions, listSessionSummaries, listSubkeys and delete see compacted transcripts', async () => {
    const prefix = `compaction/${randomUUID()}`;
    const key = newKey();
    const long = `subagents/${'x'.repeat(300)}`;
    const { store, close } = openStore(prefix, { compactAfter: 2 });
    try {
      for (let index = 0; index < 6; index += 1) {
        await store.append(key, batch('w', index));
        await store.append({ ...key, subpath: 'subagents/agent-1' }, [{ type: 'x', uuid: `a-${index}` }]);
        await store.append({ ...key, subpath: long }, [{ type: 'x', uuid: `l-${index}` }]);
      }
      const objects = await objectKeys(`${prefix}/`);
      assert.equal(objects.filter(isSnapshot).length, 3, 'a snapshot per transcript');
      const [session] = await store.listSessions(key.projectKey);
      const [summary] = await store.listSessionSummaries(key.projectKey);
      assert.equal(session?.sessionId, key.sessionId);
      assert.equal(summary?.mtime, session?.mtime, 'the summary is current');
      assert.equal(summary?.data.firstPrompt, 'w 0');
      assert.deepEqual((await store.listSubkeys(key)).sort(), ['subagents/agent-1', long].sort());
      assert.equal((await store.load({ ...key, subpath: long }))?.length, 6);

      await store.delete({ ...key, subpath: long });
      assert.deepEqual(await store.listSubkeys(key), ['subagents/agent-1']);
      assert.equal(await store.load({ ...key, subpath: long }), null);
      await store.delete(key);
      assert.deepEqual(await objectKeys(`${prefix}/`), []);
      assert.equal(await store.load(key), null);
      assert.deepEqual(await store.listSessions(key.projectKey), []);
    } finally {
      await close();
    }
  });

  test('a delete by another instance while a compaction runs is not undone by its snapshot', async () => {
    const prefix = `compaction/${randomUUID()}`;
    const key = newKey();
    const deleter = openStore(prefix, { compactAfter: 0 });
    const compacting = openStore(prefix, {
      compactAfter: 3,
      hook: async (call) => {
        if (call.command !== 'PutObjectCommand' || !isSnapshot(call.key)) return undefined;
        // Deleted after the compaction read the transcript, before its snapshot lands.
        await deleter.store.delete(key);
        return undefined;
      },
    });
    try {
      for (let index = 0; index < 3; index += 1) await compacting.store.append(key, batch('w', index));
      assert.deepEqual(compacting.warnings, []);
      assert.deepEqual(await objectKeys(`${prefix}/`), []);
      assert.equal(await deleter.store.load(key), null);
    } finally {
      await Promise.all([deleter.close(), compacting.close()]);
    }
  });

  test('a session written without compaction is compacted at the first append after a load', async () => {
    const prefix = `compaction/${randomUUID()}`;
    const key = newKey();
    const expected: SessionStoreEntry[] = [];
    const plain = openStore(prefix, { compactAfter: 0 });
    const resumed = openStore(prefix, { compactAfter: 8 });
    try {
      await appendBatches(plain.store, key, [0, 20], expected);
      assertExactly(await resumed.store.load(key), expected, 'before');
      await appendBatches(resumed.store, key, [20, 21], expected);
      const objects = await objectKeys(`${prefix}/`);
      assert.equal(objects.filter(isSnapshot).length, 1, 'compacted by its first append');
      assert.ok(objects.filter(isPart).length <= 1, `${objects.filter(isPart).length} parts left`);
      assertExactly(await plain.store.load(key), expected, 'after');
    } finally {
      await Promise.all([plain.close(), resumed.close()]);
    }
  });

  test('bad compaction options are refused with the option named', async () => {
    const url = server().url('compaction/options');
    assert.throws(
      () => createSessionStore(`${url}&compactAfter=ten`),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /compactAfter=ten.*whole number of parts/);
        return true;
      },
    );
    for (const compactAfter of [-1, 2.5, Number.NaN]) {
      assert.throws(
        () => new S3SessionStore({ bucket: 'b', compactAfter }),
        (error: unknown) => error instanceof ValidationError && error.field === 'compactAfter',
      );
    }
    const client = newClient();
    try {
      assert.throws(
        () => new S3SessionStore({ bucket: 'b', client, endpoint: server().endpoint }),
        (error: unknown) => error instanceof ValidationError && error.field === 'client',
      );
    } finally {
      client.destroy();
    }
  });

  test('a store never destroys the client it was given', async () => {
    const prefix = `compaction/${randomUUID()}`;
    const client = newClient();
    try {
      const store = new S3SessionStore({ bucket: server().bucket, prefix, client });
      await store.append(newKey(), batch('w', 0));
      await store.close();
      await client.send(new DeleteObjectCommand({ Bucket: server().bucket, Key: `${prefix}/none` }));
    } finally {
      client.destroy();
    }
  });
});
