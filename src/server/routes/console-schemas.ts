/**
 * The console routes' table (see route-spec.ts; the handlers are console.ts): camelCase like the native routes.
 * Bodies and queries are strict (a field they do not know is a 422 naming it); the content rules (scope
 * identifiers, budgets, the cursor) stay in the handler and the service.
 */
import { z } from 'zod';
import { LIMITS } from '../../core/validate.js';
import { routesTagged } from '../route-spec.js';
import {
  dateTime,
  flag,
  identifier,
  integerUpTo,
  Memory,
  memoryKind,
  numberParam,
  scopeFields,
  text,
} from '../schemas/components.js';

const consoleRoute = routesTagged('native');
const SCOPE = ['userId', 'agentId', 'runId', 'appId'] as const;
const number = z.number({ error: 'expected a number' }).nullish();
const loose = z.looseObject({});

/** The console routes, by operation. */
export const CONSOLE_ROUTES = {
  users: consoleRoute(
    'get',
    '/api/users',
    "The users that hold memories (in the key's app), with memory counts, sorted by id, paged",
    z.object({
      results: z.array(
        z.object({ userId: z.string(), appId: z.string().optional(), memories: z.number().int() }),
      ),
      total: z.number().int(),
      nextCursor: z.string().optional(),
    }),
    {
      query: z.strictObject({
        q: z.string().optional().meta({ description: 'keep user ids containing this (case-insensitive)' }),
        limit: numberParam(integerUpTo(LIMITS.listLimit), { emptyIsAbsent: true }),
        cursor: z.string().optional().meta({ description: 'the nextCursor of a previous page' }),
      }),
    },
  ),
  explain: consoleRoute(
    'post',
    '/api/context/explain',
    'The block withMemory would inject for a prompt (text), with the profile items and every search ' +
      'candidate, its scores (dense, keyword, recency, rrf, session, speaker, fused) and why it was left out',
    z.looseObject({
      text: z.string(),
      profile: z.array(loose),
      relevant: z.array(loose),
      includedIds: z.array(z.string()),
      includedTexts: z.array(z.string()),
      tookMs: z.number(),
    }),
    {
      body: z.strictObject({
        ...scopeFields(SCOPE, (field) => field.nullish()),
        prompt: text().nullish(),
        includeProfile: flag.nullish(),
        profileTokens: number,
        maxTokens: number,
        limit: number,
        threshold: number,
      }),
    },
  ),
  correct: consoleRoute(
    'post',
    '/api/memories/{id}/correct',
    'Mark a memory wrong: a new memory with the corrected text supersedes it (both stay in history)',
    z.object({ memory: Memory, superseded: Memory }),
    { status: 201, body: z.strictObject({ text: text().meta({ description: 'the corrected text' }) }) },
  ),
  timeline: consoleRoute(
    'get',
    '/api/users/{userId}/timeline',
    'Memories created per day, week or month and kind (superseded and expired included)',
    z.object({
      unit: z.enum(['day', 'week', 'month']),
      kinds: z.array(memoryKind),
      buckets: z.array(z.object({ start: z.string(), counts: z.record(z.string(), z.number().int()) })),
      total: z.number().int(),
      truncated: z.boolean(),
    }),
    {
      query: z.strictObject({
        agentId: identifier.optional(),
        runId: identifier.optional(),
        appId: identifier.optional().meta({ description: "must be the key's app" }),
      }),
    },
  ),
  ingestion: consoleRoute(
    'get',
    '/api/ingestion',
    "Ingestion: queue depth (all-apps sessions only), the app's newest memories, its dead letters",
    z.object({
      queueDepth: z.number().int().nullable(),
      recent: z.array(Memory),
      deadLetters: z.array(
        z.looseObject({
          id: z.string(),
          attempts: z.number().int(),
          error: z.string(),
          enqueuedAt: dateTime,
          failedAt: dateTime,
          preview: z.string(),
        }),
      ),
    }),
  ),
  retry: consoleRoute(
    'post',
    '/api/ingestion/dead-letters/{id}/retry',
    'Put a dead letter of the app back into the ingestion queue',
    z.object({ id: z.string(), retried: z.literal(true) }),
  ),
  searches: consoleRoute(
    'get',
    '/api/stats/searches',
    "Latency of the last searches this server process answered for the key's app",
    z.object({ searches: z.array(loose) }),
  ),
};
