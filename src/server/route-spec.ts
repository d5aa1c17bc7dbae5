/**
 * One route, described once: method, path, query and body schemas (zod), the success response, a summary and
 * whether it needs a key. The same description registers the route on the app ({@link route}: the request is
 * validated before the handler runs) and becomes its entry in the OpenAPI document (openapi.ts), so the two
 * cannot drift. The route tables are routes/*-schemas.ts; openapi.ts's ROUTE_TABLE lists them all.
 *
 * Validation failures are {@link ValidationError}s (422) naming the field as a dotted path (`messages[0].role`,
 * `memories[1].memory_id`) with the schema's message; a body field a strict schema does not know is
 * `unknown field; expected some of ...`. Malformed JSON and non-object bodies stay 400 (request.ts).
 */
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { type AppEnv, readJsonObject } from './request.js';

/** HTTP methods of the route table, lower-case as in OpenAPI. */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One route of the table. */
export interface RouteSpec<Query extends z.ZodType = z.ZodType, Body extends z.ZodType = z.ZodType> {
  method: Method;
  /** OpenAPI form (`{id}` parameters); Mem0 paths end in the slash their clients send (both forms match). */
  path: string;
  tag: 'health' | 'native' | 'mem0' | 'admin';
  summary: string;
  /** False for the public routes. @default true */
  auth?: false;
  /** The query parameters, an object schema (a property each). */
  query?: Query;
  /** The JSON body, an object schema. */
  body?: Body;
  /** An empty body reads as `{}` (otherwise 400). @default false */
  emptyBody?: boolean;
  /** The success status and schema. */
  response: { status: number; schema: z.ZodType; contentType?: string };
}

/** What a handler receives: the validated query and body (`{}` when the route has none). */
export interface RouteInput<Query extends z.ZodType, Body extends z.ZodType> {
  query: z.output<Query>;
  body: z.output<Body>;
}

/** The optional parts of a route, for {@link routesTagged}. */
export interface RouteParts<Query extends z.ZodType, Body extends z.ZodType> {
  query?: Query;
  body?: Body;
  emptyBody?: boolean;
  auth?: false;
  /** @default 200 */
  status?: number;
  contentType?: string;
}

/**
 * A builder of the routes of one tag: `native('get', '/api/memories/{id}', 'Get one memory', Memory)` is the
 * route with that method, path, summary and 200 response; `parts` adds the query, the body and the rest.
 */
export function routesTagged(tag: RouteSpec['tag']) {
  return <Query extends z.ZodType = z.ZodType, Body extends z.ZodType = z.ZodType>(
    method: Method,
    path: string,
    summary: string,
    response: z.ZodType,
    parts: RouteParts<Query, Body> = {},
  ): RouteSpec<Query, Body> => {
    const { status, contentType, ...rest } = parts;
    return {
      method,
      path,
      tag,
      summary,
      ...rest,
      response: { status: status ?? 200, schema: response, ...(contentType ? { contentType } : {}) },
    };
  };
}

/** The path in Hono's form: `:param`, no trailing slash (the app is not strict, so both forms match). */
export function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1').replace(/(.)\/$/, '$1');
}

/** Registers `spec` on `app`: the body (then the query) is validated, then `handler` runs. */
export function route<Query extends z.ZodType, Body extends z.ZodType>(
  app: Hono<AppEnv>,
  spec: RouteSpec<Query, Body>,
  handler: (c: Context<AppEnv>, input: RouteInput<Query, Body>) => Response | Promise<Response>,
): void {
  app.on(spec.method.toUpperCase(), honoPath(spec.path), async (c) => {
    const body = spec.body
      ? validate(spec.body, await readJsonObject(c, { allowEmpty: spec.emptyBody ?? false }))
      : {};
    const query = spec.query ? validate(spec.query, c.req.query()) : {};
    return handler(c, { query, body } as RouteInput<Query, Body>);
  });
}

/** Parses `value` with `schema`; the first problem becomes a ValidationError naming its field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value, { error: defaultMessage });
  if (result.success) return result.data;
  const issue = innermost(result.error.issues[0]);
  if (issue === undefined) throw new ValidationError('body', 'invalid request');
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys' && issue.path.length === 0 && 'shape' in schema) {
    message = `unknown field; expected some of ${Object.keys(schema.shape as object).join(', ')}`;
  } else if (valueAt(value, path) === undefined || valueAt(value, path) === null) {
    message = `required: ${message.replace(/^expected /, '')}`;
  }
  throw new ValidationError(fieldOf(path), message);
}

/**
 * The issue to report: inside a union, the one branch whose type matched (a list of messages whose first
 * message has a bad role reports `messages[0].role`, not "expected a string or a list").
 */
function innermost(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== 'invalid_union') return issue;
  const matched = issue.errors.filter((branch) =>
    branch.some((inner) => inner.path.length > 0 || inner.code !== 'invalid_type'),
  );
  const inner = matched.length === 1 ? innermost(matched[0]?.[0]) : undefined;
  return inner ? { ...inner, path: [...issue.path, ...inner.path] } : issue;
}

function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  return undefined;
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function fieldOf(path: PropertyKey[]): string {
  let field = '';
  for (const part of path) {
    field += typeof part === 'number' ? `[${part}]` : `${field === '' ? '' : '.'}${String(part)}`;
  }
  return field === '' ? 'body' : field;
}
