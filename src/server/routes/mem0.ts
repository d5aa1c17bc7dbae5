/**
 * The Mem0 platform routes the official `mem0ai` `MemoryClient` calls (`new MemoryClient({ apiKey, host })`),
 * with its snake_case bodies, trailing-slash paths and status codes (400/422 validation, 401/403 auth, 404 not
 * found). Unlike Mem0's own server, every route is confined to the key's app: ids, user ids, filters and
 * metadata of another app are never reachable.
 *
 * | method | path | notes |
 * |---|---|---|
 * | GET | `/v1/ping/` | `{ status: 'ok', org_id, project_id }` (both are the key's app) |
 * | POST | `/v3/memories/add/` | `{ results }`; with an LLM and `infer` (default), queued: `{ status: 'PENDING', event_id }` |
 * | POST | `/v1/memories/` | the same add in `output_format` (v1.1 `{ results }`, v1.0 a list); queued: `[{ status, event_id }]` |
 * | GET | `/v1/event/{id}/` | a queued add: `PENDING` / `SUCCEEDED` (see mem0-events.ts) |
 * | POST | `/v3/memories/search/` | `query, filters, top_k, threshold, show_expired` -> `{ results }` |
 * | POST | `/v1/memories/search/`, `/v2/memories/search/` | the same search in `output_format` |
 * | POST | `/v3/memories/?page=&page_size=` | list: `filters` -> `{ count, next, previous, results }` |
 * | POST | `/v2/memories/`, GET `/v1/memories/?user_id=...` | the same list; unpaged (no page / page_size): `output_format` |
 * | GET, PUT, DELETE | `/v1/memories/{id}/` | PUT takes `text`, `metadata` |
 * | DELETE | `/v1/memories/?user_id=&agent_id=&run_id=&app_id=` | delete all in a scope |
 * | GET | `/v1/memories/{id}/history/` | change events |
 * | GET | `/v1/users/{user_id}/profile/?agent_id=&run_id=&max_tokens=` | mneme's profile (no Mem0 equivalent): `{ user_id, results, omitted, tokens }` |
 * | PUT, DELETE | `/v1/batch/` | `{ memories: [{ memory_id, text? }] }`, at most `maxBatchSize` (1000) |
 * | GET | `/v1/entities/` | the users, agents and runs of the app with memory counts |
 * | DELETE | `/v2/entities/{type}/{name}/`, `/v1/entities/{type}/{name}/` | delete one entity's memories |
 *
 * Mem0 filter syntax is accepted: `AND` / `OR` / `NOT`, `in`, `nin`, `gt`..., `icontains` (as `contains`,
 * which is case-insensitive in mneme) and `"*"` (any value). Fields that only steer Mem0's hosted LLM
 * (`custom_instructions`, `includes`, `rerank`, ...) are accepted and have no effect; so are the older clients'
 * `org_id` / `project_id` (the key's app is the tenant). Platform features mneme lacks answer 501
 * (mem0-unsupported.ts).
 */
import type { Context, Hono } from 'hono';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import type { HistoryEvent, MemoryRecord, Message, Metadata, Scope, SearchResult } from '../../core/types.js';
import { LIMITS, validateIdentifier, validateText } from '../../core/validate.js';
import type { ListOptions, ScopedMemory, SearchOptions } from '../../memory/memory.js';
import { PROFILE_DEFAULT_TOKENS, PROFILE_MAX_TOKENS } from '../../memory/profile.js';
import { HttpError } from '../errors.js';
import { Mem0Events } from '../mem0-events.js';
import {
  type AppEnv,
  assertFiltersStayInApp,
  assertNoScopeInMetadata,
  assertOwnApp,
  integerParam,
  optionalBoolean,
  readJsonObject,
  requestScope,
  type ServerServices,
  scopedMemory,
  tenantOf,
  withFieldNames,
} from '../request.js';

