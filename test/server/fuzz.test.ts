/**
 * Fuzz: malformed JSON, wrong types, huge strings, odd unicode and nested filter bombs sent to every body-taking
 * route. Each generated request is built to be invalid (a valid random body plus at least one poisoned field), so
 * every response must be a 4xx whose JSON body names the problem, and the store must not change.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { stopSharedTestPostgres } from '../stores/postgres-support.js';
import { type AddReply, createHarness, type Harness, serverStores, snapshotStore } from './harness.js';

interface Probe {
  method: string;
  path: string;
  body: string;
  label: string;
}

const MAX_BODY = 64 * 1024;

// Text and ids that are valid on their own (any unicode, including emoji and combining marks).
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 });
const identifier = fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/);

// Values that are wrong for a field expecting a string (null is "absent" for optional fields, so never used).
const notString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(identifier, fc.integer(), { maxKeys: 2 }),
);
const notBoolean = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.array(fc.boolean(), { maxLength: 2 }),
  fc.dictionary(identifier, fc.boolean(), { maxKeys: 2 }),
);
const badIdentifier = fc.oneof(
  notString,
  fc.constantFrom('', '   ', '\t'),
  fc.string({ minLength: 257, maxLength: 400 }).filter((value) => value.trim().length > 0),
  // Control characters and lone surrogates (valid JSON escapes, invalid ids).
  fc
    .tuple(
      fc.string({ maxLength: 5 }),
      fc.constantFrom('\u0000', '\u0007', '\u001b', '\n', '\ud800', '\udfff'),
    )
    .map(([prefix, bad]) => `${prefix}${bad}x`),
);
const hugeText = fc.integer({ min: 20_001, max: 40_000 }).map((length) => 'é'.repeat(length));
const badMetadata = fc.oneof(
  notString.filter((value) => typeof value !== 'object' || Array.isArray(value)),
  fc.string({ maxLength: 10 }),
  fc.integer({ min: 7, max: 40 }).map((depth) => nest(depth, (inner) => ({ deeper: inner }), 'bottom')),
  fc.constant({ blob: 'z'.repeat(17_000) }),
  fc.constantFrom('user_id', 'app_id', 'agentId', 'runId').map((key) => ({ [key]: 'someone' })),
);
const badLimit = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: 1001 }),
  fc.double({ min: 1.01, max: 9.99, noNaN: true }),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
);
const badUnit = fc.oneof(
  fc.double({ min: 1.0001, max: 1e9, noNaN: true }),
  fc.double({ min: -1e9, max: -0.0001, noNaN: true }),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
);
const badDate = fc.oneof(
  fc.constantFrom('yesterday', 'not a date', '2026-13-45', '31/12/2026'),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 2 }),
);

/** Filter bombs: too deep, too many nodes, too many `in` values, unknown operators, non-objects. */
const filterBomb = fc.oneof(
  fc
    .integer({ min: 9, max: 400 })
    .map((depth) => nest(depth, (inner) => ({ AND: [inner] }), { user_id: 'alice' })),
  fc
    .integer({ min: 9, max: 400 })
    .map((depth) => nest(depth, (inner) => ({ NOT: inner }), { user_id: 'alice' })),
  fc
    .integer({ min: 201, max: 1500 })
    .map((width) => ({ OR: Array.from({ length: width }, (_, index) => ({ [`k${index}`]: index })) })),
  fc
    .integer({ min: 1001, max: 3000 })
    .map((width) => ({ user_id: { in: Array.from({ length: width }, (_, index) => `u${index}`) } })),
  fc.constantFrom({ user_id: { regex: '.*' } }, { user_id: { $where: 'x' } }, { AND: [] }, { OR: 'x' }, {}),
  fc.constantFrom(
    { 'bad key!': 1 },
    { created_at: { gt: 'last week' } },
    { user_id: { gt: null } },
    { user_id: { contains: 5 } },
  ),
  fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.array(fc.integer(), { maxLength: 3 })),
);

