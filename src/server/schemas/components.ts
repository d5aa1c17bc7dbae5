/**
 * The zod schemas the route table (routes/*-schemas.ts) is built from: the field types every route shares, with
 * the messages a wrong value gets (the same words the library's own validation uses, core/validate.ts), and the
 * named objects of the OpenAPI document (`#/components/schemas/<id>`, listed in {@link COMPONENTS}).
 *
 * What the edge checks and what it leaves: a schema checks a field's type, its bounds from `LIMITS` and its enum;
 * content rules (identifier characters, metadata size and depth, the filter grammar, date parsing) stay in the
 * service, which applies them to every caller (library, CLI, MCP, HTTP) alike, so they are written once. Optional
 * fields take `null` as absent, as the service does.
 */
import { z } from 'zod';
import { MEMORY_KINDS } from '../../core/types.js';
import { LIMITS } from '../../core/validate.js';

/** The named schemas of the OpenAPI document, by their name under `#/components/schemas/`. */
export const COMPONENTS = new Map<string, z.ZodType>();

function named<T extends z.ZodType>(id: string, schema: T): T {
  COMPONENTS.set(id, schema);
  return schema;
}

/** A string field. */
export const text = (max?: number, tooLong?: string) => {
  const string = z.string({ error: 'expected a string' });
  return max === undefined ? string : string.max(max, { error: tooLong ?? `at most ${max} characters` });
};

/** An id or scope value (user, agent, run, app): a non-empty string; control characters are refused by the service. */
export const identifier = z
  .string({ error: 'expected a non-empty string' })
  .max(LIMITS.idLength, { error: `at most ${LIMITS.idLength} characters` });

/**
 * The scope fields of a request in one spelling (`['userId', 'agentId', 'runId', 'appId']` or snake_case), each
 * an {@link identifier} made optional by `optional` (`.optional()` for queries, `.nullish()` for bodies).
 */
export function scopeFields<
  const Names extends readonly [string, string, string, string],
  T extends z.ZodType,
>(names: Names, optional: (field: typeof identifier) => T): Record<Names[number], T> {
  const [user, agent, run, app] = names;
  return {
    [user]: optional(identifier),
    [agent]: optional(identifier),
    [run]: optional(identifier),
    [app]: optional(identifier).meta({ description: "must be the key's app" }),
  } as Record<Names[number], T>;
}

/** A boolean field. */
export const flag = z.boolean({ error: 'expected true or false' });

/** An integer from 1 to `max`. */
export function integerUpTo(max: number) {
  const error = `expected an integer from 1 to ${max}`;
  return z.number({ error }).int({ error }).min(1, { error }).max(max, { error });
}

/** A number from 0 to 1 (`threshold`). */
export const unitInterval = z
  .number({ error: 'expected a number from 0 to 1' })
  .min(0, { error: 'expected a number from 0 to 1' })
  .max(1, { error: 'expected a number from 0 to 1' });

/** An ISO-8601 date; the service parses it. */
export const dateTime = z
  .string({ error: 'expected an ISO-8601 date such as "2026-03-02T10:00:00Z"' })
  .meta({ format: 'date-time' });

/** A list of `item`. */
export const listOf = <T extends z.ZodType>(item: T) => z.array(item, { error: 'expected a list' });

/** One of `values`. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, error?: string) =>
  z.enum(values, { error: error ?? `expected one of ${values.join(', ')}` });

/**
 * A query parameter (or Mem0 paging field) read as a number: `schema` judges `Number(value)`. An empty value is
 * absent when `emptyIsAbsent` (the Mem0 paging parameters), else it is judged as 0, as the service would.
 */
export function numberParam<T extends z.ZodType>(schema: T, options: { emptyIsAbsent: boolean }) {
  return z.preprocess((value) => {
    if (value === '' && options.emptyIsAbsent) return undefined;
    return typeof value === 'string' ? Number(value) : value;
  }, schema.nullish());
}

/** A query parameter `true` or `false` (empty is absent). */
export const flagParam = z.preprocess((value) => {
  if (value === '') return undefined;
  return value === 'true' ? true : value === 'false' ? false : value;
}, flag.optional());