/** Registers the Mem0-compatible routes on `app`. */
export function registerMem0Routes(app: Hono<AppEnv>, services: ServerServices): void {
  const { memory, limits } = services;

  app.get('/v1/ping', (c) => {
    const appId = c.get('principal').appId ?? null;
    return c.json({ status: 'ok', org_id: appId, project_id: appId, user_email: null });
  });

  const events = new Mem0Events(memory.store);

  /** One add for every version: v3 answers `{ results, skipped }`, v1 answers in its `output_format`. */
  const add = (version: 'v1' | 'v3') => async (c: Context<AppEnv>) => {
    const body = await readJsonObject(c);
    const format = version === 'v1' ? outputFormat(body) : undefined;
    assertNoScopeInMetadata(body.metadata, 'metadata');
    const scope = requireEntity(requestScope(c, body));
    if (body.messages === undefined || body.messages === null) {
      throw new ValidationError('messages', 'required: a list of { role, content } messages (or a string)');
    }
    const infer = optionalBoolean(body.infer, 'infer') ?? true;
    // Queue only when there is slow work to defer (an LLM call); verbatim storage answers at once.
    const asyncMode = optionalBoolean(body.async_mode, 'async_mode') ?? (infer && memory.llm !== null);
    const observedAt = parseTimestamp(body.timestamp, 'timestamp');
    const expiresAt = parseExpirationDate(body.expiration_date, 'expiration_date');
    const options = {
      ...scope,
      infer,
      ...(body.metadata !== undefined && body.metadata !== null
        ? { metadata: body.metadata as Metadata }
        : {}),
      ...(observedAt ? { observedAt } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    };
    const input = body.messages as string | Message[];
    const scoped = scopedMemory(c, memory);
    const names = { observedAt: 'timestamp', expiresAt: 'expiration_date', 'options.userId': 'user_id' };
    if (asyncMode) {
      const { queueItemId } = await withFieldNames(names, () => scoped.enqueue(input, options));
      events.issue(queueItemId, {
        appId: tenantOf(c),
        createdAt: new Date().toISOString(),
        messages: Array.isArray(input) ? input.length : 1,
      });
      const queued = { message: QUEUED_MESSAGE, status: 'PENDING', event_id: queueItemId };
      return c.json(format ? inFormat(format, [queued]) : queued);
    }
    const result = await withFieldNames(names, () => scoped.add(input, options));
    const results = result.results.map((item) => ({
      id: item.id,
      event: item.event,
      memory: item.memory,
      data: { memory: item.memory },
      ...(item.previous ? { previous_memory: item.previous.memory, previous_id: item.previous.id } : {}),
    }));
    if (format === 'v1.0') return c.json(results);
    return c.json({ results, skipped: result.skipped });
  };

  /** One search for every version (v1: scope fields in the body; v2 and v3: a filter tree). */
  const search = (version: 'v1' | 'v2' | 'v3') => async (c: Context<AppEnv>) => {
    const body = await readJsonObject(c);
    const format = version === 'v3' ? 'v1.1' : outputFormat(body);
    const filters = requestFilters(body, { dates: false });
    assertFiltersStayInApp(c, filters, 'filters');
    const options: SearchOptions = {
      ...requestScope(c, body),
      ...(filters !== undefined ? { filters } : {}),
      ...(body.top_k !== undefined && body.top_k !== null ? { limit: body.top_k as number } : {}),
      ...(body.threshold !== undefined && body.threshold !== null
        ? { threshold: body.threshold as number }
        : {}),
      ...(optionalBoolean(body.show_expired, 'show_expired') ? { includeExpired: true } : {}),
    };
    const { results } = await withFieldNames({ limit: 'top_k', includeExpired: 'show_expired' }, () =>
      scopedMemory(c, memory).search(body.query as string, options),
    );
    return c.json(inFormat(format, results.map(toMem0Search)));
  };

  /**
   * One list for every version. v3 always pages; v1 and v2 page when `page` or `page_size` is given and
   * otherwise answer up to `listLimit` memories in their `output_format`.
   */
  const list = (version: 'v1' | 'v2' | 'v3') => async (c: Context<AppEnv>) => {
    const body =
      version === 'v1' ? bodyFromQuery(c.req.query()) : await readJsonObject(c, { allowEmpty: true });
    const format = version === 'v3' ? undefined : outputFormat(body);
    const pageParam = c.req.query('page') ?? stringOf(body.page);
    const pageSizeParam = c.req.query('page_size') ?? stringOf(body.page_size);
    const paged = format === undefined || pageParam !== undefined || pageSizeParam !== undefined;
    const page = integerParam(pageParam, 'page', 1, 1_000_000);
    const pageSize = integerParam(
      pageSizeParam,
      'page_size',
      paged ? 100 : LIMITS.listLimit,
      LIMITS.listLimit,
    );
    const filters = requestFilters(body, { dates: true });
    assertFiltersStayInApp(c, filters, 'filters');
    const options: ListOptions = {
      ...requestScope(c, body),
      ...(filters !== undefined ? { filters } : {}),
      ...(optionalBoolean(body.show_expired, 'show_expired') ? { includeExpired: true } : {}),
    };
    const { results, count } = await pageOf(scopedMemory(c, memory), options, page, pageSize);
    if (!paged) return c.json(inFormat(format, results.map(toMem0Memory)));
    const base = new URL(c.req.url);
    const link = (target: number) => {
      base.searchParams.set('page', String(target));
      base.searchParams.set('page_size', String(pageSize));
      return base.toString();
    };
    return c.json({
      count,
      next: page * pageSize < count ? link(page + 1) : null,
      previous: page > 1 ? link(page - 1) : null,
      results: results.map(toMem0Memory),
    });
  };

  app.post('/v1/memories', add('v1'));
  app.post('/v3/memories/add', add('v3'));
  app.post('/v1/memories/search', search('v1'));
  app.post('/v2/memories/search', search('v2'));
  app.post('/v3/memories/search', search('v3'));
  app.get('/v1/memories', list('v1'));
  app.post('/v2/memories', list('v2'));
  app.post('/v3/memories', list('v3'));

  app.get('/v1/event/:id', async (c) => c.json(await events.get(c.req.param('id'), tenantOf(c))));

  app.get('/v1/memories/:id', async (c) => {
    const id = c.req.param('id');
    const record = await scopedMemory(c, memory).get(id);
    if (!record) throw new NotFoundError(`memory ${id} not found`);
    return c.json(toMem0Memory(record));
  });

  app.put('/v1/memories/:id', async (c) => {
    const body = await readJsonObject(c);
    rejectUnsupportedUpdate(body, '');
    assertNoScopeInMetadata(body.metadata, 'metadata');
    if (body.text === undefined && body.metadata === undefined) {
      throw new ValidationError('text', 'give text, metadata, or both');
    }
    const updated = await scopedMemory(c, memory).update(c.req.param('id'), {
      ...(body.text !== undefined ? { text: body.text as string } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata as Metadata } : {}),
    });
    return c.json({ ...toMem0Memory(updated), message: 'Memory updated successfully!' });
  });

  app.delete('/v1/memories/:id', async (c) => {
    if (c.req.query('delete_linked') === 'true') {
      throw new ValidationError('delete_linked', 'not supported: superseded memories are kept for history');
    }
    // Erased: no text stays behind in the history (an ERASE tombstone with ids and times remains).
    await scopedMemory(c, memory).erase(c.req.param('id'));
    return c.json({ message: 'Memory deleted successfully!' });
  });

  app.delete('/v1/memories', async (c) => {
    const query = c.req.query();
    const scope = requestScope(c, query);
    const wholeApp = query.app_id !== undefined || query.appId !== undefined;
    if (!wholeApp) requireEntity(scope);
    const { deleted } = await scopedMemory(c, memory).deleteAll(scope);
    return c.json({ message: 'Memories deleted successfully!', deleted });
  });

  app.get('/v1/memories/:id/history', async (c) => {
    const id = c.req.param('id');
    const scoped = scopedMemory(c, memory);
    const history = await scoped.history(id);
    if (history.length === 0) throw new NotFoundError(`memory ${id} not found`);
    const record = await scoped.get(id);
    return c.json(history.map((event) => toMem0History(event, record)));
  });

  app.get('/v1/users/:user_id/profile', async (c) => {
    const query = c.req.query();
    const userId = c.req.param('user_id');
    const scope = requestScope(c, { ...query, user_id: userId });
    const maxTokens = integerParam(
      query.max_tokens,
      'max_tokens',
      PROFILE_DEFAULT_TOKENS,
      PROFILE_MAX_TOKENS,
    );
    const profile = await scopedMemory(c, memory).profile({ ...scope, maxTokens });
    return c.json({
      user_id: userId,
      results: profile.items.map((item) => ({
        id: item.id,
        memory: item.memory,
        kind: item.kind,
        pinned: item.pinned,
        created_at: item.createdAt,
        updated_at: item.updatedAt,
        observed_at: item.observedAt,
      })),
      omitted: profile.omitted,
      tokens: profile.tokens,
    });
  });

  app.put('/v1/batch', async (c) => {
    const items = batchItems(await readJsonObject(c), limits.maxBatchSize);
    const updates = items.map((item, index) => {
      const field = `memories[${index}]`;
      rejectUnsupportedUpdate(item, `${field}.`);
      assertNoScopeInMetadata(item.metadata, `${field}.metadata`);
      if (item.text === undefined && item.metadata === undefined) {
        throw new ValidationError(`${field}.text`, 'give text, metadata, or both');
      }
      if (item.text !== undefined) {
        const text = validateText(item.text, `${field}.text`);
        if (text.trim() === '') throw new ValidationError(`${field}.text`, 'must not be empty');
      }
      return {
        ...(item.text !== undefined ? { text: item.text as string } : {}),
        ...(item.metadata !== undefined ? { metadata: item.metadata as Metadata } : {}),
      };
    });
    const scoped = scopedMemory(c, memory);
    const ids = await assertAllExist(scoped, items);
    for (const [index, id] of ids.entries()) {
      await scoped.update(id, updates[index] ?? {});
    }
    return c.json({ message: `Successfully updated ${ids.length} memories` });
  });

  app.delete('/v1/batch', async (c) => {
    const items = batchItems(await readJsonObject(c), limits.maxBatchSize);
    const scoped = scopedMemory(c, memory);
    const ids = await assertAllExist(scoped, items);
    for (const id of ids) await scoped.erase(id);
    return c.json({ message: `Successfully deleted ${ids.length} memories` });
  });

  app.get('/v1/entities', async (c) => {
    const page = integerParam(c.req.query('page'), 'page', 1, 1_000_000);
    const pageSize = integerParam(c.req.query('page_size'), 'page_size', 100, LIMITS.listLimit);
    const entities = await entitiesOf(c, services);
    const start = (page - 1) * pageSize;
    return c.json({
      count: entities.length,
      next: start + pageSize < entities.length ? page + 1 : null,
      previous: page > 1 ? page - 1 : null,
      results: entities.slice(start, start + pageSize),
    });
  });

  for (const version of ['v1', 'v2']) {
    app.delete(`/${version}/entities/:type/:name`, async (c) => {
      const type = c.req.param('type');
      const name = c.req.param('name');
      const scoped = scopedMemory(c, memory);
      if (type === 'app') {
        assertOwnApp(c, name, 'name');
        await scoped.deleteAll({});
      } else {
        const key = ENTITY_KEYS[type];
        if (!key) throw new ValidationError('type', 'expected one of user, agent, run, app');
        await scoped.deleteAll({ [key]: validateIdentifier(name, 'name') });
      }
      return c.json({ message: 'Entity deleted successfully.' });
    });
  }
}

