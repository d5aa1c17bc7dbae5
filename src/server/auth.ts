/**
 * Authentication: every route except `/health` and `/openapi.json` needs an API key, sent as
 * `Authorization: Token <key>` (what Mem0's clients send) or `Authorization: Bearer <key>`. A missing,
 * malformed, unknown or revoked key is a 401 with a body saying how to get a key; `/admin/*` routes also need
 * an admin key (403 otherwise).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { AuthError } from '../core/errors.js';
import { forbidden } from './errors.js';
import type { KeyStore } from './keys.js';
import type { AppEnv } from './request.js';

const SCHEME = /^(?:Token|Bearer)\s+(\S+)\s*$/i;

/** Verifies the request's key and stores its principal in `c.var.principal`. */
export function requireApiKey(keys: KeyStore): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined || header.trim() === '') {
      throw new AuthError(
        'missing API key: send the header "Authorization: Token <key>"; create a key with ' +
          '`mneme keys create --app APP`',
      );
    }
    const match = SCHEME.exec(header);
    const key = match?.[1];
    if (key === undefined) {
      throw new AuthError('malformed Authorization header: expected "Token <key>" or "Bearer <key>"');
    }
    const principal = await keys.verify(key);
    if (!principal) {
      throw new AuthError(
        'invalid or revoked API key; check the key, or create one with `mneme keys create --app APP`',
      );
    }
    c.set('principal', principal);
    await next();
  };
}

/** 403 unless the request's key is an admin key. Use after {@link requireApiKey}. */
export function requireAdmin(c: Context<AppEnv>): void {
  if (!c.get('principal').admin) {
    throw forbidden('authorization', 'managing keys needs an admin key (`mneme keys create --admin`)');
  }
}
