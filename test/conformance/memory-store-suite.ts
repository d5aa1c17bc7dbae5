/**
 * The shared conformance suite for the MemoryStore seam (src/stores/types.ts). Every backend runs it from a
 * three-line test file:
 *
 * ```ts
 * memoryStoreSuite({ name: 'sqlite', capabilities: { persistent: true, multiProcess: true }, makeStore: ... });
 * ```
 *
 * It checks every contract of the seam: open and the embedder check, atomic `apply`, scope isolation through
 * every method, pagination, filters (agreeing with `matchesFilter`, including a property test), dense and
 * keyword search, temporal visibility, duplicate and topic lookups, history, erasure, the durable queue, stats,
 * scan/restore, listScopes and close. Each test gets a fresh store from `makeStore`; checks that need a
 * capability the backend lacks are skipped with a printed reason.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EmbedderMismatchError, NotFoundError, StoreError, ValidationError } from '../../src/core/errors.js';
import type { FilterNode } from '../../src/core/filters.js';
import { matchesFilter, parseFilter } from '../../src/core/filters.js';
import { REPLY_TO_KEY } from '../../src/core/reply-context.js';
import type { HistoryEvent, MemoryRecord, Scope } from '../../src/core/types.js';
import type {
  EmbedderIdentity,
  MemoryChange,
  MemoryStore,
  NewHistoryEvent,
  StoreCapabilities,
  TemporalOptions,
} from '../../src/stores/types.js';
import { filterDataset, filterInputArbitrary, HAND_WRITTEN_FILTERS } from '../support/filter-cases.js';
import { axisVector, seededVector, vectorWithCosine } from '../support/vectors.js';

/** A store under test plus how to reach its data again and clean up. */
export interface MemoryStoreFixture {
  /** A fresh, unopened store with no data. */
  store: MemoryStore;
  /** Persistent backends: a new, unopened store instance on the same data (another connection / process). */
  reopen?: () => MemoryStore | Promise<MemoryStore>;
  /** Removes what the fixture created (temp files, schemas). */
  cleanup?: () => Promise<void>;
}

/** Options for {@link memoryStoreSuite}. */
export interface MemoryStoreSuiteOptions {
  /** Shown in test names. */
  name: string;
  /** Creates a fixture with a fresh, empty, unopened store. Called once per test. */
  makeStore: () => MemoryStoreFixture | Promise<MemoryStoreFixture>;
  /** What the backend declares; must equal `store.capabilities`. Decides (printed) skips. */
  capabilities: StoreCapabilities;
  /** Skip the whole suite with this printed reason (e.g. a missing server URL). */
  skip?: string;
  /**
   * Skip the tests that write while an `exportScope` snapshot is open, with this printed reason (for a test
   * server that cannot run a second transaction beside the snapshot's, e.g. PGlite's single session).
   */
  skipWritesDuringSnapshot?: string;
}

const EMBEDDER: EmbedderIdentity = { id: 'test:conformance', dimension: 32 };
const DIMENSION = EMBEDDER.dimension;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** The instant `minutes` after the suite's epoch, as an ISO string. */
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const NOW = at(10_000);
const CURRENT: TemporalOptions = { now: NOW };
const EVERYTHING: TemporalOptions = { now: NOW, includeSuperseded: true, includeExpired: true };

let counter = 0;

/** A memory record in `scope` (default `{ userId: 'alice' }`) with sensible defaults. */
function makeRecord(fields: Partial<MemoryRecord> = {}, scope: Scope = { userId: 'alice' }): MemoryRecord {
  counter += 1;
  const memory = fields.memory ?? `memory number ${counter}`;
  return {
    id: randomUUID(),
    memory,
    kind: 'user_fact',
    metadata: {},
    hash: `hash-${counter}`,
    createdAt: at(counter % 1000),
    updatedAt: at(counter % 1000),
    observedAt: at(0),
    ...scope,
    ...fields,
  };
}

function addEvent(record: MemoryRecord): NewHistoryEvent {
  return { event: 'ADD', newValue: record.memory, actor: 'test', createdAt: record.createdAt };
}

function insertChange(record: MemoryRecord, embedding?: Float32Array): MemoryChange {
  return {
    type: 'insert',
    record,
    embedding: embedding ?? seededVector(counter + 7, DIMENSION),
    event: addEvent(record),
  };
}

async function insert(store: MemoryStore, ...items: Array<MemoryRecord | [MemoryRecord, Float32Array]>) {
  await store.apply({
    changes: items.map((item) => (Array.isArray(item) ? insertChange(item[0], item[1]) : insertChange(item))),
  });
}

const ids = (records: Array<{ id: string }>): string[] => records.map((record) => record.id);
const sortedIds = (records: Array<{ id: string }>): string[] => ids(records).sort();

async function listAll(
  store: MemoryStore,
  scope: Scope,
  temporal: TemporalOptions = CURRENT,
  filter?: FilterNode,
): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const result = await store.list({
      scope,
      temporal,
      page: cursor === undefined ? { limit: 50 } : { limit: 50, cursor },
      ...(filter ? { filter } : {}),
    });
    records.push(...result.records);
    cursor = result.nextCursor;
    if (cursor === undefined) return records;
  }
  throw new Error('list never ended');
}

