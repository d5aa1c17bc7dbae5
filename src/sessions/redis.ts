/**
 * Redis SessionStore (ioredis). Keys, with `P` the prefix (`?prefix=`, default `mneme`) and `p`, `s`, `t` the
 * encoded project key, session id and subpath (`encodeKeyPart`: no `:` inside, so keys never collide):
 * ```
 * P:sessions:p            ZSET  sessionId -> mtime (sessions with a main transcript)
 * P:summary:p:s           STRING the summary data (JSON)
 * P:main:p:s / P:main-seen:p:s        LIST of entry JSON / SET of its uuids
 * P:sub:p:s:t / P:sub-seen:p:s:t      the same for a subpath transcript
 * P:subkeys:p:s           SET of encoded subpaths
 * ```
 * Appends are Lua scripts, atomic on the server: uuids are added to the seen set and only new entries pushed.
 * A main append first reads the session's mtime, summary and which uuids are known (one script), folds the
 * summary in Node, then writes with a second script that checks the mtime is unchanged (compare-and-set) and
 * stamps the new mtime from the Redis clock (`TIME`); on a conflict with another writer it rereads and retries.
 * Durability is the server's (AOF / RDB configuration).
 *
 * Redis Cluster (`redis+cluster://host:port,host:port/?prefix=`, see `redis-cluster-url.ts`): the same keys
 * with the encoded project key wrapped in a hash tag, `P:sessions:{p}`, `P:main:{p}:s`... Every key a command or
 * script touches (a session's keys and its project's index) then lies in one slot, the slot of `{p}`, so the
 * scripts and MGET stay atomic single-slot operations; the cost is that one project lives on one master. The
 * prefix may not contain `{` or `}` there (it would take the tag). Single-node keys carry no tag, so data written
 * by earlier versions stays readable; moving data between the two layouts means renaming its keys.
 */
import { createHash } from 'node:crypto';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { ConfigError, StoreError } from '../core/errors.js';
import type { AppendBatch } from './append.js';
import { LazyConnection } from './connection.js';
import { type SessionMtime, type SessionOfProject, SessionStoreFrame } from './frame.js';
import { importOptional, KeyedMutex, sleep } from './internal.js';
import { decodeKeyPart, encodeKeyPart, entryUuid, newEntryIndexes } from './keys.js';
import { isRedisClusterUrl, parseRedisClusterUrl, type RedisClusterUrl } from './redis-cluster-url.js';
import { parseStoredSummary, toSummaryEntry } from './summaries.js';
import type { SessionKey, SessionStoreEntry, SessionSummaryEntry } from './types.js';
import { redactUrlText, splitConnectionUrl } from './urls.js';

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /**
   * `redis://[:password@]host:port/db` (or `rediss://`); a `prefix` query parameter is read and removed.
   * A Redis Cluster: `redis+cluster://[:password@]host:port,host:port/` (or `rediss+cluster://`), seed nodes.
   */
  url: string;
  /** Key prefix. URL `?prefix=`. @default 'mneme' */
  prefix?: string;
}

/** Reads, atomically, what a main append needs: the session's mtime, its summary, which uuids are known. */
const READ_MAIN = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local summary = redis.call('GET', KEYS[2])
local known = {}
for i = 2, #ARGV do known[i - 1] = redis.call('SISMEMBER', KEYS[3], ARGV[i]) end
return {score, summary, known}
`;

/** Compare-and-set main append: -1 when another writer changed the session since READ_MAIN, else the new mtime. */
const WRITE_MAIN = `
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return -1 end
local clock = redis.call('TIME')
local mtime = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if current and mtime <= tonumber(current) then mtime = tonumber(current) + 1 end
for i = 4, #ARGV, 2 do
  if ARGV[i] == '' or redis.call('SADD', KEYS[4], ARGV[i]) == 1 then redis.call('RPUSH', KEYS[3], ARGV[i + 1]) end
end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], mtime, ARGV[1])
return mtime
`;

/** Subpath append: dedup by uuid and push, atomically; registers the subpath. Returns how many were added. */
const WRITE_SUB = `
local added = 0
for i = 2, #ARGV, 2 do
  if ARGV[i] == '' or redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    added = added + 1
  end
end
if added > 0 then redis.call('SADD', KEYS[3], ARGV[1]) end
return added
`;

/** Deletes a session with its summary and every subpath transcript. */
const DELETE_SESSION = `
local subpaths = redis.call('SMEMBERS', KEYS[5])
for _, t in ipairs(subpaths) do redis.call('DEL', ARGV[2] .. t, ARGV[3] .. t) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[1], ARGV[1])
return #subpaths
`;

const DELETE_SUB = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`;

/** A single Redis server or a cluster: the commands this store sends are the same on both. */
type RedisClient = Redis | Cluster;

