/**
 * The OpenAPI 3.1 document served at `GET /openapi.json`. It is data, built from one route table; a test checks
 * that the table and the app's registered routes are the same set, so the document cannot drift from the server.
 */
import { MEMORY_KINDS } from '../core/types.js';
import { LIMITS } from '../core/validate.js';
import { PROFILE_MAX_TOKENS } from '../memory/profile.js';
import type { ServerLimits } from './request.js';
import { CONSOLE_ROUTES } from './routes/console.js';
import { MEM0_UNSUPPORTED_ROUTES } from './routes/mem0-unsupported.js';

type Schema = Record<string, unknown>;

interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path (`{id}` parameters). */
  path: string;
  tag: 'health' | 'native' | 'mem0' | 'admin';
  summary: string;
  /** False for the public routes. @default true */
  auth?: boolean;
  query?: Array<{ name: string; schema: Schema; description?: string }>;
  body?: Schema;
  /** Success status and schema. */
  response: { status: number; schema: Schema; contentType?: string };
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer', minimum: 1 };
const boolean: Schema = { type: 'boolean' };
const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
});
const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
const message: Schema = object({ message: string });

const scopeProperties = { userId: string, agentId: string, runId: string, appId: string };
const snakeScopeProperties = { user_id: string, agent_id: string, run_id: string, app_id: string };
const readProperties = {
  ...scopeProperties,
  filters: ref('Filters'),
  asOf: { type: 'string', format: 'date-time' },
  includeSuperseded: boolean,
  includeExpired: boolean,
};
const scopeQuery = [
  { name: 'userId', schema: string },
  { name: 'agentId', schema: string },
  { name: 'runId', schema: string },
];
const snakeScopeQuery = [
  { name: 'user_id', schema: string },
  { name: 'agent_id', schema: string },
  { name: 'run_id', schema: string },
  { name: 'app_id', schema: string, description: "must be the key's app; erases the whole app" },
];
const pageQuery = [
  { name: 'page', schema: integer },
  { name: 'page_size', schema: { ...integer, maximum: LIMITS.listLimit } },
];

const outputFormat: Schema = {
  enum: ['v1.1', 'v1.0'],
  description: 'v1.1 (default): { results }; v1.0: a list',
};
const results = (name: string): Schema => object({ results: arrayOf(ref(name)) });
const formatted = (name: string): Schema => ({ oneOf: [results(name), arrayOf(ref(name))] });

