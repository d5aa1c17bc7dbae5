/**
 * Redis Cluster URLs of the Redis SessionStore. ioredis has no URL form for a cluster (its `Cluster` takes a list
 * of seed nodes), and WHATWG `URL` rejects a host list, so the store reads this form itself:
 * ```
 * redis+cluster://[[username]:password@]host:port[,host:port...][/][?prefix=name]
 * rediss+cluster://...                                           (TLS to every node)
 * ```
 * The hosts are seed nodes: any reachable master or replica, the client discovers the rest (`CLUSTER SLOTS`).
 * A port defaults to 6379; a path other than `/` or `/0` is refused (a cluster has only database 0), and so is
 * any query parameter but `prefix`, so a misspelt option never goes unnoticed. The credentials apply to every node.
 */
import { ConfigError } from '../core/errors.js';
import { redactUrlText } from './urls.js';

/** The URL schemes of a Redis Cluster SessionStore. */
export const REDIS_CLUSTER_SCHEMES = ['redis+cluster', 'rediss+cluster'] as const;

/** A parsed {@link REDIS_CLUSTER_SCHEMES} URL. */
export interface RedisClusterUrl {
  /** The seed nodes, in URL order. */
  nodes: Array<{ host: string; port: number }>;
  /** Sent to every node (`AUTH username password`); omitted when the URL has none. */
  username?: string;
  password?: string;
  /** `rediss+cluster://`: TLS to every node. */
  tls: boolean;
  /** The `?prefix=` parameter, when given. */
  prefix?: string;
}

/** True when `url` uses one of {@link REDIS_CLUSTER_SCHEMES}. */
export function isRedisClusterUrl(url: string): boolean {
  const scheme = url.slice(0, Math.max(0, url.indexOf('://'))).toLowerCase();
  return (REDIS_CLUSTER_SCHEMES as readonly string[]).includes(scheme);
}

/**
 * Parses a Redis Cluster URL (see the module comment).
 * @throws ConfigError naming the URL (password redacted) and what is wrong with it.
 */
export function parseRedisClusterUrl(url: string): RedisClusterUrl {
  const schemeEnd = url.indexOf('://');
  const scheme = url.slice(0, Math.max(0, schemeEnd)).toLowerCase();
  const fail = (problem: string): never => {
    throw new ConfigError(`invalid Redis Cluster URL ${JSON.stringify(redactUrlText(url))}: ${problem}`);
  };
  if (!(REDIS_CLUSTER_SCHEMES as readonly string[]).includes(scheme)) {
    fail(`expected ${REDIS_CLUSTER_SCHEMES.map((known) => `${known}://`).join(' or ')}`);
  }
  const rest = url.slice(schemeEnd + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at);
  const hostList = authority.slice(at + 1);
  if (hostList === '') fail('no host: list the seed nodes as host:port,host:port');
  const nodes = hostList.split(',').map((hostPort) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(`redis://${hostPort}`);
    } catch {
      // reported below
    }
    if (parsed === undefined || parsed.hostname === '' || parsed.pathname !== '' || parsed.username !== '') {
      return fail(`${JSON.stringify(hostPort)} is not a host:port`);
    }
    return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 6379) };
  });
  const parsedTail = new URL(`redis://host${tail}`);
  if (parsedTail.pathname !== '' && parsedTail.pathname !== '/' && parsedTail.pathname !== '/0') {
    fail(`path ${JSON.stringify(parsedTail.pathname)}: a Redis Cluster has only database 0`);
  }
  if (parsedTail.hash !== '') fail('a fragment (#...) means nothing here');
  const unknown = [...parsedTail.searchParams.keys()].filter((name) => name !== 'prefix');
  if (unknown.length > 0) fail(`unknown parameter ${JSON.stringify(unknown[0])}: only ?prefix= is read`);
  const prefix = parsedTail.searchParams.get('prefix');
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
  return {
    nodes,
    tls: scheme === 'rediss+cluster',
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
    ...(prefix === null ? {} : { prefix }),
  };
}
