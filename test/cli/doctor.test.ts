/**
 * `mneme doctor` and the errors users see on a damaged or read-only SQLite store. The CLI runs in-process
 * (`runCli`) except for the read-only case, which spawns the built bin as an unprivileged user when the tests
 * run as root (root ignores file permissions).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { DoctorCheck } from '../../src/cli/commands/doctor.js';
import { runCli } from '../../src/cli/main.js';
import { createMemory } from '../../src/memory/memory.js';
import { MNEME_BIN } from '../support/cli.js';
import { type FakeOpenAIApi, startFakeOpenAIApi } from '../support/fake-openai-api.js';
import { processOutput } from '../support/process.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let api: FakeOpenAIApi;
let dir: string;
let healthy: string;

function embedderEnv(): Record<string, string> {
  return {
    MNEME_EMBEDDER: 'openai-compatible:fake-embedding',
    MNEME_EMBEDDER_BASE_URL: api.baseURL,
    MNEME_EMBEDDER_API_KEY: 'test',
    MNEME_EMBEDDER_DIMENSION: '64',
    MNEME_LLM: 'none',
    MNEME_LOG_LEVEL: 'silent',
  };
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (text) => {
      stdout += `${text}\n`;
    },
    err: (text) => {
      stderr += `${text}\n`;
    },
    env: { ...embedderEnv(), ...env },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

function checksOf(run: Run): { ok: boolean; checks: DoctorCheck[] } {
  return JSON.parse(run.stdout) as { ok: boolean; checks: DoctorCheck[] };
}

function check(run: Run, name: string): DoctorCheck | undefined {
  return checksOf(run).checks.find((item) => item.name === name);
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * A copy of the healthy store in its own directory, without its queued item (any CLI command drains the queue,
 * which would write to the file and blur "a failed add changes nothing").
 */
function copyOfHealthy(name: string): string {
  const target = join(dir, name);
  mkdirSync(target);
  const path = join(target, 'mneme.db');
  copyFileSync(healthy, path);
  const db = new Database(path);
  db.prepare('DELETE FROM queue').run();
  db.close();
  return path;
}

before(async () => {
  api = await startFakeOpenAIApi({ dimension: 64 });
  dir = mkdtempSync(join(tmpdir(), 'mneme-doctor-'));
  healthy = join(dir, 'healthy', 'mneme.db');
  const memory = await createMemory({
    store: `sqlite://${healthy}`,
    embedder: 'openai-compatible:fake-embedding',
    embedderOptions: { baseURL: api.baseURL, apiKey: 'test', dimension: 64 },
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
  for (let index = 0; index < 40; index += 1) {
    await memory.add(`doctor fixture memory ${index} about heron${index}`, { userId: `user-${index % 4}` });
  }
  await memory.enqueue('a queued note about egrets', { userId: 'user-0' });
  // close() would drain the queue: leave the item queued, the way a stopped process does.
  await memory.store.close();
});

after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mneme doctor', () => {
  test('a healthy store passes every check (exit 0) and reports counts and the queue', async () => {
    const run = await cli(['doctor', '--store', `sqlite://${healthy}`, '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const report = checksOf(run);
    assert.equal(report.ok, true);
    for (const name of ['file', 'integrity', 'embedder', 'rows', 'counts', 'queue']) {
      assert.equal(check(run, name)?.status, 'ok', `${name}: ${JSON.stringify(check(run, name))}`);
    }
    assert.match(check(run, 'counts')?.message ?? '', /40 memories, 40 vectors, 40 keyword entries/);
    assert.match(check(run, 'integrity')?.message ?? '', /integrity_check: ok; keyword index: ok/);
    assert.match(check(run, 'queue')?.message ?? '', /^1 item waiting/);

    const text = await cli(['doctor', '--store', `sqlite://${healthy}`]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /ok {4}integrity/);
    assert.match(text.stdout, /All checks passed\./);
  });

  test('a configured embedder that differs from the recorded one fails, naming what to configure', async () => {
    const run = await cli(['doctor', '--store', `sqlite://${healthy}`, '--json'], {
      MNEME_EMBEDDER_DIMENSION: '32',
    });
    assert.equal(run.code, 1);
    const embedder = check(run, 'embedder');
    assert.equal(embedder?.status, 'fail');
    assert.match(embedder?.message ?? '', /written by "openai-compatible:fake-embedding" \(64 dimensions\)/);
    assert.match(embedder?.fix ?? '', /MNEME_EMBEDDER/);
  });

  test('a missing file is a warning, not created by the doctor', async () => {
    const path = join(dir, 'absent', 'mneme.db');
    const run = await cli(['doctor', '--store', `sqlite://${path}`, '--json']);
    assert.equal(run.code, 0);
    assert.equal(check(run, 'file')?.status, 'warn');
    assert.equal(existsSync(path), false);
  });

  test('a damaged page: integrity fails with exit 1 and a fix; an add fails clearly and changes nothing', async () => {
    const path = copyOfHealthy('damaged-page');
    const db = new Database(path, { readonly: true });
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'memories'").get() as {
      rootpage: number;
    };
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, (rootpage - 1) * pageSize);
    closeSync(fd);
    const before = digest(path);

    const run = await cli(['doctor', '--store', `sqlite://${path}`, '--json']);
    assert.equal(run.code, 1, run.stdout);
    const integrity = check(run, 'integrity');
    assert.equal(integrity?.status, 'fail');
    assert.match(integrity?.fix ?? '', /restore a backup|\.recover/);

    const text = await cli(['doctor', '--store', `sqlite://${path}`]);
    assert.match(text.stdout, /FAIL {2}integrity/);
    assert.match(text.stdout, /1 check failed/);

    const add = await cli(['add', '--user', 'alice', '--store', `sqlite://${path}`, 'I like herons']);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /corrupt|malformed/i);
    assert.match(add.stderr, /mneme doctor/);
    assert.equal(digest(path), before, 'a failed add leaves the file as it was');
  });

  test('a clobbered header: "not a database" with exit 1 from doctor and from add', async () => {
    const path = copyOfHealthy('bad-header');
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('this is not sqlite'), 0, 18, 0);
    closeSync(fd);
    const before = digest(path);
    const run = await cli(['doctor', '--store', `sqlite://${path}`, '--json']);
    assert.equal(run.code, 1);
    assert.equal(check(run, 'integrity')?.status, 'fail');
    assert.match(check(run, 'integrity')?.message ?? '', /not a database|cannot be opened|integrity_check/i);

    const add = await cli(['add', '--user', 'alice', '--store', `sqlite://${path}`, 'I like herons']);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /not a valid mneme database or is corrupt/);
    assert.equal(digest(path), before);
  });
});

