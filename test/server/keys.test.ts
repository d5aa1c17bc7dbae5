import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import { createFileKeyStore, resolveKeysFile } from '../../src/server/keys.js';

function tempFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'mneme-keys-')), 'nested', 'keys.json');
}

describe('API key store (file)', () => {
  test('creates keys bound to an app, stores only their SHA-256, verifies and revokes them', async () => {
    const path = tempFile();
    const keys = createFileKeyStore({ path });
    const { key, info } = await keys.create({ appId: 'acme' });
    assert.match(key, /^mneme_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(key.slice(6, 22), info.id, 'the public id is part of the key');
    assert.deepEqual(await keys.verify(key), { keyId: info.id, admin: false, appId: 'acme' });

    const file = readFileSync(path, 'utf8');
    assert.ok(!file.includes(key.slice(23)), 'the secret is not in the file');
    assert.equal(statSync(path).mode & 0o777, 0o600);

    assert.equal(await keys.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`), null);
    assert.equal(await keys.verify(`mneme_0000000000000000_${'A'.repeat(43)}`), null);
    assert.equal(await keys.verify(''), null);

    const revoked = await keys.revoke(info.id);
    assert.ok(revoked.revokedAt);
    assert.equal(await keys.verify(key), null);
    await assert.rejects(keys.revoke('ffffffffffffffff'), NotFoundError);
    assert.equal((await keys.list()).length, 1, 'revoked keys stay listed');
  });

  test('an app is required unless the key is an admin key', async () => {
    const keys = createFileKeyStore({ path: tempFile() });
    await assert.rejects(keys.create({}), ValidationError);
    await assert.rejects(keys.create({ appId: ' ' }), ValidationError);
    const admin = await keys.create({ admin: true });
    assert.deepEqual(await keys.verify(admin.key), { keyId: admin.info.id, admin: true });
  });

  test('concurrent writers on one file (two stores, as two processes would be) lose no key', async () => {
    const path = tempFile();
    const first = createFileKeyStore({ path });
    const second = createFileKeyStore({ path });
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        (index % 2 === 0 ? first : second).create({ appId: `app-${index}` }),
      ),
    );
    assert.equal((await first.list()).length, 24);
    for (const { key, info } of created) {
      assert.equal((await second.verify(key))?.appId, info.appId);
    }
  });

  test('a stale lock left by a crashed writer is taken over', async () => {
    const path = tempFile();
    const keys = createFileKeyStore({ path });
    await keys.create({ appId: 'first' });
    writeFileSync(`${path}.lock`, '99999');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    await keys.create({ appId: 'second' });
    assert.equal((await keys.list()).length, 2);
  });

  test('a malformed keys file is a ConfigError naming the file, the flag and the env var', async () => {
    const path = tempFile();
    const keys = createFileKeyStore({ path });
    await keys.create({ appId: 'acme' });
    writeFileSync(path, '{"version": 1, "keys": [{"id": 5}]}');
    await assert.rejects(keys.list(), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /keys\.json/);
      assert.match(error.message, /--keys/);
      assert.match(error.message, /MNEME_KEYS_FILE/);
      return true;
    });
  });

  test('the keys file path: --keys > MNEME_KEYS_FILE > <data dir>/keys.json', () => {
    assert.equal(resolveKeysFile('flag.json', { MNEME_KEYS_FILE: '/env/keys.json' }), resolve('flag.json'));
    assert.equal(resolveKeysFile(undefined, { MNEME_KEYS_FILE: '/env/keys.json' }), '/env/keys.json');
    assert.equal(resolveKeysFile(undefined, { MNEME_HOME: '/data/mneme' }), '/data/mneme/keys.json');
  });
});
