/**
 * The Mem0 platform routes the official clients (`mem0ai` 2.x / 3.x for JavaScript, `MemoryClient` 1.x / 2.x for
 * Python) can call but mneme does not provide. Each answers 501 `not_implemented` with a message naming the feature
 * and what to use instead, after the key check: never a 200 that pretends, and never a bare 404 that looks like a
 * wrong host. The OpenAPI document lists them from this same table ({@link MEM0_UNSUPPORTED_SPECS}).
 */
import type { Hono } from 'hono';
import { notImplemented } from '../errors.js';
import type { AppEnv } from '../request.js';
import { type Method, type RouteSpec, route, routesTagged } from '../route-spec.js';
import { ErrorBody } from '../schemas/components.js';

/** One unsupported route. */
export interface UnsupportedRoute {
  method: Method;
  /** OpenAPI form (`{param}`), with the trailing slash the clients send (both forms match). */
  path: string;
  /** The feature, as the error message names it. */
  feature: string;
  /** What to use instead (or why there is nothing). */
  instead: string;
}

const WEBHOOKS = 'there are no webhooks; poll GET /v1/event/{event_id}/ for a queued add';
const PROJECT =
  "a key's app is its project; org and project settings do not exist (create keys with `mneme keys`)";
const EXPORT = 'use GET /api/export (JSON lines with history) or `mneme export`';
const PROFILE = "use GET /v1/users/{user_id}/profile/ (mneme's profile, always current)";

const mem0 = routesTagged('mem0');

/** Every unsupported route, by the client method that calls it. */
export const MEM0_UNSUPPORTED_ROUTES: readonly UnsupportedRoute[] = [
  // getWebhooks / createWebhook / updateWebhook / deleteWebhook
  { method: 'get', path: '/api/v1/webhooks/projects/{project_id}/', feature: 'Webhooks', instead: WEBHOOKS },
  { method: 'post', path: '/api/v1/webhooks/projects/{project_id}/', feature: 'Webhooks', instead: WEBHOOKS },
  { method: 'put', path: '/api/v1/webhooks/{webhook_id}/', feature: 'Webhooks', instead: WEBHOOKS },
  { method: 'delete', path: '/api/v1/webhooks/{webhook_id}/', feature: 'Webhooks', instead: WEBHOOKS },
  // getProject / updateProject, and the Python client's project and member admin
  ...(['get', 'patch', 'delete'] as const).map((method) => ({
    method,
    path: '/api/v1/orgs/organizations/{org_id}/projects/{project_id}/',
    feature: 'Organization and project admin',
    instead: PROJECT,
  })),
  ...(['get', 'post'] as const).map((method) => ({
    method,
    path: '/api/v1/orgs/organizations/{org_id}/projects/',
    feature: 'Organization and project admin',
    instead: PROJECT,
  })),
  ...(['get', 'post', 'put', 'delete'] as const).map((method) => ({
    method,
    path: '/api/v1/orgs/organizations/{org_id}/projects/{project_id}/members/',
    feature: 'Organization and project admin',
    instead: PROJECT,
  })),
  // createMemoryExport / getMemoryExport / get_summary
  { method: 'post', path: '/v1/exports/', feature: 'Memory export jobs', instead: EXPORT },
  { method: 'post', path: '/v1/exports/get/', feature: 'Memory export jobs', instead: EXPORT },
  { method: 'post', path: '/v1/summary/', feature: 'Export summaries', instead: EXPORT },
  // feedback
  {
    method: 'post',
    path: '/v1/feedback/',
    feature: 'Memory feedback',
    instead: 'correct a memory with PUT /v1/memories/{memory_id}/ or delete it',
  },
  // getProfile / generateProfile / sampleProfiles / getProfileJob / getProfileSettings / updateProfileSettings
  { method: 'get', path: '/v2/entities/{type}/{name}/profile/', feature: 'Mem0 profiles', instead: PROFILE },
  { method: 'post', path: '/v2/profiles/jobs/', feature: 'Profile generation jobs', instead: PROFILE },
  {
    method: 'get',
    path: '/v2/profiles/jobs/{job_id}/',
    feature: 'Profile generation jobs',
    instead: PROFILE,
  },
  { method: 'get', path: '/v2/profiles/settings/', feature: 'Profile settings', instead: PROFILE },
  { method: 'post', path: '/v2/profiles/settings/', feature: 'Profile settings', instead: PROFILE },
];

/** An unsupported route as an entry of the route table: it answers 501 with an error body. */
function specOf(unsupported: UnsupportedRoute): RouteSpec {
  const summary = `Mem0, not provided (501): ${unsupported.feature}; ${unsupported.instead}`;
  return mem0(unsupported.method, unsupported.path, summary, ErrorBody, { status: 501 });
}

/** The route table's entries of the unsupported routes. */
export const MEM0_UNSUPPORTED_SPECS: readonly RouteSpec[] = MEM0_UNSUPPORTED_ROUTES.map(specOf);

/** Registers the 501 routes (behind the key check, like every Mem0 route). */
export function registerMem0UnsupportedRoutes(app: Hono<AppEnv>): void {
  for (const unsupported of MEM0_UNSUPPORTED_ROUTES) {
    route(app, specOf(unsupported), () => {
      throw notImplemented(unsupported.feature, unsupported.instead);
    });
  }
}