const ENTITY_KEYS: Record<string, keyof Scope> = { user: 'userId', agent: 'agentId', run: 'runId' };

/** Mem0's memory object (snake_case; `null` for absent scope fields), plus mneme's temporal fields. */
export function toMem0Memory(record: MemoryRecord): Record<string, unknown> {
  return {
    id: record.id,
    memory: record.memory,
    user_id: record.userId ?? null,
    agent_id: record.agentId ?? null,
    app_id: record.appId ?? null,
    run_id: record.runId ?? null,
    hash: record.hash,
    metadata: record.metadata,
    categories: [],
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    expiration_date: record.expiresAt ?? null,
    role: record.role ?? null,
    kind: record.kind,
    observed_at: record.observedAt,
    valid_from: record.validFrom ?? null,
    valid_to: record.validTo ?? null,
    superseded_by: record.supersededBy ?? null,
  };
}

function toMem0Search(result: SearchResult): Record<string, unknown> {
  return { ...toMem0Memory(result), score: result.score, scores: result.scores };
}

function toMem0History(event: HistoryEvent, record: MemoryRecord | null): Record<string, unknown> {
  return {
    id: event.id,
    memory_id: event.memoryId,
    input: [],
    old_memory: event.previousValue ?? null,
    new_memory: event.newValue ?? null,
    user_id: record?.userId ?? null,
    categories: [],
    event: event.event,
    created_at: event.createdAt,
    updated_at: event.createdAt,
    actor: event.actor,
    reason: event.reason ?? null,
  };
}

