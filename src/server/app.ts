/**
 * Builds mneme's HTTP app (Hono): no port is bound here (see listen.ts), so tests call `app.request(...)`
 * in-process.
 *
 * - Public: `GET /health` (liveness and the store's name) and `GET /openapi.json` (the API description).
 * - Everything else needs an API key (auth.ts) and is confined to the key's app (request.ts).
 * - Native routes (routes/native.ts), Mem0-compatible routes (routes/mem0.ts), key admin (routes/admin.ts), each
 *   described once in a route table (route-spec.ts, routes/*-schemas.ts) that validates its requests and is the
 *   OpenAPI document (openapi.ts).
 * - Errors become `{ error: { code, message, field? } }` with the status from errors.ts; bodies over
 *   `limits.maxBodyBytes` are a 413 naming `body`.
 * - One structured log line per request (`msg: "request"`, method, path, status, durationMs, keyId, appId,
 *   requestId) through the Logger seam at `info` (5xx at `error`). Bodies, queries and memory text are never
 *   logged. Every response carries `x-request-id` (the caller's, when it sent a sane one).
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createConsoleLogger, describeError, type Logger } from '../core/logger.js';
import type { Memory } from '../memory/memory.js';
import { requireApiKey } from './auth.js';
import { type ErrorBody, toErrorResponse } from './errors.js';
import type { KeyStore } from './keys.js';
import { buildOpenApiDocument } from './openapi.js';
import { type AppEnv, DEFAULT_SERVER_LIMITS, type ServerLimits } from './request.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerConsoleRoutes } from './routes/console.js';
import { registerMem0Routes } from './routes/mem0.js';
import { registerMem0UnsupportedRoutes } from './routes/mem0-unsupported.js';
import { registerNativeRoutes } from './routes/native.js';
import { registerPublicRoutes } from './routes/public.js';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The memory every route serves (each request sees only its key's app of it). */
  memory: Memory;
  /** Where API keys are verified (and managed by `/admin/keys`). */
  keys: KeyStore;
  /** Receives request logs and server faults. @default JSON lines on stderr at `info` */
  logger?: Logger;
  /** Body size and batch limits. @default {@link DEFAULT_SERVER_LIMITS} */
  limits?: Partial<ServerLimits>;
  /** Public routes mounted before authentication, e.g. the memory console (src/console/mount.ts). */
  mounts?: ReadonlyArray<(app: Hono<AppEnv>) => void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Creates the Hono app. */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const logger = options.logger ?? createConsoleLogger('info');
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const services = { memory: options.memory, limits };
  // strict: false so Mem0's trailing-slash paths and their slash-less forms both match.
  const app = new Hono<AppEnv>({ strict: false });

  app.use('*', async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    await next();
    c.header('x-request-id', requestId);
    const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
    const status = c.res.status;
    const fields = {
      requestId,
      method: c.req.method,
      // The path as sent (c.req.path drops the trailing slash in non-strict mode).
      path: new URL(c.req.url).pathname,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...(principal
        ? { keyId: principal.keyId, ...(principal.appId ? { appId: principal.appId } : {}) }
        : {}),
    };
    if (status >= 500) logger.error('request', fields);
    else logger.info('request', fields);
  });

  app.use(
    '*',
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: (c) =>
        c.json<ErrorBody>(
          {
            error: {
              code: 'payload_too_large',
              message: `the body is larger than ${limits.maxBodyBytes} bytes; split the request`,
              field: 'body',
            },
          },
          413,
        ),
    }),
  );

  app.onError((error, c) => {
    const response = toErrorResponse(error);
    if (response.serverFault) {
      logger.error('request failed', {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        ...describeError(error),
        ...(error.cause !== undefined ? { cause: describeError(error.cause) } : {}),
      });
    }
    if (response.retryAfter !== undefined) c.header('retry-after', String(response.retryAfter));
    return c.json(response.body, response.status);
  });

  app.notFound((c) =>
    c.json<ErrorBody>(
      {
        error: {
          code: 'route_not_found',
          message: `no route ${c.req.method} ${new URL(c.req.url).pathname}; see GET /openapi.json`,
        },
      },
      404,
    ),
  );

  registerPublicRoutes(app, {
    storeName: options.memory.store.name,
    document: buildOpenApiDocument({ limits }),
  });

  for (const mount of options.mounts ?? []) mount(app);

  app.use('*', requireApiKey(options.keys));
  registerConsoleRoutes(app, services);
  registerNativeRoutes(app, services);
  registerMem0Routes(app, services);
  registerMem0UnsupportedRoutes(app);
  registerAdminRoutes(app, options.keys);
  return app;
}
