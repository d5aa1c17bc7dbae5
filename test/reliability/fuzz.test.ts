/**
 * Property-based fuzzing of the Memory API (fast-check, seeded, bounded runs) with hostile and malformed input:
 * scopes, message lists, metadata, filters (nested, unknown operators, prototype-named keys), search and list
 * options, cursors, query embeddings and ids. For every call:
 * - it resolves, or it rejects with a ValidationError whose `field` names the input (a NotFoundError is allowed
 *   for id-addressed calls on ids that do not exist); any other error is a crash;
 * - a rejected call changes nothing: store.stats(), the queue and a digest of every record and history event
 *   are the same before and after;
 * - no promise rejection goes unhandled.
 * Runs on the in-memory store, then a smaller run on a SQLite file. `MNEME_FUZZ_SEED` / `MNEME_FUZZ_RUNS`
 * override the seed and the number of runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { NotFoundError, ValidationError } from '../../src/core/errors.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import { scanPages } from '../../src/stores/scan-pages.js';
import type { MemoryStore } from '../../src/stores/types.js';
import { createTestEmbedder } from '../support/test-embedder.js';

const SEED = Number(process.env.MNEME_FUZZ_SEED ?? 20261124);
const RUNS = Number(process.env.MNEME_FUZZ_RUNS ?? 600);
const DIMENSION = 32;

let dir: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mneme-fuzz-'));
  process.on('unhandledRejection', onUnhandled);
});
after(() => {
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});

// ---- arbitraries ---------------------------------------------------------------------------------------

const PROTOTYPE_KEYS = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'prototype'];

/** Strings that stress validation: control characters, lone surrogates, huge, look-alikes, SQL-ish. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\u202e',
    "alice'; DROP TABLE memories; --",
    '"quoted" OR 1=1',
    '%_*',
    'NEAR(a b)',
    ...PROTOTYPE_KEYS,
  ),
  fc.constant('x'.repeat(300)),
);

const identifier = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('alice', 'bob', 'u-1', 'ünïcødé', '用户') },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.anything() },
);

const scope = fc.record(
  { userId: identifier, agentId: identifier, runId: identifier, appId: identifier },
  { requiredKeys: [] },
);

const role = fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool'), nastyString, fc.anything());
const content = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: nastyString },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.oneof(fc.record({ type: fc.constant('text'), text: fc.string() }), fc.anything()),
      { maxLength: 3 },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.constant('y'.repeat(20_001)) },
);
const message = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      { role, content, name: fc.option(identifier, { nil: undefined }) },
      { requiredKeys: ['role', 'content'] },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
);
const addInput = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 120 }) },
  { weight: 3, arbitrary: fc.array(message, { maxLength: 4 }) },
  { weight: 1, arbitrary: message },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 501 }, () => ({ role: 'user', content: 'x' }))) },
);

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;
const metadata = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      cyclic,
      JSON.parse('{"__proto__": {"polluted": true}}'),
      { deep: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } },
      { big: 'z'.repeat(17_000) },
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { when: new Date(0) },
      { value: 10n },
      [1, 2, 3],
      'not an object',
    ),
  },
);

const dateLike = fc.oneof(
  fc.date().map((date) => (Number.isNaN(date.getTime()) ? 'not a date' : date.toISOString())),
  fc.integer(),
  nastyString,
  fc.constant('2026-03-02T10:00:00Z'),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  dateLike,
);
const fieldName = fc.oneof(
  fc.constantFrom(
    'userId',
    'user_id',
    'agentId',
    'role',
    'kind',
    'speaker',
    'topic',
    'createdAt',
    'created_at',
    'observedAt',
    'validTo',
    'expiresAt',
    'repo',
    'metadata.repo',
    'metadata.',
    'metadata.a b',
    ...PROTOTYPE_KEYS,
  ),
  fc.string({ maxLength: 10 }),
);
const operator = fc.oneof(
  fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains'),
  fc.constantFrom('$eq', 'like', 'regex', ...PROTOTYPE_KEYS),
);
const condition = fc.oneof(
  scalar,
  fc.dictionary(
    operator,
    fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.anything({ maxDepth: 1 })),
    { maxKeys: 2 },
  ),
);
const { filter } = fc.letrec<{ filter: unknown }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.dictionary(fieldName, condition, { maxKeys: 3 }),
    fc.record({ and: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.record({ OR: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.record({ not: tie('filter') }),
    fc.anything({ maxDepth: 2 }),
    fc.constant(JSON.parse('{"__proto__": "x"}')),
  ),
}));

const readOptions = fc.record(
  {
    userId: identifier,
    agentId: identifier,
    filters: filter,
    asOf: dateLike,
    includeSuperseded: fc.anything({ maxDepth: 0 }),
    includeExpired: fc.boolean(),
  },
  { requiredKeys: [] },
);
const limit = fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.double(), nastyString, fc.constant(undefined));

type Operation =
  | { kind: 'add'; input: unknown; options: unknown }
  | { kind: 'enqueue'; input: unknown; options: unknown }
  | { kind: 'search'; query: unknown; options: unknown }
  | { kind: 'list'; options: unknown }
  | { kind: 'update'; target: unknown; input: unknown; scope: unknown }
  | { kind: 'get'; target: unknown; scope: unknown }
  | { kind: 'delete'; target: unknown; scope: unknown }
  | { kind: 'history'; target: unknown; scope: unknown };

/** Ids of memories that exist (filled in at run time), so id-addressed calls hit real rows too. */
const knownIds: string[] = [];
const target = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.nat().map((index) => knownIds[index % Math.max(1, knownIds.length)] ?? 'missing'),
  },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: identifier },
);

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    input: addInput,
    options: fc.oneof(
      fc
        .tuple(
          scope,
          fc.record(
            {
              metadata,
              observedAt: dateLike,
              expiresAt: dateLike,
              infer: fc.anything({ maxDepth: 0 }),
              actor: identifier,
              recalled: fc.anything({ maxDepth: 1 }),
            },
            { requiredKeys: [] },
          ),
        )
        .map(([a, b]) => ({ ...b, ...a })),
      fc.anything({ maxDepth: 1 }),
    ),
  }),
  fc.record({
    kind: fc.constant('enqueue' as const),
    input: addInput,
    options: fc.tuple(scope, fc.record({ metadata }, { requiredKeys: [] })).map(([a, b]) => ({ ...b, ...a })),
  }),
  fc.record({
    kind: fc.constant('search' as const),
    query: fc.oneof(
      fc.string({ maxLength: 60 }),
      nastyString,
      fc.anything({ maxDepth: 0 }),
      fc.constant('q'.repeat(4001)),
    ),
    options: fc
      .tuple(
        readOptions,
        fc.record(
          {
            limit,
            threshold: fc.oneof(fc.double(), fc.integer()),
            mode: fc.oneof(fc.constantFrom('hybrid', 'dense', 'keyword'), nastyString),
            queryEmbedding: fc.oneof(
              fc.float32Array({ minLength: DIMENSION, maxLength: DIMENSION }),
              fc.float32Array({ maxLength: 40 }),
              fc.anything({ maxDepth: 1 }),
            ),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([a, b]) => ({ ...a, ...b })),
  }),
  fc.record({
    kind: fc.constant('list' as const),
    options: fc
      .tuple(
        readOptions,
        fc.record(
          {
            limit,
            cursor: fc.oneof(nastyString, fc.base64String({ maxLength: 40 }), fc.anything({ maxDepth: 0 })),
          },
          { requiredKeys: [] },
        ),
      )
      .map(([a, b]) => ({ ...a, ...b })),
  }),
  fc.record({
    kind: fc.constant('update' as const),
    target,
    input: fc.oneof(
      fc.record(
        { text: fc.oneof(fc.string({ maxLength: 60 }), nastyString, fc.anything({ maxDepth: 0 })), metadata },
        { requiredKeys: [] },
      ),
      fc.anything({ maxDepth: 1 }),
    ),
    scope: fc.oneof(fc.constant(undefined), scope),
  }),
  fc.record({ kind: fc.constant('get' as const), target, scope: fc.oneof(fc.constant(undefined), scope) }),
  fc.record({ kind: fc.constant('delete' as const), target, scope: fc.oneof(fc.constant(undefined), scope) }),
  fc.record({
    kind: fc.constant('history' as const),
    target,
    scope: fc.oneof(fc.constant(undefined), scope),
  }),
);

// ---- the property ----------------------------------------------------------------------------------------

const WRITES = new Set(['add', 'enqueue', 'update', 'delete']);

async function execute(memory: Memory, op: Operation): Promise<unknown> {
  // The API is typed; the fuzzer deliberately calls it with anything, as JavaScript callers and edges can.
  const api = memory as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  switch (op.kind) {
    case 'add':
    case 'enqueue':
      return api[op.kind]?.call(memory, op.input, op.options);
    case 'search':
      return api.search?.call(memory, op.query, op.options);
    case 'list':
      return api.list?.call(memory, op.options);
    case 'update':
      return api.update?.call(memory, op.target, op.input, op.scope);
    default:
      return api[op.kind]?.call(memory, op.target, op.scope);
  }
}

/** A digest of everything the store holds: stats, queue size, every record and its history. */
async function digest(store: MemoryStore): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(await store.stats()));
  hash.update(String(await store.queueSize()));
  for await (const page of scanPages(store, 500)) {
    for (const item of page.items) hash.update(JSON.stringify([item.record, item.history]));
  }
  return hash.digest('hex');
}

