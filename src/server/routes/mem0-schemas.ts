/**
 * The Mem0-compatible routes' table (see route-spec.ts), with the snake_case fields and trailing-slash paths the
 * official clients send. Bodies and queries are loose: fields that only steer Mem0's hosted LLM
 * (`custom_instructions`, `includes`, `rerank`, ...) and the older clients' `org_id` / `project_id` are accepted
 * and have no effect. `null` is "absent" everywhere, as the clients send it.
 */
import { z } from 'zod';
import { LIMITS } from '../../core/validate.js';
import { PROFILE_MAX_TOKENS } from '../../memory/profile.js';
import { routesTagged } from '../route-spec.js';
import {
  batchUpdate,
  dateTime,
  Filters,
  flag,
  flagParam,
  formatted,
  integerUpTo,
  Mem0Event,
  Mem0History,
  Mem0Memory,
  Mem0Page,
  MessageReply,
  Metadata,
  mem0Batch,
  memoryText,
  messages,
  numberParam,
  outputFormat,
  resultsOf,
  scopeFields,
  searchQuery,
  unitInterval,
} from '../schemas/components.js';

const SCOPE = ['user_id', 'agent_id', 'run_id', 'app_id'] as const;
const scope = scopeFields(SCOPE, (field) => field.nullish());
const scopeQuery = scopeFields(SCOPE, (field) => field.optional());
const paging = {
  page: numberParam(integerUpTo(1_000_000), { emptyIsAbsent: true }),
  page_size: numberParam(integerUpTo(LIMITS.listLimit), { emptyIsAbsent: true }),
};
const unixSecondsOrDate = z
  .union([z.number(), z.string()], { error: 'expected Unix seconds or an ISO-8601 date' })
  .meta({ description: 'when the messages were said: Unix seconds or an ISO-8601 date' });
const day = z
  .string({ error: 'expected a date such as "2026-12-31"' })
  .meta({ description: 'YYYY-MM-DD: hidden from the next day on (UTC); or an ISO-8601 instant' });

const mem0 = routesTagged('mem0');

const addBody = z.looseObject({
  ...scope,
  messages,
  metadata: Metadata.nullish(),
  infer: flag.nullish(),
  async_mode: flag.nullish(),
  timestamp: unixSecondsOrDate.nullish(),
  expiration_date: day.nullish(),
});
const searchBody = z.looseObject({
  ...scope,
  query: searchQuery,
  filters: Filters.nullish(),
  metadata: Metadata.nullish().meta({ description: 'equality on each key (ANDed with filters)' }),
  top_k: integerUpTo(LIMITS.searchLimit).nullish(),
  threshold: unitInterval.nullish(),
  show_expired: flag.nullish(),
});
/** The v1 and v2 search: the v3 search answering in `output_format`. */
const formattedSearch = (path: string, summary: string) =>
  mem0('post', path, summary, formatted(Mem0Memory), {
    body: searchBody.extend({ output_format: outputFormat }),
  });
const listBody = z.looseObject({
  ...scope,
  filters: Filters.nullish(),
  metadata: Metadata.nullish().meta({ description: 'equality on each key (ANDed with filters)' }),
  start_date: dateTime.nullish(),
  end_date: dateTime.nullish(),
  show_expired: flag.nullish(),
  ...paging,
});
const unpaged = `with page or page_size a page ({ count, next, previous, results }), else up to ${LIMITS.listLimit} in output_format`;
const mem0List = z.union([formatted(Mem0Memory), Mem0Page]);
const mem0Profile = z.object({
  user_id: z.string(),
  results: z.array(
    z.object({
      id: z.string(),
      memory: z.string(),
      kind: z.string(),
      pinned: z.boolean(),
      created_at: z.string(),
      updated_at: z.string(),
      observed_at: z.string(),
    }),
  ),
  omitted: z.number().int(),
  tokens: z.number().int(),
});
const entity = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  total_memories: z.number().int(),
});
const entityDelete = (version: 'v1' | 'v2') =>
  mem0(
    'delete',
    `/${version}/entities/{type}/{name}/`,
    'Mem0: delete the memories of one user, agent, run (or the whole app)',
    MessageReply,
  );
const ping = z.object({
  status: z.string(),
  org_id: z.string().nullable(),
  project_id: z.string().nullable(),
  user_email: z.null(),
});
const entities = z.object({
  count: z.number().int(),
  next: z.number().int().nullable(),
  previous: z.number().int().nullable(),
  results: z.array(entity),
});
const BATCH = 'any unknown id fails the whole batch (404) before a change';