const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    tag: 'health',
    summary: 'Liveness: 200 while the server runs',
    auth: false,
    response: { status: 200, schema: object({ status: { const: 'ok' }, store: string }) },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'health',
    summary: 'This document',
    auth: false,
    response: { status: 200, schema: { type: 'object' } },
  },
  {
    method: 'post',
    path: '/api/memories',
    tag: 'native',
    summary: 'Add memories (201), or queue them durably with "async": true (202)',
    body: object(
      {
        ...scopeProperties,
        messages: { oneOf: [string, ref('Message'), arrayOf(ref('Message'))] },
        metadata: ref('Metadata'),
        observedAt: { type: 'string', format: 'date-time' },
        expiresAt: { type: 'string', format: 'date-time' },
        infer: boolean,
        async: boolean,
      },
      ['messages'],
    ),
    response: { status: 201, schema: ref('AddResult') },
  },
  {
    method: 'post',
    path: '/api/memories/search',
    tag: 'native',
    summary: 'Hybrid search with per-signal scores',
    body: object(
      {
        ...readProperties,
        query: { type: 'string', maxLength: LIMITS.queryLength },
        limit: { ...integer, maximum: LIMITS.searchLimit },
        threshold: { type: 'number', minimum: 0, maximum: 1 },
        mode: { enum: ['hybrid', 'dense', 'keyword'] },
      },
      ['query'],
    ),
    response: { status: 200, schema: object({ results: arrayOf(ref('SearchResult')) }) },
  },
  {
    method: 'post',
    path: '/api/memories/list',
    tag: 'native',
    summary: 'List memories, newest first, with filters and an opaque cursor',
    body: object({ ...readProperties, limit: { ...integer, maximum: LIMITS.listLimit }, cursor: string }),
    response: { status: 200, schema: ref('MemoryPage') },
  },
  {
    method: 'get',
    path: '/api/memories',
    tag: 'native',
    summary: 'List memories of a scope',
    query: [...scopeQuery, { name: 'limit', schema: integer }, { name: 'cursor', schema: string }],
    response: { status: 200, schema: ref('MemoryPage') },
  },
  {
    method: 'delete',
    path: '/api/memories',
    tag: 'native',
    summary: 'Erase every memory of a user, agent or run (one of them is required)',
    query: scopeQuery,
    response: { status: 200, schema: object({ deleted: { type: 'integer' } }) },
  },
  {
    method: 'get',
    path: '/api/memories/{id}',
    tag: 'native',
    summary: 'Get one memory',
    response: { status: 200, schema: ref('Memory') },
  },
  {
    method: 'patch',
    path: '/api/memories/{id}',
    tag: 'native',
    summary: 'Change text, metadata and/or kind (scope never changes)',
    body: object({ text: string, metadata: ref('Metadata'), kind: { enum: [...MEMORY_KINDS] } }),
    response: { status: 200, schema: ref('Memory') },
  },
  {
    method: 'delete',
    path: '/api/memories/{id}',
    tag: 'native',
    summary:
      'Erase one memory: row, vectors, keyword index and the text of its history (an ERASE tombstone remains). ' +
      'With soft=true, delete it and keep its last text in a DELETE history event',
    query: [{ name: 'soft', schema: boolean, description: 'keep the history text (default false: erase)' }],
    response: { status: 200, schema: object({ id: string, deleted: boolean, erased: boolean }) },
  },
  {
    method: 'get',
    path: '/api/memories/{id}/history',
    tag: 'native',
    summary: 'Every change to a memory, oldest first',
    response: { status: 200, schema: object({ history: arrayOf(ref('HistoryEvent')) }) },
  },
  {
    method: 'get',
    path: '/api/users/{userId}/profile',
    tag: 'native',
    summary:
      "A user's profile: current instructions, preferences and facts (and pinned memories), pinned first, " +
      "newest first per kind, de-duplicated, within maxTokens. The user is a user of the key's app.",
    query: [
      { name: 'agentId', schema: string },
      { name: 'runId', schema: string },
      { name: 'appId', schema: string, description: "must be the key's app" },
      {
        name: 'maxTokens',
        schema: { ...integer, maximum: PROFILE_MAX_TOKENS },
        description: 'token budget (default 400)',
      },
    ],
    response: { status: 200, schema: ref('Profile') },
  },
  {
    method: 'get',
    path: '/api/export',
    tag: 'native',
    summary: "Export a scope (default: the key's whole app) as JSON lines, with history",
    query: scopeQuery,
    response: { status: 200, schema: ref('ExportedMemory'), contentType: 'application/x-ndjson' },
  },
  {
    method: 'get',
    path: '/v1/ping/',
    tag: 'mem0',
    summary: 'Mem0: check the key',
    response: { status: 200, schema: object({ status: string, org_id: string, project_id: string }) },
  },
  ...(['/v1/memories/', '/v3/memories/add/'] as const).map(
    (path): RouteDoc => ({
      method: 'post',
      path,
      tag: 'mem0',
      summary:
        path === '/v1/memories/'
          ? 'Mem0 v1: add memories; answers in output_format (v1.1: { results }, v1.0: a list); queued ' +
            '([{ status: PENDING, event_id }]) with async_mode true, or by default when an LLM will infer them'
          : 'Mem0: add memories; queued ({ status: PENDING, event_id }) only when an LLM will infer them',
      body: object(
        {
          ...snakeScopeProperties,
          messages: { oneOf: [string, arrayOf(ref('Message'))] },
          metadata: ref('Metadata'),
          infer: boolean,
          async_mode: boolean,
          timestamp: { type: 'number', description: 'Unix seconds: when the messages were said' },
          expiration_date: { type: 'string', format: 'date' },
          ...(path === '/v1/memories/' ? { output_format: outputFormat } : {}),
        },
        ['messages'],
      ),
      response: {
        status: 200,
        schema: path === '/v1/memories/' ? formatted('Mem0Memory') : results('Mem0Memory'),
      },
    }),
  ),
  ...(['/v1/memories/search/', '/v2/memories/search/', '/v3/memories/search/'] as const).map(
    (path): RouteDoc => ({
      method: 'post',
      path,
      tag: 'mem0',
      summary:
        path === '/v1/memories/search/'
          ? 'Mem0 v1: search (user_id, agent_id, run_id, metadata in the body; filters optional)'
          : path === '/v2/memories/search/'
            ? 'Mem0 v2: search with a filter tree'
            : 'Mem0: search',
      body: object(
        {
          query: string,
          filters: ref('Filters'),
          top_k: integer,
          threshold: { type: 'number', minimum: 0, maximum: 1 },
          show_expired: boolean,
          ...(path === '/v3/memories/search/'
            ? {}
            : { ...snakeScopeProperties, metadata: ref('Metadata'), output_format: outputFormat }),
        },
        ['query'],
      ),
      response: {
        status: 200,
        schema: path === '/v3/memories/search/' ? results('Mem0Memory') : formatted('Mem0Memory'),
      },
    }),
  ),
  {
    method: 'get',
    path: '/v1/memories/',
    tag: 'mem0',
    summary:
      'Mem0 v1: list memories of a scope; with page or page_size a page ({ count, next, previous, results }), ' +
      `else up to ${LIMITS.listLimit} in output_format`,
    query: [
      ...snakeScopeQuery.slice(0, 3),
      { name: 'app_id', schema: string, description: "must be the key's app" },
      { name: 'metadata', schema: string, description: 'JSON object: equality on each key' },
      { name: 'start_date', schema: string },
      { name: 'end_date', schema: string },
      { name: 'output_format', schema: outputFormat },
      ...pageQuery,
    ],
    response: { status: 200, schema: { oneOf: [formatted('Mem0Memory'), ref('Mem0Page')] } },
  },
  ...(['/v2/memories/', '/v3/memories/'] as const).map(
    (path): RouteDoc => ({
      method: 'post',
      path,
      tag: 'mem0',
      summary:
        path === '/v2/memories/'
          ? 'Mem0 v2: list with a filter tree; with page or page_size a page, else up to ' +
            `${LIMITS.listLimit} in output_format`
          : 'Mem0: list memories (page numbers)',
      query: pageQuery,
      body: object({
        filters: ref('Filters'),
        start_date: string,
        end_date: string,
        show_expired: boolean,
        ...(path === '/v2/memories/' ? { output_format: outputFormat } : {}),
      }),
      response: {
        status: 200,
        schema:
          path === '/v2/memories/' ? { oneOf: [formatted('Mem0Memory'), ref('Mem0Page')] } : ref('Mem0Page'),
      },
    }),
  ),
  {
    method: 'get',
    path: '/v1/event/{id}/',
    tag: 'mem0',
    summary:
      'Mem0: the status of a queued add (PENDING while queued, SUCCEEDED once ingested); 404 for an event ' +
      'this server did not issue or of another app',
    response: { status: 200, schema: ref('Mem0Event') },
  },
  {
    method: 'get',
    path: '/v1/memories/{id}/',
    tag: 'mem0',
    summary: 'Mem0: get one memory',
    response: { status: 200, schema: ref('Mem0Memory') },
  },
  {
    method: 'put',
    path: '/v1/memories/{id}/',
    tag: 'mem0',
    summary: 'Mem0: update text and/or metadata',
    body: object({ text: string, metadata: ref('Metadata') }),
    response: { status: 200, schema: ref('Mem0Memory') },
  },
  {
    method: 'delete',
    path: '/v1/memories/{id}/',
    tag: 'mem0',
    summary: 'Mem0: erase one memory (no text stays in its history; an ERASE tombstone remains)',
    response: { status: 200, schema: message },
  },
  {
    method: 'delete',
    path: '/v1/memories/',
    tag: 'mem0',
    summary: 'Mem0: delete every memory of a user, agent or run (or the whole app with app_id)',
    query: snakeScopeQuery,
    response: { status: 200, schema: object({ message: string, deleted: { type: 'integer' } }) },
  },
  {
    method: 'get',
    path: '/v1/memories/{id}/history/',
    tag: 'mem0',
    summary: 'Mem0: change events of a memory',
    response: { status: 200, schema: arrayOf(ref('Mem0History')) },
  },
  {
    method: 'get',
    path: '/v1/users/{user_id}/profile/',
    tag: 'mem0',
    summary:
      "mneme: a user's profile in the Mem0 routes' snake_case (the same items as /api/users/{userId}/profile). " +
      "The user is a user of the key's app.",
    query: [
      { name: 'agent_id', schema: string },
      { name: 'run_id', schema: string },
      { name: 'app_id', schema: string, description: "must be the key's app" },
      {
        name: 'max_tokens',
        schema: { ...integer, maximum: PROFILE_MAX_TOKENS },
        description: 'token budget (default 400)',
      },
    ],
    response: {
      status: 200,
      schema: object({
        user_id: string,
        results: arrayOf(
          object({
            id: string,
            memory: string,
            kind: string,
            pinned: boolean,
            created_at: string,
            updated_at: string,
            observed_at: string,
          }),
        ),
        omitted: integer,
        tokens: integer,
      }),
    },
  },
  {
    method: 'put',
    path: '/v1/batch/',
    tag: 'mem0',
    summary: 'Mem0: update many memories; any unknown id fails the whole batch (404) before a change',
    body: ref('Mem0Batch'),
    response: { status: 200, schema: message },
  },
  {
    method: 'delete',
    path: '/v1/batch/',
    tag: 'mem0',
    summary: 'Mem0: erase many memories; any unknown id fails the whole batch (404) before a change',
    body: ref('Mem0Batch'),
    response: { status: 200, schema: message },
  },
  {
    method: 'get',
    path: '/v1/entities/',
    tag: 'mem0',
    summary: "Mem0: the app's users, agents and runs with memory counts",
    query: pageQuery,
    response: {
      status: 200,
      schema: object({
        count: { type: 'integer' },
        results: arrayOf(
          object({ id: string, name: string, type: string, total_memories: { type: 'integer' } }),
        ),
      }),
    },
  },
  ...(['v1', 'v2'] as const).map(
    (version): RouteDoc => ({
      method: 'delete',
      path: `/${version}/entities/{type}/{name}/`,
      tag: 'mem0',
      summary: 'Mem0: delete the memories of one user, agent, run (or the whole app)',
      response: { status: 200, schema: message },
    }),
  ),
  ...CONSOLE_ROUTES.map((route): RouteDoc => ({ ...route, tag: 'native' })),
  ...MEM0_UNSUPPORTED_ROUTES.map(
    (route): RouteDoc => ({
      method: route.method,
      path: `${route.path.replace(/:([A-Za-z_]+)/g, '{$1}')}/`,
      tag: 'mem0',
      summary: `Mem0, not provided (501): ${route.feature}; ${route.instead}`,
      response: { status: 501, schema: ref('Error') },
    }),
  ),
  {
    method: 'get',
    path: '/admin/keys',
    tag: 'admin',
    summary: 'List API keys (admin key only)',
    response: { status: 200, schema: object({ keys: arrayOf(ref('ApiKey')) }) },
  },
  {
    method: 'post',
    path: '/admin/keys',
    tag: 'admin',
    summary: 'Create an API key; the key is in this response only (admin key only)',
    body: object({ appId: string, admin: boolean }),
    response: { status: 201, schema: { allOf: [ref('ApiKey'), object({ key: string }, ['key'])] } },
  },
  {
    method: 'delete',
    path: '/admin/keys/{id}',
    tag: 'admin',
    summary: 'Revoke an API key (admin key only)',
    response: { status: 200, schema: ref('ApiKey') },
  },
];