const ROLE_ERROR = 'expected one of "user", "assistant", "system", "tool"';
const role = oneOf(['user', 'assistant', 'system', 'tool'], ROLE_ERROR);
/** The text of a memory or message. */
export const memoryText = text(
  LIMITS.memoryTextLength,
  `at most ${LIMITS.memoryTextLength} characters; split long text`,
);
/** A memory kind (`preference`, `instruction`, ...). */
export const memoryKind = oneOf(MEMORY_KINDS as readonly [string, ...string[]]);
const nullableText = z.string().nullable();
const count = z.number().int();

/** Caller metadata: the service checks size, depth and that no scope key is inside. */
export const Metadata = named(
  'Metadata',
  z.record(z.string(), z.unknown(), { error: 'expected a plain object such as { "repo": "api" }' }).meta({
    description: `JSON values; at most ${LIMITS.metadataBytes} bytes, depth ${LIMITS.metadataDepth}; no scope keys`,
  }),
);

/** A filter tree; the service parses it (core/filters.ts). */
export const Filters = named(
  'Filters',
  z
    .record(z.string(), z.unknown(), {
      error: 'expected an object such as { "userId": "alice" } or { "and": [...] }',
    })
    .meta({
      description:
        '{ field: value } equality, { field: { eq|ne|gt|gte|lt|lte|in|nin|contains|icontains: v } }, ' +
        'AND / OR / NOT lists; fields: user_id, agent_id, run_id, app_id (own app only), role, kind, dates, ' +
        'metadata.<key>. Depth 8, 200 nodes.',
    }),
);

/** A search query; the service refuses an empty one. */
export const searchQuery = z
  .string({ error: 'expected a non-empty string' })
  .max(LIMITS.queryLength, { error: `at most ${LIMITS.queryLength} characters` });

/** A conversation message; `content` may also be a list of text blocks (joined). */
export const Message = named(
  'Message',
  z.looseObject(
    {
      role,
      content: z.union([memoryText, z.array(z.unknown())], {
        error: 'expected a string (or an array of text blocks)',
      }),
      name: identifier.nullish(),
    },
    { error: 'expected { role: "user" | "assistant" | "system" | "tool", content: string }' },
  ),
);

/** `messages` of the add routes: a string, one message, or a list of them. */
export const messages = z.union(
  [
    memoryText,
    Message,
    listOf(Message).max(LIMITS.messagesPerAdd, {
      error: `at most ${LIMITS.messagesPerAdd} messages per call; split the batch`,
    }),
  ],
  {
    error: 'expected a string, a message { role, content }, or a list of them',
  },
);

const scope = {
  userId: z.string().optional(),
  agentId: z.string().optional(),
  runId: z.string().optional(),
  appId: z.string().optional(),
};
const snakeScope = {
  user_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  run_id: z.string().nullable(),
  app_id: z.string().nullable(),
};

export const Memory = named(
  'Memory',
  z.object({
    id: z.string(),
    memory: z.string(),
    ...scope,
    role: role.optional(),
    speaker: z.string().optional(),
    kind: memoryKind,
    topic: z.string().optional(),
    metadata: Metadata,
    hash: z.string(),
    createdAt: dateTime,
    updatedAt: dateTime,
    observedAt: dateTime.optional(),
    validFrom: dateTime.optional(),
    validTo: dateTime.optional(),
    supersededBy: z.string().optional(),
    expiresAt: dateTime.optional(),
  }),
);

const signals = z.object({
  dense: z.number(),
  keyword: z.number(),
  recency: z.number(),
  rrf: z.number(),
  session: z
    .number()
    .meta({ description: 'the best score among the candidates of its conversation session' }),
  speaker: z.number().meta({ description: '1 when the query names who said the memory, else 0' }),
});

export const SearchResult = named(
  'SearchResult',
  z.intersection(Memory, z.object({ score: z.number(), scores: signals })),
);

export const MemoryPage = named(
  'MemoryPage',
  z.object({ results: z.array(Memory), nextCursor: z.string().optional() }),
);

export const HistoryEvent = named(
  'HistoryEvent',
  z.object({
    id: z.string(),
    memoryId: z.string(),
    event: z.enum(['ADD', 'UPDATE', 'SUPERSEDE', 'DELETE', 'NOOP', 'ERASE']),
    previousValue: z.string().optional(),
    newValue: z.string().optional(),
    reason: z.string().optional(),
    actor: z.string(),
    relatedId: z.string().optional(),
    createdAt: dateTime,
  }),
);

