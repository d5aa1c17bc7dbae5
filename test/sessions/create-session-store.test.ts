/**
 * `createSessionStore` URL parsing, key encoding (property-tested), lazy optional dependencies, and how
 * unreachable servers surface (a retryable StoreError, never a hang or a silent success).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, MissingDependencyError, StoreError } from '../../src/core/errors.js';
import {
  createSessionStore,
  FileSessionStore,
  PostgresSessionStore,
  RedisSessionStore,
  S3SessionStore,
  SqliteSessionStore,
} from '../../src/sessions/index.js';
import { importOptional, LruMap } from '../../src/sessions/internal.js';
import { decodeKeyPart, encodeKeyPart } from '../../src/sessions/keys.js';

describe('createSessionStore URLs', () => {
  test('file:// and sqlite:// take absolute, relative and home paths and ?fsync=', async () => {
    const absolute = createSessionStore('file:///var/lib/app/sessions%20dir');
    assert.ok(absolute instanceof FileSessionStore);
    assert.equal(absolute.root, '/var/lib/app/sessions dir');
    assert.equal(
      (createSessionStore('file://./data/sessions') as FileSessionStore).root,
      resolve('data/sessions'),
    );
    assert.equal(
      (createSessionStore('file://~/sessions') as FileSessionStore).root,
      join(homedir(), 'sessions'),
    );
    const sqlite = createSessionStore('sqlite:///var/lib/app/sessions.db?fsync=never');
    assert.ok(sqlite instanceof SqliteSessionStore);
    assert.equal(sqlite.path, '/var/lib/app/sessions.db');
    assert.equal((createSessionStore('sqlite://./s.db') as SqliteSessionStore).path, resolve('s.db'));
    assert.throws(() => createSessionStore('sqlite:///x.db?fsync=maybe'), ConfigError);
    const memory = createSessionStore('sqlite::memory:');
    const key = { projectKey: 'p', sessionId: randomUUID() };
    await memory.append(key, [{ type: 'user', uuid: 'u' }]);
    assert.deepEqual(await memory.load(key), [{ type: 'user', uuid: 'u' }]);
    await memory.close();
  });

  test('redis:// reads ?prefix= (default mneme); postgres:// reads ?table= and validates it', () => {
    const redis = createSessionStore('redis://:secret@127.0.0.1:6380/2?prefix=app');
    assert.ok(redis instanceof RedisSessionStore);
    assert.equal(redis.prefix, 'app');
    assert.equal((createSessionStore('rediss://127.0.0.1:6380') as RedisSessionStore).prefix, 'mneme');
    const postgres = createSessionStore('postgres://u@127.0.0.1:5432/db?table=app_sessions');
    assert.ok(postgres instanceof PostgresSessionStore);
    assert.equal(postgres.table, '"app_sessions"');
    assert.equal(
      (createSessionStore('postgresql://u@h/db') as PostgresSessionStore).table,
      '"mneme_sessions"',
    );
    assert.equal(
      (createSessionStore('postgres://u@h/db?table=tenant_1.sessions') as PostgresSessionStore).table,
      '"tenant_1"."sessions"',
    );
    for (const table of ['x;drop table users', 'a.b.c', '1abc', 'x'.repeat(49), 'quote"d', '']) {
      assert.throws(
        () => createSessionStore(`postgres://u@h/db?table=${encodeURIComponent(table)}`),
        (error: unknown) => error instanceof ConfigError && /table/.test(error.message),
        table,
      );
    }
  });

  test('s3:// gives bucket, prefix, endpoint and region', () => {
    const s3 = createSessionStore(
      's3://my-bucket/some/prefix/?endpoint=http%3A%2F%2F127.0.0.1%3A4569&region=eu-west-1',
    );
    assert.ok(s3 instanceof S3SessionStore);
    assert.equal(s3.bucket, 'my-bucket');
    assert.equal(s3.prefix, 'some/prefix/');
    assert.equal((createSessionStore('s3://b') as S3SessionStore).prefix, '');
    const prefixes: Array<[string, string]> = [
      ['s3://b/sess/', 'sess/'],
      ['s3://b/sess', 'sess/'],
      ['s3://b//deep//sess//', 'deep/sess/'],
      ['s3://b/', ''],
    ];
    for (const [url, prefix] of prefixes) {
      assert.equal((createSessionStore(url) as S3SessionStore).prefix, prefix, url);
    }
    for (const prefix of ['a/../b', './a', '..']) {
      assert.throws(
        () => new S3SessionStore({ bucket: 'b', prefix }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(JSON.stringify(prefix)),
        prefix,
      );
    }
  });

  test('unknown schemes and non-URLs are a ConfigError listing the accepted schemes', () => {
    for (const url of ['mongodb://h/db', './sessions', '', 'http://x']) {
      assert.throws(
        () => createSessionStore(url),
        (error: unknown) =>
          error instanceof ConfigError && /file:\/\//.test(error.message) && /s3:\/\//.test(error.message),
        url,
      );
    }
    assert.throws(
      () => createSessionStore('mongodb://user:hunter2@h/db'),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('hunter2'),
    );
  });
});

/** Strings mixing the characters an encoding could trip on with any Unicode scalar value. */
const keyPart = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', 'Z', '^', '%', '%2f', '.', '..', '/', '\\', '~', '-', '_', ':', ' ', '\u0001'),
      fc
        .integer({ min: 1, max: 0x10ffff })
        .filter((code) => code < 0xd800 || code > 0xdfff)
        .map((code) => String.fromCodePoint(code)),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

