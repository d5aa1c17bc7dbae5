import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LLMError, StoreError } from '../../src/core/errors.js';
import { isRetryableStatus, retryAfterMs, withRetry } from '../../src/llm/retry.js';

const transient = (message = 'transient'): LLMError =>
  new LLMError(message, { retryable: true, statusCode: 503 });
const permanent = (): LLMError => new LLMError('bad request', { retryable: false, statusCode: 400 });

/** An operation that fails with the given errors in order, then resolves with its attempt number. */
function scripted(errors: unknown[]): { operation: (attempt: number) => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    operation: async (attempt) => {
      calls.push(attempt);
      const error = errors[calls.length - 1];
      if (error !== undefined) throw error;
      return `done on attempt ${attempt}`;
    },
  };
}

describe('withRetry', () => {
  test('returns the first success without waiting', async () => {
    const { operation, calls } = scripted([]);
    assert.equal(await withRetry(operation, { baseDelayMs: 10_000 }), 'done on attempt 1');
    assert.deepEqual(calls, [1]);
  });

  test('retries retryable failures with exponential backoff and jitter', async () => {
    const { operation, calls } = scripted([transient(), transient(), transient()]);
    const delays: number[] = [];
    const result = await withRetry(operation, {
      maxRetries: 3,
      baseDelayMs: 4,
      maxDelayMs: 1000,
      random: () => 0.5, // jitter factor 0.5 + 0.5/2 = 0.75
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    assert.equal(result, 'done on attempt 4');
    assert.deepEqual(calls, [1, 2, 3, 4]);
    assert.deepEqual(delays, [3, 6, 12]);
  });

  test('jitter stays within [50%, 100%] of the capped backoff', async () => {
    for (const random of [0, 0.999999]) {
      const delays: number[] = [];
      await withRetry(scripted([transient(), transient(), transient()]).operation, {
        maxRetries: 3,
        baseDelayMs: 2,
        maxDelayMs: 4,
        random: () => random,
        onRetry: ({ delayMs }) => delays.push(delayMs),
      });
      for (const [index, delay] of delays.entries()) {
        const cap = Math.min(4, 2 * 2 ** index);
        assert.ok(delay >= cap / 2 && delay <= cap, `delay ${delay} outside [${cap / 2}, ${cap}]`);
      }
    }
  });

  test('stops after maxRetries and says how many attempts were made', async () => {
    const { operation, calls } = scripted([transient('boom'), transient('boom'), transient('boom')]);
    const error = await withRetry(operation, { maxRetries: 2, baseDelayMs: 1 }).catch(
      (caught: unknown) => caught,
    );
    assert.deepEqual(calls, [1, 2, 3]);
    assert.ok(error instanceof LLMError);
    assert.equal(error.retryable, true);
    assert.equal(error.statusCode, 503);
    assert.match(error.message, /^boom \(gave up after 3 attempts\)$/);
    assert.ok(error.cause instanceof LLMError);
  });

  test('maxRetries 0 makes exactly one attempt and rethrows unchanged', async () => {
    const original = transient();
    const { operation, calls } = scripted([original]);
    await assert.rejects(withRetry(operation, { maxRetries: 0 }), (error) => error === original);
    assert.deepEqual(calls, [1]);
  });

  test('does not retry a non-retryable failure', async () => {
    const original = permanent();
    const { operation, calls } = scripted([original]);
    await assert.rejects(
      withRetry(operation, { maxRetries: 5, baseDelayMs: 1 }),
      (error) => error === original,
    );
    assert.deepEqual(calls, [1]);
  });

  test('default policy retries any retryable MnemeError, not plain errors', async () => {
    const store = scripted([new StoreError('busy', { retryable: true })]);
    assert.equal(await withRetry(store.operation, { baseDelayMs: 1 }), 'done on attempt 2');
    const plain = scripted([new Error('plain')]);
    await assert.rejects(withRetry(plain.operation, { baseDelayMs: 1 }), /plain/);
    assert.deepEqual(plain.calls, [1]);
  });

  test('honours the server-requested wait over the computed backoff', async () => {
    const delays: number[] = [];
    await withRetry(scripted([transient(), transient()]).operation, {
      maxRetries: 2,
      baseDelayMs: 1,
      retryAfter: () => 25,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    assert.deepEqual(delays, [25, 25]);
  });

  test('a retry-after beyond maxRetryAfterMs falls back to the computed backoff', async () => {
    const delays: number[] = [];
    await withRetry(scripted([transient()]).operation, {
      baseDelayMs: 2,
      maxRetryAfterMs: 100,
      retryAfter: () => 3_600_000,
      random: () => 0,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    assert.deepEqual(delays, [1]);
  });

  test('an abort during the wait stops at once with llm_aborted', async () => {
    const controller = new AbortController();
    const { operation, calls } = scripted([transient(), transient()]);
    const started = Date.now();
    const pending = withRetry(operation, { maxRetries: 5, baseDelayMs: 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 20);
    const error = await pending.catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMError);
    assert.equal(error.code, 'llm_aborted');
    assert.equal(error.retryable, false);
    assert.ok(Date.now() - started < 2_000, 'the wait was not cut short');
    assert.deepEqual(calls, [1]);
  });

  test('an already aborted signal makes no attempt', async () => {
    const { operation, calls } = scripted([]);
    await assert.rejects(withRetry(operation, { signal: AbortSignal.abort() }), { code: 'llm_aborted' });
    assert.deepEqual(calls, []);
  });

  test('a failure caused by the abort is reported as llm_aborted, not retried', async () => {
    const controller = new AbortController();
    const { calls, operation } = scripted([]);
    const error = await withRetry(
      async (attempt) => {
        await operation(attempt);
        controller.abort();
        throw transient('socket closed');
      },
      { maxRetries: 3, baseDelayMs: 1, signal: controller.signal },
    ).catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMError);
    assert.equal(error.code, 'llm_aborted');
    assert.deepEqual(calls, [1]);
  });
});

describe('retryAfterMs', () => {
  test('reads retry-after-ms first, then retry-after seconds or date', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' })), 2000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '0.5' })), 500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now), 3000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }), now), 0);
  });

  test('absent or unparseable values give undefined', () => {
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterMs(new Headers()), undefined);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '-3' })), undefined);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': 'x', 'retry-after': '1' })), 1000);
  });
});

test('isRetryableStatus: 408, 409, 429 and 5xx only', () => {
  for (const status of [408, 409, 429, 500, 502, 503, 529])
    assert.equal(isRetryableStatus(status), true, `${status}`);
  for (const status of [200, 400, 401, 403, 404, 413, 422])
    assert.equal(isRetryableStatus(status), false, `${status}`);
});