async function fuzz(
  memory: Memory,
  runs: number,
): Promise<{ resolved: number; rejected: Record<string, number> }> {
  const outcome = { resolved: 0, rejected: {} as Record<string, number> };
  knownIds.length = 0;
  for (let index = 0; index < 20; index += 1) {
    const { results } = await memory.add(`seed memory ${index} about fuzzing`, {
      userId: index % 2 ? 'alice' : 'bob',
      metadata: { repo: index % 3 ? 'api' : 'web', n: index },
    });
    knownIds.push(...results.map((item) => item.id));
  }
  await fc.assert(
    fc.asyncProperty(operation, async (op) => {
      const before = WRITES.has(op.kind)
        ? await digest(memory.store)
        : JSON.stringify(await memory.store.stats());
      let result: unknown;
      try {
        result = await execute(memory, op);
      } catch (error) {
        const idAddressed =
          op.kind === 'update' || op.kind === 'get' || op.kind === 'delete' || op.kind === 'history';
        if (error instanceof ValidationError) {
          assert.ok(error.field.length > 0, 'a ValidationError names its field');
          assert.ok(error.message.startsWith(`${error.field}: `), error.message);
        } else if (!(error instanceof NotFoundError && idAddressed)) {
          assert.fail(`${op.kind} crashed with ${(error as Error)?.name}: ${(error as Error)?.message}`);
        }
        const name = (error as Error).name;
        outcome.rejected[name] = (outcome.rejected[name] ?? 0) + 1;
        const after = WRITES.has(op.kind)
          ? await digest(memory.store)
          : JSON.stringify(await memory.store.stats());
        assert.equal(after, before, `a rejected ${op.kind} changed the store`);
        return;
      }
      outcome.resolved += 1;
      if (op.kind === 'add') {
        for (const item of (result as { results: Array<{ id: string }> }).results) knownIds.push(item.id);
      }
    }),
    { seed: SEED, numRuns: runs, endOnFailure: true },
  );
  return outcome;
}

