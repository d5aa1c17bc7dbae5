/** The public routes (no key): liveness and the API description. */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../request.js';
import { route, routesTagged } from '../route-spec.js';

const health = routesTagged('health');

/** The public routes' table. */
export const PUBLIC_ROUTES = {
  health: health(
    'get',
    '/health',
    'Liveness: 200 while the server runs',
    z.object({ status: z.literal('ok'), store: z.string() }),
    { auth: false },
  ),
  openapi: health('get', '/openapi.json', 'This document', z.record(z.string(), z.unknown()), {
    auth: false,
  }),
};

/** Registers the public routes (before the key check): `storeName` for /health, the OpenAPI `document`. */
export function registerPublicRoutes(
  app: Hono<AppEnv>,
  options: { storeName: string; document: Record<string, unknown> },
): void {
  route(app, PUBLIC_ROUTES.health, (c) => c.json({ status: 'ok', store: options.storeName }));
  route(app, PUBLIC_ROUTES.openapi, (c) => c.json(options.document));
}
