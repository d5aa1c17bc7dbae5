/**
 * A private, throw-away PostgreSQL cluster for tests that must restart or stop the server (the shared one on
 * 127.0.0.1:5432 serves other tests and must never be touched). {@link startPrivatePostgres}:
 * - finds the server binaries (`pg_config --bindir`, else the highest `/usr/lib/postgresql/<major>/bin`) and
 *   checks pgvector is installed for them;
 * - `initdb` (trust auth, user `postgres`, UTF8) in a fresh temp dir, small settings (`max_connections` 40,
 *   `shared_buffers` 16MB), listening on a free port of 127.0.0.1 only, its Unix socket in the temp dir;
 * - `pg_ctl start -w`, then `CREATE EXTENSION vector` in database `postgres` (pgvector lives in the system extension
 *   dirs, so any cluster of that major has it).
 * PostgreSQL refuses to run as root: as root, every `initdb`/`pg_ctl` runs as the `postgres` OS user
 * (`runuser -u postgres --`) and the temp dir is chowned to it. {@link PrivatePostgres.restart} is what
 * `pg_ctlcluster <major> <name> restart` does: `pg_ctl restart -m fast` (sessions terminated, checkpoint, start).
 * A test process that exits without stopping the cluster stops it (`-m immediate`) on its way out.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** A running private cluster. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  url: string;
  port: number;
  /** `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`. */
  version: string;
  /**
   * `pg_ctl restart -m fast -w`: terminates every session, checkpoints, starts again and waits until the server
   * accepts connections. With `downMs`, a longer outage: `pg_ctl stop -m fast`, `downMs` with no server, then
   * `pg_ctl start`. Resolves with how long it took, in ms. @throws (rejects) when pg_ctl fails.
   */
  restart(options?: { downMs?: number }): Promise<number>;
  /** Stops the server (`-m fast`) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** How to run the server's programs here. */
interface Toolchain {
  bindir: string;
  /** Prefix for every command: `['runuser', '-u', 'postgres', '--']` as root, else none. */
  asUser: string[];
  /** uid and gid that must own the data directory (root only). */
  owner: { uid: number; gid: number } | undefined;
}

let toolchain: Promise<Toolchain | string> | undefined;

/** Why no private cluster can be started here (no binaries, no pgvector, root without a postgres user), or undefined. */
export async function privatePostgresUnavailable(): Promise<string | undefined> {
  const found = await findToolchain();
  return typeof found === 'string' ? found : undefined;
}

function findToolchain(): Promise<Toolchain | string> {
  toolchain ??= detect();
  return toolchain;
}

async function detect(): Promise<Toolchain | string> {
  const candidates = [await pgConfig('--bindir').catch(() => undefined), ...installedBindirs()];
  const bindir = candidates.find(
    (dir) => dir !== undefined && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  );
  if (bindir === undefined) {
    return 'no PostgreSQL server binaries (initdb, pg_ctl) found via pg_config or under /usr/lib/postgresql';
  }
  const major = /^\/usr\/lib\/postgresql\/(\d+)\/bin$/.exec(bindir)?.[1];
  const sharedirs = [
    major === undefined ? undefined : `/usr/share/postgresql/${major}`,
    await pgConfig('--sharedir').catch(() => undefined),
  ];
  if (!sharedirs.some((dir) => dir !== undefined && existsSync(join(dir, 'extension', 'vector.control')))) {
    return `pgvector is not installed for ${bindir} (no extension/vector.control in its share directory)`;
  }
  if (process.getuid?.() !== 0) return { bindir, asUser: [], owner: undefined };
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await run('runuser', ['-u', 'postgres', '--', 'true']);
    return { bindir, asUser: ['runuser', '-u', 'postgres', '--'], owner: { uid, gid } };
  } catch (error) {
    return `running as root, and PostgreSQL refuses root: needs an OS user "postgres" and runuser (${String(error)})`;
  }
}

async function pgConfig(flag: string): Promise<string> {
  return (await run('pg_config', [flag])).stdout.trim();
}

/** `/usr/lib/postgresql/<major>/bin` of every installed major, highest first (Debian's layout). */
function installedBindirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(root, major, 'bin'));
}

/** Starts a private cluster; see the module comment. @throws (rejects) with the reason when it cannot. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const tools = await findToolchain();
  if (typeof tools === 'string') throw new Error(tools);
  const dir = await mkdtemp(join(tmpdir(), 'mneme-private-pg-'));
  if (tools.owner) await chown(dir, tools.owner.uid, tools.owner.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const program = (name: string, args: string[]): Promise<{ stdout: string }> => {
    const [command = '', ...rest] = [...tools.asUser, join(tools.bindir, name), ...args];
    return run(command, rest, { cwd: dir, timeout: 120_000 });
  };
  const pgCtl = (args: string[]): Promise<{ stdout: string }> =>
    program('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '90', ...args]);
  let running = false;
  // A test process that dies without its `after` hooks must not leave a server behind.
  const stopOnExit = (): void => {
    if (!running) return;
    const [command = '', ...rest] = [
      ...tools.asUser,
      join(tools.bindir, 'pg_ctl'),
      '-D',
      data,
      'stop',
      '-m',
      'immediate',
    ];
    try {
      execFileSync(command, rest, { cwd: dir, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Nothing more can be done while exiting.
    }
  };
  process.once('exit', stopOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', stopOnExit);
    if (running) {
      running = false;
      // A start that failed half-way may have left no server: nothing to stop then.
      await pgCtl(['stop', '-m', 'fast'])
        .catch(() => pgCtl(['stop', '-m', 'immediate']))
        .catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await program('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    const port = await freePort();
    await appendFile(
      join(data, 'postgresql.conf'),
      [
        '',
        '# mneme test cluster (test/support/private-postgres.ts)',
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'max_connections = 40',
        'shared_buffers = 16MB',
        "log_min_messages = 'warning'",
        '',
      ].join('\n'),
    );
    running = true;
    await pgCtl(['start']);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let version = '';
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      version = String((await client.query("SELECT current_setting('server_version') AS v")).rows[0]?.v);
    } finally {
      await client.end();
    }
    return {
      url,
      port,
      version,
      async restart(options = {}) {
        const started = Date.now();
        if (options.downMs === undefined) {
          await pgCtl(['restart', '-m', 'fast']);
        } else {
          await pgCtl(['stop', '-m', 'fast']);
          await delay(options.downMs);
          await pgCtl(['start']);
        }
        return Date.now() - started;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