/** Redis keys may be long: names are never shortened, so every one decodes back. */
const UNLIMITED = Number.POSITIVE_INFINITY;

/** A main append retries this many times when other writers keep changing the session under it. */
const MAX_CONFLICTS = 200;

/** The Redis-backed SessionStore. Create it with `createSessionStore('redis://host:6379/0?prefix=app')` or directly. */
export class RedisSessionStore extends SessionStoreFrame<'redis'> {
  readonly prefix: string;
  readonly #url: string;
  /** Set for a Redis Cluster URL: the seed nodes and their credentials. */
  readonly #cluster: RedisClusterUrl | undefined;
  readonly #mutex = new KeyedMutex();
  readonly #client: LazyConnection<RedisClient>;

  constructor(options: RedisSessionStoreOptions) {
    super('redis', { multiProcess: true });
    let redacted: string;
    if (isRedisClusterUrl(options.url)) {
      this.#cluster = parseRedisClusterUrl(options.url);
      this.#url = options.url;
      redacted = redactUrlText(options.url);
      this.prefix = options.prefix ?? this.#cluster.prefix ?? 'mneme';
      if (/[{}]/.test(this.prefix)) {
        throw new ConfigError(
          `redis session store: the prefix ${JSON.stringify(this.prefix)} contains { or }, which on a Redis ` +
            "Cluster would take the place of the store's hash tag; choose a prefix without braces",
        );
      }
    } else {
      const connection = splitConnectionUrl(options.url, 'prefix');
      this.#url = connection.url;
      redacted = connection.redacted;
      this.prefix = options.prefix ?? connection.value ?? 'mneme';
    }
    this.#client = new LazyConnection({
      backend: 'redis',
      operation: `connect to ${redacted}`,
      open: () => this.#openClient(),
      dispose: async (redis) => {
        await redis.quit();
      },
    });
  }

  protected override async writeEntries(key: SessionKey, batch: AppendBatch): Promise<void> {
    const { entries, lines, fold } = batch;
    const redis = await this.#client.get();
    const keys = this.#keys(key);
    const pairs = (indexes: number[]): string[] =>
      indexes.flatMap((index) => [
        entryUuid(entries[index] as SessionStoreEntry) ?? '',
        lines[index] as string,
      ]);
    if (fold === undefined) {
      const all = newEntryIndexes(entries, () => false);
      await this.#eval(redis, WRITE_SUB, [keys.list, keys.seen, keys.subkeys], [keys.subpath, ...pairs(all)]);
      return;
    }
    await this.#mutex.run(keys.list, async () => {
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
        const uuids = entries.map(entryUuid).filter((uuid) => uuid !== undefined);
        const [score, summary, known] = (await this.#eval(
          redis,
          READ_MAIN,
          [keys.index, keys.summary, keys.seen],
          [key.sessionId, ...uuids],
        )) as [string | null, string | null, number[]];
        const knownUuids = new Set(uuids.filter((_, index) => known[index] === 1));
        const indexes = newEntryIndexes(entries, (uuid) => knownUuids.has(uuid));
        if (indexes.length === 0) return;
        const added = indexes.map((index) => entries[index] as SessionStoreEntry);
        // Without its score or its summary key the session has no summary to fold into (as on its first append).
        const previous = parseStoredSummary(summary === null ? null : score, summary, 'redis');
        // The mtime is stamped by the script from the Redis clock; the folded data does not depend on it.
        const folded = fold(previous, key, added, previous?.mtime ?? 0);
        const result = await this.#eval(
          redis,
          WRITE_MAIN,
          [keys.index, keys.summary, keys.list, keys.seen],
          [key.sessionId, score ?? '', JSON.stringify(folded.data), ...pairs(indexes)],
        );
        if (Number(result) !== -1) return;
        await sleep(1 + Math.random() * Math.min(20, attempt * 2));
      }
      throw new StoreError(
        `redis session store: append to session ${JSON.stringify(key.sessionId)} lost ${MAX_CONFLICTS} ` +
          'races with other writers in a row; retry',
        { retryable: true, code: 'store_conflict' },
      );
    });
  }

  protected override async readEntries(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const redis = await this.#client.get();
    const lines = await redis.lrange(this.#keys(key).list, 0, -1);
    return lines.length === 0 ? null : lines.map((line) => JSON.parse(line) as SessionStoreEntry);
  }

  protected override async readSessions(projectKey: string): Promise<SessionMtime[]> {
    const redis = await this.#client.get();
    const flat = await redis.zrange(this.#projectIndex(projectKey), 0, -1, 'WITHSCORES');
    const sessions: SessionMtime[] = [];
    for (let index = 0; index + 1 < flat.length; index += 2) {
      sessions.push({ sessionId: flat[index] as string, mtime: Number(flat[index + 1]) });
    }
    return sessions;
  }

  protected override async readSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const sessions = await this.readSessions(projectKey);
    if (sessions.length === 0) return [];
    const redis = await this.#client.get();
    const summaries = await redis.mget(
      sessions.map((session) => this.#keys({ projectKey, sessionId: session.sessionId }).summary),
    );
    return sessions.flatMap((session, index) => {
      const summary = summaries[index];
      return typeof summary === 'string'
        ? [toSummaryEntry(session.sessionId, session.mtime, summary, 'redis')]
        : [];
    });
  }

  protected override async removeEntries(key: SessionKey): Promise<void> {
    const redis = await this.#client.get();
    const keys = this.#keys(key);
    if (key.subpath === undefined) {
      await this.#eval(
        redis,
        DELETE_SESSION,
        [keys.index, keys.summary, keys.list, keys.seen, keys.subkeys],
        [key.sessionId, keys.subListPrefix, keys.subSeenPrefix],
      );
    } else {
      await this.#eval(redis, DELETE_SUB, [keys.list, keys.seen, keys.subkeys], [keys.subpath]);
    }
  }

  protected override async readSubpaths(session: SessionOfProject): Promise<string[]> {
    const redis = await this.#client.get();
    const names = await redis.smembers(this.#keys(session).subkeys);
    return names.map((name) => {
      const subpath = decodeKeyPart(name);
      if (subpath === undefined) throw new StoreError(`redis session store: undecodable subpath key ${name}`);
      return subpath;
    });
  }

  protected override async releaseEngine(): Promise<void> {
    await this.#client.close();
  }

  #projectIndex(projectKey: string): string {
    return `${this.prefix}:sessions:${this.#project(projectKey)}`;
  }

  /**
   * The encoded project key as it appears in every key; on a cluster, a hash tag (`{p}`: the encoding has no
   * braces and is never empty), so all keys of a project share its slot.
   */
  #project(projectKey: string): string {
    const name = encodeKeyPart(projectKey, UNLIMITED).name;
    return this.#cluster === undefined ? name : `{${name}}`;
  }

  #keys(key: SessionKey) {
    const project = this.#project(key.projectKey);
    const session = `${project}:${encodeKeyPart(key.sessionId, UNLIMITED).name}`;
    const subpath = key.subpath === undefined ? '' : encodeKeyPart(key.subpath, UNLIMITED).name;
    const subListPrefix = `${this.prefix}:sub:${session}:`;
    const subSeenPrefix = `${this.prefix}:sub-seen:${session}:`;
    return {
      index: this.#projectIndex(key.projectKey),
      summary: `${this.prefix}:summary:${session}`,
      subkeys: `${this.prefix}:subkeys:${session}`,
      list: key.subpath === undefined ? `${this.prefix}:main:${session}` : subListPrefix + subpath,
      seen: key.subpath === undefined ? `${this.prefix}:main-seen:${session}` : subSeenPrefix + subpath,
      subpath,
      subListPrefix,
      subSeenPrefix,
    };
  }

  async #openClient(): Promise<RedisClient> {
    const module = await importOptional<{
      Redis: new (url: string, options: RedisOptions) => Redis;
      Cluster: new (nodes: RedisClusterUrl['nodes'], options: ClusterOptions) => Cluster;
    }>('ioredis', 'The Redis session store (redis:// and redis+cluster:// URLs)');
    const nodeOptions: RedisOptions = { maxRetriesPerRequest: 2, connectTimeout: 10_000 };
    const cluster = this.#cluster;
    const redis: RedisClient =
      cluster === undefined
        ? new module.Redis(this.#url, { ...nodeOptions, lazyConnect: true })
        : new module.Cluster(cluster.nodes, {
            lazyConnect: true,
            maxRedirections: 16,
            redisOptions: {
              ...nodeOptions,
              ...(cluster.username === undefined ? {} : { username: cluster.username }),
              ...(cluster.password === undefined ? {} : { password: cluster.password }),
              ...(cluster.tls ? { tls: {} } : {}),
            },
          });
    // Connection errors also reject the command that hit them; the listener keeps ioredis from reporting them
    // as unhandled and keeps the first cause of a failed connect (ioredis rejects with "Connection is closed").
    let connectError: unknown;
    redis.on('error', (error: unknown) => {
      connectError ??= error;
    });
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw connectError ?? error;
    }
    return redis;
  }

  /** EVALSHA with a fallback to EVAL when the server does not have the script cached yet. */
  async #eval(redis: RedisClient, script: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = createHash('sha1').update(script).digest('hex');
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error;
      return await redis.eval(script, keys.length, ...keys, ...args);
    }
  }
}
