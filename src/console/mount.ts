/**
 * Mounts the memory console on mneme's HTTP app (createApp's `mounts`), before authentication: the page and its
 * assets are public, everything they show comes from the authenticated REST API.
 *
 * | method | path | |
 * |---|---|---|
 * | GET | `/` | redirects to `/console/` (and `/favicon.ico` is an empty 204) |
 * | GET | `/console/`, `/console/app.js`, `/console/app.css` | the page and its assets, built by `npm run build` into `dist/console-ui/` |
 * | POST | `/console/login` | `{ token }` (a one-time login token of `mneme console`) -> `{ key, appId?, allApps }`; 401 otherwise |
 *
 * Every console response carries a Content-Security-Policy that allows only this origin's script and style (no
 * inline script, no eval, no plugins, no framing), a second wall behind the page's own rule of inserting stored
 * text only as text.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../server/request.js';
import type { ConsoleSessions } from './sessions.js';

/** Where `npm run build` writes the browser bundle (the same place from src/ under tsx and from dist/). */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../dist/console-ui/', import.meta.url));

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Options of {@link createConsoleMount}. */
export interface ConsoleMountOptions {
  /** One-time login (`mneme console`); without it the page asks for an API key. */
  sessions?: ConsoleSessions;
  /** @default {@link CONSOLE_ASSETS_DIR} */
  assetsDir?: string;
}

/** The mount function to pass to `createApp({ mounts: [...] })`. */
export function createConsoleMount(options: ConsoleMountOptions = {}): (app: Hono<AppEnv>) => void {
  const directory = options.assetsDir ?? CONSOLE_ASSETS_DIR;
  const assets = new Map<string, string>();
  for (const name of Object.keys(ASSETS)) {
    try {
      assets.set(name, readFileSync(`${directory}/${name}`, 'utf8'));
    } catch {
      // Reported per request below: the server itself still serves the API.
    }
  }
  const serve = (c: Context<AppEnv>, name: string) => {
    const body = assets.get(name);
    if (body === undefined) {
      return c.text(
        `the memory console is not built (${directory}${name} is missing): run \`npm run build\``,
        503,
        SECURITY_HEADERS,
      );
    }
    return c.body(body, 200, { ...SECURITY_HEADERS, 'content-type': ASSETS[name] ?? 'text/plain' });
  };

  return (app) => {
    app.get('/', (c) => c.redirect('/console/', 302));
    app.get('/favicon.ico', (c) => c.body(null, 204, SECURITY_HEADERS));
    // The app is not strict about trailing slashes: this serves `/console` too (the page's links are absolute).
    app.get('/console', (c) => serve(c, 'index.html'));
    for (const name of Object.keys(ASSETS)) app.get(`/console/${name}`, (c) => serve(c, name));
    app.post('/console/login', async (c) => {
      const body = (await c.req.json().catch(() => null)) as { token?: unknown } | null;
      const session = options.sessions?.redeem(body?.token) ?? null;
      if (!session) {
        return c.json(
          {
            error: {
              code: 'unauthorized',
              message:
                'this login link is used, expired or unknown: run `mneme console` again for a new one, ' +
                'or sign in with an API key',
              field: 'token',
            },
          },
          401,
          SECURITY_HEADERS,
        );
      }
      const { principal } = session;
      return c.json(
        {
          key: session.key,
          allApps: principal.allApps === true,
          ...(principal.appId !== undefined ? { appId: principal.appId } : {}),
        },
        200,
        SECURITY_HEADERS,
      );
    });
  };
}