/** Runs the built bin as `uid` (root ignores permissions, so a read-only file needs another user). */
async function runBinAs(uid: number | undefined, args: string[], cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [MNEME_BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...embedderEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  const { code, stdout, stderr } = await processOutput(child);
  return { code: code ?? -1, stdout, stderr };
}

const BUILT = existsSync(join(MNEME_BIN, '..', '..', 'dist', 'cli', 'commands', 'doctor.js'));

describe('a read-only store', {
  skip: BUILT ? false : 'dist/ is missing or stale: run `npm run build` first (npm test does)',
}, () => {
  // Root ignores file permissions: run the built bin as "nobody" then.
  const uid = process.getuid?.() === 0 ? 65534 : undefined;

  test('read-only file: add fails with a clear message and changes nothing; doctor fails "writable"', async () => {
    const path = copyOfHealthy('read-only-file');
    const storeDir = join(path, '..');
    chmodSync(dir, 0o755);
    chmodSync(storeDir, 0o777);
    chmodSync(path, 0o444);
    const before = digest(path);
    try {
      const add = await runBinAs(
        uid,
        ['add', '--user', 'alice', '--store', `sqlite://${path}`, 'I like herons'],
        storeDir,
      );
      assert.equal(add.code, 1, add.stdout + add.stderr);
      assert.match(add.stderr, /read-only/);
      assert.match(add.stderr, /write access to the file and its directory/);
      assert.equal(digest(path), before);

      const doctor = await runBinAs(uid, ['doctor', '--store', `sqlite://${path}`, '--json'], storeDir);
      assert.equal(doctor.code, 1, doctor.stdout + doctor.stderr);
      assert.equal(check(doctor, 'writable')?.status, 'fail');
      assert.match(check(doctor, 'writable')?.fix ?? '', /write access/);
      assert.equal(check(doctor, 'integrity')?.status, 'ok', 'the file itself is sound');
      assert.equal(check(doctor, 'rows')?.status, 'ok');
    } finally {
      chmodSync(path, 0o644);
      chmodSync(storeDir, 0o755);
    }
  });

  test('read-only directory: add and doctor fail saying the directory must be writable', async () => {
    const path = copyOfHealthy('read-only-directory');
    const storeDir = join(path, '..');
    chmodSync(dir, 0o755);
    chmodSync(path, 0o444);
    chmodSync(storeDir, 0o555);
    const before = digest(path);
    try {
      const add = await runBinAs(
        uid,
        ['add', '--user', 'alice', '--store', `sqlite://${path}`, 'I like herons'],
        storeDir,
      );
      assert.equal(add.code, 1, add.stdout + add.stderr);
      assert.match(add.stderr, /read-only/);
      assert.match(add.stderr, /directory/);
      assert.equal(digest(path), before);

      const doctor = await runBinAs(uid, ['doctor', '--store', `sqlite://${path}`, '--json'], storeDir);
      assert.equal(doctor.code, 1, doctor.stdout + doctor.stderr);
      assert.equal(check(doctor, 'writable')?.status, 'fail');
      assert.equal(check(doctor, 'readable')?.status, 'fail', doctor.stdout);
      assert.match(check(doctor, 'readable')?.fix ?? '', /-shm/);
      assert.equal(check(doctor, 'integrity'), undefined, 'not reported as corruption');
    } finally {
      chmodSync(storeDir, 0o755);
      chmodSync(path, 0o644);
    }
  });
});
