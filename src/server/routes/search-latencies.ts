/**
 * The latency of the last searches this process answered, per app, for the console's chart. Kept in memory
 * (at most {@link KEPT} per app, the oldest dropped); a restart starts empty. Only times and status are kept,
 * never the query.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../request.js';

const KEPT = 200;

/** One timed search. */
export interface SearchLatency {
  /** When it finished (ISO 8601). */
  at: string;
  /** The route path as registered, e.g. `/api/memories/search`. */
  route: string;
  status: number;
  durationMs: number;
  appId?: string;
}

/** Records searches (as middleware) and lists them. */
export function createSearchLatencies(): {
  middleware: MiddlewareHandler<AppEnv>;
  /** The app's searches (every app's for `undefined`), oldest first. */
  recent(appId: string | undefined): SearchLatency[];
} {
  const byApp = new Map<string, SearchLatency[]>();
  return {
    middleware: async (c, next) => {
      if (c.req.method !== 'POST') return next();
      const started = performance.now();
      await next();
      const appId = c.get('principal')?.appId;
      const entry: SearchLatency = {
        at: new Date().toISOString(),
        route: c.req.routePath,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...(appId !== undefined ? { appId } : {}),
      };
      const list = byApp.get(appId ?? '') ?? [];
      list.push(entry);
      if (list.length > KEPT) list.shift();
      byApp.set(appId ?? '', list);
    },
    recent(appId) {
      if (appId !== undefined) return [...(byApp.get(appId) ?? [])];
      return [...byApp.values()]
        .flat()
        .sort((left, right) => left.at.localeCompare(right.at))
        .slice(-KEPT);
    },
  };
}