/** Runs the MemoryStore conformance suite as a `describe` block. */
export function memoryStoreSuite(options: MemoryStoreSuiteOptions): void {
  const describeOptions = options.skip === undefined ? {} : { skip: options.skip };
  const { capabilities } = options;
  const notPersistent = capabilities.persistent
    ? undefined
    : `${options.name} is not persistent (capabilities.persistent = false): nothing survives close()`;
  const notMultiProcess = capabilities.multiProcess
    ? undefined
    : `${options.name} is single-process (capabilities.multiProcess = false): no second instance shares its data`;

  /** A test with a fresh store opened with the suite's embedder, closed and cleaned up afterwards. */
  function storeTest(
    name: string,
    body: (store: MemoryStore, fixture: MemoryStoreFixture) => Promise<void>,
    testOptions: { skip?: string | undefined } = {},
  ): void {
    const skip = testOptions.skip;
    test(name, skip === undefined ? {} : { skip }, async () => {
      const fixture = await options.makeStore();
      try {
        await fixture.store.open({ embedder: EMBEDDER });
        await body(fixture.store, fixture);
      } finally {
        await fixture.store.close();
        await fixture.cleanup?.();
      }
    });
  }

  describe(`MemoryStore conformance: ${options.name}`, describeOptions, () => {
    describe('open and identity', () => {
      test('declares a name and the capabilities the runner expects', async () => {
        const fixture = await options.makeStore();
        try {
          assert.equal(typeof fixture.store.name, 'string');
          assert.ok(fixture.store.name.length > 0);
          assert.deepEqual(fixture.store.capabilities, capabilities);
        } finally {
          await fixture.store.close();
          await fixture.cleanup?.();
        }
      });

      test('methods called before open() throw StoreError', async () => {
        const fixture = await options.makeStore();
        try {
          await assert.rejects(fixture.store.get({ id: randomUUID() }), StoreError);
          await assert.rejects(fixture.store.queueSize(), StoreError);
        } finally {
          await fixture.store.close();
          await fixture.cleanup?.();
        }
      });

      storeTest(
        'open() again with the same embedder is fine; another id or dimension is refused',
        async (store) => {
          await insert(store, makeRecord());
          await store.open({ embedder: EMBEDDER });
          await assert.rejects(
            store.open({ embedder: { id: 'other:model', dimension: DIMENSION } }),
            EmbedderMismatchError,
          );
          await assert.rejects(
            store.open({ embedder: { id: EMBEDDER.id, dimension: DIMENSION + 1 } }),
            (error: unknown) => {
              assert.ok(error instanceof EmbedderMismatchError);
              assert.deepEqual(error.stored, EMBEDDER);
              assert.deepEqual(error.configured, { id: EMBEDDER.id, dimension: DIMENSION + 1 });
              return true;
            },
          );
          // The refused open did not change the recorded embedder or the data.
          assert.equal((await store.stats()).memories, 1);
          await store.open({ embedder: EMBEDDER });
        },
      );

      storeTest(
        'data and the embedder identity survive close() and a new instance',
        async (store, fixture) => {
          const record = makeRecord({ memory: 'survives a restart' });
          await insert(store, record);
          await store.close();
          assert.ok(fixture.reopen, 'persistent fixtures provide reopen()');
          const mismatched = await fixture.reopen();
          try {
            await assert.rejects(
              mismatched.open({ embedder: { id: 'other:model', dimension: DIMENSION } }),
              EmbedderMismatchError,
            );
            await assert.rejects(
              mismatched.open({ embedder: { id: EMBEDDER.id, dimension: 3 } }),
              EmbedderMismatchError,
            );
          } finally {
            await mismatched.close();
          }
          const reopened = await fixture.reopen();
          try {
            await reopened.open({ embedder: EMBEDDER });
            assert.deepEqual(await reopened.get({ id: record.id }), record);
          } finally {
            await reopened.close();
          }
        },
        { skip: notPersistent },
      );

      storeTest(
        'a second instance on the same data sees writes at once and shares queue leases',
        async (store, fixture) => {
          assert.ok(fixture.reopen, 'multi-process fixtures provide reopen()');
          const other = await fixture.reopen();
          try {
            await other.open({ embedder: EMBEDDER });
            const record = makeRecord({ memory: 'written by the first instance' });
            await insert(store, record);
            assert.deepEqual(await other.get({ id: record.id }), record);
            const fromOther = makeRecord({ memory: 'written by the second instance' });
            await insert(other, fromOther);
            assert.deepEqual(await store.get({ id: fromOther.id }), fromOther);
            const item = await other.enqueue({ scope: { userId: 'alice' }, payload: 'job', now: at(0) });
            assert.deepEqual(ids(await store.claimQueue({ limit: 5, leaseMs: 60_000, now: at(0) })), [
              item.id,
            ]);
            assert.deepEqual(await other.claimQueue({ limit: 5, leaseMs: 60_000, now: at(0) }), [], 'leased');
            await store.apply({ changes: [], completeQueueItem: item.id });
            assert.equal(await other.queueSize(), 0);
          } finally {
            await other.close();
          }
        },
        { skip: notMultiProcess },
      );

      storeTest('close() is idempotent and later calls throw StoreError', async (store) => {
        await store.close();
        await store.close();
        await assert.rejects(store.get({ id: randomUUID() }), StoreError);
        await assert.rejects(
          store.list({ scope: { userId: 'alice' }, temporal: CURRENT, page: { limit: 5 } }),
          StoreError,
        );
      });
    });

    describe('apply', () => {
      storeTest('round-trips every record field exactly (absent optionals stay absent)', async (store) => {
        const full = makeRecord(
          {
            memory: 'Prefers Neovim — with "quotes", \'apostrophes\' and émojis 🎉',
            role: 'user',
            speaker: 'Alice',
            kind: 'preference',
            topic: 'preference:editor',
            metadata: { source: 'chat', nested: { list: [1, 'two', true, null], deep: { x: 1.5 } }, n: -3 },
            hash: 'abc123',
            createdAt: at(1),
            updatedAt: at(2),
            observedAt: at(0),
            validFrom: at(0),
            validTo: at(50_000),
            supersededBy: randomUUID(),
            expiresAt: at(60_000),
          },
          { userId: 'alice', agentId: 'agent-1', runId: 'run-1', appId: 'app-1' },
        );
        const minimal = makeRecord({}, { agentId: 'agent-only' });
        await insert(store, full, minimal);
        assert.deepEqual(await store.get({ id: full.id }), full);
        const got = await store.get({ id: minimal.id });
        assert.deepEqual(got, minimal);
        assert.ok(got && !('userId' in got) && !('topic' in got) && !('validTo' in got), 'no undefined keys');
      });

      storeTest('a failing change leaves nothing applied (all or nothing)', async (store) => {
        const existing = makeRecord({ memory: 'existing memory' });
        await insert(store, existing);
        const before = await store.stats();
        const historyBefore = await store.history({ id: existing.id });
        const fresh = makeRecord({ memory: 'should never appear' });
        await assert.rejects(
          store.apply({
            changes: [
              insertChange(fresh),
              {
                type: 'update',
                id: existing.id,
                patch: { memory: 'changed', updatedAt: at(5) },
                event: { event: 'UPDATE', actor: 'test', createdAt: at(5) },
              },
              {
                type: 'update',
                id: randomUUID(),
                patch: { memory: 'x' },
                event: { event: 'UPDATE', actor: 'test', createdAt: at(5) },
              },
            ],
          }),
          NotFoundError,
        );
        assert.equal(await store.get({ id: fresh.id }), null);
        assert.deepEqual(await store.get({ id: existing.id }), existing);
        assert.deepEqual(await store.stats(), before);
        assert.deepEqual(await store.history({ id: existing.id }), historyBefore);
        assert.deepEqual(await store.history({ id: fresh.id }), []);
        const keyword = await store.searchKeyword({
          scope: { userId: 'alice' },
          temporal: CURRENT,
          terms: ['never'],
          limit: 5,
        });
        assert.deepEqual(keyword, []);

        // An out-of-scope target fails the same way.
        await assert.rejects(
          store.apply({
            changes: [
              insertChange(fresh),
              { type: 'delete', id: existing.id, scope: { userId: 'bob' }, event: deleteEvent(existing) },
            ],
          }),
          NotFoundError,
        );
        assert.equal(await store.get({ id: fresh.id }), null);
        assert.deepEqual(await store.stats(), before);
      });

      storeTest('inserting an id that already exists is refused and applies nothing', async (store) => {
        const record = makeRecord();
        await insert(store, record);
        const other = makeRecord();
        await assert.rejects(store.apply({ changes: [insertChange(other), insertChange({ ...record })] }));
        assert.equal(await store.get({ id: other.id }), null);
        assert.equal((await store.stats()).memories, 1);
      });

      storeTest(
        'the keyword index holds the reply context (metadata mneme:replyTo) with the text; metadata updates re-index',
        async (store) => {
          const scope = { userId: 'alice' };
          const answer = makeRecord({
            memory: 'I am obsessed with those colours',
            metadata: { [REPLY_TO_KEY]: 'What gave you the idea for the mural?', other: 'kept' },
          });
          const bystander = makeRecord({ memory: 'the mural on the left wall' });
          const unrelated = makeRecord({ memory: 'nothing here', metadata: { note: 'mural' } });
          await insert(store, answer, bystander, unrelated);
          const found = async (term: string) =>
            sortedIds(
              (await store.searchKeyword({ scope, temporal: CURRENT, terms: [term], limit: 10 })).map(
                (hit) => hit.record,
              ),
            );
          assert.deepEqual(
            await found('mural'),
            [answer.id, bystander.id].sort(),
            'context words find the answer',
          );
          assert.deepEqual(await found('colours'), [answer.id], 'its own words still do');
          const [hit] = await store.searchKeyword({ scope, temporal: CURRENT, terms: ['idea'], limit: 1 });
          assert.deepEqual(hit?.record, answer, 'the memory itself is returned, its text unchanged');
          assert.deepEqual(await found('note'), [], 'other metadata is not indexed');

          await store.apply({
            changes: [
              {
                type: 'update',
                id: answer.id,
                patch: { metadata: { other: 'kept' }, updatedAt: at(8) },
                event: { event: 'UPDATE', actor: 'test', createdAt: at(8) },
              },
            ],
          });
          assert.deepEqual(await found('mural'), [bystander.id], 'removing the context re-indexes');
          assert.deepEqual(await found('colours'), [answer.id]);
          await store.apply({
            changes: [
              {
                type: 'update',
                id: bystander.id,
                patch: { metadata: { [REPLY_TO_KEY]: 'Which colours did you pick?' }, updatedAt: at(9) },
                event: { event: 'UPDATE', actor: 'test', createdAt: at(9) },
              },
            ],
          });
          assert.deepEqual(await found('colours'), [answer.id, bystander.id].sort(), 'adding one re-indexes');
          assert.deepEqual(await found('mural'), [bystander.id]);
        },
      );

      storeTest('a vector of the wrong dimension is a ValidationError', async (store) => {
        const record = makeRecord();
        await assert.rejects(
          store.apply({ changes: [insertChange(record, new Float32Array(DIMENSION + 1))] }),
          ValidationError,
        );
        assert.equal(await store.get({ id: record.id }), null);
      });

      storeTest(
        'update sets given fields, clears nulls, leaves absent fields alone, re-indexes',
        async (store) => {
          const record = makeRecord({
            memory: 'likes green tea',
            topic: 'preference:drink',
            expiresAt: at(90_000),
            metadata: { a: 1 },
          });
          await insert(store, [record, axisVector(0, DIMENSION)]);
          await store.apply({
            changes: [
              {
                type: 'update',
                id: record.id,
                scope: { userId: 'alice' },
                patch: {
                  memory: 'likes black coffee',
                  hash: 'new-hash',
                  metadata: { b: 'two' },
                  updatedAt: at(7),
                  topic: null,
                  expiresAt: null,
                  validTo: at(99_000),
                },
                embedding: axisVector(1, DIMENSION),
                event: {
                  event: 'UPDATE',
                  previousValue: record.memory,
                  newValue: 'likes black coffee',
                  actor: 'test',
                  createdAt: at(7),
                },
              },
            ],
          });
          const { topic: _topic, expiresAt: _expires, ...kept } = record;
          const expected: MemoryRecord = {
            ...kept,
            memory: 'likes black coffee',
            hash: 'new-hash',
            metadata: { b: 'two' },
            updatedAt: at(7),
            validTo: at(99_000),
          };
          assert.deepEqual(await store.get({ id: record.id }), expected);
          const scope = { userId: 'alice' };
          assert.deepEqual(
            await store.searchKeyword({ scope, temporal: CURRENT, terms: ['green'], limit: 5 }),
            [],
          );
          assert.deepEqual(
            ids(
              (await store.searchKeyword({ scope, temporal: CURRENT, terms: ['coffee'], limit: 5 })).map(
                (hit) => hit.record,
              ),
            ),
            [record.id],
          );
          const [dense] = await store.searchDense({
            scope,
            temporal: CURRENT,
            embedding: axisVector(1, DIMENSION),
            limit: 1,
          });
          assert.ok(dense && Math.abs(dense.similarity - 1) < 1e-5, 'the new vector is searched');
        },
      );

      storeTest(
        'delete removes the row, its vector and keyword entry; history keeps DELETE',
        async (store) => {
          const keep = makeRecord({ memory: 'keep this row' });
          const doomed = makeRecord({ memory: 'delete this row' });
          await insert(store, keep, doomed);
          await store.apply({ changes: [{ type: 'delete', id: doomed.id, event: deleteEvent(doomed) }] });
          assert.equal(await store.get({ id: doomed.id }), null);
          const stats = await store.stats();
          assert.equal(stats.memories, 1);
          assert.equal(stats.vectors, 1);
          assert.equal(stats.keywordEntries, 1);
          const scope = { userId: 'alice' };
          assert.deepEqual(sortedIds(await listAll(store, scope, EVERYTHING)), [keep.id]);
          const keyword = await store.searchKeyword({
            scope,
            temporal: EVERYTHING,
            terms: ['delete'],
            limit: 5,
          });
          assert.deepEqual(keyword, []);
          const dense = await store.searchDense({
            scope,
            temporal: EVERYTHING,
            embedding: seededVector(1, DIMENSION),
            limit: 5,
          });
          assert.deepEqual(ids(dense.map((hit) => hit.record)), [keep.id]);
          assert.deepEqual(
            (await store.history({ id: doomed.id })).map((event) => event.event),
            ['ADD', 'DELETE'],
          );
          await assert.rejects(
            store.apply({ changes: [{ type: 'delete', id: doomed.id, event: deleteEvent(doomed) }] }),
            NotFoundError,
          );
        },
      );

      storeTest('note records an event without changing the row', async (store) => {
        const record = makeRecord();
        await insert(store, record);
        await store.apply({
          changes: [
            {
              type: 'note',
              id: record.id,
              scope: { userId: 'alice' },
              event: { event: 'NOOP', reason: 'duplicate of itself', actor: 'ingest', createdAt: at(3) },
            },
          ],
        });
        assert.deepEqual(await store.get({ id: record.id }), record);
        const history = await store.history({ id: record.id });
        assert.deepEqual(
          history.map((event) => [event.event, event.reason]),
          [
            ['ADD', undefined],
            ['NOOP', 'duplicate of itself'],
          ],
        );
      });

      storeTest(
        'changes apply in order: a row inserted earlier in the same call can be updated',
        async (store) => {
          const old = makeRecord({ memory: 'uses vim', topic: 'preference:editor' });
          await insert(store, old);
          const replacement = makeRecord({ memory: 'uses emacs', topic: 'preference:editor' });
          await store.apply({
            changes: [
              insertChange(replacement),
              {
                type: 'update',
                id: old.id,
                patch: { validTo: at(20), supersededBy: replacement.id, updatedAt: at(20) },
                event: { event: 'SUPERSEDE', relatedId: replacement.id, actor: 'ingest', createdAt: at(20) },
              },
              {
                type: 'update',
                id: replacement.id,
                patch: { metadata: { superseded: old.id } },
                event: { event: 'UPDATE', actor: 'ingest', createdAt: at(20) },
              },
            ],
          });
          assert.equal((await store.get({ id: old.id }))?.supersededBy, replacement.id);
          assert.deepEqual((await store.get({ id: replacement.id }))?.metadata, { superseded: old.id });
        },
      );
    });

    describe('scopes', () => {
      storeTest(
        'a memory is invisible through every method to every scope that does not match it',
        async (store) => {
          const owner = { userId: 'alice', agentId: 'agent-1', runId: 'run-1', appId: 'app-1' };
          const record = makeRecord(
            {
              memory: 'secret zebra password hint',
              topic: 'secret:hint',
              hash: 'secret-hash',
              metadata: { userId: 'bob', user_id: 'bob', agentId: 'agent-2', agent_id: 'agent-2' },
            },
            owner,
          );
          const vector = seededVector(42, DIMENSION);
          await insert(store, [record, vector]);
          const outsiders: Scope[] = [
            { userId: 'bob' },
            { userId: 'Alice' },
            { userId: 'alice ' },
            { userId: 'alice', agentId: 'agent-2' },
            { userId: 'alice', runId: 'run-2' },
            { userId: 'alice', appId: 'app-2' },
            { agentId: 'agent-2' },
            { runId: 'run-2' },
            { appId: 'app-2' },
            { userId: 'bob', agentId: 'agent-1' },
          ];
          const insiders: Scope[] = [
            { userId: 'alice' },
            { agentId: 'agent-1' },
            { runId: 'run-1' },
            { appId: 'app-1' },
            { userId: 'alice', agentId: 'agent-1' },
            owner,
          ];
          const reads = async (scope: Scope) => ({
            get: await store.get({ id: record.id, scope }),
            list: ids(await listAll(store, scope)),
            dense: ids(
              (await store.searchDense({ scope, temporal: CURRENT, embedding: vector, limit: 5 })).map(
                (hit) => hit.record,
              ),
            ),
            keyword: ids(
              (await store.searchKeyword({ scope, temporal: CURRENT, terms: ['zebra'], limit: 5 })).map(
                (hit) => hit.record,
              ),
            ),
            hash: ids(await store.findByHash({ scope, hashes: ['secret-hash'], temporal: CURRENT })),
            topic: ids(await store.findByTopic({ scope, topics: ['secret:hint'], temporal: CURRENT })),
            history: (await store.history({ id: record.id, scope })).length,
            scopes: (await store.listScopes({ within: scope })).length,
          });
          for (const scope of insiders) {
            const seen = await reads(scope);
            assert.deepEqual(seen.get, record, `get in ${JSON.stringify(scope)}`);
            for (const key of ['list', 'dense', 'keyword', 'hash', 'topic'] as const) {
              assert.deepEqual(seen[key], [record.id], `${key} in ${JSON.stringify(scope)}`);
            }
            assert.equal(seen.history, 1);
            assert.equal(seen.scopes, 1);
          }
          for (const scope of outsiders) {
            const seen = await reads(scope);
            assert.deepEqual(
              seen,
              { get: null, list: [], dense: [], keyword: [], hash: [], topic: [], history: 0, scopes: 0 },
              `nothing visible to ${JSON.stringify(scope)}`,
            );
            const event = { event: 'UPDATE' as const, actor: 'test', createdAt: at(9) };
            await assert.rejects(
              store.apply({
                changes: [{ type: 'update', id: record.id, scope, patch: { memory: 'hacked' }, event }],
              }),
              NotFoundError,
            );
            await assert.rejects(
              store.apply({
                changes: [{ type: 'delete', id: record.id, scope, event: deleteEvent(record) }],
              }),
              NotFoundError,
            );
            await assert.rejects(
              store.apply({
                changes: [{ type: 'note', id: record.id, scope, event: { ...event, event: 'NOOP' } }],
              }),
              NotFoundError,
            );
            assert.equal(await store.eraseScope({ scope, now: at(9), actor: 'test' }), 0);
          }
          assert.deepEqual(await store.get({ id: record.id }), record);
          assert.equal((await store.history({ id: record.id })).length, 1);
        },
      );

      storeTest('a memory without agentId is not visible to a scope naming an agentId', async (store) => {
        const userOnly = makeRecord({ memory: 'user level fact' }, { userId: 'alice' });
        const agentLevel = makeRecord(
          { memory: 'agent level fact' },
          { userId: 'alice', agentId: 'agent-1' },
        );
        await insert(store, userOnly, agentLevel);
        assert.deepEqual(
          sortedIds(await listAll(store, { userId: 'alice' })),
          sortedIds([userOnly, agentLevel]),
        );
        assert.deepEqual(ids(await listAll(store, { userId: 'alice', agentId: 'agent-1' })), [agentLevel.id]);
        assert.equal(
          await store.get({ id: userOnly.id, scope: { userId: 'alice', agentId: 'agent-1' } }),
          null,
        );
      });

      storeTest('an empty scope is a ValidationError everywhere a scope is required', async (store) => {
        const empty: Scope = {};
        await assert.rejects(
          store.list({ scope: empty, temporal: CURRENT, page: { limit: 5 } }),
          ValidationError,
        );
        await assert.rejects(
          store.searchDense({
            scope: empty,
            temporal: CURRENT,
            embedding: axisVector(0, DIMENSION),
            limit: 5,
          }),
          ValidationError,
        );
        await assert.rejects(
          store.searchKeyword({ scope: empty, temporal: CURRENT, terms: ['x'], limit: 5 }),
          ValidationError,
        );
        await assert.rejects(
          store.findByHash({ scope: empty, hashes: ['x'], temporal: CURRENT }),
          ValidationError,
        );
        await assert.rejects(
          store.findByTopic({ scope: empty, topics: ['x'], temporal: CURRENT }),
          ValidationError,
        );
        await assert.rejects(store.eraseScope({ scope: empty, now: NOW, actor: 'test' }), ValidationError);
        await assert.rejects(store.enqueue({ scope: empty, payload: {}, now: NOW }), ValidationError);
        await assert.rejects(
          store.apply({ changes: [insertChange(makeRecord({}, {}))] }),
          ValidationError,
          'a record without any scope field',
        );
      });

      storeTest(
        'listScopes returns each distinct scope with its count, narrowed by within',
        async (store) => {
          await insert(
            store,
            makeRecord({}, { userId: 'alice' }),
            makeRecord({}, { userId: 'alice' }),
            makeRecord({}, { userId: 'alice', agentId: 'agent-1' }),
            makeRecord({}, { userId: 'bob', runId: 'run-9' }),
            makeRecord({}, { agentId: 'agent-1', appId: 'app-1' }),
          );
          const normal = (scope: Scope & { count: number }) => JSON.stringify(Object.entries(scope).sort());
          const all = await store.listScopes({});
          assert.deepEqual(
            all.map(normal).sort(),
            [
              { userId: 'alice', count: 2 },
              { userId: 'alice', agentId: 'agent-1', count: 1 },
              { userId: 'bob', runId: 'run-9', count: 1 },
              { agentId: 'agent-1', appId: 'app-1', count: 1 },
            ]
              .map(normal)
              .sort(),
          );
          const agentScopes = await store.listScopes({ within: { agentId: 'agent-1' } });
          assert.deepEqual(agentScopes.map((scope) => scope.count).sort(), [1, 1]);
          assert.ok(agentScopes.every((scope) => scope.agentId === 'agent-1'));
        },
      );
    });

    describe('list and pagination', () => {
      storeTest(
        'pages are newest first, respect limit, and chain without duplicates or gaps',
        async (store) => {
          const records: MemoryRecord[] = [];
          for (let index = 0; index < 23; index += 1) {
            // Groups of three share a createdAt so ties (broken by id) cross page boundaries.
            records.push(makeRecord({ createdAt: at(Math.floor(index / 3)) }));
          }
          await insert(store, ...records);
          await insert(store, makeRecord({}, { userId: 'bob' }));
          const expected = [...records].sort(
            (left, right) => right.createdAt.localeCompare(left.createdAt) || (left.id < right.id ? 1 : -1),
          );
          const seen: MemoryRecord[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.list({
              scope: { userId: 'alice' },
              temporal: CURRENT,
              page: cursor === undefined ? { limit: 5 } : { limit: 5, cursor },
            });
            assert.ok(page.records.length <= 5);
            seen.push(...page.records);
            cursor = page.nextCursor;
            pages += 1;
            if (cursor !== undefined) assert.equal(page.records.length, 5, 'only the last page is short');
          } while (cursor !== undefined && pages < 50);
          assert.equal(pages, 5);
          const createdOrder = seen.map((record) => record.createdAt);
          assert.deepEqual(createdOrder, [...createdOrder].sort().reverse(), 'newest createdAt first');
          assert.deepEqual(sortedIds(seen), sortedIds(records), 'every record exactly once');
          assert.equal(new Set(ids(seen)).size, seen.length, 'no duplicates');
          assert.deepEqual(
            seen.map((record) => record.createdAt),
            expected.map((record) => record.createdAt),
          );
          // A page size equal to the total: one page, no cursor.
          const single = await store.list({
            scope: { userId: 'alice' },
            temporal: CURRENT,
            page: { limit: 23 },
          });
          assert.equal(single.records.length, 23);
          assert.equal(single.nextCursor, undefined);
        },
      );

      storeTest('a cursor stays valid while rows are added before it', async (store) => {
        const records = Array.from({ length: 6 }, (_, index) => makeRecord({ createdAt: at(100 + index) }));
        await insert(store, ...records);
        const first = await store.list({ scope: { userId: 'alice' }, temporal: CURRENT, page: { limit: 3 } });
        assert.ok(first.nextCursor);
        await insert(store, makeRecord({ createdAt: at(500) }));
        const second = await store.list({
          scope: { userId: 'alice' },
          temporal: CURRENT,
          page: { limit: 3, cursor: first.nextCursor },
        });
        assert.deepEqual(sortedIds([...first.records, ...second.records]), sortedIds(records));
        assert.equal(second.nextCursor, undefined);
      });

      storeTest('a malformed cursor or limit is a ValidationError', async (store) => {
        const scope = { userId: 'alice' };
        await assert.rejects(
          store.list({ scope, temporal: CURRENT, page: { limit: 5, cursor: 'not a cursor' } }),
          ValidationError,
        );
        await assert.rejects(store.list({ scope, temporal: CURRENT, page: { limit: 0 } }), ValidationError);
        await assert.rejects(store.list({ scope, temporal: CURRENT, page: { limit: 2.5 } }), ValidationError);
      });
    });

    describe('filters', () => {
      storeTest('hand-written filters for every operator agree with matchesFilter', async (store) => {
        const dataset = filterDataset();
        await insert(store, ...dataset);
        for (const input of HAND_WRITTEN_FILTERS) {
          const filter = parseFilter(input);
          const expected = dataset.filter((record) => matchesFilter(record, filter));
          const actual = await listAll(store, { userId: 'alice' }, EVERYTHING, filter);
          assert.deepEqual(sortedIds(actual), sortedIds(expected), `filter ${JSON.stringify(input)}`);
        }
      });

      storeTest('random filters agree with matchesFilter (property test)', async (store) => {
        const dataset = filterDataset();
        await insert(store, ...dataset);
        await fc.assert(
          fc.asyncProperty(filterInputArbitrary(), async (input) => {
            let filter: FilterNode | undefined;
            try {
              filter = parseFilter(input);
            } catch (error) {
              if (error instanceof ValidationError) return;
              throw error;
            }
            const expected = dataset.filter((record) => matchesFilter(record, filter));
            const actual = await listAll(store, { userId: 'alice' }, EVERYTHING, filter);
            assert.deepEqual(sortedIds(actual), sortedIds(expected), `filter ${JSON.stringify(input)}`);
          }),
          { numRuns: 250 },
        );
      });

      storeTest('filters also narrow dense and keyword search, and never widen the scope', async (store) => {
        const mine = makeRecord({ memory: 'shared keyword apple', metadata: { color: 'red' } });
        const other = makeRecord({ memory: 'shared keyword apple', metadata: { color: 'green' } });
        const bobs = makeRecord(
          { memory: 'shared keyword apple', metadata: { color: 'red' } },
          { userId: 'bob' },
        );
        await insert(store, mine, other, bobs);
        const scope = { userId: 'alice' };
        const red = parseFilter({ color: 'red' });
        const widening = parseFilter({ or: [{ userId: 'bob' }, { color: 'red' }] });
        for (const filter of [red, widening]) {
          const dense = await store.searchDense({
            scope,
            temporal: CURRENT,
            embedding: axisVector(0, DIMENSION),
            limit: 10,
            ...(filter ? { filter } : {}),
          });
          assert.deepEqual(ids(dense.map((hit) => hit.record)), [mine.id]);
          const keyword = await store.searchKeyword({
            scope,
            temporal: CURRENT,
            terms: ['apple'],
            limit: 10,
            ...(filter ? { filter } : {}),
          });
          assert.deepEqual(ids(keyword.map((hit) => hit.record)), [mine.id]);
        }
      });
    });

    describe('search', () => {
      storeTest('dense search orders by cosine similarity, reports it, and respects limit', async (store) => {
        const cosines = [0.95, -0.3, 0.5, 0.8, 0.1, 0.99, 0.0];
        const records = cosines.map((value, index) => [
          makeRecord({ memory: `dense ${index}` }),
          vectorWithCosine(value, DIMENSION, 1 + (index % (DIMENSION - 1))),
        ]) as Array<[MemoryRecord, Float32Array]>;
        await insert(store, ...records);
        await insert(store, [makeRecord({}, { userId: 'bob' }), axisVector(0, DIMENSION)]);
        const hits = await store.searchDense({
          scope: { userId: 'alice' },
          temporal: CURRENT,
          embedding: axisVector(0, DIMENSION),
          limit: 4,
        });
        assert.equal(hits.length, 4);
        const expectedOrder = cosines
          .map((value, index) => ({ value, index }))
          .sort((left, right) => right.value - left.value)
          .slice(0, 4);
        assert.deepEqual(
          hits.map((hit) => hit.record.id),
          expectedOrder.map(({ index }) => records[index]?.[0].id),
        );
        for (const [position, hit] of hits.entries()) {
          const expected = expectedOrder[position]?.value ?? Number.NaN;
          assert.ok(Math.abs(hit.similarity - expected) < 1e-5, `similarity ${hit.similarity} ≈ ${expected}`);
        }
        const all = await store.searchDense({
          scope: { userId: 'alice' },
          temporal: CURRENT,
          embedding: axisVector(0, DIMENSION),
          limit: 100,
        });
        assert.equal(all.length, cosines.length);
        assert.ok(Math.abs((all.at(-1)?.similarity ?? 0) - -0.3) < 1e-5, 'negative similarities are kept');
        // A zero vector (an embedder's output for empty text may be one) has similarity 0, not NaN or 1.
        const zero = makeRecord({ memory: 'zero vector' });
        await insert(store, [zero, new Float32Array(DIMENSION)]);
        const withZero = await store.searchDense({
          scope: { userId: 'alice' },
          temporal: CURRENT,
          embedding: axisVector(0, DIMENSION),
          limit: 100,
        });
        const zeroHit = withZero.find((hit) => hit.record.id === zero.id);
        assert.equal(zeroHit?.similarity, 0);
        const position = withZero.findIndex((hit) => hit.record.id === zero.id);
        assert.ok((withZero[position - 1]?.similarity ?? 1) >= 0, 'ranked after the positive similarities');
        assert.ok((withZero[position + 1]?.similarity ?? -1) <= 0, 'ranked before the negative ones');
        assert.notEqual(withZero.at(-1)?.record.id, zero.id, 'the -0.3 memory still ranks last');
      });

      storeTest(
        'search hits carry the whole record, speaker and role included (the ranking reads them)',
        async (store) => {
          const said = makeRecord({
            memory: 'Melanie painted a lake at sunrise',
            role: 'user',
            speaker: 'Melanie',
          });
          const plain = makeRecord({ memory: 'a lake painting for the hall' });
          await insert(store, [said, axisVector(0, DIMENSION)], [plain, axisVector(1, DIMENSION)]);
          const scope = { userId: 'alice' };
          const keyword = await store.searchKeyword({ scope, temporal: CURRENT, terms: ['lake'], limit: 5 });
          const dense = await store.searchDense({
            scope,
            temporal: CURRENT,
            embedding: axisVector(0, DIMENSION),
            limit: 5,
          });
          for (const hits of [keyword, dense]) {
            assert.deepEqual(
              hits.map((hit) => hit.record).sort((left, right) => (left.id < right.id ? -1 : 1)),
              [said, plain].sort((left, right) => (left.id < right.id ? -1 : 1)),
            );
          }
        },
      );

      storeTest('keyword search ranks a rare term above common ones, with positive BM25', async (store) => {
        const rare = makeRecord({ memory: 'my cat is named xylophone and likes tuna' });
        const commonOnly = Array.from({ length: 6 }, (_, index) =>
          makeRecord({ memory: `my cat likes tuna on day ${index}` }),
        );
        const unrelated = makeRecord({ memory: 'completely different words here' });
        await insert(store, rare, ...commonOnly, unrelated);
        const scope = { userId: 'alice' };
        const hits = await store.searchKeyword({
          scope,
          temporal: CURRENT,
          terms: ['xylophone', 'tuna'],
          limit: 10,
        });
        assert.equal(hits[0]?.record.id, rare.id, 'the document with the rare term ranks first');
        assert.equal(hits.length, 7, 'OR semantics: every doc with either term');
        assert.ok(!ids(hits.map((hit) => hit.record)).includes(unrelated.id));
        for (const hit of hits) assert.ok(hit.bm25 > 0 && Number.isFinite(hit.bm25), `bm25 ${hit.bm25} > 0`);
        const scores = hits.map((hit) => hit.bm25);
        assert.deepEqual(
          scores,
          [...scores].sort((left, right) => right - left),
          'descending BM25',
        );
        const limited = await store.searchKeyword({ scope, temporal: CURRENT, terms: ['tuna'], limit: 3 });
        assert.equal(limited.length, 3);
        const more = await store.searchKeyword({
          scope,
          temporal: CURRENT,
          terms: ['tuna', 'tuna', 'tuna'],
          limit: 10,
        });
        assert.equal(more.length, 7, 'repeated terms do not duplicate hits');
        assert.equal(new Set(ids(more.map((hit) => hit.record))).size, 7);
      });

      storeTest(
        'keyword search: empty terms give no hits; FTS syntax in terms never throws',
        async (store) => {
          await insert(
            store,
            makeRecord({ memory: 'near the "quoted" star * and a-b c:d NOT OR AND' }),
            makeRecord({ memory: 'plain text' }),
          );
          const scope = { userId: 'alice' };
          assert.deepEqual(await store.searchKeyword({ scope, temporal: CURRENT, terms: [], limit: 5 }), []);
          const awkward = [
            '"',
            '""',
            '*',
            'NEAR',
            'NEAR(',
            'near/3',
            '-',
            'a-b',
            ':',
            'c:d',
            'memory:plain',
            'AND',
            'OR',
            'NOT',
            '(',
            ')',
            '^',
            '+',
            "'",
            '\\',
            '',
            ' ',
            'quoted"',
            '{memory}',
            '\u0000',
            '🎉',
          ];
          for (const term of awkward) {
            const hits = await store.searchKeyword({ scope, temporal: CURRENT, terms: [term], limit: 5 });
            assert.ok(Array.isArray(hits), `term ${JSON.stringify(term)}`);
          }
          const near = await store.searchKeyword({ scope, temporal: CURRENT, terms: ['NEAR'], limit: 5 });
          assert.equal(near.length, 1, 'NEAR is an ordinary word');
          const quoted = await store.searchKeyword({
            scope,
            temporal: CURRENT,
            terms: ['"quoted"'],
            limit: 5,
          });
          assert.equal(quoted.length, 1, 'quotes inside a term are literal');
          const all = await store.searchKeyword({
            scope,
            temporal: CURRENT,
            terms: ['*', '-', 'plain'],
            limit: 5,
          });
          assert.equal(all.length, 1, 'only real words match');
        },
      );
    });

    describe('temporal visibility', () => {
      storeTest(
        'validTo, expiresAt, asOf, includeSuperseded and includeExpired apply to every read',
        async (store) => {
          const shared = { hash: 'same-hash', topic: 'topic:same', memory: 'temporal quokka fact' };
          const make = (name: string, fields: Partial<MemoryRecord>) =>
            makeRecord({ ...shared, metadata: { name }, validFrom: at(0), observedAt: at(0), ...fields });
          const rows = {
            current: make('current', {}),
            superseded: make('superseded', { validTo: at(100) }),
            replacement: make('replacement', { validFrom: at(100), observedAt: at(100) }),
            endsLater: make('endsLater', { validTo: at(20_000) }),
            expired: make('expired', { expiresAt: at(50) }),
            expiresLater: make('expiresLater', { expiresAt: at(20_000) }),
            beginsLater: make('beginsLater', { validFrom: at(500), observedAt: at(400) }),
            observedOnly: (() => {
              const { validFrom: _validFrom, ...rest } = make('observedOnly', { observedAt: at(300) });
              return rest;
            })(),
          };
          await insert(
            store,
            ...Object.values(rows).map((row): [MemoryRecord, Float32Array] => [
              row,
              axisVector(0, DIMENSION),
            ]),
          );
          const scope = { userId: 'alice' };
          const cases: Array<[TemporalOptions, Array<keyof typeof rows>]> = [
            [CURRENT, ['current', 'replacement', 'endsLater', 'expiresLater', 'beginsLater', 'observedOnly']],
            [
              { now: NOW, includeSuperseded: true },
              [
                'current',
                'superseded',
                'replacement',
                'endsLater',
                'expiresLater',
                'beginsLater',
                'observedOnly',
              ],
            ],
            [
              { now: NOW, includeExpired: true },
              [
                'current',
                'replacement',
                'endsLater',
                'expired',
                'expiresLater',
                'beginsLater',
                'observedOnly',
              ],
            ],
            [EVERYTHING, Object.keys(rows) as Array<keyof typeof rows>],
            // validTo exactly at the instant is no longer current.
            [
              { now: at(100) },
              ['current', 'replacement', 'endsLater', 'expiresLater', 'beginsLater', 'observedOnly'],
            ],
            [{ now: NOW, asOf: at(60) }, ['current', 'superseded', 'endsLater', 'expiresLater']],
            [{ now: NOW, asOf: at(30) }, ['current', 'superseded', 'endsLater', 'expired', 'expiresLater']],
            [
              { now: NOW, asOf: at(350) },
              ['current', 'replacement', 'endsLater', 'expiresLater', 'observedOnly'],
            ],
            [
              { now: NOW, asOf: at(60), includeSuperseded: true, includeExpired: true },
              ['current', 'superseded', 'endsLater', 'expired', 'expiresLater'],
            ],
          ];
          for (const [temporal, names] of cases) {
            const expected = names.map((name) => rows[name].id).sort();
            const label = JSON.stringify(temporal);
            assert.deepEqual(sortedIds(await listAll(store, scope, temporal)), expected, `list ${label}`);
            const dense = await store.searchDense({
              scope,
              temporal,
              embedding: axisVector(0, DIMENSION),
              limit: 50,
            });
            assert.deepEqual(sortedIds(dense.map((hit) => hit.record)), expected, `dense ${label}`);
            const keyword = await store.searchKeyword({ scope, temporal, terms: ['quokka'], limit: 50 });
            assert.deepEqual(sortedIds(keyword.map((hit) => hit.record)), expected, `keyword ${label}`);
            assert.deepEqual(
              sortedIds(await store.findByHash({ scope, hashes: ['same-hash'], temporal })),
              expected,
              `findByHash ${label}`,
            );
            assert.deepEqual(
              sortedIds(await store.findByTopic({ scope, topics: ['topic:same'], temporal })),
              expected,
              `findByTopic ${label}`,
            );
          }
          // get ignores temporal visibility.
          assert.deepEqual(await store.get({ id: rows.expired.id }), rows.expired);
        },
      );
    });

    describe('lookups', () => {
      storeTest('findByHash returns current memories in scope with any of the hashes', async (store) => {
        const a = makeRecord({ hash: 'h-a' });
        const b = makeRecord({ hash: 'h-b' });
        const c = makeRecord({ hash: 'h-c' });
        const bobs = makeRecord({ hash: 'h-a' }, { userId: 'bob' });
        await insert(store, a, b, c, bobs);
        const scope = { userId: 'alice' };
        assert.deepEqual(
          sortedIds(
            await store.findByHash({ scope, hashes: ['h-a', 'h-b', 'h-missing'], temporal: CURRENT }),
          ),
          sortedIds([a, b]),
        );
        assert.deepEqual(await store.findByHash({ scope, hashes: [], temporal: CURRENT }), []);
      });

      storeTest('findByTopic returns current memories with the topics, newest first', async (store) => {
        const older = makeRecord({ topic: 'preference:editor', createdAt: at(1) });
        const newer = makeRecord({ topic: 'preference:editor', createdAt: at(5) });
        const otherTopic = makeRecord({ topic: 'preference:drink', createdAt: at(3) });
        const noTopic = makeRecord({ createdAt: at(4) });
        await insert(store, older, otherTopic, newer, noTopic);
        const scope = { userId: 'alice' };
        assert.deepEqual(
          ids(await store.findByTopic({ scope, topics: ['preference:editor'], temporal: CURRENT })),
          [newer.id, older.id],
        );
        assert.deepEqual(
          ids(
            await store.findByTopic({
              scope,
              topics: ['preference:editor', 'preference:drink'],
              temporal: CURRENT,
            }),
          ),
          [newer.id, otherTopic.id, older.id],
        );
        assert.deepEqual(await store.findByTopic({ scope, topics: [], temporal: CURRENT }), []);
      });
    });

    describe('history', () => {
      storeTest('records every event type in order with its fields', async (store) => {
        const record = makeRecord({ memory: 'v1' });
        const other = makeRecord({ memory: 'other' });
        await insert(store, record, other);
        await store.apply({
          changes: [
            {
              type: 'update',
              id: record.id,
              patch: { memory: 'v2', updatedAt: at(2) },
              event: {
                event: 'UPDATE',
                previousValue: 'v1',
                newValue: 'v2',
                reason: 'corrected',
                actor: 'llm',
                createdAt: at(2),
              },
            },
          ],
        });
        await store.apply({
          changes: [
            {
              type: 'note',
              id: record.id,
              event: { event: 'NOOP', reason: 'same fact', actor: 'ingest', createdAt: at(3) },
            },
          ],
        });
        await store.apply({
          changes: [
            {
              type: 'update',
              id: record.id,
              patch: { validTo: at(4), supersededBy: other.id },
              event: {
                event: 'SUPERSEDE',
                previousValue: 'v2',
                relatedId: other.id,
                actor: 'ingest',
                createdAt: at(4),
              },
            },
          ],
        });
        await store.apply({
          changes: [
            { type: 'delete', id: record.id, event: deleteEvent({ ...record, memory: 'v2' }, at(5)) },
          ],
        });
        const history = await store.history({ id: record.id, scope: { userId: 'alice' } });
        const strip = (event: HistoryEvent) => {
          const { id: _id, ...rest } = event;
          return rest;
        };
        assert.deepEqual(history.map(strip), [
          { memoryId: record.id, event: 'ADD', newValue: 'v1', actor: 'test', createdAt: record.createdAt },
          {
            memoryId: record.id,
            event: 'UPDATE',
            previousValue: 'v1',
            newValue: 'v2',
            reason: 'corrected',
            actor: 'llm',
            createdAt: at(2),
          },
          { memoryId: record.id, event: 'NOOP', reason: 'same fact', actor: 'ingest', createdAt: at(3) },
          {
            memoryId: record.id,
            event: 'SUPERSEDE',
            previousValue: 'v2',
            relatedId: other.id,
            actor: 'ingest',
            createdAt: at(4),
          },
          { memoryId: record.id, event: 'DELETE', previousValue: 'v2', actor: 'test', createdAt: at(5) },
        ]);
        assert.equal(new Set(history.map((event) => event.id)).size, history.length, 'event ids are unique');
        assert.ok(
          history.every((event) => /^[0-9a-f-]{36}$/.test(event.id)),
          'event ids are UUIDs',
        );
        assert.deepEqual(
          await store.history({ id: record.id, scope: { userId: 'bob' } }),
          [],
          'out of scope',
        );
        assert.deepEqual(await store.history({ id: randomUUID() }), [], 'unknown id');
        assert.equal(
          (await store.history({ id: other.id })).length,
          1,
          'other memories keep their own history',
        );
      });
    });

    describe('exportScope', () => {
      type Exported = { record: MemoryRecord; history: HistoryEvent[] };
      const collect = async (iterable: AsyncIterable<Exported>): Promise<Exported[]> => {
        const items: Exported[] = [];
        for await (const item of iterable) items.push(item);
        return items;
      };
      /** What an export must equal: `list` order with each memory's history, read now. */
      const expected = async (store: MemoryStore, scope: Scope, temporal: TemporalOptions) =>
        Promise.all(
          (await listAll(store, scope, temporal)).map(async (record) => ({
            record,
            history: await store.history({ id: record.id, scope }),
          })),
        );

      storeTest(
        'yields the scope’s visible memories newest first with their history, and nothing else',
        async (store) => {
          const records = Array.from({ length: 6 }, () => makeRecord());
          const coach = makeRecord({}, { userId: 'alice', agentId: 'coach' });
          const bob = makeRecord({}, { userId: 'bob' });
          await insert(store, ...records, coach, bob);
          const [first, second] = records;
          assert.ok(first && second);
          await store.apply({
            changes: [
              {
                type: 'update',
                id: first.id,
                patch: { memory: 'rewritten', updatedAt: at(2000) },
                event: {
                  event: 'UPDATE',
                  previousValue: first.memory,
                  newValue: 'rewritten',
                  actor: 'test',
                  createdAt: at(2000),
                },
              },
              {
                type: 'update',
                id: second.id,
                patch: { validTo: at(2001), supersededBy: first.id },
                event: { event: 'SUPERSEDE', relatedId: first.id, actor: 'test', createdAt: at(2001) },
              },
            ],
          });
          const alice = { userId: 'alice' };
          const everything = await collect(store.exportScope({ scope: alice, temporal: EVERYTHING }));
          assert.deepEqual(everything, await expected(store, alice, EVERYTHING));
          assert.equal(everything.length, 7);
          assert.ok(everything.every((item) => item.record.userId === 'alice'));
          const rewritten = everything.find((item) => item.record.id === first.id);
          assert.deepEqual(
            rewritten?.history.map((event) => event.event),
            ['ADD', 'UPDATE'],
            'history comes with the memory, oldest first',
          );
          const current = await collect(store.exportScope({ scope: alice, temporal: CURRENT }));
          assert.deepEqual(current, await expected(store, alice, CURRENT));
          assert.ok(!ids(current.map((item) => item.record)).includes(second.id), 'superseded one left out');
          const coachScope = { userId: 'alice', agentId: 'coach' };
          assert.deepEqual(
            ids(
              (await collect(store.exportScope({ scope: coachScope, temporal: EVERYTHING }))).map(
                (item) => item.record,
              ),
            ),
            [coach.id],
          );
          assert.deepEqual(
            await collect(store.exportScope({ scope: { userId: 'nobody' }, temporal: EVERYTHING })),
            [],
          );
          await assert.rejects(
            collect(store.exportScope({ scope: {}, temporal: EVERYTHING })),
            ValidationError,
          );
        },
      );

      storeTest(
        'is one point-in-time snapshot across pages: inserts, updates, deletes and history written meanwhile are unseen',
        async (store) => {
          const alice = { userId: 'alice' };
          // More than one page (the SQL stores read 200 per page), all in distinct minutes.
          const records = Array.from({ length: 230 }, (_, index) =>
            makeRecord({ createdAt: at(3000 + index), updatedAt: at(3000 + index) }),
          );
          await insert(store, ...records);
          const before = await expected(store, alice, EVERYTHING);
          // Newest first: the oldest records come last, on the second page.
          const [oldest, secondOldest, thirdOldest] = records;
          assert.ok(oldest && secondOldest && thirdOldest);
          const added = makeRecord({ createdAt: at(2999), updatedAt: at(2999) });
          const exported: Exported[] = [];
          for await (const item of store.exportScope({ scope: alice, temporal: EVERYTHING })) {
            exported.push(item);
            if (exported.length !== 1) continue;
            await insert(store, added);
            await store.apply({
              changes: [
                { type: 'delete', id: oldest.id, event: deleteEvent(oldest, at(4000)) },
                {
                  type: 'update',
                  id: secondOldest.id,
                  patch: { memory: 'changed during the export', updatedAt: at(4000) },
                  event: {
                    event: 'UPDATE',
                    newValue: 'changed during the export',
                    actor: 'test',
                    createdAt: at(4000),
                  },
                },
                {
                  type: 'note',
                  id: thirdOldest.id,
                  event: { event: 'NOOP', reason: 'seen again', actor: 'test', createdAt: at(4000) },
                },
              ],
            });
          }
          assert.equal(
            new Set(ids(exported.map((item) => item.record))).size,
            exported.length,
            'no duplicates',
          );
          assert.deepEqual(exported, before, 'the export equals the state when it started');
          // The writes did happen: a new export sees them.
          const later = await collect(store.exportScope({ scope: alice, temporal: EVERYTHING }));
          const laterIds = ids(later.map((item) => item.record));
          assert.ok(laterIds.includes(added.id));
          assert.ok(!laterIds.includes(oldest.id));
          assert.equal(
            later.find((item) => item.record.id === secondOldest.id)?.record.memory,
            'changed during the export',
          );
        },
        { skip: options.skipWritesDuringSnapshot },
      );

      storeTest(
        'an export abandoned early releases what it held; close() ends an open one',
        async (store) => {
          const alice = { userId: 'alice' };
          await insert(store, makeRecord(), makeRecord(), makeRecord());
          for await (const _item of store.exportScope({ scope: alice, temporal: EVERYTHING })) break;
          await insert(store, makeRecord());
          assert.equal((await collect(store.exportScope({ scope: alice, temporal: EVERYTHING }))).length, 4);
          const open = store.exportScope({ scope: alice, temporal: EVERYTHING })[Symbol.asyncIterator]();
          assert.equal((await open.next()).done, false);
          await store.close();
          await assert.rejects(open.next(), StoreError);
        },
      );
    });

    describe('eraseScope', () => {
      storeTest(
        'erases rows, vectors, keyword entries, queue items and history text of the scope only',
        async (store) => {
          const alice = [
            makeRecord({ memory: 'alice secret walrus one' }, { userId: 'alice' }),
            makeRecord({ memory: 'alice secret walrus two' }, { userId: 'alice', agentId: 'agent-1' }),
          ];
          const deletedEarlier = makeRecord({ memory: 'alice deleted walrus' }, { userId: 'alice' });
          const bob = makeRecord({ memory: 'bob walrus note' }, { userId: 'bob' });
          await insert(store, ...alice, deletedEarlier, bob);
          await store.apply({
            changes: [
              {
                type: 'update',
                id: alice[0]?.id ?? '',
                patch: { memory: 'alice secret walrus uno' },
                event: {
                  event: 'UPDATE',
                  previousValue: 'alice secret walrus one',
                  newValue: 'alice secret walrus uno',
                  reason: 'why',
                  actor: 'test',
                  createdAt: at(1),
                },
              },
              { type: 'delete', id: deletedEarlier.id, event: deleteEvent(deletedEarlier) },
            ],
          });
          await store.enqueue({
            scope: { userId: 'alice' },
            payload: { text: 'alice walrus queued' },
            now: at(1),
          });
          await store.enqueue({
            scope: { userId: 'alice', runId: 'r' },
            payload: { text: 'alice run queued' },
            now: at(1),
          });
          const bobItem = await store.enqueue({
            scope: { userId: 'bob' },
            payload: { text: 'bob queued' },
            now: at(1),
          });
          const before = await store.stats();

          assert.equal(await store.eraseScope({ scope: { userId: 'alice' }, now: at(9), actor: 'admin' }), 2);

          for (const record of [...alice, deletedEarlier]) {
            assert.equal(await store.get({ id: record.id }), null);
            const history = await store.history({ id: record.id });
            assert.ok(history.length >= 2, 'history events are kept');
            for (const event of history) {
              assert.equal(event.previousValue, undefined, 'previous text erased');
              assert.equal(event.newValue, undefined, 'new text erased');
              assert.equal(event.reason, undefined, 'reason erased');
            }
            const last = history.at(-1);
            assert.equal(last?.event, 'ERASE');
            assert.equal(last?.actor, 'admin');
            assert.equal(last?.createdAt, at(9));
            assert.equal(last?.memoryId, record.id);
          }
          const aliceScope = { userId: 'alice' };
          assert.deepEqual(await listAll(store, aliceScope, EVERYTHING), []);
          assert.deepEqual(
            await store.searchKeyword({
              scope: aliceScope,
              temporal: EVERYTHING,
              terms: ['walrus'],
              limit: 9,
            }),
            [],
          );
          assert.deepEqual(
            await store.searchDense({
              scope: aliceScope,
              temporal: EVERYTHING,
              embedding: axisVector(0, DIMENSION),
              limit: 9,
            }),
            [],
          );
          const after = await store.stats();
          assert.equal(after.memories, before.memories - 2);
          assert.equal(after.vectors, before.vectors - 2);
          assert.equal(after.keywordEntries, before.keywordEntries - 2);
          assert.equal(after.queueItems, 1);
          assert.equal(after.historyEvents, before.historyEvents + 3, 'one ERASE tombstone per memory');
          assert.equal(await store.queueSize(), 1);
          const claimed = await store.claimQueue({ limit: 10, leaseMs: 1000, now: at(2) });
          assert.deepEqual(ids(claimed), [bobItem.id]);

          // Bob is untouched.
          assert.deepEqual(await store.get({ id: bob.id }), bob);
          assert.equal((await store.history({ id: bob.id }))[0]?.newValue, bob.memory);
          const bobHits = await store.searchKeyword({
            scope: { userId: 'bob' },
            temporal: CURRENT,
            terms: ['walrus'],
            limit: 9,
          });
          assert.deepEqual(ids(bobHits.map((hit) => hit.record)), [bob.id]);

          // Erasing again finds nothing and adds no tombstones.
          assert.equal(
            await store.eraseScope({ scope: { userId: 'alice' }, now: at(10), actor: 'admin' }),
            0,
          );
          assert.equal((await store.stats()).historyEvents, after.historyEvents);
        },
      );

      storeTest('a narrower scope erases only the memories it matches', async (store) => {
        const agentOne = makeRecord({}, { userId: 'alice', agentId: 'agent-1' });
        const agentTwo = makeRecord({}, { userId: 'alice', agentId: 'agent-2' });
        const userLevel = makeRecord({}, { userId: 'alice' });
        await insert(store, agentOne, agentTwo, userLevel);
        assert.equal(
          await store.eraseScope({ scope: { userId: 'alice', agentId: 'agent-1' }, now: NOW, actor: 'x' }),
          1,
        );
        assert.deepEqual(
          sortedIds(await listAll(store, { userId: 'alice' })),
          sortedIds([agentTwo, userLevel]),
        );
        assert.equal((await store.history({ id: agentTwo.id }))[0]?.newValue, agentTwo.memory);
      });
    });

    describe('eraseMemory', () => {
      storeTest(
        "erases one memory's row, vector, keyword entry and history text; other memories untouched",
        async (store) => {
          const target = makeRecord({ memory: 'alice secret walrus one' }, { userId: 'alice' });
          const sibling = makeRecord({ memory: 'alice walrus sibling' }, { userId: 'alice' });
          const bob = makeRecord({ memory: 'bob walrus note' }, { userId: 'bob' });
          await insert(store, target, sibling, bob);
          await store.apply({
            changes: [
              {
                type: 'update',
                id: target.id,
                patch: { memory: 'alice secret walrus uno' },
                event: {
                  event: 'UPDATE',
                  previousValue: 'alice secret walrus one',
                  newValue: 'alice secret walrus uno',
                  reason: 'why',
                  actor: 'test',
                  createdAt: at(1),
                },
              },
            ],
          });
          const queued = await store.enqueue({
            scope: { userId: 'alice' },
            payload: { text: 'q' },
            now: at(1),
          });
          const before = await store.stats();

          // Outside its scope, the memory is not found and nothing changes.
          assert.equal(
            await store.eraseMemory({ id: target.id, scope: { userId: 'bob' }, now: at(8), actor: 'admin' }),
            false,
          );
          assert.deepEqual(await store.stats(), before);

          assert.equal(
            await store.eraseMemory({
              id: target.id,
              scope: { userId: 'alice' },
              now: at(9),
              actor: 'admin',
            }),
            true,
          );
          assert.equal(await store.get({ id: target.id }), null);
          const history = await store.history({ id: target.id });
          assert.deepEqual(
            history.map((event) => event.event),
            ['ADD', 'UPDATE', 'ERASE'],
          );
          for (const event of history) {
            assert.equal(event.previousValue, undefined, 'previous text erased');
            assert.equal(event.newValue, undefined, 'new text erased');
            assert.equal(event.reason, undefined, 'reason erased');
            assert.equal(event.memoryId, target.id);
          }
          assert.deepEqual(
            { actor: history.at(-1)?.actor, createdAt: history.at(-1)?.createdAt },
            { actor: 'admin', createdAt: at(9) },
          );
          const keyword = await store.searchKeyword({
            scope: { userId: 'alice' },
            temporal: EVERYTHING,
            terms: ['secret'],
            limit: 9,
          });
          assert.deepEqual(keyword, []);
          const dense = await store.searchDense({
            scope: { userId: 'alice' },
            temporal: EVERYTHING,
            embedding: axisVector(0, DIMENSION),
            limit: 9,
          });
          assert.deepEqual(ids(dense.map((hit) => hit.record)), [sibling.id]);
          const after = await store.stats();
          assert.equal(after.memories, before.memories - 1);
          assert.equal(after.vectors, before.vectors - 1);
          assert.equal(after.keywordEntries, before.keywordEntries - 1);
          assert.equal(after.historyEvents, before.historyEvents + 1, 'one ERASE tombstone');
          assert.equal(after.queueItems, before.queueItems, 'queue items belong to a scope, not a memory');
          assert.equal((await store.getQueueItem({ id: queued.id }))?.id, queued.id);

          // The sibling in the same scope and the other user are untouched, text and history included.
          for (const record of [sibling, bob]) {
            assert.deepEqual(await store.get({ id: record.id }), record);
            assert.equal((await store.history({ id: record.id }))[0]?.newValue, record.memory);
          }
          const walrus = await store.searchKeyword({
            scope: { userId: 'alice' },
            temporal: CURRENT,
            terms: ['walrus'],
            limit: 9,
          });
          assert.deepEqual(ids(walrus.map((hit) => hit.record)), [sibling.id]);

          // Erasing again finds nothing left and writes nothing; an unknown id likewise.
          assert.equal(await store.eraseMemory({ id: target.id, now: at(10), actor: 'admin' }), false);
          assert.equal(await store.eraseMemory({ id: 'no-such-memory', now: at(10), actor: 'admin' }), false);
          assert.equal((await store.stats()).historyEvents, after.historyEvents);
        },
      );

      storeTest('erases the history text of a memory deleted before', async (store) => {
        const record = makeRecord({ memory: 'alice deleted walrus' }, { userId: 'alice' });
        await insert(store, record);
        await store.apply({ changes: [{ type: 'delete', id: record.id, event: deleteEvent(record) }] });
        assert.ok(
          (await store.history({ id: record.id })).some((event) => event.previousValue !== undefined),
        );

        assert.equal(await store.eraseMemory({ id: record.id, now: at(9), actor: 'admin' }), true);
        const history = await store.history({ id: record.id });
        assert.deepEqual(
          history.map((event) => event.event),
          ['ADD', 'DELETE', 'ERASE'],
        );
        for (const event of history) {
          assert.deepEqual(
            [event.previousValue, event.newValue, event.reason],
            [undefined, undefined, undefined],
          );
        }
      });
    });

    describe('queue', () => {
      storeTest(
        'enqueue, claim with a lease, re-claim after the lease ends, complete in apply',
        async (store) => {
          const payload = {
            messages: [{ role: 'user', content: 'hi "there"' }],
            options: { infer: true, n: 1.5 },
          };
          const item = await store.enqueue({ scope: { userId: 'alice', runId: 'r1' }, payload, now: at(0) });
          assert.match(item.id, /^[0-9a-f-]{36}$/);
          assert.deepEqual(item.scope, { userId: 'alice', runId: 'r1' });
          assert.deepEqual(item.payload, payload);
          assert.equal(item.attempts, 0);
          assert.equal(item.enqueuedAt, at(0));
          assert.equal(item.availableAt, at(0));
          assert.equal(await store.queueSize(), 1);

          assert.deepEqual(
            await store.claimQueue({ limit: 5, leaseMs: 60_000, now: at(-1) }),
            [],
            'not before availableAt',
          );
          const [claimed] = await store.claimQueue({ limit: 5, leaseMs: 60_000, now: at(0) });
          assert.deepEqual(claimed, item, 'the claimed item is returned as enqueued');
          assert.deepEqual(await store.claimQueue({ limit: 5, leaseMs: 60_000, now: at(0) }), [], 'leased');
          assert.deepEqual(
            await store.claimQueue({ limit: 5, leaseMs: 60_000, now: at(0.99) }),
            [],
            'still leased',
          );
          const [reclaimed] = await store.claimQueue({ limit: 5, leaseMs: 60_000, now: at(1) });
          assert.equal(reclaimed?.id, item.id, 're-claimable once the lease ended');
          assert.equal(await store.queueSize(), 1, 'claiming does not remove');

          // A failing change list does not complete the item: both happen in one transaction.
          await assert.rejects(
            store.apply({
              changes: [
                {
                  type: 'note',
                  id: randomUUID(),
                  event: { event: 'NOOP', actor: 'test', createdAt: at(1) },
                },
              ],
              completeQueueItem: item.id,
            }),
            NotFoundError,
          );
          assert.equal(await store.queueSize(), 1, 'the item is still queued after a failed apply');
          const record = makeRecord({ memory: 'from the queue' });
          await store.apply({ changes: [insertChange(record)], completeQueueItem: item.id });
          assert.equal(await store.queueSize(), 0);
          assert.deepEqual(await store.get({ id: record.id }), record);
          await assert.rejects(
            store.apply({ changes: [insertChange(makeRecord())], completeQueueItem: item.id }),
            NotFoundError,
            'completing a missing item fails the whole apply',
          );
          assert.equal((await store.stats()).memories, 1);
        },
      );

      storeTest('failQueueItem counts attempts, stores the error and delays the item', async (store) => {
        const item = await store.enqueue({ scope: { userId: 'alice' }, payload: 1, now: at(0) });
        await store.claimQueue({ limit: 1, leaseMs: 1_000, now: at(0) });
        await store.failQueueItem({ id: item.id, error: 'LLM timed out', retryAt: at(10) });
        assert.deepEqual(
          await store.claimQueue({ limit: 1, leaseMs: 1_000, now: at(9) }),
          [],
          'not before retryAt',
        );
        const [retried] = await store.claimQueue({ limit: 1, leaseMs: 1_000, now: at(10) });
        assert.equal(retried?.attempts, 1);
        assert.equal(retried?.lastError, 'LLM timed out');
        assert.equal(retried?.availableAt, at(10));
        await store.failQueueItem({ id: item.id, error: 'again', retryAt: at(20) });
        const [third] = await store.claimQueue({ limit: 1, leaseMs: 1_000, now: at(20) });
        assert.equal(third?.attempts, 2);
        assert.equal(third?.lastError, 'again');
        await assert.rejects(
          store.failQueueItem({ id: randomUUID(), error: 'x', retryAt: at(1) }),
          NotFoundError,
        );
      });

      storeTest('claims are FIFO by availability, limited, and dropQueueItem removes', async (store) => {
        const items = [];
        for (let index = 0; index < 5; index += 1) {
          items.push(await store.enqueue({ scope: { userId: 'alice' }, payload: { index }, now: at(index) }));
        }
        const first = await store.claimQueue({ limit: 2, leaseMs: 1_000, now: at(10) });
        assert.deepEqual(ids(first), ids(items.slice(0, 2)));
        const next = await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(10) });
        assert.deepEqual(ids(next), ids(items.slice(2)));
        await store.dropQueueItem({ id: items[0]?.id ?? '', reason: 'too many attempts', now: at(11) });
        assert.equal(await store.queueSize(), 4);
        await assert.rejects(
          store.dropQueueItem({ id: items[0]?.id ?? '', reason: 'again', now: at(11) }),
          NotFoundError,
        );
        const later = await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(100) });
        assert.deepEqual(ids(later), ids(items.slice(1)));
      });

      storeTest('getQueueItem finds an item while it is queued, within its scope only', async (store) => {
        const item = await store.enqueue({
          scope: { userId: 'alice', appId: 'acme' },
          payload: { n: 1 },
          now: at(0),
        });
        assert.deepEqual(await store.getQueueItem({ id: item.id }), item);
        assert.equal((await store.getQueueItem({ id: item.id, scope: { appId: 'acme' } }))?.id, item.id);
        assert.equal(await store.getQueueItem({ id: item.id, scope: { appId: 'globex' } }), null);
        assert.equal(await store.getQueueItem({ id: randomUUID() }), null);
        await store.claimQueue({ limit: 1, leaseMs: 1_000, now: at(1) });
        await store.failQueueItem({ id: item.id, error: 'boom', retryAt: at(5) });
        const retried = await store.getQueueItem({ id: item.id });
        assert.equal(retried?.attempts, 1);
        assert.equal(retried?.lastError, 'boom');
        await store.dropQueueItem({ id: item.id, reason: 'test', now: at(6) });
        assert.equal(await store.getQueueItem({ id: item.id }), null);
      });

      storeTest('claimQueue with ids claims only those items (none for an empty list)', async (store) => {
        const items = [];
        for (let index = 0; index < 4; index += 1) {
          items.push(await store.enqueue({ scope: { userId: `u${index}` }, payload: index, now: at(index) }));
        }
        const [a, b, c, d] = items;
        assert.ok(a && b && c && d);
        assert.deepEqual(await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(10), ids: [] }), []);
        const mine = await store.claimQueue({
          limit: 10,
          leaseMs: 1_000,
          now: at(10),
          ids: [c.id, a.id, randomUUID()],
        });
        assert.deepEqual(ids(mine), [a.id, c.id], 'oldest first, only the named ones');
        assert.deepEqual(
          await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(10), ids: [a.id] }),
          [],
          'a leased item is not claimed again',
        );
        const limited = await store.claimQueue({ limit: 1, leaseMs: 1_000, now: at(10), ids: [d.id, b.id] });
        assert.deepEqual(ids(limited), [b.id]);
        assert.deepEqual(ids(await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(10) })), [d.id]);
      });

      storeTest(
        'a dropped item is kept as a dead letter with its error, then retried or deleted',
        async (store) => {
          const payload = { messages: [{ role: 'user', content: 'I moved to Lyon' }], nested: { n: 1 } };
          const failing = await store.enqueue({
            scope: { userId: 'alice', agentId: 'a1' },
            payload,
            now: at(0),
          });
          const second = await store.enqueue({ scope: { userId: 'bob' }, payload: 2, now: at(1) });
          await store.claimQueue({ limit: 2, leaseMs: 1_000, now: at(2) });
          await store.failQueueItem({ id: failing.id, error: 'LLM timed out', retryAt: at(3) });
          await store.dropQueueItem({ id: failing.id, reason: 'failed 2 times: LLM timed out', now: at(4) });
          await store.dropQueueItem({ id: second.id, reason: 'bad payload', now: at(5) });
          assert.equal(await store.queueSize(), 0, 'dead letters are not queued');
          assert.deepEqual(await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(100) }), []);
          assert.deepEqual(await store.listDeadLetters({ limit: 10 }), [
            {
              id: failing.id,
              scope: { userId: 'alice', agentId: 'a1' },
              payload,
              attempts: 1,
              error: 'failed 2 times: LLM timed out',
              enqueuedAt: at(0),
              failedAt: at(4),
            },
            {
              id: second.id,
              scope: { userId: 'bob' },
              payload: 2,
              attempts: 0,
              error: 'bad payload',
              enqueuedAt: at(1),
              failedAt: at(5),
            },
          ]);
          assert.deepEqual(
            ids(await store.listDeadLetters({ limit: 1 })),
            [failing.id],
            'oldest first, limited',
          );
          assert.equal((await store.stats()).deadLetters, 2);

          const retried = await store.retryDeadLetter({ id: failing.id, now: at(6) });
          assert.deepEqual(retried, {
            id: failing.id,
            scope: { userId: 'alice', agentId: 'a1' },
            payload,
            attempts: 0,
            enqueuedAt: at(0),
            availableAt: at(6),
          });
          assert.deepEqual(
            await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(5) }),
            [],
            'not before now',
          );
          assert.deepEqual(await store.claimQueue({ limit: 10, leaseMs: 1_000, now: at(6) }), [retried]);
          assert.deepEqual(ids(await store.listDeadLetters({ limit: 10 })), [second.id]);
          await assert.rejects(store.retryDeadLetter({ id: failing.id, now: at(7) }), NotFoundError);

          await store.deleteDeadLetter({ id: second.id });
          assert.deepEqual(await store.listDeadLetters({ limit: 10 }), []);
          await assert.rejects(store.deleteDeadLetter({ id: second.id }), NotFoundError);
          await assert.rejects(store.deleteDeadLetter({ id: randomUUID() }), NotFoundError);
          assert.equal((await store.stats()).deadLetters, 0);
        },
      );

      storeTest("eraseScope erases the scope's dead letters and keeps the others", async (store) => {
        const mine = await store.enqueue({ scope: { userId: 'alice' }, payload: 'secret', now: at(0) });
        const theirs = await store.enqueue({ scope: { userId: 'bob' }, payload: 'other', now: at(0) });
        await store.dropQueueItem({ id: mine.id, reason: 'x', now: at(1) });
        await store.dropQueueItem({ id: theirs.id, reason: 'y', now: at(1) });
        await store.eraseScope({ scope: { userId: 'alice' }, now: at(2), actor: 'test' });
        assert.deepEqual(ids(await store.listDeadLetters({ limit: 10 })), [theirs.id]);
      });
    });

    describe('odd text', () => {
      storeTest(
        'NUL characters and lone surrogates are the same ValidationError on every store; nothing is written',
        async (store) => {
          const kept = makeRecord({ memory: 'emoji pairs are fine 🎉 é 世界', metadata: { tag: '🎉' } });
          await insert(store, kept);
          const cases: Array<[MemoryChange, RegExp]> = [
            [
              insertChange(makeRecord({ memory: 'nul \u0000 inside' })),
              /^changes\[1\]\.record\.memory: contains a NUL character \(U\+0000\) at index 4/,
            ],
            [
              insertChange(makeRecord({ memory: 'cut emoji \ud83c' })),
              /^changes\[1\]\.record\.memory: contains a lone surrogate \(U\+D83C\) at index 10, which is not valid Unicode/,
            ],
            [
              insertChange(makeRecord({ metadata: { note: ['ok', 'x\udf89'] } })),
              /^changes\[1\]\.record\.metadata\.note\[1\]: contains a lone surrogate \(U\+DF89\) at index 1/,
            ],
            [
              insertChange(makeRecord({ metadata: { 'a\u0000b': 1 } })),
              /^changes\[1\]\.record\.metadata: a key contains a NUL character/,
            ],
            [
              insertChange(makeRecord({}, { userId: 'al\u0000ice' })),
              /^changes\[1\]\.record\.userId: contains a NUL character/,
            ],
            [
              {
                type: 'update',
                id: kept.id,
                scope: { userId: 'alice' },
                patch: { memory: 'changed \u0000', updatedAt: at(5) },
                event: { event: 'UPDATE', actor: 'test', createdAt: at(5), newValue: 'changed \u0000' },
              },
              /^changes\[1\]\.patch\.memory: contains a NUL character/,
            ],
            [
              {
                type: 'note',
                id: kept.id,
                event: { event: 'NOOP', actor: 'test', createdAt: at(5), reason: '\udc00' },
              },
              /^changes\[1\]\.event\.reason: contains a lone surrogate \(U\+DC00\) at index 0/,
            ],
          ];
          for (const [change, message] of cases) {
            const first = insertChange(makeRecord({ memory: 'a valid change before the bad one' }));
            await assert.rejects(store.apply({ changes: [first, change] }), (error: unknown) => {
              assert.ok(error instanceof ValidationError, `a ValidationError, got ${String(error)}`);
              assert.match(error.message, message);
              return true;
            });
          }
          await assert.rejects(
            store.enqueue({ scope: { userId: 'alice' }, payload: { messages: ['\u0000'] }, now: at(1) }),
            (error: unknown) =>
              error instanceof ValidationError &&
              /^payload\.messages\[0\]: contains a NUL/.test(error.message),
          );
          await assert.rejects(
            store.restore({
              items: [
                {
                  record: makeRecord({ memory: '\ud800' }),
                  embedding: seededVector(1, DIMENSION),
                  history: [],
                },
              ],
            }),
            (error: unknown) =>
              error instanceof ValidationError &&
              /^items\[0\]\.record\.memory: contains a lone/.test(error.message),
          );
          const stats = await store.stats();
          assert.equal(stats.memories, 1, 'no change of a refused batch was written');
          assert.equal(stats.queueItems, 0);
          assert.deepEqual(await store.get({ id: kept.id }), kept, 'valid pairs round-trip unchanged');
        },
      );
    });

    describe('stats, scan and restore', () => {
      storeTest('stats counts rows of every kind', async (store) => {
        assert.deepEqual(await store.stats(), {
          memories: 0,
          vectors: 0,
          keywordEntries: 0,
          historyEvents: 0,
          queueItems: 0,
          deadLetters: 0,
        });
        const record = makeRecord();
        await insert(store, record, makeRecord(), makeRecord({}, { userId: 'bob' }));
        await store.apply({
          changes: [{ type: 'note', id: record.id, event: { event: 'NOOP', actor: 'x', createdAt: at(1) } }],
        });
        await store.enqueue({ scope: { userId: 'alice' }, payload: null, now: at(1) });
        assert.deepEqual(await store.stats(), {
          memories: 3,
          vectors: 3,
          keywordEntries: 3,
          historyEvents: 4,
          queueItems: 1,
          deadLetters: 0,
        });
      });

      storeTest(
        'scan pages through everything by id; restore writes it back verbatim and idempotently',
        async (store) => {
          const source: Array<[MemoryRecord, Float32Array]> = Array.from({ length: 7 }, (_, index) => [
            makeRecord(
              {
                memory: `scan item ${index}`,
                metadata: { index },
                ...(index % 2 ? { topic: 't', expiresAt: at(1) } : {}),
              },
              index % 3 === 0 ? { userId: 'alice' } : { agentId: `agent-${index}` },
            ),
            seededVector(1000 + index, DIMENSION),
          ]);
          await insert(store, ...source);
          const first = source[0]?.[0] ?? makeRecord();
          await store.apply({
            changes: [
              {
                type: 'update',
                id: first.id,
                patch: { memory: 'scan item zero' },
                event: {
                  event: 'UPDATE',
                  previousValue: first.memory,
                  newValue: 'scan item zero',
                  actor: 'x',
                  createdAt: at(2),
                },
              },
            ],
          });
          const scanned: Array<{ record: MemoryRecord; embedding: Float32Array; history: HistoryEvent[] }> =
            [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.scan(cursor === undefined ? { limit: 3 } : { limit: 3, cursor });
            assert.ok(page.items.length <= 3);
            scanned.push(...page.items);
            cursor = page.nextCursor;
            pages += 1;
          } while (cursor !== undefined && pages < 20);
          assert.equal(pages, 3);
          assert.deepEqual(
            scanned.map((item) => item.record.id),
            source.map(([record]) => record.id).sort(),
            'every memory once, by id',
          );
          const firstScanned = scanned.find((item) => item.record.id === first.id);
          assert.deepEqual(
            firstScanned?.history.map((event) => event.event),
            ['ADD', 'UPDATE'],
          );
          for (const item of scanned) {
            const original = source.find(([record]) => record.id === item.record.id);
            assert.ok(original);
            assert.ok(item.embedding instanceof Float32Array);
            assert.deepEqual([...item.embedding], [...original[1]], 'vectors are preserved exactly');
          }

          const target = await options.makeStore();
          try {
            await target.store.open({ embedder: EMBEDDER });
            assert.equal(await target.store.restore({ items: scanned }), 7);
            const restored: typeof scanned = (await target.store.scan({ limit: 100 })).items;
            assert.deepEqual(
              restored.map((item) => ({ ...item, embedding: [...item.embedding] })),
              scanned.map((item) => ({ ...item, embedding: [...item.embedding] })),
              'records, vectors and history (ids and times) round-trip',
            );
            const stats = await target.store.stats();
            assert.equal(await target.store.restore({ items: scanned }), 0, 'restore is idempotent');
            assert.deepEqual(await target.store.stats(), stats);
            const hits = await target.store.searchKeyword({
              scope: { userId: 'alice' },
              temporal: EVERYTHING,
              terms: ['zero'],
              limit: 5,
            });
            assert.deepEqual(
              ids(hits.map((hit) => hit.record)),
              [first.id],
              'restored rows are keyword-indexed',
            );
            const dense = await target.store.searchDense({
              scope: { userId: 'alice' },
              temporal: EVERYTHING,
              embedding: source[0]?.[1] ?? axisVector(0, DIMENSION),
              limit: 1,
            });
            assert.equal(dense[0]?.record.id, first.id);
            assert.ok(Math.abs((dense[0]?.similarity ?? 0) - 1) < 1e-5, 'restored vectors are searchable');
          } finally {
            await target.store.close();
            await target.cleanup?.();
          }
        },
      );
    });
  });
}

function deleteEvent(record: MemoryRecord, createdAt = at(8)): NewHistoryEvent {
  return { event: 'DELETE', previousValue: record.memory, actor: 'test', createdAt };
}
