/**
 * The LanguageModel conformance suite: every backend runs it against a fake server speaking its real wire
 * protocol, through a small harness that scripts the server's replies and reads back what it received.
 *
 * ```ts
 * languageModelTestSuite('anthropic', async () => { const api = await startFakeMessagesApi(); return { ... } });
 * ```
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { LLMError } from '../../src/core/errors.js';
import type { LanguageModel } from '../../src/llm/types.js';

/** One reply of the fake server, independent of the wire protocol. */
export type ScriptedReply =
  | { text: string; usage?: { inputTokens: number; outputTokens: number }; delayMs?: number }
  | { status: number; headers?: Record<string, string> }
  | { malformed: string };

/** A chat request as the fake server received it, normalised across protocols. */
export interface ReceivedChat {
  /** The system prompt, undefined when none was sent. */
  system: string | undefined;
  messages: Array<{ role: string; content: string }>;
  maxTokens: number | undefined;
}

export interface LanguageModelHarness {
  /** The `id` prefix the backend must report, e.g. `anthropic:`. */
  idPrefix: string;
  /** Builds the backend under test, pointed at the fake server. */
  createModel(options: { timeoutMs: number; maxRetries: number; retryDelayMs: number }): LanguageModel;
  /** Queues replies for the next chat requests (after the queue, the fake's default reply). */
  enqueue(...replies: ScriptedReply[]): void;
  /** Chat requests received so far, in order. */
  received(): ReceivedChat[];
  close(): Promise<void>;
}

const FAST = { timeoutMs: 2_000, maxRetries: 2, retryDelayMs: 5 };