function requireEntity(scope: Scope): Scope {
  if (scope.userId === undefined && scope.agentId === undefined && scope.runId === undefined) {
    throw new ValidationError('user_id', 'name at least one of user_id, agent_id or run_id');
  }
  return scope;
}

/** Unix seconds (Mem0's `timestamp`) or an ISO date. */
function parseTimestamp(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    const date = new Date(value * 1000);
    if (!Number.isFinite(value) || Number.isNaN(date.getTime())) {
      throw new ValidationError(field, 'expected Unix seconds or an ISO-8601 date');
    }
    return date.toISOString();
  }
  return typeof value === 'string' ? value : invalid(field, 'expected Unix seconds or an ISO-8601 date');
}

/** `YYYY-MM-DD` means "through that day": the memory is hidden from the next day on (UTC). */
function parseExpirationDate(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return invalid(field, 'expected a date such as "2026-12-31"');
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const date = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(date.getTime())) return invalid(field, 'expected a date such as "2026-12-31"');
    return new Date(date.getTime() + 86_400_000).toISOString();
  }
  return value;
}

function invalid(field: string, message: string): never {
  throw new ValidationError(field, message);
}

function rejectUnsupportedUpdate(body: Record<string, unknown>, prefix: string): void {
  for (const name of ['timestamp', 'expiration_date']) {
    if (body[name] !== undefined && body[name] !== null) {
      throw new ValidationError(
        `${prefix}${name}`,
        'not supported on update; delete the memory and add it again',
      );
    }
  }
}

