/**
 * LanguageModel backend for Anthropic's Messages API, over the official `@anthropic-ai/sdk` client with the
 * client's own retries off (`maxRetries: 0`): retries, error mapping and reply parsing are the shared frame of
 * `http-call.ts`, so every backend behaves and is tested the same way. This file holds the wire format only: the
 * request parameters, the SDK's error classes, and where text and usage sit in a Messages reply.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ConfigError, LLMError } from '../core/errors.js';
import {
  abortedError,
  callWithRetry,
  type HttpCallOptions,
  type HttpCallSettings,
  httpCallSettings,
  httpStatusError,
  isRecord,
  parseReply,
  type ReplyFormat,
  requestFailedError,
  timeoutError,
  tokenCount,
  unreachableError,
} from './http-call.js';
import { isRetryableStatus } from './retry.js';
import type { Completion, CompletionOptions, LanguageModel } from './types.js';

/**
 * Settings of {@link AnthropicLanguageModel} (plus `timeoutMs`, `maxRetries`, `retryDelayMs`: see
 * {@link HttpCallOptions}). Only explicit values are used: the environment (ANTHROPIC_API_KEY,
 * ANTHROPIC_BASE_URL) is read by `resolveConfig`, which passes them here as `apiKey` / `baseURL`.
 */
export interface AnthropicLanguageModelOptions extends HttpCallOptions {
  /** Model name, e.g. `claude-haiku-4-5`. */
  model: string;
  /** API key. Required. Env (via resolveConfig): `llmOptions.apiKey` / ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** API base URL. Env (via resolveConfig): ANTHROPIC_BASE_URL. @default 'https://api.anthropic.com' */
  baseURL?: string;
}

const HINTS = {
  apiKey: '`llmOptions.apiKey` / env ANTHROPIC_API_KEY',
  model: 'the model name in option `llm` / env MNEME_LLM',
};

/** Text and usage of a Messages reply; cached prompt tokens count as input tokens. */
const MESSAGES_REPLY: ReplyFormat = {
  source: 'the API',
  kind: 'a Messages reply',
  read(body) {
    const usage = body.usage;
    if (!Array.isArray(body.content) || !isRecord(usage)) return undefined;
    const text = body.content
      .filter((block): block is { type: 'text'; text: unknown } => isRecord(block) && block.type === 'text')
      .map((block) => (typeof block.text === 'string' ? block.text : ''))
      .join('');
    return {
      text,
      usage: {
        // Cached prompt tokens are reported apart; the total is what the prompt cost in tokens.
        inputTokens:
          tokenCount(usage.input_tokens) +
          tokenCount(usage.cache_creation_input_tokens) +
          tokenCount(usage.cache_read_input_tokens),
        outputTokens: tokenCount(usage.output_tokens),
      },
      stop: ['stop_reason', body.stop_reason],
    };
  },
};

/**
 * Anthropic Messages API backend; `id` is `anthropic:<model>`.
 *
 * @throws ConfigError (at construction) when `apiKey` is missing.
 */
export class AnthropicLanguageModel implements LanguageModel {
  readonly id: string;
  readonly #model: string;
  readonly #client: Anthropic;
  readonly #settings: HttpCallSettings;

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
    this.#settings = httpCallSettings(options);
    this.#client = new Anthropic({
      apiKey: options.apiKey,
      // The SDK would otherwise fall back to ANTHROPIC_BASE_URL itself; only resolveConfig reads the env.
      baseURL: options.baseURL ?? 'https://api.anthropic.com',
      timeout: this.#settings.timeoutMs,
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
    return callWithRetry(this.#settings, options, () => this.#attempt(options));
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
      const requestOptions: Anthropic.RequestOptions = { timeout: this.#settings.timeoutMs };
      if (options.signal) requestOptions.signal = options.signal;
      // The raw response, not the parsed one: a malformed body must still reach the caller as `rawText`.
      const response = await this.#client.messages.create(params, requestOptions).asResponse();
      status = response.status;
      rawText = await response.text();
    } catch (error) {
      throw this.#translate(error);
    }
    return parseReply(this.id, rawText, status, MESSAGES_REPLY);
  }

  #translate(error: unknown): LLMError {
    if (error instanceof LLMError) return error;
    if (error instanceof Anthropic.APIUserAbortError) return abortedError(this.id, error);
    if (error instanceof Anthropic.APIConnectionTimeoutError) {
      return timeoutError(
        this.id,
        this.#settings.timeoutMs,
        'check the base URL (ANTHROPIC_BASE_URL)',
        error,
      );
    }
    if (error instanceof Anthropic.APIConnectionError) {
      return unreachableError(
        this.id,
        'the API',
        'check option `llmOptions.baseURL` / env ANTHROPIC_BASE_URL and the network',
        error,
      );
    }
    if (error instanceof Anthropic.APIError && typeof error.status === 'number') {
      const status = error.status;
      const shouldRetry = error.headers?.get('x-should-retry');
      const kind = error.type === null ? '' : ` ${error.type}`;
      return httpStatusError(
        this.id,
        {
          status,
          detail: `${kind}: ${error.apiMessage ?? error.message}`,
          retryable:
            shouldRetry === 'true' ? true : shouldRetry === 'false' ? false : isRetryableStatus(status),
          ...(error.error !== undefined ? { rawText: JSON.stringify(error.error) } : {}),
          cause: error,
        },
        HINTS,
      );
    }
    // A connection dropped while reading the body, or any other transport failure: worth another attempt.
    return requestFailedError(this.id, error);
  }
}