/** The Mem0-compatible routes, by operation. */
export const MEM0_ROUTES = {
  ping: mem0('get', '/v1/ping/', 'Mem0: check the key', ping),
  addV1: mem0(
    'post',
    '/v1/memories/',
    'Mem0 v1: add memories; answers in output_format (v1.1: { results }, v1.0: a list); queued ' +
      '([{ status: PENDING, event_id }]) with async_mode true, or by default when an LLM will infer them',
    formatted(Mem0Memory),
    { body: addBody.extend({ output_format: outputFormat }) },
  ),
  addV3: mem0(
    'post',
    '/v3/memories/add/',
    'Mem0: add memories; queued ({ status: PENDING, event_id }) only when an LLM will infer them',
    resultsOf(Mem0Memory),
    { body: addBody },
  ),
  searchV1: formattedSearch(
    '/v1/memories/search/',
    'Mem0 v1: search (user_id, agent_id, run_id, metadata in the body; filters optional)',
  ),
  searchV2: formattedSearch('/v2/memories/search/', 'Mem0 v2: search with a filter tree'),
  searchV3: mem0('post', '/v3/memories/search/', 'Mem0: search', resultsOf(Mem0Memory), { body: searchBody }),
  listV1: mem0('get', '/v1/memories/', `Mem0 v1: list memories of a scope; ${unpaged}`, mem0List, {
    query: z.looseObject({
      ...scopeQuery,
      metadata: z.string().optional().meta({ description: 'JSON object: equality on each key' }),
      start_date: dateTime.optional(),
      end_date: dateTime.optional(),
      show_expired: flagParam,
      output_format: outputFormat,
      ...paging,
    }),
  }),
  listV2: mem0('post', '/v2/memories/', `Mem0 v2: list with a filter tree; ${unpaged}`, mem0List, {
    query: z.looseObject(paging),
    emptyBody: true,
    body: listBody.extend({ output_format: outputFormat }),
  }),
  listV3: mem0('post', '/v3/memories/', 'Mem0: list memories (page numbers)', Mem0Page, {
    query: z.looseObject(paging),
    emptyBody: true,
    body: listBody,
  }),
  event: mem0(
    'get',
    '/v1/event/{id}/',
    'Mem0: the status of a queued add (PENDING while queued, SUCCEEDED once ingested); 404 for an event ' +
      'this server did not issue or of another app',
    Mem0Event,
  ),
  get: mem0('get', '/v1/memories/{id}/', 'Mem0: get one memory', Mem0Memory),
  update: mem0(
    'put',
    '/v1/memories/{id}/',
    'Mem0: update text and/or metadata (timestamp and expiration_date cannot change)',
    Mem0Memory,
    { body: z.looseObject({ text: memoryText.nullish(), metadata: Metadata.nullish() }) },
  ),
  erase: mem0(
    'delete',
    '/v1/memories/{id}/',
    'Mem0: erase one memory (no text stays in its history; an ERASE tombstone remains)',
    MessageReply,
  ),
  deleteAll: mem0(
    'delete',
    '/v1/memories/',
    'Mem0: delete every memory of a user, agent or run (or the whole app with app_id)',
    MessageReply.extend({ deleted: z.number().int() }),
    { query: z.looseObject(scopeQuery) },
  ),
  history: mem0('get', '/v1/memories/{id}/history/', 'Mem0: change events of a memory', z.array(Mem0History)),
  profile: mem0(
    'get',
    '/v1/users/{user_id}/profile/',
    "mneme: a user's profile in the Mem0 routes' snake_case (the same items as /api/users/{userId}/profile). " +
      "The user is a user of the key's app.",
    mem0Profile,
    {
      query: z.looseObject({
        agent_id: scopeQuery.agent_id,
        run_id: scopeQuery.run_id,
        app_id: scopeQuery.app_id,
        max_tokens: numberParam(integerUpTo(PROFILE_MAX_TOKENS), { emptyIsAbsent: true }).meta({
          description: 'token budget (default 400)',
        }),
      }),
    },
  ),
  batchUpdate: mem0('put', '/v1/batch/', `Mem0: update many memories; ${BATCH}`, MessageReply, {
    body: mem0Batch(batchUpdate),
  }),
  batchErase: mem0('delete', '/v1/batch/', `Mem0: erase many memories; ${BATCH}`, MessageReply, {
    body: mem0Batch({}),
  }),
  entities: mem0(
    'get',
    '/v1/entities/',
    "Mem0: the app's users, agents and runs with memory counts",
    entities,
    {
      query: z.looseObject(paging),
    },
  ),
  entityDeleteV1: entityDelete('v1'),
  entityDeleteV2: entityDelete('v2'),
};
