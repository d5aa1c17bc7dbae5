/**
 * The native routes' table (see route-spec.ts): camelCase like the TypeScript API. Bodies are strict (a field
 * they do not know is a 422 naming it), and so is the profile route's query; the other queries also take the
 * snake_case scope spellings (request.ts).
 */
import { z } from 'zod';
import { LIMITS } from '../../core/validate.js';
import { PROFILE_MAX_TOKENS } from '../../memory/profile.js';
import { routesTagged } from '../route-spec.js';
import {
  AddResult,
  dateTime,
  ExportedMemory,
  Filters,
  flag,
  flagParam,
  HistoryEvent,
  identifier,
  integerUpTo,
  Memory,
  MemoryPage,
  Metadata,
  memoryKind,
  memoryText,
  messages,
  numberParam,
  oneOf,
  Profile,
  SearchResult,
  scopeFields,
  searchQuery,
  unitInterval,
} from '../schemas/components.js';

const native = routesTagged('native');
const SCOPE = ['userId', 'agentId', 'runId', 'appId'] as const;
const scope = scopeFields(SCOPE, (field) => field.nullish());
const scopeQuery = z.looseObject(scopeFields(SCOPE, (field) => field.optional()));
const read = {
  ...scope,
  filters: Filters.nullish(),
  asOf: dateTime.nullish().meta({ description: 'answer as of this instant' }),
  includeSuperseded: flag.nullish(),
  includeExpired: flag.nullish(),
};

/** The native routes, by operation. */
export const NATIVE_ROUTES = {
  add: native(
    'post',
    '/api/memories',
    'Add memories (201), or queue them durably with "async": true (202)',
    AddResult,
    {
      status: 201,
      body: z.strictObject({
        ...scope,
        messages,
        metadata: Metadata.nullish(),
        observedAt: dateTime.nullish(),
        expiresAt: dateTime.nullish(),
        infer: flag.nullish(),
        async: flag.nullish(),
      }),
    },
  ),
  search: native(
    'post',
    '/api/memories/search',
    'Hybrid search with per-signal scores',
    z.object({ results: z.array(SearchResult) }),
    {
      body: z.strictObject({
        ...read,
        query: searchQuery,
        limit: integerUpTo(LIMITS.searchLimit).nullish(),
        threshold: unitInterval.nullish(),
        mode: oneOf(['hybrid', 'dense', 'keyword'], 'expected "hybrid", "dense" or "keyword"').nullish(),
      }),
    },
  ),
  listPosted: native(
    'post',
    '/api/memories/list',
    'List memories, newest first, with filters and an opaque cursor',
    MemoryPage,
    {
      emptyBody: true,
      body: z.strictObject({
        ...read,
        limit: integerUpTo(LIMITS.listLimit).nullish(),
        cursor: z.string({ error: 'expected the nextCursor string of a previous page' }).nullish(),
      }),
    },
  ),
  list: native('get', '/api/memories', 'List memories of a scope', MemoryPage, {
    query: scopeQuery.extend({
      limit: numberParam(integerUpTo(LIMITS.listLimit), { emptyIsAbsent: false }),
      cursor: z.string().optional(),
    }),
  }),
  deleteAll: native(
    'delete',
    '/api/memories',
    'Erase every memory of a user, agent or run (one of them is required)',
    z.object({ deleted: z.number().int() }),
    { query: scopeQuery },
  ),
  get: native('get', '/api/memories/{id}', 'Get one memory', Memory),
  update: native(
    'patch',
    '/api/memories/{id}',
    'Change text, metadata and/or kind (scope never changes)',
    Memory,
    {
      body: z.strictObject({
        text: memoryText.nullish(),
        metadata: Metadata.nullish(),
        kind: memoryKind.nullish(),
      }),
    },
  ),
  erase: native(
    'delete',
    '/api/memories/{id}',
    'Erase one memory: row, vectors, keyword index and the text of its history (an ERASE tombstone remains). ' +
      'With soft=true, delete it and keep its last text in a DELETE history event',
    z.object({ id: z.string(), deleted: z.boolean(), erased: z.boolean() }),
    {
      query: z.looseObject({
        soft: flagParam.meta({ description: 'keep the history text (default false: erase)' }),
      }),
    },
  ),
  history: native(
    'get',
    '/api/memories/{id}/history',
    'Every change to a memory, oldest first',
    z.object({ history: z.array(HistoryEvent) }),
  ),
  profile: native(
    'get',
    '/api/users/{userId}/profile',
    "A user's profile: current instructions, preferences and facts (and pinned memories), pinned first, " +
      "newest first per kind, de-duplicated, within maxTokens. The user is a user of the key's app.",
    Profile,
    {
      // The user is the path's; the other scope fields come in either spelling, as everywhere (request.ts).
      query: z.strictObject({
        agentId: identifier.optional(),
        agent_id: identifier.optional(),
        runId: identifier.optional(),
        run_id: identifier.optional(),
        appId: identifier.optional().meta({ description: "must be the key's app" }),
        app_id: identifier.optional().meta({ description: "must be the key's app" }),
        maxTokens: numberParam(integerUpTo(PROFILE_MAX_TOKENS), { emptyIsAbsent: false }).meta({
          description: 'token budget (default 400)',
        }),
      }),
    },
  ),
  export: native(
    'get',
    '/api/export',
    "Export a scope (default: the key's whole app) as JSON lines, with history",
    ExportedMemory,
    { query: scopeQuery, contentType: 'application/x-ndjson' },
  ),
};
