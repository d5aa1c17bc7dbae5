/**
 * The file SessionStore: the shared conformance suite, plus what only a file store has: torn-line repair after a
 * crash, a real crash (SIGKILL) in the middle of appends, lock recovery and lock timeouts, corruption reporting,
 * the fsync policy, and containment of every write under the root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, StoreError } from '../../src/core/errors.js';
import { FileSessionStore } from '../../src/sessions/file.js';
import { createSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';

async function sandbox(): Promise<{ dir: string; root: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mneme-file-sessions-'));
  return { dir, root: join(dir, 'root'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every path under `root`, relative to it. */
async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map((entry) => String(entry));
}

sessionStoreSuite({
  name: 'file',
  capabilities: { multiProcess: true },
  makeStore: async () => {
    const { dir, root, cleanup } = await sandbox();
    const url = pathToFileURL(root).href;
    return {
      store: createSessionStore(url),
      reopen: () => createSessionStore(url),
      url,
      variants: [{ label: 'root URL ending in /', open: () => createSessionStore(`${url}/`) }],
      assertContained: async () => {
        assert.deepEqual(await readdir(dir), ['root'], 'nothing written beside the root');
        for (const path of await walk(root)) {
          for (const segment of path.split('/')) {
            assert.match(segment, /^[a-z0-9_^%~.-]+$/, `safe name ${segment}`);
            assert.ok(segment !== '..' && segment !== '.', `no traversal segment in ${path}`);
          }
        }
      },
      cleanup,
    };
  },
});

const key = { projectKey: '-work-app', sessionId: '0b5d3c8e-1a2b-4c3d-8e9f-001122334455' };
const mainFile = (root: string): string => join(root, '-work-app', key.sessionId, 'main.jsonl');
const line = (uuid: string): string => `${JSON.stringify({ type: 'user', uuid })}\n`;

describe('file session store specifics', () => {
  test('a torn last line (crash mid-write) is never returned and is repaired by the next append', async () => {
    const { root, cleanup } = await sandbox();
    const store = new FileSessionStore({ root });
    try {
      await store.append(key, [{ type: 'user', uuid: 'u1' }]);
      await appendFile(mainFile(root), '{"type":"user","uuid":"u2","message":"cut sh');
      assert.deepEqual(await store.load(key), [{ type: 'user', uuid: 'u1' }]);
      // A fresh instance (a restarted process) must repair the file before appending after it.
      const restarted = new FileSessionStore({ root });
      await restarted.append(key, [{ type: 'user', uuid: 'u2' }]);
      await restarted.close();
      assert.equal(await readFile(mainFile(root), 'utf8'), line('u1') + line('u2'));
      assert.deepEqual(await store.load(key), [
        { type: 'user', uuid: 'u1' },
        { type: 'user', uuid: 'u2' },
      ]);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  test('a process killed (SIGKILL) while appending leaves a loadable file and a breakable lock', async () => {
    const { root, cleanup } = await sandbox();
    const url = pathToFileURL(root).href;
    const script = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', script, url, key.projectKey, key.sessionId], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // Kill it once it reports having appended a few batches, in the middle of later ones.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('batch 3')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`crash writer exited early with ${code}`)));
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      const store = new FileSessionStore({ root, lockTimeoutMs: 5_000 });
      try {
        const before = (await store.load(key)) ?? [];
        assert.ok(before.length >= 3 * 200, `${before.length} entries survived`);
        // The dead writer may still "hold" the lock: it must be broken, not waited out.
        const started = performance.now();
        await store.append(key, [{ type: 'user', uuid: 'after-crash' }]);
        assert.ok(performance.now() - started < 4_000, 'the stale lock was broken quickly');
        const after = (await store.load(key)) ?? [];
        assert.equal(after.length, before.length + 1);
        assert.equal(after.at(-1)?.uuid, 'after-crash');
        const text = await readFile(mainFile(root), 'utf8');
        assert.ok(text.endsWith('\n'));
        for (const each of text.slice(0, -1).split('\n')) JSON.parse(each);
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });

  test('a lock held by a live process makes appends wait, then fail with a retryable StoreError', async () => {
    const { root, cleanup } = await sandbox();
    const store = new FileSessionStore({ root, lockTimeoutMs: 300 });
    try {
      await store.append(key, [{ type: 'user', uuid: 'u1' }]);
      const lock = join(root, '-work-app', key.sessionId, '.lock');
      const owner = { pid: process.pid, host: hostname(), token: randomUUID(), at: Date.now() };
      await writeFile(lock, JSON.stringify(owner), { flag: 'wx' });
      await assert.rejects(
        () => store.append(key, [{ type: 'user', uuid: 'u2' }]),
        (error: unknown) => error instanceof StoreError && error.retryable && /lock/.test(error.message),
      );
      await rm(lock);
      await store.append(key, [{ type: 'user', uuid: 'u2' }]);
      assert.equal((await store.load(key))?.length, 2);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  test('a corrupt line in the middle (edited outside mneme) is reported, not skipped', async () => {
    const { root, cleanup } = await sandbox();
    const store = new FileSessionStore({ root });
    try {
      await store.append(key, [{ type: 'user', uuid: 'u1' }]);
      await appendFile(mainFile(root), `not json\n${line('u3')}`);
      await assert.rejects(
        () => store.load(key),
        (error: unknown) => error instanceof StoreError && /line 2/.test(error.message),
      );
    } finally {
      await store.close();
      await cleanup();
    }
  });

  test('fsync policy comes from the option or ?fsync=, and both policies store the same data', async () => {
    const { root, cleanup } = await sandbox();
    try {
      assert.throws(() => createSessionStore(`${pathToFileURL(root).href}?fsync=sometimes`), ConfigError);
      for (const url of [
        `${pathToFileURL(root).href}?fsync=never`,
        `${pathToFileURL(root).href}?fsync=always`,
      ]) {
        const store = createSessionStore(url);
        const sessionId = randomUUID();
        await store.append({ projectKey: 'p', sessionId }, [{ type: 'user', uuid: 'u' }]);
        assert.deepEqual(await store.load({ projectKey: 'p', sessionId }), [{ type: 'user', uuid: 'u' }]);
        await store.close();
      }
      const relativeStore = createSessionStore(`file://./${relative(process.cwd(), root)}`);
      assert.equal((relativeStore as FileSessionStore).root, root);
      await relativeStore.close();
    } finally {
      await cleanup();
    }
  });
});
