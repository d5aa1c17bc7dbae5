/**
 * The native JSON API: one route per library operation, camelCase like the TypeScript API, confined to the
 * key's app. Bodies (and the profile route's query) are validated strictly: unknown fields are a 422 naming the
 * field.
 *
 * | method | path | operation |
 * |---|---|---|
 * | POST | `/api/memories` | add (201), or enqueue with `"async": true` (202) |
 * | POST | `/api/memories/search` | search |
 * | POST | `/api/memories/list` | list with filters and a cursor |
 * | GET | `/api/memories?userId=&agentId=&runId=&limit=&cursor=` | list |
 * | DELETE | `/api/memories?userId=&agentId=&runId=` | deleteAll (needs one of them) |
 * | GET, PATCH, DELETE | `/api/memories/{id}` | get, update, erase (`?soft=true`: delete, keeping history text) |
 * | GET | `/api/memories/{id}/history` | history |
 * | GET | `/api/users/{userId}/profile?agentId=&runId=&maxTokens=` | profile (the user's standing memories) |
 * | GET | `/api/export?userId=...` | export as JSON lines (`application/x-ndjson`) |
 */
import type { Context, Hono } from 'hono';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import type { Message, Metadata, Scope } from '../../core/types.js';
import type { ListOptions, SearchOptions, UpdateInput } from '../../memory/memory.js';
import {
  type AppEnv,
  appOf,
  assertFiltersStayInApp,
  assertNoScopeInMetadata,
  booleanParam,
  optionalBoolean,
  readJsonObject,
  rejectUnknownFields,
  requestScope,
  type ServerServices,
  scopedMemory,
  withFieldNames,
} from '../request.js';

const SCOPE_FIELDS = ['userId', 'agentId', 'runId', 'appId'] as const;
// The store names a malformed cursor `page.cursor`; the caller sent `cursor`.
const CURSOR_FIELD = { 'page.cursor': 'cursor' };
const READ_FIELDS = [...SCOPE_FIELDS, 'filters', 'asOf', 'includeSuperseded', 'includeExpired'] as const;
// The user is the path's; the other scope fields may come in either spelling, as everywhere (request.ts).
const PROFILE_QUERY = ['agentId', 'agent_id', 'runId', 'run_id', 'appId', 'app_id', 'maxTokens'] as const;

