/**
 * What every route shares: the Hono environment (the verified principal, the request id), JSON body reading,
 * and the tenant rules. Field types are checked by the route table (route-spec.ts) before a handler runs. A request is confined to its key's app: it may name that app (or none) and never
 * another, whatever body fields, query parameters, filters or metadata it sends.
 */
import type { Context } from 'hono';
import { ValidationError } from '../core/errors.js';
import { type FilterNode, parseFilter } from '../core/filters.js';
import type { Scope } from '../core/types.js';
import { validateIdentifier, validateScope } from '../core/validate.js';
import { type Memory, ScopedMemory } from '../memory/memory.js';
import { forbidden, HttpError } from './errors.js';
import type { Principal } from './keys.js';

/** Limits the server enforces on top of the library's `LIMITS`. */
export interface ServerLimits {
  /** Largest request body accepted, in bytes (413 beyond). @default 1048576 (1 MiB) */
  maxBodyBytes: number;
  /** Most items in one batch request (`/v1/batch/`), 422 beyond. @default 1000 (Mem0's limit) */
  maxBatchSize: number;
}

/** Defaults of {@link ServerLimits}. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = { maxBodyBytes: 1_048_576, maxBatchSize: 1000 };

/** Per-app-instance services the routes use. */
export interface ServerServices {
  memory: Memory;
  limits: ServerLimits;
}

/** The Hono environment of mneme's app. */
export type AppEnv = {
  Variables: {
    /** Set by the auth middleware on every authenticated route. */
    principal: Principal;
    requestId: string;
  };
};

/** Scope field names as they may appear in requests, with the canonical scope key. */
const SCOPE_FIELD_NAMES: ReadonlyArray<readonly [string, keyof Scope]> = [
  ['user_id', 'userId'],
  ['agent_id', 'agentId'],
  ['run_id', 'runId'],
  ['app_id', 'appId'],
  ['userId', 'userId'],
  ['agentId', 'agentId'],
  ['runId', 'runId'],
  ['appId', 'appId'],
];

/** The app the request's key is bound to. An admin key without an app may not touch memories (403). */
export function tenantOf(c: Context<AppEnv>): string {
  const principal = c.get('principal');
  if (principal.appId === undefined) {
    throw forbidden(
      'authorization',
      'this admin key is not bound to an app; use an app key (`mneme keys create --app APP`) for memory routes',
    );
  }
  return principal.appId;
}

/** The app the request is confined to; undefined for an all-apps principal (see `Principal.allApps`). */
export function appOf(c: Context<AppEnv>): string | undefined {
  return c.get('principal').allApps === true ? undefined : tenantOf(c);
}

/** The memory confined to the request's app (unconfined, like the library, for an all-apps principal). */
export function scopedMemory(c: Context<AppEnv>, memory: Memory): ScopedMemory {
  const app = appOf(c);
  return app === undefined ? new ScopedMemory(memory, {}) : memory.withScope({ appId: app });
}

/** 403 unless `value` is absent or names the request's own app (any app for an all-apps principal). */
export function assertOwnApp(c: Context<AppEnv>, value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') throw new ValidationError(field, 'expected the app id as a string');
  if (c.get('principal').allApps === true) return;
  const app = tenantOf(c);
  if (value !== app) {
    throw forbidden(field, `this API key is bound to app "${app}"; it cannot read or write another app`);
  }
}

/**
 * Checks caller filters for another app before the service sees them: 403 when any condition on the app column
 * names an app other than the key's (even where it could only narrow). Malformed filters are left for the
 * service to reject with 422, so the two kinds of failure stay distinct.
 */
export function assertFiltersStayInApp(c: Context<AppEnv>, filters: unknown, field: string): void {
  if (c.get('principal').allApps === true) return;
  let parsed: FilterNode | undefined;
  try {
    parsed = parseFilter(filters, field);
  } catch (error) {
    if (error instanceof ValidationError) return;
    throw error;
  }
  const app = tenantOf(c);
  const visit = (node: FilterNode): void => {
    if (node.op === 'and' || node.op === 'or') node.children.forEach(visit);
    else if (node.op === 'not') visit(node.child);
    else if (node.op === 'compare' && node.field.kind === 'column' && node.field.name === 'appId') {
      const values = Array.isArray(node.value) ? node.value : [node.value];
      if (values.some((value) => value !== app)) {
        throw forbidden(
          `${field}.app_id`,
          `this API key is bound to app "${app}"; filters cannot name another app`,
        );
      }
    }
  };
  if (parsed) visit(parsed);
}

/**
 * 403 when metadata carries scope keys (`user_id`, `appId`, ...). Metadata never sets or changes a memory's
 * scope in mneme (scope lives in its own columns); refusing such keys makes that visible instead of storing a
 * misleading `user_id` that scope checks ignore (Mem0 issues #6277, #6655).
 */
export function assertNoScopeInMetadata(metadata: unknown, field: string): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return;
  for (const [name] of SCOPE_FIELD_NAMES) {
    if (Object.hasOwn(metadata, name)) {
      throw forbidden(
        `${field}.${name}`,
        'metadata cannot carry scope keys: the scope comes only from the request (user_id, agent_id, run_id) ' +
          "and the API key's app",
      );
    }
  }
}

/**
 * Reads the body as one JSON object. 400 for malformed JSON or a non-object (naming `body`); an empty body is
 * `{}` when `allowEmpty`.
 */
export async function readJsonObject(
  c: Context<AppEnv>,
  options: { allowEmpty?: boolean } = {},
): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (options.allowEmpty) return {};
    throw new HttpError(400, 'invalid_json', 'expected a JSON object body', { field: 'body' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `not valid JSON (${(error as Error).message})`, {
      field: 'body',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'invalid_json', 'expected a JSON object body such as {"query": "..."}', {
      field: 'body',
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * The user / agent / run scope a request names (snake_case or camelCase), validated; `appId` is checked
 * against the key and dropped (the scoped memory adds it), or kept for an all-apps principal.
 */
export function requestScope(c: Context<AppEnv>, source: Record<string, unknown>, fieldPrefix = ''): Scope {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of SCOPE_FIELD_NAMES) {
    const value = source[name];
    if (value === undefined || value === null) continue;
    if (key === 'appId') {
      assertOwnApp(c, value, `${fieldPrefix}${name}`);
      // An all-apps principal narrows by the app it names; an app key's own app is added by scopedMemory.
      if (c.get('principal').allApps !== true) continue;
    }
    const valid = validateIdentifier(value, `${fieldPrefix}${name}`);
    if (raw[key] !== undefined && raw[key] !== valid) {
      throw new ValidationError(`${fieldPrefix}${name}`, `contradicts the ${key} given in the same request`);
    }
    raw[key] = valid;
  }
  return validateScope(raw, { required: false });
}

/**
 * Runs `action`, reporting validation failures under the caller's field names (`top_k` rather than the service's
 * `limit`), so a 422 names the field the client actually sent.
 */
export async function withFieldNames<T>(names: Record<string, string>, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const [from, to] of Object.entries(names)) {
      if (error.field === from || error.field.startsWith(`${from}.`) || error.field.startsWith(`${from}[`)) {
        const prefix = `${error.field}: `;
        const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
        throw new ValidationError(`${to}${error.field.slice(from.length)}`, message, { cause: error });
      }
    }
    throw error;
  }
}

/** Drops undefined fields (exactOptionalPropertyTypes); the service validates the values. */
export function defined<T extends Record<string, unknown>>(
  value: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
