/**
 * Key management over HTTP, for admin keys only (403 for app keys):
 *
 * | method | path | operation |
 * |---|---|---|
 * | GET | `/admin/keys` | `{ keys: [...] }` (ids, apps, dates; never secrets or hashes) |
 * | POST | `/admin/keys` | `{ "appId": "...", "admin"?: false }` -> 201 `{ key, ...info }`: the key is shown once |
 * | DELETE | `/admin/keys/{id}` | revoke |
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { requireAdmin } from '../auth.js';
import type { KeyStore } from '../keys.js';
import type { AppEnv } from '../request.js';
import { route, routesTagged } from '../route-spec.js';
import { ApiKey, flag, text } from '../schemas/components.js';

const admin = routesTagged('admin');

/** The admin routes' table. */
export const ADMIN_ROUTES = {
  list: admin('get', '/admin/keys', 'List API keys (admin key only)', z.object({ keys: z.array(ApiKey) })),
  create: admin(
    'post',
    '/admin/keys',
    'Create an API key; the key is in this response only (admin key only)',
    ApiKey.extend({ key: z.string() }),
    { status: 201, body: z.strictObject({ appId: text().nullish(), admin: flag.nullish() }) },
  ),
  revoke: admin('delete', '/admin/keys/{id}', 'Revoke an API key (admin key only)', ApiKey),
};

/** Registers the `/admin/keys` routes on `app`. */
export function registerAdminRoutes(app: Hono<AppEnv>, keys: KeyStore): void {
  // Before any validation: an app key learns nothing about these routes' inputs.
  app.use('/admin/*', async (c, next) => {
    requireAdmin(c);
    await next();
  });
  route(app, ADMIN_ROUTES.list, async (c) => c.json({ keys: await keys.list() }));

  route(app, ADMIN_ROUTES.create, async (c, { body }) => {
    const { appId } = body;
    const created = await keys.create({
      admin: body.admin ?? false,
      ...(typeof appId === 'string' ? { appId } : {}),
    });
    return c.json({ key: created.key, ...created.info }, 201);
  });

  route(app, ADMIN_ROUTES.revoke, async (c) => {
    return c.json(await keys.revoke(c.req.param('id') ?? ''));
  });
}