/** Registers the native routes on `app`. */
export function registerNativeRoutes(app: Hono<AppEnv>, services: ServerServices): void {
  const { memory } = services;

  app.post('/api/memories', async (c) => {
    const body = await readJsonObject(c);
    rejectUnknownFields(body, [
      ...SCOPE_FIELDS,
      'messages',
      'metadata',
      'observedAt',
      'expiresAt',
      'infer',
      'async',
    ]);
    assertNoScopeInMetadata(body.metadata, 'metadata');
    const scope = requireEntity(requestScope(c, body), 'userId');
    if (body.messages === undefined) {
      throw new ValidationError(
        'messages',
        'required: a string, a message { role, content }, or a list of them',
      );
    }
    const options = {
      ...scope,
      ...defined({
        metadata: body.metadata as Metadata | undefined,
        observedAt: body.observedAt as string | undefined,
        expiresAt: body.expiresAt as string | undefined,
        infer: body.infer as boolean | undefined,
      }),
    };
    const input = body.messages as string | Message | Message[];
    const scoped = scopedMemory(c, memory);
    if (optionalBoolean(body.async, 'async') === true) {
      return c.json(await scoped.enqueue(input, options), 202);
    }
    return c.json(await scoped.add(input, options), 201);
  });

  app.post('/api/memories/search', async (c) => {
    const body = await readJsonObject(c);
    rejectUnknownFields(body, [...READ_FIELDS, 'query', 'limit', 'threshold', 'mode']);
    const options = readOptions(c, body) as SearchOptions;
    Object.assign(options, defined({ limit: body.limit, threshold: body.threshold, mode: body.mode }));
    const { results } = await scopedMemory(c, memory).search(body.query as string, options);
    return c.json({ results });
  });

  app.post('/api/memories/list', async (c) => {
    const body = await readJsonObject(c, { allowEmpty: true });
    rejectUnknownFields(body, [...READ_FIELDS, 'limit', 'cursor']);
    const options = readOptions(c, body) as ListOptions;
    Object.assign(options, defined({ limit: body.limit, cursor: body.cursor }));
    return c.json(await withFieldNames(CURSOR_FIELD, () => scopedMemory(c, memory).list(options)));
  });

  app.get('/api/memories', async (c) => {
    const scope = requestScope(c, c.req.query());
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? undefined : Number(limitText);
    const cursor = c.req.query('cursor');
    const options: ListOptions = { ...scope, ...defined({ limit, cursor }) };
    return c.json(await withFieldNames(CURSOR_FIELD, () => scopedMemory(c, memory).list(options)));
  });

  app.delete('/api/memories', async (c) => {
    const scope = requireEntity(requestScope(c, c.req.query()), 'userId');
    return c.json(await scopedMemory(c, memory).deleteAll(scope));
  });

  app.get('/api/memories/:id', async (c) => {
    const id = c.req.param('id');
    const record = await scopedMemory(c, memory).get(id);
    if (!record) throw new NotFoundError(`memory ${id} not found`);
    return c.json(record);
  });

  app.patch('/api/memories/:id', async (c) => {
    const body = await readJsonObject(c);
    rejectUnknownFields(body, ['text', 'metadata', 'kind']);
    assertNoScopeInMetadata(body.metadata, 'metadata');
    const input = defined({ text: body.text, metadata: body.metadata, kind: body.kind }) as UpdateInput;
    return c.json(await scopedMemory(c, memory).update(c.req.param('id'), input));
  });

  app.delete('/api/memories/:id', async (c) => {
    const id = c.req.param('id');
    // Erasure by default; `?soft=true` keeps the last text in a DELETE history event, for audit.
    const soft = booleanParam(c.req.query('soft'), 'soft', false);
    const scoped = scopedMemory(c, memory);
    await (soft ? scoped.delete(id) : scoped.erase(id));
    return c.json({ id, deleted: true, erased: !soft });
  });

  app.get('/api/memories/:id/history', async (c) => {
    const id = c.req.param('id');
    const history = await scopedMemory(c, memory).history(id);
    // A memory leaves at least an ADD event: no events means missing or another app's (indistinguishable).
    if (history.length === 0) throw new NotFoundError(`memory ${id} not found`);
    return c.json({ history });
  });

  app.get('/api/users/:userId/profile', async (c) => {
    const query = c.req.query();
    rejectUnknownFields(query, PROFILE_QUERY);
    const scope = requestScope(c, { ...query, userId: c.req.param('userId') });
    const maxTokens = query.maxTokens === undefined ? undefined : Number(query.maxTokens);
    return c.json(await scopedMemory(c, memory).profile({ ...scope, ...defined({ maxTokens }) }));
  });

  app.get('/api/export', async (c) => {
    const app = appOf(c);
    const scope: Scope = { ...requestScope(c, c.req.query()), ...(app === undefined ? {} : { appId: app }) };
    const iterator = memory.exportMemories(scope);
    // Pull the first line before answering so validation failures still get their status code.
    const first = await iterator.next();
    const encoder = new TextEncoder();
    let pending: IteratorResult<unknown> | undefined = first;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const step = pending ?? (await iterator.next());
        pending = undefined;
        if (step.done) controller.close();
        else controller.enqueue(encoder.encode(`${JSON.stringify(step.value)}\n`));
      },
      async cancel() {
        await iterator.return(undefined);
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
  });
}

/** Scope, filters and temporal options shared by search and list. */
function readOptions(c: Context<AppEnv>, body: Record<string, unknown>): Record<string, unknown> {
  assertFiltersStayInApp(c, body.filters, 'filters');
  return {
    ...requestScope(c, body),
    ...defined({
      filters: body.filters,
      asOf: body.asOf,
      includeSuperseded: optionalBoolean(body.includeSuperseded, 'includeSuperseded'),
      includeExpired: optionalBoolean(body.includeExpired, 'includeExpired'),
    }),
  };
}

/** Writes and erasures must name a user, agent or run inside the app (the app alone is too broad). */
function requireEntity(scope: Scope, field: string): Scope {
  if (scope.userId === undefined && scope.agentId === undefined && scope.runId === undefined) {
    throw new ValidationError(field, 'name at least one of userId, agentId or runId');
  }
  return scope;
}

/** Drops undefined fields (exactOptionalPropertyTypes); the service validates the values. */
function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