export const AddResult = named(
  'AddResult',
  z.object({
    results: z.array(
      z.object({ id: z.string(), memory: z.string(), event: z.string(), reason: z.string().optional() }),
    ),
    skipped: z.array(z.object({ index: count, reason: z.string(), text: z.string().optional() })),
    usage: z.record(z.string(), z.unknown()).optional(),
  }),
);

export const Profile = named(
  'Profile',
  z.object({
    items: z.array(
      z.object({
        id: z.string(),
        memory: z.string(),
        kind: memoryKind,
        pinned: z.boolean(),
        createdAt: dateTime,
        updatedAt: dateTime,
        observedAt: dateTime,
        validFrom: dateTime.optional(),
        speaker: z.string().optional(),
      }),
    ),
    omitted: count.meta({ description: 'standing memories left out by the budget' }),
    tokens: count.meta({ description: 'tokens the items take (about 4 characters each)' }),
  }),
);

export const ExportedMemory = named(
  'ExportedMemory',
  z.object({ type: z.literal('memory'), record: Memory, history: z.array(HistoryEvent) }),
);

export const Mem0Memory = named(
  'Mem0Memory',
  z.object({
    id: z.string(),
    memory: z.string(),
    ...snakeScope,
    hash: z.string(),
    metadata: Metadata,
    categories: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    expiration_date: nullableText,
    role: nullableText,
    kind: memoryKind,
    observed_at: z.string(),
    valid_from: nullableText,
    valid_to: nullableText,
    superseded_by: nullableText,
    score: z.number().optional(),
  }),
);

export const Mem0Page = named(
  'Mem0Page',
  z.object({ count, next: nullableText, previous: nullableText, results: z.array(Mem0Memory) }),
);

export const Mem0Event = named(
  'Mem0Event',
  z.object({
    id: z.string(),
    event_type: z.literal('ADD'),
    status: z.enum(['PENDING', 'SUCCEEDED']),
    payload: z.object({ messages: count }).nullable(),
    metadata: z
      .object({ attempts: count, last_error: nullableText })
      .nullable()
      .meta({ description: 'attempts and last_error while queued' }),
    results: z.array(z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  }),
);

export const Mem0History = named(
  'Mem0History',
  z.object({
    id: z.string(),
    memory_id: z.string(),
    old_memory: nullableText,
    new_memory: nullableText,
    user_id: nullableText,
    event: z.string(),
    created_at: z.string(),
    actor: z.string(),
    reason: nullableText,
  }),
);

const BATCH_ERROR = 'expected a non-empty list of { "memory_id": "..." }';

/** A Mem0 batch of `items` (`{ memory_id, ... }`); the handler checks the batch size and repeated ids. */
export const mem0Batch = <T extends z.ZodRawShape>(item: T) =>
  z.looseObject({
    memories: z
      .array(
        z.looseObject({ memory_id: identifier, ...item }, { error: 'expected { "memory_id": "..." }' }),
        {
          error: BATCH_ERROR,
        },
      )
      .min(1, { error: BATCH_ERROR }),
  });

/** The items of a batch update: `text` and/or `metadata` besides the id. */
export const batchUpdate = { text: memoryText.nullish(), metadata: Metadata.nullish() };

export const ApiKey = named(
  'ApiKey',
  z.object({
    id: z.string(),
    appId: z.string().optional(),
    admin: z.boolean(),
    createdAt: dateTime,
    revokedAt: dateTime.optional(),
  }),
);

export const ErrorBody = named(
  'Error',
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional().meta({ description: 'the offending input as a dotted path' }),
    }),
  }),
);

/** `{ message }`, the answer of Mem0's delete and batch routes. */
export const MessageReply = z.object({ message: z.string() });

/** `{ results: [item] }`. */
export const resultsOf = <T extends z.ZodType>(item: T) => z.object({ results: z.array(item) });

/** Mem0's `output_format`: v1.1 (default) `{ results }`, v1.0 the bare list. */
export const outputFormat = oneOf(
  ['v1.1', 'v1.0'],
  'expected "v1.1" ({ results: [...] }) or "v1.0" (a bare list)',
)
  .nullish()
  .meta({ description: 'v1.1 (default): { results }; v1.0: a list' });

/** A reply in `output_format`. */
export const formatted = <T extends z.ZodType>(item: T) => z.union([resultsOf(item), z.array(item)]);