function nest(depth: number, wrap: (inner: unknown) => unknown, bottom: unknown): unknown {
  let value: unknown = bottom;
  for (let level = 0; level < depth; level += 1) value = wrap(value);
  return value;
}

/** A valid base body plus one or two poisoned fields. */
function poisoned(
  base: fc.Arbitrary<Record<string, unknown>>,
  poisons: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<{ body: Record<string, unknown>; poison: string }> {
  const entries = Object.entries(poisons);
  const one = fc.oneof(...entries.map(([field, value]) => value.map((bad) => [field, bad] as const)));
  return fc.tuple(base, one, fc.option(one, { nil: undefined })).map(([body, first, second]) => ({
    body: { ...body, [first[0]]: first[1], ...(second ? { [second[0]]: second[1] } : {}) },
    poison: second ? `${first[0]}+${second[0]}` : first[0],
  }));
}

function probes(ownIds: string[]): fc.Arbitrary<Probe> {
  const ownId = fc.constantFrom(...ownIds);
  const json = (
    method: string,
    path: string,
    generated: fc.Arbitrary<{ body: Record<string, unknown>; poison: string }>,
  ) =>
    generated.map(({ body, poison }) => ({
      method,
      path,
      body: JSON.stringify(body),
      label: `${method} ${path} ${poison}`,
    }));
  const messages = text.map((content) => [{ role: 'user', content }]);

  const routes: fc.Arbitrary<Probe>[] = [
    json(
      'POST',
      '/v3/memories/add/',
      poisoned(fc.record({ messages, user_id: identifier, infer: fc.constant(false) }), {
        messages: fc.oneof(
          notString.filter((value) => !Array.isArray(value) || value.length > 0),
          fc.constant([]),
          fc.constant([{ role: 'robot', content: 'hello there' }]),
          text.map((content) => [{ role: 'user', content: [{ type: 'image', url: content }, 7] }]),
          // An empty list of content blocks is valid (empty text), so lists here hold at least one number.
          notString
            .filter((value) => !Array.isArray(value) || value.length > 0)
            .map((content) => [{ role: 'user', content }]),
          hugeText.map((content) => [{ role: 'user', content }]),
          fc.constant(Array.from({ length: 501 }, () => ({ role: 'user', content: 'hi there friend' }))),
        ),
        user_id: badIdentifier,
        agent_id: badIdentifier,
        metadata: badMetadata,
        infer: notBoolean,
        async_mode: notBoolean,
        timestamp: fc.oneof(fc.constantFrom('not a time', 'soon'), fc.boolean(), fc.constant(1e20)),
        expiration_date: badDate,
        app_id: fc.oneof(fc.constantFrom('globex', 'ACME'), fc.integer()),
      }),
    ),
    json(
      'POST',
      '/v3/memories/search/',
      poisoned(fc.record({ query: text, filters: identifier.map((user) => ({ user_id: user })) }), {
        query: fc.oneof(notString, fc.constantFrom('', '   '), fc.constant('q'.repeat(4001))),
        filters: filterBomb,
        top_k: badLimit,
        threshold: badUnit,
        show_expired: notBoolean,
        metadata: fc.oneof(fc.integer(), fc.array(fc.integer(), { minLength: 1, maxLength: 2 })),
      }),
    ),
    json(
      'POST',
      '/v3/memories/',
      poisoned(fc.record({ filters: identifier.map((user) => ({ user_id: user })) }), {
        filters: filterBomb,
        show_expired: notBoolean,
        start_date: badDate,
        end_date: badDate,
      }),
    ),
    fc
      .tuple(fc.constantFrom('0', '-1', '1.5', 'abc', '1e9'), fc.constantFrom('page', 'page_size'))
      .map(([value, name]) => ({
        method: 'POST',
        path: `/v3/memories/?${name}=${value}`,
        body: '{}',
        label: `list ${name}=${value}`,
      })),
    fc.tuple(ownId, fc.boolean()).chain(([id, native]) =>
      json(
        native ? 'PATCH' : 'PUT',
        native ? `/api/memories/${id}` : `/v1/memories/${id}/`,
        poisoned(fc.record({ text }), {
          text: fc.oneof(notString, fc.constantFrom('', '  \n '), hugeText),
          metadata: badMetadata,
          ...(native ? { userId: fc.constant('bob') } : { expiration_date: fc.constant('2030-01-01') }),
        }),
      ),
    ),
    fc.tuple(fc.constantFrom('PUT', 'DELETE'), ownId).chain(([method, id]) =>
      json(
        method,
        '/v1/batch/',
        poisoned(fc.record({ memories: fc.constant([{ memory_id: id, text: 'still valid text' }]) }), {
          memories: fc.oneof(
            notString.filter((value) => !Array.isArray(value) || value.length === 0),
            fc.constant([]),
            fc.constant(Array.from({ length: 1001 }, (_, index) => ({ memory_id: `id-${index}` }))),
            badIdentifier.map((memoryId) => [{ memory_id: memoryId, text: 'x y z' }]),
            fc.constant([{ memory_id: id }, { memory_id: id }]),
            fc.integer().map((value) => [value]),
            ...(method === 'PUT'
              ? [
                  notString.map((value) => [{ memory_id: id, text: value }]),
                  fc.constant([{ memory_id: id }]),
                  hugeText.map((value) => [{ memory_id: id, text: value }]),
                ]
              : []),
          ),
        }),
      ),
    ),
    json(
      'POST',
      '/api/memories',
      poisoned(fc.record({ messages: text, userId: identifier, infer: fc.constant(false) }), {
        messages: fc.oneof(
          notString.filter((value) => typeof value !== 'object' || Array.isArray(value)),
          hugeText,
        ),
        userId: badIdentifier,
        runId: badIdentifier,
        metadata: badMetadata,
        observedAt: badDate,
        expiresAt: badDate,
        infer: notBoolean,
        async: notBoolean,
        unknownField: fc.jsonValue(),
      }),
    ),
    json(
      'POST',
      '/api/memories/search',
      poisoned(fc.record({ query: text, userId: identifier }), {
        query: fc.oneof(notString, fc.constantFrom('', ' ')),
        filters: filterBomb,
        limit: badLimit,
        threshold: badUnit,
        mode: fc.oneof(fc.constantFrom('fuzzy', 'HYBRID', ''), fc.integer()),
        asOf: badDate,
        includeSuperseded: notBoolean,
        limits: fc.jsonValue(),
      }),
    ),
    json(
      'POST',
      '/api/memories/list',
      poisoned(fc.record({ userId: identifier }), {
        filters: filterBomb,
        limit: badLimit,
        cursor: fc.oneof(notString, fc.constantFrom('zzz', 'not-a-cursor', btoa('["a"]'))),
        includeExpired: notBoolean,
        userId: badIdentifier,
      }),
    ),
  ];

  // Malformed JSON (truncated, not JSON at all, or JSON that is not an object) to every body route.
  const bodyRoutes = [
    '/v3/memories/add/',
    '/v3/memories/search/',
    '/v3/memories/',
    '/api/memories',
    '/api/memories/search',
  ];
  const malformed = fc
    .tuple(
      fc.constantFrom(...bodyRoutes),
      fc.oneof(
        fc.string({ maxLength: 40 }).filter((value) => !isJsonObject(value)),
        fc
          .jsonValue()
          .map((value) => JSON.stringify(value))
          .filter((value) => !isJsonObject(value)),
        fc
          .dictionary(identifier, fc.jsonValue(), { minKeys: 1, maxKeys: 4 })
          .map((value) => JSON.stringify(value).slice(0, -1)),
        fc.constantFrom(
          '{"query": "x",}',
          "{'query': 'x'}",
          '{"query": NaN}',
          '\ufeff{"a":1',
          '{"a": "\\ud800',
        ),
      ),
    )
    .map(([path, body]) => ({
      method: 'POST',
      path,
      body,
      label: `malformed ${JSON.stringify(body.slice(0, 30))}`,
    }));

  // Filter bombs nested deeper than JSON.stringify could build: written as text (up to ~7,000 levels in 64 KiB).
  const textBomb = fc
    .tuple(
      fc.constantFrom('/v3/memories/search/', '/v3/memories/', '/api/memories/search', '/api/memories/list'),
      fc.integer({ min: 500, max: 7000 }),
      fc.constantFrom(['{"AND":[', ']}'], ['{"NOT":', '}'], ['{"or":[{"a":1},', ']}']),
    )
    .map(([path, depth, [open, close]]) => ({
      method: 'POST',
      path,
      body: `{"query":"q","userId":"alice","filters":${open.repeat(depth)}{"user_id":"alice"}${close.repeat(depth)}}`,
      label: `text bomb depth ${depth} ${open}`,
    }));

  // Bodies over the size limit.
  const huge = fc
    .tuple(fc.constantFrom(...bodyRoutes), fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 3 }))
    .map(([path, size]) => ({
      method: 'POST',
      path,
      body: JSON.stringify({ query: 'q', messages: 'm'.repeat(size) }),
      label: `huge ${size}`,
    }));

  return fc.oneof(
    { arbitrary: fc.oneof(...routes), weight: 6 },
    { arbitrary: malformed, weight: 2 },
    { arbitrary: textBomb, weight: 1 },
    { arbitrary: huge, weight: 1 },
  );
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

