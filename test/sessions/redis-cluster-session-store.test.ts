/**
 * The Redis SessionStore on a real Redis Cluster: three masters started here on free loopback ports
 * (test/support/redis-cluster.ts), the whole conformance suite run against them through a
 * `redis+cluster://` URL, a check that every key of a project lies in one hash slot, and the URL's parsing.
 * Skipped, with the reason printed, when redis-server / redis-cli are not installed.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Cluster } from 'ioredis';
import { ConfigError } from '../../src/core/errors.js';
import { createSessionStore, RedisSessionStore } from '../../src/sessions/index.js';
import { parseRedisClusterUrl } from '../../src/sessions/redis-cluster-url.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';
import {
  type RedisClusterFixture,
  redisClusterUnavailable,
  startRedisCluster,
} from '../support/redis-cluster.js';

const unavailable = await redisClusterUnavailable();
const cluster: RedisClusterFixture | undefined =
  unavailable === undefined ? await startRedisCluster() : undefined;
after(async () => {
  await cluster?.stop();
});

let scratch = 0;
/** A cluster URL under a fresh prefix; the cluster is thrown away after the file, so nothing is cleaned up. */
function scratchUrl(): string {
  scratch += 1;
  return `${cluster?.url ?? ''}?prefix=mneme-cluster-${process.pid}-${scratch}`;
}

sessionStoreSuite({
  name: 'redis',
  capabilities: { multiProcess: true },
  ...(cluster === undefined ? { skip: unavailable ?? 'no cluster' } : {}),
  makeStore: async () => {
    const url = scratchUrl();
    return { store: createSessionStore(url), reopen: () => createSessionStore(url), url };
  },
});

describe('redis session store on a cluster: hash slots', {
  ...(cluster === undefined ? { skip: unavailable } : {}),
}, () => {
  test("all keys of a project (its index, every session's keys, subpath transcripts) share one slot", async () => {
    const url = scratchUrl();
    const store = createSessionStore(url) as RedisSessionStore;
    const admin = new Cluster((cluster?.ports ?? []).map((port) => ({ host: '127.0.0.1', port })));
    try {
      const entry = (text: string) => ({
        type: 'user',
        uuid: crypto.randomUUID(),
        message: { content: text },
      });
      for (const sessionId of ['s-1', 'S-2', 'sess:3']) {
        await store.append({ projectKey: 'Proj/A', sessionId }, [entry('hello'), entry('again')]);
        await store.append({ projectKey: 'Proj/A', sessionId, subpath: 'subagents/agent-1' }, [entry('sub')]);
      }
      await store.append({ projectKey: 'other', sessionId: 's-1' }, [entry('elsewhere')]);
      const keys: string[] = [];
      for (const node of admin.nodes('master')) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${store.prefix}:*`, 'COUNT', 500);
          cursor = next;
          keys.push(...found);
        } while (cursor !== '0');
      }
      const projectKeys = keys.filter((key) => !key.includes('{other}'));
      // 1 index + per session: summary, main list, main seen, subkeys, sub list, sub seen.
      assert.equal(projectKeys.length, 1 + 3 * 6, keys.join('\n'));
      const slots = new Set(
        await Promise.all(projectKeys.map(async (key) => Number(await admin.cluster('KEYSLOT', key)))),
      );
      assert.equal(slots.size, 1, `keys of one project in slots ${[...slots].join(', ')}`);
      assert.ok(
        keys.some((key) => key.includes('{other}')),
        'the other project is stored too',
      );
      await store.delete({ projectKey: 'Proj/A', sessionId: 's-1' });
      assert.equal((await store.listSessions('Proj/A')).length, 2);
      assert.equal(
        (await store.listSessionSummaries('Proj/A'))
          .map((summary) => summary.sessionId)
          .sort()
          .join(','),
        'S-2,sess:3',
      );
    } finally {
      await store.close();
      await admin.quit();
    }
  });
});

describe('redis+cluster:// URLs', () => {
  test('seed nodes, credentials, TLS and ?prefix= are read; a port defaults to 6379', () => {
    assert.deepEqual(parseRedisClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002/?prefix=app'), {
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
      prefix: 'app',
    });
    assert.deepEqual(parseRedisClusterUrl('rediss+cluster://me:p%40ss@h:1/0'), {
      nodes: [{ host: 'h', port: 1 }],
      tls: true,
      username: 'me',
      password: 'p@ss',
    });
    const store = createSessionStore('redis+cluster://h:1,h:2?prefix=app');
    assert.ok(store instanceof RedisSessionStore);
    assert.equal(store.prefix, 'app');
    assert.equal((createSessionStore('REDIS+CLUSTER://h:1') as RedisSessionStore).prefix, 'mneme');
  });

  test('a database, an unknown option, a missing host or a braced prefix is a ConfigError, password hidden', () => {
    for (const [url, problem] of [
      ['redis+cluster://:hunter2@h:1/3', /only database 0/],
      ['redis+cluster://h:1/?prefix=a&db=2', /unknown parameter "db"/],
      ['redis+cluster:///?prefix=a', /no host/],
      ['redis+cluster://h:1,:2/', /is not a host:port/],
      ['redis+cluster://h:1,h:x/', /is not a host:port/],
    ] as const) {
      assert.throws(
        () => createSessionStore(url),
        (error: unknown) =>
          error instanceof ConfigError && problem.test(error.message) && !error.message.includes('hunter2'),
        url,
      );
    }
    assert.throws(() => createSessionStore('redis+cluster://h:1/?prefix=a{b}'), ConfigError);
    assert.throws(() => new RedisSessionStore({ url: 'redis+cluster://h:1/', prefix: 'x}' }), ConfigError);
  });
});
