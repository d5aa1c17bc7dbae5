/**
 * The Mem0 platform routes the official `mem0ai` `MemoryClient` calls (`new MemoryClient({ apiKey, host })`),
 * with its snake_case bodies, trailing-slash paths and status codes (400/422 validation, 401/403 auth, 404 not
 * found). Unlike Mem0's own server, every route is confined to the key's app: ids, user ids, filters and
 * metadata of another app are never reachable.
 *
 * The routes, their inputs and answers are in the route table (mem0-schemas.ts), which validates each request
 * before a handler here runs.
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
import { PROFILE_DEFAULT_TOKENS } from '../../memory/profile.js';
import { HttpError } from '../errors.js';
import { Mem0Events } from '../mem0-events.js';
import {
  type AppEnv,
  assertFiltersStayInApp,
  assertNoScopeInMetadata,
  assertOwnApp,
  requestScope,
  type ServerServices,
  scopedMemory,
  tenantOf,
  withFieldNames,
} from '../request.js';
import { route } from '../route-spec.js';
import { MEM0_ROUTES as ROUTES } from './mem0-schemas.js';

type Body = Record<string, unknown>;
type Paging = { page?: number | null | undefined; page_size?: number | null | undefined };

/** Registers the Mem0-compatible routes on `app` (their table: mem0-schemas.ts). */
export function registerMem0Routes(app: Hono<AppEnv>, services: ServerServices): void {
  const { memory, limits } = services;

  route(app, ROUTES.ping, (c) => {
    const appId = c.get('principal').appId ?? null;
    return c.json({ status: 'ok', org_id: appId, project_id: appId, user_email: null });
  });

  const events = new Mem0Events(memory.store);

  /** One add for every version: v3 answers `{ results, skipped }`, v1 answers in its `output_format`. */
  const add = async (c: Context<AppEnv>, body: Body, format: OutputFormat | undefined) => {
    assertNoScopeInMetadata(body.metadata, 'metadata');
    const scope = requireEntity(requestScope(c, body));
    const infer = (body.infer as boolean | null | undefined) ?? true;
    // Queue only when there is slow work to defer (an LLM call); verbatim storage answers at once.
    const asyncMode = (body.async_mode as boolean | null | undefined) ?? (infer && memory.llm !== null);
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
  const search = async (c: Context<AppEnv>, body: Body, format: OutputFormat) => {
    const filters = requestFilters(body, { dates: false });
    assertFiltersStayInApp(c, filters, 'filters');
    const options: SearchOptions = {
      ...requestScope(c, body),
      ...(filters !== undefined ? { filters } : {}),
      ...(body.top_k !== undefined && body.top_k !== null ? { limit: body.top_k as number } : {}),
      ...(body.threshold !== undefined && body.threshold !== null
        ? { threshold: body.threshold as number }
        : {}),
      ...(body.show_expired === true ? { includeExpired: true } : {}),
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
  const list = async (c: Context<AppEnv>, body: Body & Paging, query: Paging, format?: OutputFormat) => {
    const page = query.page ?? body.page ?? undefined;
    const given = query.page_size ?? body.page_size ?? undefined;
    const paged = format === undefined || page !== undefined || given !== undefined;
    const pageSize = given ?? (paged ? 100 : LIMITS.listLimit);
    const filters = requestFilters(body, { dates: true });
    assertFiltersStayInApp(c, filters, 'filters');
    const options: ListOptions = {
      ...requestScope(c, body),
      ...(filters !== undefined ? { filters } : {}),
      ...(body.show_expired === true ? { includeExpired: true } : {}),
    };
    const { results, count } = await pageOf(scopedMemory(c, memory), options, page ?? 1, pageSize);
    if (!paged) return c.json(inFormat(format ?? 'v1.1', results.map(toMem0Memory)));
    const base = new URL(c.req.url);
    const link = (target: number) => {
      base.searchParams.set('page', String(target));
      base.searchParams.set('page_size', String(pageSize));
      return base.toString();
    };
    const current = page ?? 1;
    return c.json({
      count,
      next: current * pageSize < count ? link(current + 1) : null,
      previous: current > 1 ? link(current - 1) : null,
      results: results.map(toMem0Memory),
    });
  };

  route(app, ROUTES.addV1, (c, { body }) => add(c, body, body.output_format ?? 'v1.1'));
  route(app, ROUTES.addV3, (c, { body }) => add(c, body, undefined));
  route(app, ROUTES.searchV1, (c, { body }) => search(c, body, body.output_format ?? 'v1.1'));
  route(app, ROUTES.searchV2, (c, { body }) => search(c, body, body.output_format ?? 'v1.1'));
  route(app, ROUTES.searchV3, (c, { body }) => search(c, body, 'v1.1'));
  route(app, ROUTES.listV1, (c, { query }) =>
    list(c, bodyFromQuery(query), query, query.output_format ?? 'v1.1'),
  );
  route(app, ROUTES.listV2, (c, { query, body }) => list(c, body, query, body.output_format ?? 'v1.1'));
  route(app, ROUTES.listV3, (c, { query, body }) => list(c, body, query));

  route(app, ROUTES.event, async (c) => c.json(await events.get(c.req.param('id') ?? '', tenantOf(c))));

  route(app, ROUTES.get, async (c) => {
    const id = c.req.param('id') ?? '';
    const record = await scopedMemory(c, memory).get(id);
    if (!record) throw new NotFoundError(`memory ${id} not found`);
    return c.json(toMem0Memory(record));
  });

  route(app, ROUTES.update, async (c, { body }) => {
    rejectUnsupportedUpdate(body, '');
    assertNoScopeInMetadata(body.metadata, 'metadata');
    if (body.text === undefined && body.metadata === undefined) {
      throw new ValidationError('text', 'give text, metadata, or both');
    }
    const updated = await scopedMemory(c, memory).update(c.req.param('id') ?? '', {
      ...(body.text !== undefined ? { text: body.text as string } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata as Metadata } : {}),
    });
    return c.json({ ...toMem0Memory(updated), message: 'Memory updated successfully!' });
  });

  route(app, ROUTES.erase, async (c) => {
    if (c.req.query('delete_linked') === 'true') {
      throw new ValidationError('delete_linked', 'not supported: superseded memories are kept for history');
    }
    // Erased: no text stays behind in the history (an ERASE tombstone with ids and times remains).
    await scopedMemory(c, memory).erase(c.req.param('id') ?? '');
    return c.json({ message: 'Memory deleted successfully!' });
  });

  route(app, ROUTES.deleteAll, async (c, { query }) => {
    const scope = requestScope(c, query);
    const wholeApp = query.app_id !== undefined || query.appId !== undefined;
    if (!wholeApp) requireEntity(scope);
    const { deleted } = await scopedMemory(c, memory).deleteAll(scope);
    return c.json({ message: 'Memories deleted successfully!', deleted });
  });

  route(app, ROUTES.history, async (c) => {
    const id = c.req.param('id') ?? '';
    const scoped = scopedMemory(c, memory);
    const history = await scoped.history(id);
    if (history.length === 0) throw new NotFoundError(`memory ${id} not found`);
    const record = await scoped.get(id);
    return c.json(history.map((event) => toMem0History(event, record)));
  });

  route(app, ROUTES.profile, async (c, { query }) => {
    const userId = c.req.param('user_id') ?? '';
    const scope = requestScope(c, { ...query, user_id: userId });
    const maxTokens = query.max_tokens ?? PROFILE_DEFAULT_TOKENS;
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

  route(app, ROUTES.batchUpdate, async (c, { body }) => {
    const items = batchItems(body.memories, limits.maxBatchSize);
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

  route(app, ROUTES.batchErase, async (c, { body }) => {
    const items = batchItems(body.memories, limits.maxBatchSize);
    const scoped = scopedMemory(c, memory);
    const ids = await assertAllExist(scoped, items);
    for (const id of ids) await scoped.erase(id);
    return c.json({ message: `Successfully deleted ${ids.length} memories` });
  });

  route(app, ROUTES.entities, async (c, { query }) => {
    const page = query.page ?? 1;
    const pageSize = query.page_size ?? 100;
    const entities = await entitiesOf(c, services);
    const start = (page - 1) * pageSize;
    return c.json({
      count: entities.length,
      next: start + pageSize < entities.length ? page + 1 : null,
      previous: page > 1 ? page - 1 : null,
      results: entities.slice(start, start + pageSize),
    });
  });

  for (const spec of [ROUTES.entityDeleteV1, ROUTES.entityDeleteV2]) {
    route(app, spec, async (c) => {
      const type = c.req.param('type') ?? '';
      const name = c.req.param('name') ?? '';
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

/** The validated batch items: at most `maxBatchSize`, each id once (the schema checked their shape). */
function batchItems(memories: Body[], maxBatchSize: number): Body[] {
  if (memories.length > maxBatchSize) {
    throw new ValidationError('memories', `at most ${maxBatchSize} memories per batch; split the batch`);
  }
  const seen = new Set<string>();
  return memories.map((record, index) => {
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

/** Mem0's `output_format`: `v1.1` (the default) wraps results as `{ results }`, `v1.0` is the bare list. */
type OutputFormat = 'v1.0' | 'v1.1';

function inFormat(format: OutputFormat, results: unknown[]): unknown {
  return format === 'v1.0' ? results : { results };
}

/** Query parameters Mem0 documents for `GET /v1/memories/` that mneme has no data for. */
const UNSUPPORTED_LIST_QUERY = ['categories', 'keywords', 'fields'];

/** `GET /v1/memories/?user_id=...&metadata={...}` as the body the other list routes read. */
function bodyFromQuery<T extends Record<string, unknown>>(query: T): T {
  for (const name of UNSUPPORTED_LIST_QUERY) {
    if (query[name] !== undefined) {
      throw new ValidationError(
        name,
        'not supported by mneme; filter with user_id, agent_id, run_id, metadata',
      );
    }
  }
  const body: Record<string, unknown> = { ...query };
  if (typeof query.metadata === 'string') {
    try {
      body.metadata = JSON.parse(query.metadata);
    } catch {
      throw new ValidationError('metadata', 'expected a JSON object such as {"source":"chat"}');
    }
  }
  return body as T;
}