/** Mem0 filter dialect -> mneme's: `icontains` is `contains`, `"*"` is "any value". */
export function translateMem0Filters(input: unknown, depth = 0): unknown {
  if (depth > 16 || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const output: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const lower = key.toLowerCase();
    if (lower === 'and' || lower === 'or') {
      output[key] = Array.isArray(value) ? value.map((item) => translateMem0Filters(item, depth + 1)) : value;
    } else if (lower === 'not') {
      output[key] = translateMem0Filters(value, depth + 1);
    } else if (value === '*') {
      output[key] = { ne: null };
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      output[key] = Object.fromEntries(
        Object.entries(value).map(([operator, operand]) => [
          operator === 'icontains' ? 'contains' : operator,
          operand,
        ]),
      );
    } else {
      output[key] = value;
    }
  }
  return output;
}

/**
 * `filters` plus Mem0's `metadata` shorthand (equality on each key) and, for lists, `start_date` / `end_date`
 * (on `created_at`), ANDed.
 */
function requestFilters(body: Record<string, unknown>, options: { dates: boolean }): unknown {
  const parts: unknown[] = [];
  if (body.filters !== undefined && body.filters !== null) parts.push(translateMem0Filters(body.filters));
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new ValidationError('metadata', 'expected an object of metadata values to match');
    }
    for (const [key, value] of Object.entries(metadata)) parts.push({ [`metadata.${key}`]: value });
  }
  if (options.dates && body.start_date !== undefined && body.start_date !== null)
    parts.push({ created_at: { gte: body.start_date } });
  if (options.dates && body.end_date !== undefined && body.end_date !== null)
    parts.push({ created_at: { lte: body.end_date } });
  return combine(parts);
}

function combine(parts: unknown[]): unknown {
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { AND: parts };
}

/** Page `page` of `pageSize` (1-based) and the total count, walking the store's cursor pages. */
async function pageOf(
  scoped: ScopedMemory,
  options: ListOptions,
  page: number,
  pageSize: number,
): Promise<{ results: MemoryRecord[]; count: number }> {
  let results: MemoryRecord[] = [];
  let count = 0;
  let cursor: string | undefined;
  const skip = (page - 1) * pageSize;
  do {
    const batch = await scoped.list({ ...options, limit: LIMITS.listLimit, ...(cursor ? { cursor } : {}) });
    const start = Math.max(0, skip - count);
    const end = Math.max(0, skip + pageSize - count);
    if (start < batch.results.length && end > 0) results = results.concat(batch.results.slice(start, end));
    count += batch.results.length;
    cursor = batch.nextCursor;
  } while (cursor);
  return { results, count };
}

