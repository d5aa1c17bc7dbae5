/**
 * LanguageModel backend for Anthropic's Messages API, over the official `@anthropic-ai/sdk` client with the
 * client's own retries off (`maxRetries: 0`): retries run in the shared loop of `retry.ts`, so every backend
 * behaves and is tested the same way.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ConfigError, LLMError } from '../core/errors.js';
import { isRetryableStatus, retryAfterMs, withRetry } from './retry.js';
import type { Completion, CompletionOptions, LanguageModel } from './types.js';

/**
 * Settings of {@link AnthropicLanguageModel}. Only explicit values are used: the environment (ANTHROPIC_API_KEY,
 * ANTHROPIC_BASE_URL) is read by `resolveConfig`, which passes them here as `apiKey` / `baseURL`.
 */
export interface AnthropicLanguageModelOptions {
  /** Model name, e.g. `claude-haiku-4-5`. */
  model: string;
  /** API key. Required. Env (via resolveConfig): `llmOptions.apiKey` / ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** API base URL. Env (via resolveConfig): ANTHROPIC_BASE_URL. @default 'https://api.anthropic.com' */
  baseURL?: string;
  /** Time allowed for one attempt to receive a response. @default 60000 */
  timeoutMs?: number;
  /** Retries of a retryable failure (timeout, connection error, 408/409/429/5xx). @default 2 */
  maxRetries?: number;
  /** Backoff before the first retry, doubling per retry with jitter; `retry-after` wins. @default 500 */
  retryDelayMs?: number;
}

/**
 * Anthropic Messages API backend; `id` is `anthropic:<model>`.
 *
 * @throws ConfigError (at construction) when `apiKey` is missing.
 */
export class AnthropicLanguageModel implements LanguageModel {
  readonly id: string;
  readonly #model: string;
  readonly #client: Anthropic;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;

  constructor(options: AnthropicLanguageModelOptions) {
    this.id = `anthropic:${options.model}`;
    if (options.apiKey === undefined || options.apiKey.trim() === '') {
      throw new ConfigError(
        `${this.id} needs an Anthropic API key: set option \`llmOptions.apiKey\` or env ANTHROPIC_API_KEY, or ` +
          'choose another model with option `llm` / env MNEME_LLM (`none` runs without an LLM).',
        { code: 'llm_api_key_missing' },
      );
    }
    this.#model = options.model;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#client = new Anthropic({
      apiKey: options.apiKey,
      // The SDK would otherwise fall back to ANTHROPIC_BASE_URL itself; only resolveConfig reads the env.
      baseURL: options.baseURL ?? 'https://api.anthropic.com',
      timeout: this.#timeoutMs,
      maxRetries: 0,
    });
  }

  /**
   * Sends one Messages request (`max_tokens` 1024 unless given). `temperature` is not sent: the Messages API
   * version this SDK speaks (2026-10-21) no longer takes sampling parameters.
   *
   * @throws LLMError: `llm_failed` for HTTP/connection/timeout failures (retryable as the status says),
   *   `llm_invalid_response` when the body is not a Messages reply, `llm_empty_reply` when it holds no text
   *   (both not retryable, with `rawText`), `llm_aborted` when `signal` fires.
   */
  complete(options: CompletionOptions): Promise<Completion> {
    const retryOptions: Parameters<typeof withRetry>[1] = {
      maxRetries: this.#maxRetries,
      baseDelayMs: this.#retryDelayMs,
      retryAfter: (error) => (error instanceof LLMError ? retryAfterOf(error.cause) : undefined),
    };
    if (options.signal) retryOptions.signal = options.signal;
    return withRetry(() => this.#attempt(options), retryOptions);
  }

  async #attempt(options: CompletionOptions): Promise<Completion> {
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.#model,
      max_tokens: options.maxTokens ?? 1024,
      // No `temperature`: API version 2026-10-21 (the one @anthropic-ai/sdk 1.x speaks) has no sampling parameter.
      messages: options.messages.map((message) => ({ role: message.role, content: message.content })),
    };
    if (options.system !== '') params.system = options.system;

    let rawText: string;
    let status: number;
    try {
      const requestOptions: Anthropic.RequestOptions = { timeout: this.#timeoutMs };
      if (options.signal) requestOptions.signal = options.signal;
      // The raw response, not the parsed one: a malformed body must still reach the caller as `rawText`.
      const response = await this.#client.messages.create(params, requestOptions).asResponse();
      status = response.status;
      rawText = await response.text();
    } catch (error) {
      throw this.#translate(error);
    }
    return parseMessage(this.id, rawText, status);
  }

  #translate(error: unknown): LLMError {
    if (error instanceof LLMError) return error;
    if (error instanceof Anthropic.APIUserAbortError) {
      return new LLMError(`${this.id}: call aborted by the caller (its AbortSignal fired)`, {
        code: 'llm_aborted',
        cause: error,
      });
    }
    if (error instanceof Anthropic.APIConnectionTimeoutError) {
      return new LLMError(
        `${this.id}: no response within ${this.#timeoutMs} ms; raise option \`llmOptions.timeoutMs\` if the ` +
          'model is slow, or check the base URL (ANTHROPIC_BASE_URL)',
        { retryable: true, cause: error },
      );
    }
    if (error instanceof Anthropic.APIConnectionError) {
      return new LLMError(
        `${this.id}: could not reach the API (${describeCause(error)}); check option \`llmOptions.baseURL\` / ` +
          'env ANTHROPIC_BASE_URL and the network',
        { retryable: true, cause: error },
      );
    }
    if (error instanceof Anthropic.APIError && typeof error.status === 'number') {
      const status = error.status;
      const shouldRetry = error.headers?.get('x-should-retry');
      const retryable =
        shouldRetry === 'true' ? true : shouldRetry === 'false' ? false : isRetryableStatus(status);
      const options: ConstructorParameters<typeof LLMError>[1] = {
        retryable,
        statusCode: status,
        cause: error,
      };
      if (error.error !== undefined) options.rawText = JSON.stringify(error.error);
      const kind = error.type === null ? '' : ` ${error.type}`;
      return new LLMError(
        `${this.id}: HTTP ${status}${kind}: ${error.apiMessage ?? error.message}${hint(status)}`,
        options,
      );
    }
    // A connection dropped while reading the body, or any other transport failure: worth another attempt.
    return new LLMError(`${this.id}: request failed (${describeCause(error)})`, {
      retryable: true,
      cause: error,
    });
  }
}