const dateTime: Schema = { type: 'string', format: 'date-time' };
const memoryKind: Schema = { enum: [...MEMORY_KINDS] };
const memoryProperties: Record<string, Schema> = {
  id: string,
  memory: string,
  ...scopeProperties,
  role: { enum: ['user', 'assistant', 'system', 'tool'] },
  speaker: string,
  kind: memoryKind,
  topic: string,
  metadata: ref('Metadata'),
  hash: string,
  createdAt: dateTime,
  updatedAt: dateTime,
  observedAt: dateTime,
  validFrom: dateTime,
  validTo: dateTime,
  supersededBy: string,
  expiresAt: dateTime,
};

const SCHEMAS: Record<string, Schema> = {
  Error: object(
    {
      error: object({ code: string, message: string, field: { type: 'string', description: 'dotted path' } }),
    },
    ['error'],
  ),
  Metadata: {
    type: 'object',
    description: `JSON values; at most ${LIMITS.metadataBytes} bytes, depth ${LIMITS.metadataDepth}; no scope keys`,
    additionalProperties: true,
  },
  Filters: {
    type: 'object',
    description:
      '{ field: value } equality, { field: { eq|ne|gt|gte|lt|lte|in|nin|contains|icontains: v } }, ' +
      'AND / OR / NOT lists; fields: user_id, agent_id, run_id, app_id (own app only), role, kind, dates, ' +
      'metadata.<key>. Depth 8, 200 nodes.',
    additionalProperties: true,
  },
  Message: object(
    {
      role: { enum: ['user', 'assistant', 'system', 'tool'] },
      content: { type: 'string', maxLength: LIMITS.memoryTextLength },
      name: string,
    },
    ['role', 'content'],
  ),
  Memory: object(memoryProperties, ['id', 'memory', 'kind', 'metadata', 'hash', 'createdAt', 'updatedAt']),
  SearchResult: {
    allOf: [
      ref('Memory'),
      object({
        score: { type: 'number' },
        scores: object({
          dense: { type: 'number' },
          keyword: { type: 'number' },
          recency: { type: 'number' },
          rrf: { type: 'number' },
          session: { type: 'number' },
        }),
      }),
    ],
  },
  MemoryPage: object({ results: arrayOf(ref('Memory')), nextCursor: string }, ['results']),
  HistoryEvent: object({
    id: string,
    memoryId: string,
    event: { enum: ['ADD', 'UPDATE', 'SUPERSEDE', 'DELETE', 'NOOP', 'ERASE'] },
    previousValue: string,
    newValue: string,
    reason: string,
    actor: string,
    relatedId: string,
    createdAt: { type: 'string', format: 'date-time' },
  }),
  AddResult: object({
    results: arrayOf(object({ id: string, memory: string, event: string, reason: string })),
    skipped: arrayOf(object({ index: { type: 'integer' }, reason: string, text: string })),
    usage: { type: 'object' },
  }),
  Profile: object(
    {
      items: arrayOf(
        object(
          {
            id: string,
            memory: string,
            kind: memoryKind,
            pinned: boolean,
            createdAt: dateTime,
            updatedAt: dateTime,
            observedAt: dateTime,
            validFrom: dateTime,
            speaker: string,
          },
          ['id', 'memory', 'kind', 'pinned', 'createdAt', 'updatedAt', 'observedAt'],
        ),
      ),
      omitted: { type: 'integer', description: 'standing memories left out by the budget' },
      tokens: { type: 'integer', description: 'tokens the items take (about 4 characters each)' },
    },
    ['items', 'omitted', 'tokens'],
  ),
  ExportedMemory: object({
    type: { const: 'memory' },
    record: ref('Memory'),
    history: arrayOf(ref('HistoryEvent')),
  }),
  Mem0Memory: object({
    id: string,
    memory: string,
    ...snakeScopeProperties,
    hash: string,
    metadata: ref('Metadata'),
    categories: arrayOf(string),
    created_at: string,
    updated_at: string,
    expiration_date: { type: ['string', 'null'] },
    score: { type: 'number' },
  }),
  Mem0Page: object({
    count: { type: 'integer' },
    next: { type: ['string', 'null'] },
    previous: { type: ['string', 'null'] },
    results: arrayOf(ref('Mem0Memory')),
  }),
  Mem0Event: object({
    id: string,
    event_type: { const: 'ADD' },
    status: { enum: ['PENDING', 'SUCCEEDED'] },
    payload: { type: ['object', 'null'] },
    metadata: { type: ['object', 'null'], description: 'attempts and last_error while queued' },
    results: arrayOf({ type: 'object' }),
    created_at: string,
    updated_at: string,
  }),
  Mem0History: object({
    id: string,
    memory_id: string,
    old_memory: { type: ['string', 'null'] },
    new_memory: { type: ['string', 'null'] },
    event: string,
    created_at: string,
  }),
  Mem0Batch: object({ memories: arrayOf(object({ memory_id: string, text: string }, ['memory_id'])) }, [
    'memories',
  ]),
  ApiKey: object({ id: string, appId: string, admin: boolean, createdAt: string, revokedAt: string }),
};