test(`fuzzing the Memory API on the in-memory store (${RUNS} runs, seed ${SEED})`, {
  timeout: 300_000,
}, async (t) => {
  const memory = await createMemory({
    store: createInMemoryStore(),
    embedder: createTestEmbedder({ dimension: DIMENSION }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
  try {
    const outcome = await fuzz(memory, RUNS);
    assert.ok(outcome.resolved > RUNS / 10, 'enough calls were valid to exercise the happy paths');
    assert.ok((outcome.rejected.ValidationError ?? 0) > RUNS / 10, 'enough calls were rejected');
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    t.diagnostic(`${outcome.resolved} resolved, rejected: ${JSON.stringify(outcome.rejected)}`);
  } finally {
    await memory.close();
  }
});

test(`fuzzing the Memory API on a SQLite file (${Math.ceil(RUNS / 4)} runs, seed ${SEED})`, {
  timeout: 300_000,
}, async (t) => {
  const memory = await createMemory({
    store: `sqlite://${join(dir, 'fuzz.db')}`,
    embedder: createTestEmbedder({ dimension: DIMENSION }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
  try {
    const outcome = await fuzz(memory, Math.ceil(RUNS / 4));
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    t.diagnostic(`${outcome.resolved} resolved, rejected: ${JSON.stringify(outcome.rejected)}`);
  } finally {
    await memory.close();
  }
});

// Found by this fuzzer: filter keys named like Object.prototype members ("constructor", "__proto__", ...) were
// taken for columns and spliced into SQL (a StoreError on SQLite, a silent mismatch in memory). They are metadata
// keys, with the same answer on every backend.
test('filter keys named like Object.prototype members are metadata keys on every store', async () => {
  for (const store of [createInMemoryStore(), `sqlite://${join(dir, 'prototype-keys.db')}`]) {
    const memory = await createMemory({
      store,
      embedder: createTestEmbedder({ dimension: DIMENSION }),
      llm: null,
      env: {},
      logLevel: 'silent',
      ingestion: { background: false },
    });
    try {
      await memory.add('has the keys', {
        userId: 'alice',
        metadata: JSON.parse('{"constructor": "x", "__proto__": "y"}'),
      });
      await memory.add('has no keys', { userId: 'alice' });
      const texts = async (filters: unknown) =>
        (await memory.list({ userId: 'alice', filters })).results.map((record) => record.memory).sort();
      assert.deepEqual(await texts({ constructor: 'x' }), ['has the keys']);
      assert.deepEqual(await texts(JSON.parse('{"__proto__": "y"}')), ['has the keys']);
      assert.deepEqual(await texts({ toString: null }), ['has no keys', 'has the keys']);
      assert.deepEqual(await texts({ constructor: null }), ['has no keys']);
      assert.deepEqual(await texts({ hasOwnProperty: { ne: null } }), []);
    } finally {
      await memory.close();
    }
  }
});
