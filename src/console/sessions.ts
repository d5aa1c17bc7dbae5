/**
 * Login for the memory console started by `mneme console`: a one-time link instead of typing a key.
 *
 * `issueLoginToken()` makes a random token (256 bits) that is valid once, for `loginTtlMs`; the printed link
 * carries it in the URL fragment (`/console/#login=TOKEN`), which browsers never send to a server or put in a
 * Referer, so it stays out of request logs. The page posts it to `POST /console/login` and gets a session key
 * in exchange. The session key is an API key held only in this process's memory (never in the keys file) whose
 * principal is the one the sessions were created with: by default every app's memories (`allApps`), as the
 * library sees the store, or one app (`mneme console --app APP`). The browser sends it as
 * `Authorization: Bearer <key>` to the same REST API any client uses.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyStore, Principal } from '../server/keys.js';

/** Options of {@link createConsoleSessions}. */
export interface ConsoleSessionOptions {
  /** What every session may reach. */
  principal: Principal;
  /** How long a login token stays valid. @default 600000 (10 minutes) */
  loginTtlMs?: number;
  /** How long a session key stays valid after login. @default 43200000 (12 hours) */
  sessionTtlMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** One-time login tokens and the session keys they are exchanged for. */
export interface ConsoleSessions {
  /** A new one-time login token. */
  issueLoginToken(): string;
  /** The session key for a valid, unused token (which is then spent); null for anything else. */
  redeem(token: unknown): { key: string; principal: Principal } | null;
  /** `base` plus this process's session keys (checked first, in constant time). */
  keyStore(base: KeyStore): KeyStore;
}

const SESSION_PREFIX = 'mneme_console_';

/** Creates the sessions of one console process. */
export function createConsoleSessions(options: ConsoleSessionOptions): ConsoleSessions {
  const now = options.now ?? Date.now;
  const loginTtlMs = options.loginTtlMs ?? 600_000;
  const sessionTtlMs = options.sessionTtlMs ?? 43_200_000;
  // Both maps hold SHA-256 digests, never the secrets themselves.
  const tokens = new Map<string, number>();
  const sessions = new Map<string, number>();
  const digest = (value: string) => createHash('sha256').update(value).digest('hex');

  const liveIn = (map: Map<string, number>, value: string): string | undefined => {
    const wanted = Buffer.from(digest(value), 'hex');
    let found: string | undefined;
    for (const [hash, expires] of map) {
      if (expires <= now()) {
        map.delete(hash);
        continue;
      }
      if (timingSafeEqual(Buffer.from(hash, 'hex'), wanted)) found = hash;
    }
    return found;
  };

  return {
    issueLoginToken() {
      const token = randomBytes(32).toString('base64url');
      tokens.set(digest(token), now() + loginTtlMs);
      return token;
    },
    redeem(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 200) return null;
      const hash = liveIn(tokens, token);
      if (hash === undefined) return null;
      tokens.delete(hash);
      const key = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
      sessions.set(digest(key), now() + sessionTtlMs);
      return { key, principal: options.principal };
    },
    keyStore(base) {
      return {
        async verify(key) {
          if (typeof key === 'string' && key.startsWith(SESSION_PREFIX)) {
            return liveIn(sessions, key) === undefined ? null : options.principal;
          }
          return base.verify(key);
        },
        create: (createOptions) => base.create(createOptions),
        list: () => base.list(),
        revoke: (id) => base.revoke(id),
      };
    },
  };
}
