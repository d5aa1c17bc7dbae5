/**
 * The OpenAPI 3.1 document served at `GET /openapi.json`, generated from the route table ({@link ROUTE_TABLE}:
 * the same specs that register and validate the routes, route-spec.ts) with zod's own JSON Schema output
 * (`z.toJSONSchema`). Named schemas (schemas/components.ts) become `#/components/schemas/<name>`; a test checks
 * that the table and the app's registered routes are the same set.
 */
import { z } from 'zod';
import { LIMITS } from '../core/validate.js';
import type { ServerLimits } from './request.js';
import { honoPath, type RouteSpec } from './route-spec.js';
import { ADMIN_ROUTES } from './routes/admin.js';
import { CONSOLE_ROUTES } from './routes/console-schemas.js';
import { MEM0_ROUTES } from './routes/mem0-schemas.js';
import { MEM0_UNSUPPORTED_SPECS } from './routes/mem0-unsupported.js';
import { NATIVE_ROUTES } from './routes/native-schemas.js';
import { PUBLIC_ROUTES } from './routes/public.js';
import { COMPONENTS } from './schemas/components.js';

type JsonSchema = Record<string, unknown>;

/** Every route the app serves, in the document's order. */
export const ROUTE_TABLE: readonly RouteSpec[] = [
  ...Object.values(PUBLIC_ROUTES),
  ...Object.values(NATIVE_ROUTES),
  ...Object.values(CONSOLE_ROUTES),
  ...Object.values(MEM0_ROUTES),
  ...MEM0_UNSUPPORTED_SPECS,
  ...Object.values(ADMIN_ROUTES),
];

/** The (method, path) pairs the document describes, in Hono's form (`:param`, no trailing slash). */
export function documentedRoutes(): Array<{ method: string; path: string }> {
  return ROUTE_TABLE.map((route) => ({ method: route.method.toUpperCase(), path: honoPath(route.path) }));
}

const COMPONENT_PREFIX = '#/components/schemas/';

/** The JSON Schemas of the components and of every route's query, body and response, in one conversion. */
function convertSchemas(): { components: Record<string, JsonSchema>; of: (schema: z.ZodType) => JsonSchema } {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  for (const [id, schema] of COMPONENTS) {
    registry.add(schema, { id });
    names.set(schema, id);
  }
  for (const route of ROUTE_TABLE) {
    for (const schema of [route.query, route.body, route.response.schema]) {
      if (schema && !names.has(schema)) {
        const id = `route ${names.size}`;
        registry.add(schema, { id });
        names.set(schema, id);
      }
    }
  }
  const converted = z.toJSONSchema(registry, {
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
    // Query parameters are read through a number/boolean preprocessor: document what the handler receives.
    io: 'output',
    unrepresentable: 'any',
  }).schemas as Record<string, JsonSchema>;
  for (const schema of Object.values(converted)) {
    delete schema.$schema;
    delete schema.$id;
  }
  const components = Object.fromEntries([...COMPONENTS.keys()].map((id) => [id, converted[id] ?? {}]));
  return {
    components,
    of: (schema) => {
      const id = names.get(schema) ?? '';
      return COMPONENTS.has(id) ? { $ref: `${COMPONENT_PREFIX}${id}` } : (converted[id] ?? {});
    },
  };
}

/** A query object's properties as OpenAPI parameters. */
function queryParameters(schema: JsonSchema): JsonSchema[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    // A query parameter is never null: drop the `null` branch the shared (body) field types allow.
    const branches = Array.isArray(rest.anyOf) ? (rest.anyOf as JsonSchema[]) : [];
    const nonNull = branches.filter((branch) => branch.type !== 'null');
    return {
      name,
      in: 'query',
      required: required.includes(name),
      schema: nonNull.length === 1 && branches.length === 2 ? nonNull[0] : rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

function errorResponse(description: string): JsonSchema {
  return { description, content: { 'application/json': { schema: { $ref: `${COMPONENT_PREFIX}Error` } } } };
}

function operationOf(
  route: RouteSpec,
  of: (schema: z.ZodType) => JsonSchema,
  limits: ServerLimits,
): JsonSchema {
  const pathParameters = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const parameters = [...pathParameters, ...(route.query ? queryParameters(of(route.query)) : [])];
  const errors: JsonSchema = {
    '400': errorResponse('Malformed JSON'),
    '404': errorResponse('Not found (also for ids of another app)'),
    '413': errorResponse(`Body over ${limits.maxBodyBytes} bytes`),
    '422': errorResponse('Invalid input; `error.field` names it'),
  };
  if (route.auth !== false) {
    errors['401'] = errorResponse('Missing, invalid or revoked API key');
    errors['403'] = errorResponse('Names another app, scope keys in metadata, or needs an admin key');
  }
  const { status, schema, contentType } = route.response;
  return {
    tags: [route.tag],
    summary: route.summary,
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`,
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.emptyBody !== true,
            content: { 'application/json': { schema: of(route.body) } },
          },
        }
      : {}),
    responses: {
      [String(status)]: {
        description: status < 400 ? 'Success' : 'Not implemented',
        content: { [contentType ?? 'application/json']: { schema: of(schema) } },
      },
      ...errors,
    },
    ...(route.auth === false ? { security: [] } : {}),
  };
}

/** Builds the document. */
export function buildOpenApiDocument(options: { limits: ServerLimits }): Record<string, unknown> {
  const { components, of } = convertSchemas();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTE_TABLE) {
    paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route, of, options.limits) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mneme',
      version: '0.1.0',
      description:
        'Persistent, per-user memory for AI agents. Every authenticated route is confined to the app its API key ' +
        `is bound to. Limits: body ${options.limits.maxBodyBytes} bytes, memory text ${LIMITS.memoryTextLength} ` +
        `characters, ${LIMITS.messagesPerAdd} messages per add, ${options.limits.maxBatchSize} items per batch.`,
    },
    security: [{ apiKey: [] }],
    tags: [
      { name: 'health', description: 'Public' },
      { name: 'native', description: "mneme's JSON API (camelCase, mirrors the TypeScript API)" },
      { name: 'mem0', description: 'The routes the official mem0ai MemoryClient calls (snake_case)' },
      { name: 'admin', description: 'Key management with an admin key' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            '"Token <key>" (Mem0 style) or "Bearer <key>"; create keys with `mneme keys create --app APP`',
        },
      },
      schemas: components,
    },
  };
}