/** The (method, path) pairs the document describes, in Hono's `:param` form, for the drift test. */
export function documentedRoutes(): Array<{ method: string; path: string }> {
  return ROUTES.map((route) => ({
    method: route.method.toUpperCase(),
    // Hono routes are registered without the trailing slash (strict: false matches both forms).
    path: route.path.replace(/\{([^}]+)\}/g, ':$1').replace(/(.)\/$/, '$1'),
  }));
}

/** Builds the document. */
export function buildOpenApiDocument(options: { limits: ServerLimits }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const pathParameters = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: string,
    }));
    const parameters = [
      ...pathParameters,
      ...(route.query ?? []).map((parameter) => ({
        name: parameter.name,
        in: 'query',
        required: false,
        schema: parameter.schema,
        ...(parameter.description ? { description: parameter.description } : {}),
      })),
    ];
    const errors: Record<string, unknown> = {
      '400': errorResponse('Malformed JSON'),
      '404': errorResponse('Not found (also for ids of another app)'),
      '413': errorResponse(`Body over ${options.limits.maxBodyBytes} bytes`),
      '422': errorResponse('Invalid input; `error.field` names it'),
    };
    if (route.auth !== false) {
      errors['401'] = errorResponse('Missing, invalid or revoked API key');
      errors['403'] = errorResponse('Names another app, scope keys in metadata, or needs an admin key');
    }
    const operation: Record<string, unknown> = {
      tags: [route.tag],
      summary: route.summary,
      operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } }
        : {}),
      responses: {
        [String(route.response.status)]: {
          description: route.response.status < 400 ? 'Success' : 'Not implemented',
          content: { [route.response.contentType ?? 'application/json']: { schema: route.response.schema } },
        },
        ...errors,
      },
      ...(route.auth === false ? { security: [] } : {}),
    };
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
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
      schemas: SCHEMAS,
    },
  };
}

function errorResponse(description: string): Record<string, unknown> {
  return { description, content: { 'application/json': { schema: ref('Error') } } };
}
