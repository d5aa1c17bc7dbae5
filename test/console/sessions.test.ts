/** One-time login tokens and session keys of `mneme console` (src/console/sessions.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createConsoleSessions } from '../../src/console/sessions.js';
import { createFileKeyStore } from '../../src/server/keys.js';

test('a login token works once, before it expires; the session key verifies until it expires', async () => {
  let now = 1_000_000;
  const sessions = createConsoleSessions({
    principal: { keyId: 'console-session', admin: false, allApps: true },
    loginTtlMs: 1000,
    sessionTtlMs: 5000,
    now: () => now,
  });
  const base = createFileKeyStore({
    path: join(mkdtempSync(join(tmpdir(), 'mneme-sessions-')), 'keys.json'),
  });
  const appKey = (await base.create({ appId: 'acme' })).key;
  const keys = sessions.keyStore(base);

  const token = sessions.issueLoginToken();
  const session = sessions.redeem(token);
  assert.ok(session);
  assert.equal(sessions.redeem(token), null, 'spent');
  assert.deepEqual(await keys.verify(session.key), { keyId: 'console-session', admin: false, allApps: true });
  assert.equal((await keys.verify(appKey))?.appId, 'acme', 'file keys still verify');
  assert.equal(await keys.verify(`${session.key}x`), null);
  assert.equal(sessions.redeem('not-a-token'), null);
  assert.equal(sessions.redeem(42), null);

  const late = sessions.issueLoginToken();
  now += 1001;
  assert.equal(sessions.redeem(late), null, 'expired');
  now += 5000;
  assert.equal(await keys.verify(session.key), null, 'the session expired');
});