function parseMessage(id: string, rawText: string, status: number): Completion {
  let body: unknown;
  try {
    body = JSON.parse(rawText);
  } catch (error) {
    throw new LLMError(`${id}: the API answered HTTP ${status} with a body that is not JSON`, {
      code: 'llm_invalid_response',
      statusCode: status,
      rawText,
      cause: error,
    });
  }
  if (!isRecord(body) || !Array.isArray(body.content) || !isRecord(body.usage)) {
    throw new LLMError(`${id}: the API answered HTTP ${status} with JSON that is not a Messages reply`, {
      code: 'llm_invalid_response',
      statusCode: status,
      rawText,
    });
  }
  const text = body.content
    .filter((block): block is { type: 'text'; text: string } => isRecord(block) && block.type === 'text')
    .map((block) => (typeof block.text === 'string' ? block.text : ''))
    .join('');
  if (text.trim() === '') {
    throw new LLMError(
      `${id}: the reply holds no text (stop_reason ${JSON.stringify(body.stop_reason ?? null)}); nothing to use`,
      { code: 'llm_empty_reply', statusCode: status, rawText },
    );
  }
  const usage = body.usage;
  return {
    text,
    usage: {
      // Cached prompt tokens are reported apart; the total is what the prompt cost in tokens.
      inputTokens:
        count(usage.input_tokens) +
        count(usage.cache_creation_input_tokens) +
        count(usage.cache_read_input_tokens),
      outputTokens: count(usage.output_tokens),
    },
  };
}

function retryAfterOf(cause: unknown): number | undefined {
  return cause instanceof Anthropic.APIError && cause.headers instanceof Headers
    ? retryAfterMs(cause.headers)
    : undefined;
}

function hint(status: number): string {
  if (status === 401 || status === 403) return ' (check `llmOptions.apiKey` / env ANTHROPIC_API_KEY)';
  if (status === 404) return ' (check the model name in option `llm` / env MNEME_LLM)';
  return '';
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
