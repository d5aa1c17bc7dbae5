/**
 * The native JSON API: one route per library operation, camelCase like the TypeScript API, confined to the
 * key's app. The routes, their inputs and answers are in the route table (native-schemas.ts), which validates each
 * request before a handler here runs: unknown body fields are a 422 naming the field.
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
  defined,
  requestScope,
  type ServerServices,
  scopedMemory,
  withFieldNames,
} from '../request.js';
import { route } from '../route-spec.js';
import { NATIVE_ROUTES as ROUTES } from './native-schemas.js';

// The store names a malformed cursor `page.cursor`; the caller sent `cursor`.
const CURSOR_FIELD = { 'page.cursor': 'cursor' };

/** Registers the native routes on `app` (their table: native-schemas.ts). */
export function registerNativeRoutes(app: Hono<AppEnv>, services: ServerServices): void {
  const { memory } = services;

  route(app, ROUTES.add, async (c, { body }) => {
    assertNoScopeInMetadata(body.metadata, 'metadata');
    const scope = requireEntity(requestScope(c, body), 'userId');
    const options = {
      ...scope,
      ...defined({
        metadata: body.metadata as Metadata | undefined,
        observedAt: body.observedAt ?? undefined,
        expiresAt: body.expiresAt ?? undefined,
        infer: body.infer ?? undefined,
      }),
    };
    const input = body.messages as string | Message | Message[];
    const scoped = scopedMemory(c, memory);
    if (body.async === true) return c.json(await scoped.enqueue(input, options), 202);
    return c.json(await scoped.add(input, options), 201);
  });

  route(app, ROUTES.search, async (c, { body }) => {
    const options = readOptions(c, body) as SearchOptions;
    Object.assign(options, defined({ limit: body.limit, threshold: body.threshold, mode: body.mode }));
    const { results } = await scopedMemory(c, memory).search(body.query, options);
    return c.json({ results });
  });

  route(app, ROUTES.listPosted, async (c, { body }) => {
    const options = readOptions(c, body) as ListOptions;
    Object.assign(options, defined({ limit: body.limit, cursor: body.cursor }));
    return c.json(await withFieldNames(CURSOR_FIELD, () => scopedMemory(c, memory).list(options)));
  });

  route(app, ROUTES.list, async (c, { query }) => {
    const options: ListOptions = {
      ...requestScope(c, query),
      ...defined({ limit: query.limit ?? undefined, cursor: query.cursor }),
    };
    return c.json(await withFieldNames(CURSOR_FIELD, () => scopedMemory(c, memory).list(options)));
  });

  route(app, ROUTES.deleteAll, async (c, { query }) => {
    const scope = requireEntity(requestScope(c, query), 'userId');
    return c.json(await scopedMemory(c, memory).deleteAll(scope));
  });

  route(app, ROUTES.get, async (c) => {
    const id = c.req.param('id') ?? '';
    const record = await scopedMemory(c, memory).get(id);
    if (!record) throw new NotFoundError(`memory ${id} not found`);
    return c.json(record);
  });

  route(app, ROUTES.update, async (c, { body }) => {
    assertNoScopeInMetadata(body.metadata, 'metadata');
    const input = defined({ text: body.text, metadata: body.metadata, kind: body.kind }) as UpdateInput;
    return c.json(await scopedMemory(c, memory).update(c.req.param('id') ?? '', input));
  });

  route(app, ROUTES.erase, async (c, { query }) => {
    const id = c.req.param('id') ?? '';
    // Erasure by default; `?soft=true` keeps the last text in a DELETE history event, for audit.
    const soft = query.soft ?? false;
    const scoped = scopedMemory(c, memory);
    await (soft ? scoped.delete(id) : scoped.erase(id));
    return c.json({ id, deleted: true, erased: !soft });
  });

  route(app, ROUTES.history, async (c) => {
    const id = c.req.param('id') ?? '';
    const history = await scopedMemory(c, memory).history(id);
    // A memory leaves at least an ADD event: no events means missing or another app's (indistinguishable).
    if (history.length === 0) throw new NotFoundError(`memory ${id} not found`);
    return c.json({ history });
  });

  route(app, ROUTES.profile, async (c, { query }) => {
    const scope = requestScope(c, { ...query, userId: c.req.param('userId') });
    const maxTokens = query.maxTokens ?? undefined;
    return c.json(await scopedMemory(c, memory).profile({ ...scope, ...defined({ maxTokens }) }));
  });

  route(app, ROUTES.export, async (c, { query }) => {
    const app = appOf(c);
    const scope: Scope = { ...requestScope(c, query), ...(app === undefined ? {} : { appId: app }) };
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
      includeSuperseded: body.includeSuperseded ?? undefined,
      includeExpired: body.includeExpired ?? undefined,
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
