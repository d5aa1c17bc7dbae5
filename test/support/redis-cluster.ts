/**
 * A real three-master Redis Cluster on loopback for tests: three `redis-server --cluster-enabled yes` processes on
 * free ports (each port and its cluster bus port, port + 10000, checked free) in a temp dir, joined with
 * `redis-cli --cluster create`, and waited for until every node reports `cluster_state:ok`. No persistence.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, isFree } from './ports.js';

const run = promisify(execFile);

/** A running cluster and how to stop it. */
export interface RedisClusterFixture {
  /** The node ports, all masters. */
  ports: number[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/` */
  url: string;
  /** Kills the servers and removes their directory. */
  stop: () => Promise<void>;
}

/** Why a cluster cannot be started here (a missing binary), or undefined when it can. */
export async function redisClusterUnavailable(): Promise<string | undefined> {
  for (const binary of ['redis-server', 'redis-cli']) {
    try {
      await run(binary, ['--version']);
    } catch {
      return `${binary} not found on PATH: install Redis 7 (e.g. apt-get install redis-server) to run this test`;
    }
  }
  return undefined;
}

/** Starts a three-master cluster; see the module comment. */
export async function startRedisCluster(): Promise<RedisClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mneme-redis-cluster-'));
  const servers: ChildProcess[] = [];
  // A test process that dies without running its `after` hooks must not leave servers behind.
  const killAll = (): void => {
    for (const server of servers) server.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killAll);
    await Promise.all(servers.map(kill));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await freePort();
      if (port + 10_000 < 65_536 && !ports.includes(port) && (await isFree(port + 10_000))) ports.push(port);
    }
    for (const port of ports) {
      const server = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
        ],
        { stdio: 'ignore' },
      );
      servers.push(server);
    }
    for (const port of ports) await waitFor(port, 'PING', (reply) => reply === 'PONG');
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await waitFor(port, 'CLUSTER INFO', (reply) => reply.includes('cluster_state:ok'));
    }
    return { ports, url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}/`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `redis-cli -p port command` until `done(reply)`, for up to 20 s. */
async function waitFor(port: number, command: string, done: (reply: string) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = (await run('redis-cli', ['-p', String(port), ...command.split(' ')])).stdout.trim();
      if (done(last)) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis node ${port}: ${command} never succeeded; last reply: ${last}`);
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
