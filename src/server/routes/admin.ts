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
import { requireAdmin } from '../auth.js';
import type { KeyStore } from '../keys.js';
import {
  type AppEnv,
  optionalBoolean,
  optionalString,
  readJsonObject,
  rejectUnknownFields,
} from '../request.js';

/** Registers the `/admin/keys` routes on `app`. */
export function registerAdminRoutes(app: Hono<AppEnv>, keys: KeyStore): void {
  app.get('/admin/keys', async (c) => {
    requireAdmin(c);
    return c.json({ keys: await keys.list() });
  });

  app.post('/admin/keys', async (c) => {
    requireAdmin(c);
    const body = await readJsonObject(c);
    rejectUnknownFields(body, ['appId', 'admin']);
    const appId = optionalString(body.appId, 'appId');
    const admin = optionalBoolean(body.admin, 'admin') ?? false;
    const created = await keys.create({ admin, ...(appId !== undefined ? { appId } : {}) });
    return c.json({ key: created.key, ...created.info }, 201);
  });

  app.delete('/admin/keys/:id', async (c) => {
    requireAdmin(c);
    return c.json(await keys.revoke(c.req.param('id')));
  });
}