async function seedOwn(server: Harness): Promise<string[]> {
  const ids: string[] = [];
  for (const content of ['I keep my notes in Obsidian', 'I review pull requests every morning']) {
    const reply = await server.call<AddReply>('POST', '/api/memories', {
      body: { messages: content, userId: 'alice', infer: false },
    });
    ids.push(reply.body.results[0]?.id ?? '');
  }
  return ids;
}

after(stopSharedTestPostgres);

for (const backend of await serverStores()) {
  describe(`server: fuzz (${backend.name})`, () => {
    test('malformed, mistyped, huge, unicode and bomb inputs are 4xx naming the problem; the store never changes', async () => {
      const { store, cleanup } = await backend.make();
      const server = await createHarness({ limits: { maxBodyBytes: MAX_BODY }, store });
      try {
        const ownIds = await seedOwn(server);
        const before = await snapshotStore(server.memory);
        const statuses: Record<number, number> = {};
        await fc.assert(
          fc.asyncProperty(probes(ownIds), async (probe) => {
            const reply = await server.call(probe.method, probe.path, {
              body: probe.body,
              headers: { 'content-type': 'application/json' },
            });
            statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
            assert.ok(
              reply.status >= 400 && reply.status < 500,
              `${probe.label}: ${reply.status} ${reply.text.slice(0, 300)}`,
            );
            assert.equal(typeof reply.body, 'object', `${probe.label}: JSON error body`);
            assert.equal(typeof reply.body.error.code, 'string');
            assert.ok(reply.body.error.message.length > 0);
            if (reply.status !== 404) {
              assert.equal(
                typeof reply.body.error.field,
                'string',
                `${probe.label}: names the field: ${reply.text.slice(0, 300)}`,
              );
            }
          }),
          { numRuns: 700, seed: 424242 },
        );
        assert.equal(await snapshotStore(server.memory), before, 'no fuzz request changed the store');
        assert.ok(
          (statuses[400] ?? 0) > 0 && (statuses[413] ?? 0) > 0 && (statuses[422] ?? 0) > 0,
          JSON.stringify(statuses),
        );
        assert.ok(
          server.logs.every((line) => line.level !== 'error'),
          'no request was a server fault',
        );
      } finally {
        await server.close();
        await cleanup();
      }
    });
  });
}
