/**
 * REST routes the memory console needs beyond the native API (routes/native.ts). Like every route they need an
 * API key and are confined to its app (an all-apps principal, the local console's session, sees every app), so
 * the console can do nothing a key could not do over HTTP.
 *
 * | method | path | operation |
 * |---|---|---|
 * | GET | `/api/users?q=&limit=&cursor=` | the users that hold memories, with counts, by user id, paged |
 * | POST | `/api/context/explain` | the block `withMemory` would inject for a prompt, with every candidate's scores and why it was cut |
 * | POST | `/api/memories/{id}/correct` | mark a memory wrong: a correction supersedes it (`{ text }`) |
 * | GET | `/api/users/{userId}/timeline` | memories created per day (or week, month) and kind, superseded included |
 * | GET | `/api/ingestion` | queue depth, newest memories, dead letters with their reason |
 * | POST | `/api/ingestion/dead-letters/{id}/retry` | put a dead letter back into the queue |
 * | GET | `/api/stats/searches` | latency of the last searches this process served (the key's app) |
 */
import type { Context, Hono } from 'hono';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { MEMORY_KINDS, type MemoryKind, type Scope } from '../../core/types.js';
import { LIMITS } from '../../core/validate.js';
import { buildSessionContext } from '../../memory/session-context.js';
import { type AppEnv, appOf, defined, requestScope, type ServerServices, scopedMemory } from '../request.js';
import { route } from '../route-spec.js';
import { CONSOLE_ROUTES as ROUTES } from './console-schemas.js';
import { createSearchLatencies } from './search-latencies.js';

const TIMELINE_MAX = 200_000;
const TIMELINE_PAGE = LIMITS.listLimit;
const DEAD_LETTERS_MAX = 1_000;

/** Registers the console routes on `app`, and the search-latency recorder on every search route. */
export function registerConsoleRoutes(app: Hono<AppEnv>, services: ServerServices): void {
  const { memory } = services;
  const latencies = createSearchLatencies();
  for (const path of [
    '/api/memories/search',
    '/api/context/explain',
    '/v1/memories/search',
    '/v2/memories/search',
    '/v3/memories/search',
  ]) {
    app.use(path, latencies.middleware);
  }

  route(app, ROUTES.users, async (c, { query }) => {
    const limit = query.limit ?? 50;
    const offset = query.cursor === undefined ? 0 : Number(query.cursor);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new ValidationError('cursor', 'expected the nextCursor of a previous page');
    }
    const needle = (query.q ?? '').trim().toLowerCase();
    const app = appOf(c);
    const scopes = await memory.store.listScopes(app === undefined ? {} : { within: { appId: app } });
    const totals = new Map<string, { userId: string; appId?: string; memories: number }>();
    for (const scope of scopes) {
      if (scope.userId === undefined) continue;
      if (needle !== '' && !scope.userId.toLowerCase().includes(needle)) continue;
      const key = `${scope.appId ?? ''}\u0000${scope.userId}`;
      const entry = totals.get(key) ?? {
        userId: scope.userId,
        ...(scope.appId !== undefined ? { appId: scope.appId } : {}),
        memories: 0,
      };
      entry.memories += scope.count;
      totals.set(key, entry);
    }
    const sorted = [...totals.values()].sort((left, right) =>
      left.userId === right.userId
        ? (left.appId ?? '').localeCompare(right.appId ?? '')
        : left.userId.localeCompare(right.userId),
    );
    const page = sorted.slice(offset, offset + limit);
    const next = offset + limit < sorted.length ? String(offset + limit) : undefined;
    return c.json({ results: page, total: sorted.length, ...(next ? { nextCursor: next } : {}) });
  });

  route(app, ROUTES.explain, async (c, { body }) => {
    const scope = requireUser(c, body);
    const prompt = body.prompt ?? '';
    const includeProfile = body.includeProfile ?? undefined;
    const started = performance.now();
    const context = await buildSessionContext(memory, {
      scope,
      prompt,
      explain: true,
      ...(includeProfile !== undefined ? { includeProfile } : {}),
      ...defined({
        profileTokens: body.profileTokens ?? undefined,
        maxTokens: body.maxTokens ?? undefined,
        limit: body.limit ?? undefined,
        threshold: body.threshold ?? undefined,
      }),
    });
    return c.json({ ...context, tookMs: Math.round((performance.now() - started) * 100) / 100 });
  });

  route(app, ROUTES.correct, async (c, { body }) => {
    return c.json(await scopedMemory(c, memory).correct(c.req.param('id') ?? '', body.text), 201);
  });

  route(app, ROUTES.timeline, async (c, { query }) => {
    const scope = requestScope(c, { ...query, userId: c.req.param('userId') });
    const scoped = scopedMemory(c, memory);
    const created: Array<{ at: string; kind: MemoryKind }> = [];
    let cursor: string | undefined;
    do {
      const page = await scoped.list({
        ...scope,
        limit: TIMELINE_PAGE,
        includeSuperseded: true,
        includeExpired: true,
        ...(cursor ? { cursor } : {}),
      });
      for (const record of page.results) created.push({ at: record.createdAt, kind: record.kind });
      cursor = page.nextCursor;
    } while (cursor && created.length < TIMELINE_MAX);
    return c.json({ ...bucketByTime(created), truncated: cursor !== undefined });
  });

  route(app, ROUTES.ingestion, async (c) => {
    const app = appOf(c);
    const [letters, depth, recent] = await Promise.all([
      memory.store.listDeadLetters({ limit: DEAD_LETTERS_MAX }),
      // The queue depth is store-wide: shown only to a principal that sees every app.
      app === undefined ? memory.store.queueSize() : Promise.resolve(null),
      memory.store.list({
        scope: app === undefined ? {} : { appId: app },
        temporal: { now: new Date().toISOString() },
        page: { limit: 10 },
      }),
    ]);
    const mine = letters.filter((letter) => app === undefined || letter.scope.appId === app);
    return c.json({
      queueDepth: depth,
      recent: recent.records,
      deadLetters: mine.map((letter) => ({
        id: letter.id,
        ...letter.scope,
        attempts: letter.attempts,
        error: letter.error,
        enqueuedAt: letter.enqueuedAt,
        failedAt: letter.failedAt,
        preview: previewOf(letter.payload),
      })),
    });
  });

  route(app, ROUTES.retry, async (c) => {
    const id = c.req.param('id') ?? '';
    const app = appOf(c);
    const letters = await memory.store.listDeadLetters({ limit: DEAD_LETTERS_MAX });
    const letter = letters.find((item) => item.id === id && (app === undefined || item.scope.appId === app));
    if (!letter) throw new NotFoundError(`dead letter ${id} not found`);
    const item = await memory.store.retryDeadLetter({ id, now: new Date().toISOString() });
    memory.resumeIngestion();
    return c.json({ id: item.id, retried: true });
  });

  route(app, ROUTES.searches, (c) => c.json({ searches: latencies.recent(appOf(c)) }));
}