function batchItems(body: Record<string, unknown>, maxBatchSize: number): Array<Record<string, unknown>> {
  const memories = body.memories;
  if (!Array.isArray(memories) || memories.length === 0) {
    throw new ValidationError('memories', 'expected a non-empty list of { "memory_id": "..." }');
  }
  if (memories.length > maxBatchSize) {
    throw new ValidationError('memories', `at most ${maxBatchSize} memories per batch; split the batch`);
  }
  const seen = new Set<string>();
  return memories.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ValidationError(`memories[${index}]`, 'expected { "memory_id": "..." }');
    }
    const record = item as Record<string, unknown>;
    const id = validateIdentifier(record.memory_id, `memories[${index}].memory_id`);
    if (seen.has(id)) throw new ValidationError(`memories[${index}].memory_id`, 'appears twice in the batch');
    seen.add(id);
    return record;
  });
}

/** Every id must be a memory of this app before anything changes: the batch fails whole with a 404. */
async function assertAllExist(
  scoped: ScopedMemory,
  items: Array<Record<string, unknown>>,
): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, item] of items.entries()) {
    const id = item.memory_id as string;
    if (!(await scoped.get(id))) {
      throw new HttpError(404, 'not_found', `memory ${id} not found; nothing in the batch was changed`, {
        field: `memories[${index}].memory_id`,
      });
    }
    ids.push(id);
  }
  return ids;
}

async function entitiesOf(
  c: Context<AppEnv>,
  services: ServerServices,
): Promise<Array<Record<string, unknown>>> {
  const appId = tenantOf(c);
  const scopes = await services.memory.store.listScopes({ within: { appId } });
  const totals = new Map<string, { type: string; name: string; count: number }>();
  for (const scope of scopes) {
    for (const [type, key] of Object.entries(ENTITY_KEYS)) {
      const name = scope[key];
      if (name === undefined) continue;
      const entry = totals.get(`${type}\u0000${name}`) ?? { type, name, count: 0 };
      entry.count += scope.count;
      totals.set(`${type}\u0000${name}`, entry);
    }
  }
  return [...totals.values()]
    .sort((left, right) =>
      left.type === right.type ? (left.name < right.name ? -1 : 1) : left.type < right.type ? -1 : 1,
    )
    .map((entry) => ({
      id: entry.name,
      name: entry.name,
      type: entry.type,
      total_memories: entry.count,
      owner: appId,
      created_at: null,
      updated_at: null,
    }));
}

const QUEUED_MESSAGE = 'Memory processing has been queued for background execution';

type OutputFormat = 'v1.0' | 'v1.1';

/** Mem0's `output_format`: `v1.1` (the default) wraps results as `{ results }`, `v1.0` is the bare list. */
function outputFormat(body: Record<string, unknown>): OutputFormat {
  const value = body.output_format;
  if (value === undefined || value === null || value === 'v1.1') return 'v1.1';
  if (value === 'v1.0') return 'v1.0';
  throw new ValidationError('output_format', 'expected "v1.1" ({ results: [...] }) or "v1.0" (a bare list)');
}

function inFormat(format: OutputFormat, results: unknown[]): unknown {
  return format === 'v1.0' ? results : { results };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : undefined;
}

/** Query parameters Mem0 documents for `GET /v1/memories/` that mneme has no data for. */
const UNSUPPORTED_LIST_QUERY = ['categories', 'keywords', 'fields'];

/** `GET /v1/memories/?user_id=...&metadata={...}` as the body the other list routes read. */
function bodyFromQuery(query: Record<string, string>): Record<string, unknown> {
  for (const name of UNSUPPORTED_LIST_QUERY) {
    if (query[name] !== undefined) {
      throw new ValidationError(
        name,
        'not supported by mneme; filter with user_id, agent_id, run_id, metadata',
      );
    }
  }
  const body: Record<string, unknown> = { ...query };
  if (query.metadata !== undefined) {
    try {
      body.metadata = JSON.parse(query.metadata);
    } catch {
      throw new ValidationError('metadata', 'expected a JSON object such as {"source":"chat"}');
    }
  }
  return body;
}