export function languageModelTestSuite(name: string, start: () => Promise<LanguageModelHarness>): void {
  describe(`LanguageModel conformance: ${name}`, () => {
    let harness: LanguageModelHarness;
    beforeEach(async () => {
      harness = await start();
    });
    afterEach(() => harness.close());

    const failure = async (promise: Promise<unknown>): Promise<LLMError> => {
      const error = await promise.then(
        (value) => assert.fail(`expected an LLMError, got ${JSON.stringify(value)}`),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof LLMError, `expected an LLMError, got ${String(error)}`);
      return error;
    };

    test('id is provider:model', () => {
      const model = harness.createModel(FAST);
      assert.ok(model.id.startsWith(harness.idPrefix), `id ${model.id}`);
      assert.ok(model.id.length > harness.idPrefix.length, `id ${model.id} has no model name`);
    });

    test('text round trip', async () => {
      harness.enqueue({ text: 'Alice prefers tea over coffee.' });
      const completion = await harness.createModel(FAST).complete({
        system: 'Extract facts.',
        messages: [{ role: 'user', content: 'I like tea more than coffee.' }],
      });
      assert.equal(completion.text, 'Alice prefers tea over coffee.');
    });

    test('usage is counted as the provider reports it', async () => {
      harness.enqueue({ text: 'counted', usage: { inputTokens: 321, outputTokens: 17 } });
      const completion = await harness.createModel(FAST).complete({
        system: 's',
        messages: [{ role: 'user', content: 'u' }],
      });
      assert.deepEqual(completion.usage, { inputTokens: 321, outputTokens: 17 });
    });

    test('system prompt, messages in order and maxTokens are sent', async () => {
      harness.enqueue({ text: 'fine' });
      await harness.createModel(FAST).complete({
        system: 'You extract durable facts about the user.',
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'second' },
          { role: 'user', content: 'third' },
        ],
        maxTokens: 77,
      });
      const received = harness.received();
      assert.equal(received.length, 1);
      assert.deepEqual(received[0], {
        system: 'You extract durable facts about the user.',
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'second' },
          { role: 'user', content: 'third' },
        ],
        maxTokens: 77,
      });
    });

    test('maxTokens defaults to 1024', async () => {
      harness.enqueue({ text: 'fine' });
      await harness.createModel(FAST).complete({ system: 's', messages: [{ role: 'user', content: 'u' }] });
      assert.equal(harness.received()[0]?.maxTokens, 1024);
    });

    for (const status of [429, 500]) {
      test(`${status} then success is retried`, async () => {
        harness.enqueue({ status }, { text: `recovered after ${status}` });
        const completion = await harness.createModel(FAST).complete({
          system: 's',
          messages: [{ role: 'user', content: 'u' }],
        });
        assert.equal(completion.text, `recovered after ${status}`);
        assert.equal(harness.received().length, 2);
      });
    }

    test('retry-after from the server is honoured', async () => {
      harness.enqueue({ status: 429, headers: { 'retry-after-ms': '300' } }, { text: 'waited' });
      const started = performance.now();
      const completion = await harness
        .createModel({ ...FAST, retryDelayMs: 1 })
        .complete({ system: 's', messages: [{ role: 'user', content: 'u' }] });
      const elapsed = performance.now() - started;
      assert.equal(completion.text, 'waited');
      assert.ok(elapsed >= 280, `retried after ${elapsed.toFixed(0)} ms, before the requested 300 ms`);
    });

    test('400 is not retried', async () => {
      harness.enqueue({ status: 400 }, { text: 'must not be used' });
      const error = await failure(
        harness.createModel(FAST).complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      );
      assert.equal(error.retryable, false);
      assert.equal(error.statusCode, 400);
      assert.equal(harness.received().length, 1);
    });

    test('401 is not retried and points at the API key', async () => {
      harness.enqueue({ status: 401 });
      const error = await failure(
        harness.createModel(FAST).complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      );
      assert.equal(error.retryable, false);
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /apiKey/);
      assert.equal(harness.received().length, 1);
    });

    test('a persistent 503 gives up after maxRetries + 1 attempts, still retryable', async () => {
      harness.enqueue({ status: 503 }, { status: 503 }, { status: 503 }, { text: 'too late' });
      const error = await failure(
        harness.createModel(FAST).complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      );
      assert.equal(error.retryable, true);
      assert.equal(error.statusCode, 503);
      assert.match(error.message, /gave up after 3 attempts/);
      assert.equal(harness.received().length, 3);
    });

    test('timeout -> retryable LLMError after bounded attempts', async () => {
      harness.enqueue(
        { text: 'late', delayMs: 1_500 },
        { text: 'late', delayMs: 1_500 },
        { text: 'late', delayMs: 1_500 },
      );
      const started = performance.now();
      const error = await failure(
        harness
          .createModel({ timeoutMs: 150, maxRetries: 2, retryDelayMs: 5 })
          .complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      );
      const elapsed = performance.now() - started;
      assert.equal(error.retryable, true);
      assert.equal(error.statusCode, undefined);
      assert.match(error.message, /timeoutMs/);
      assert.match(error.message, /gave up after 3 attempts/);
      assert.equal(harness.received().length, 3);
      assert.ok(
        elapsed < 1_400,
        `took ${elapsed.toFixed(0)} ms: the per-attempt timeout did not cut attempts short`,
      );
    });

    test('malformed body -> non-retryable LLMError carrying the raw text', async () => {
      const malformed = '{"choices": [ {"message": "half a reply';
      harness.enqueue({ malformed }, { text: 'must not be used' });
      const error = await failure(
        harness.createModel(FAST).complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      );
      assert.equal(error.code, 'llm_invalid_response');
      assert.equal(error.retryable, false);
      assert.equal(error.rawText, malformed);
      assert.equal(harness.received().length, 1);
    });

    test('an empty reply is an error, never an empty completion', async () => {
      harness.enqueue({ text: '' });
      const error = await failure(
        harness.createModel(FAST).complete({ system: 's', messages: [{ role: 'user', content: 'u' }] }),
      );
      assert.equal(error.code, 'llm_empty_reply');
      assert.equal(typeof error.rawText, 'string');
    });

    test('an abort stops the call without retrying', async () => {
      harness.enqueue({ text: 'late', delayMs: 1_500 }, { text: 'late', delayMs: 1_500 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await failure(
        harness.createModel(FAST).complete({
          system: 's',
          messages: [{ role: 'user', content: 'u' }],
          signal: controller.signal,
        }),
      );
      assert.equal(error.code, 'llm_aborted');
      assert.equal(error.retryable, false);
      assert.equal(harness.received().length, 1);
    });
  });
}
