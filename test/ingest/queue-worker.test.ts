/**
 * The ingestion queue worker when the store itself goes away mid-drain (a PostgreSQL restart): the worker keeps the
 * claims it could not settle and retries them, with back-off, once the store answers again, instead of leaving
 * them leased until `leaseMs` ends. Runs on the in-memory store behind a switch that makes every call fail with
 * the retryable StoreError a lost connection gives. The end-to-end proof is test/server/postgres-restart.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { QueueWorker } from '../../src/ingest/queue-worker.js';
import { createInMemoryStore } from '../../src/stores/in-memory.js';
import type { MemoryStore } from '../../src/stores/types.js';
import { waitFor } from '../support/serve.js';

/** `store`, except that every call fails like a lost PostgreSQL connection while `isDown()`. */
function unplugged(store: MemoryStore, isDown: () => boolean): MemoryStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (isDown()) {
          return Promise.reject(
            new StoreError('cannot reach the server (ECONNREFUSED)', {
              retryable: true,
              code: 'store_unavailable',
            }),
          );
        }
        return (value as (...inner: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

test('a store outage mid-drain: the claims the worker held are applied once it is back, not after leaseMs', async () => {
  const inner = createInMemoryStore();
  await inner.open({ embedder: { id: 'test', dimension: 4 } });
  let down = false;
  const store = unplugged(inner, () => down);
  const ids: string[] = [];
  for (let index = 0; index < 3; index += 1) {
    ids.push(
      (await store.enqueue({ scope: { userId: `u${index}` }, payload: index, now: new Date().toISOString() }))
        .id,
    );
  }
  const logs: string[] = [];
  const log = (message: string): void => {
    logs.push(message);
  };
  const logger: Logger = { debug: log, info: log, warn: log, error: log };
  const applied = new Map<string, number>();
  let struck = false;
  const worker = new QueueWorker({
    store,
    logger,
    clock: () => new Date(),
    maxAttempts: 5,
    leaseMs: 60_000,
    retryBaseMs: 50,
    async process(item) {
      if (!struck) {
        // The outage strikes while the first item of the batch is being applied.
        struck = true;
        down = true;
        setTimeout(() => {
          down = false;
        }, 300);
      }
      await store.apply({ changes: [], completeQueueItem: item.id });
      applied.set(item.id, (applied.get(item.id) ?? 0) + 1);
    },
  });
  worker.kick();
  await waitFor(() => struck, 5000, 'the outage to strike');
  const started = Date.now();
  await waitFor(
    async () => !down && (await inner.queueSize()) === 0,
    10_000,
    'the held claims to be applied',
  );
  const took = Date.now() - started;
  await worker.stop();
  assert.deepEqual(
    ids.map((id) => applied.get(id)),
    [1, 1, 1],
    'every item applied exactly once',
  );
  assert.ok(took < 5000, `applied ${took} ms after the outage began, far inside the 60 s lease`);
  assert.ok(
    logs.some((message) => message.includes('drain failed')),
    'the failed drain was logged',
  );
  await inner.close();
});