describe('key encoding', () => {
  test('round-trips every string, uses only lower-case safe characters, and is injective', () => {
    fc.assert(
      fc.property(keyPart, (raw) => {
        const { name, shortened } = encodeKeyPart(raw, Number.POSITIVE_INFINITY);
        assert.equal(shortened, false);
        assert.match(name, /^[a-z0-9_^%-]*$/);
        assert.equal(decodeKeyPart(name) ?? '', raw);
      }),
      { numRuns: 300 },
    );
  });

  test('long parts are shortened with a hash: distinct, bounded, and marked undecodable', () => {
    const first = encodeKeyPart(`${'a'.repeat(300)}1`);
    const second = encodeKeyPart(`${'a'.repeat(300)}2`);
    assert.equal(first.shortened, true);
    assert.notEqual(first.name, second.name);
    assert.ok(first.name.length <= 160);
    assert.equal(decodeKeyPart(first.name), undefined);
    assert.equal(decodeKeyPart('..'), undefined);
    assert.equal(decodeKeyPart('Upper'), undefined);
  });
});

describe('LruMap (the bound on per-transcript caches)', () => {
  test('keeps the most recently used entries up to its limit', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    assert.equal(map.get('a'), 1); // a is now the most recent
    map.set('c', 3);
    assert.equal(map.get('b'), undefined);
    assert.equal(map.get('a'), 1);
    assert.equal(map.get('c'), 3);
    map.deleteWhere((key) => key === 'a');
    assert.equal(map.get('a'), undefined);
  });
});

describe('optional dependencies and unreachable servers', () => {
  test('a missing driver package is a MissingDependencyError that says what to install', async () => {
    await assert.rejects(
      () => importOptional('mneme-no-such-package', 'The test feature'),
      (error: unknown) =>
        error instanceof MissingDependencyError && /npm install mneme-no-such-package/.test(error.message),
    );
  });

  test('an unreachable Redis or PostgreSQL is a retryable StoreError naming the backend', async () => {
    for (const url of ['redis://127.0.0.1:1/0', 'postgres://postgres@127.0.0.1:1/test']) {
      const store = createSessionStore(url);
      try {
        await assert.rejects(
          () => store.load({ projectKey: 'p', sessionId: 's' }),
          (error: unknown) =>
            error instanceof StoreError && error.retryable && error.message.includes(store.name),
          url,
        );
      } finally {
        await store.close();
      }
    }
  });
});