/** The scope of a request that must name a user, with the key's app (or the app it names, for all apps). */
function requireUser(c: Context<AppEnv>, body: Record<string, unknown>): Scope {
  const scope = requestScope(c, body);
  if (scope.userId === undefined) throw new ValidationError('userId', 'required: the user to explain for');
  const app = appOf(c);
  return app === undefined ? scope : { ...scope, appId: app };
}

/** Counts per time bucket and kind; the bucket (day, week, month) keeps the chart under ~120 bars. */
export function bucketByTime(created: ReadonlyArray<{ at: string; kind: MemoryKind }>): {
  unit: 'day' | 'week' | 'month';
  kinds: readonly MemoryKind[];
  buckets: Array<{ start: string; counts: Partial<Record<MemoryKind, number>> }>;
  total: number;
} {
  const times = created.map((item) => Date.parse(item.at)).filter((time) => Number.isFinite(time));
  const span = times.length ? Math.max(...times) - Math.min(...times) : 0;
  const day = 86_400_000;
  const unit = span <= 120 * day ? 'day' : span <= 120 * 7 * day ? 'week' : 'month';
  const buckets = new Map<string, Partial<Record<MemoryKind, number>>>();
  for (const item of created) {
    const date = new Date(item.at);
    if (Number.isNaN(date.getTime())) continue;
    const start = bucketStart(date, unit);
    const counts = buckets.get(start) ?? {};
    counts[item.kind] = (counts[item.kind] ?? 0) + 1;
    buckets.set(start, counts);
  }
  return {
    unit,
    kinds: MEMORY_KINDS,
    buckets: [...buckets.entries()]
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([start, counts]) => ({ start, counts })),
    total: created.length,
  };
}

function bucketStart(date: Date, unit: 'day' | 'week' | 'month'): string {
  const day = date.toISOString().slice(0, 10);
  if (unit === 'day') return day;
  if (unit === 'month') return `${day.slice(0, 7)}-01`;
  const monday = new Date(`${day}T00:00:00Z`);
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
  return monday.toISOString().slice(0, 10);
}

/** The first user text of a queued payload, shortened, so a dead letter can be recognised. */
function previewOf(payload: unknown): string {
  const messages = (payload as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return '';
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (typeof content === 'string' && content.trim() !== '') return content.slice(0, 200);
  }
  return '';
}
