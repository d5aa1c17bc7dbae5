/**
 * LanguageModel backend for servers speaking OpenAI's chat completions API (Ollama, vLLM, LM Studio,
 * llama.cpp server, OpenAI itself): `POST <baseURL>/chat/completions` with `fetch`, no client library.
 * Retries, timeouts and error semantics match the Anthropic backend (shared loop in `retry.ts`).
 */
import { ConfigError, LLMError } from '../core/errors.js';
import { isRetryableStatus, retryAfterMs, withRetry } from './retry.js';
import type { Completion, CompletionOptions, LanguageModel } from './types.js';

/**
 * Settings of {@link OpenAICompatibleLanguageModel}. Only explicit values are used: resolveConfig reads
 * MNEME_LLM_BASE_URL / MNEME_LLM_API_KEY and passes them here.
 */
export interface OpenAICompatibleLanguageModelOptions {
  /** Model name as the server knows it, e.g. `llama3.1:8b`. */
  model: string;
  /**
   * Base URL up to and including the API version, e.g. `http://localhost:11434/v1` (Ollama),
   * `http://localhost:8000/v1` (vLLM), `http://localhost:1234/v1` (LM Studio). Required.
   * Option `llmOptions.baseURL` / env MNEME_LLM_BASE_URL.
   */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. Option `llmOptions.apiKey` / env MNEME_LLM_API_KEY. */
  apiKey?: string;
  /** Time allowed for one attempt, response body included. @default 60000 */
  timeoutMs?: number;
  /** Retries of a retryable failure (timeout, connection error, 408/409/429/5xx). @default 2 */
  maxRetries?: number;
  /** Backoff before the first retry, doubling per retry with jitter; `retry-after` wins. @default 500 */
  retryDelayMs?: number;
}

/** Carries an HTTP failure's headers to the retry loop (as an LLMError's `cause`). */
class HttpStatusError extends Error {
  readonly status: number;
  readonly headers: Headers;

  constructor(status: number, headers: Headers, body: string) {
    super(`HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'HttpStatusError';
    this.status = status;
    this.headers = headers;
  }
}

/**
 * OpenAI-compatible chat completions backend; `id` is `openai-compatible:<model>`.
 *
 * @throws ConfigError (at construction) when `baseURL` is missing or not an http(s) URL.
 */
export class OpenAICompatibleLanguageModel implements LanguageModel {
  readonly id: string;
  readonly #model: string;
  readonly #endpoint: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;

  constructor(options: OpenAICompatibleLanguageModelOptions) {
    this.id = `openai-compatible:${options.model}`;
    if (!/^https?:\/\/[^/]/i.test(options.baseURL ?? '')) {
      throw new ConfigError(
        `${this.id} needs the server's base URL (e.g. http://localhost:11434/v1 for Ollama), got ` +
          `${JSON.stringify(options.baseURL ?? null)}: set option \`llmOptions.baseURL\` or env MNEME_LLM_BASE_URL`,
        { code: 'llm_base_url_missing' },
      );
    }
    this.#model = options.model;
    this.#endpoint = `${options.baseURL.replace(/\/+$/, '')}/chat/completions`;
    this.#apiKey = options.apiKey === undefined || options.apiKey === '' ? undefined : options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
  }

  /**
   * Sends one chat completion (`temperature` 0 and `max_tokens` 1024 unless given; the system prompt as the
   * first message). Usage missing from the reply counts as 0 tokens.
   *
   * @throws LLMError: `llm_failed` for HTTP/connection/timeout failures (retryable as the status says),
   *   `llm_invalid_response` when the body is not a chat completion, `llm_empty_reply` when it holds no text
   *   (both not retryable, with `rawText`), `llm_aborted` when `signal` fires.
   */
  complete(options: CompletionOptions): Promise<Completion> {
    const retryOptions: Parameters<typeof withRetry>[1] = {
      maxRetries: this.#maxRetries,
      baseDelayMs: this.#retryDelayMs,
      retryAfter: (error) =>
        error instanceof LLMError && error.cause instanceof HttpStatusError
          ? retryAfterMs(error.cause.headers)
          : undefined,
    };
    if (options.signal) retryOptions.signal = options.signal;
    return withRetry(() => this.#attempt(options), retryOptions);
  }

  async #attempt(options: CompletionOptions): Promise<Completion> {
    const messages = [
      ...(options.system === '' ? [] : [{ role: 'system', content: options.system }]),
      ...options.messages.map((message) => ({ role: message.role, content: message.content })),
    ];
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;

    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let status: number;
    let rawText: string;
    let responseHeaders: Headers;
    try {
      const response = await fetch(this.#endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: this.#model,
          messages,
          max_tokens: options.maxTokens ?? 1024,
          temperature: options.temperature ?? 0,
          stream: false,
        }),
        signal,
      });
      status = response.status;
      responseHeaders = response.headers;
      rawText = await response.text();
    } catch (error) {
      if (options.signal?.aborted) {
        throw new LLMError(`${this.id}: call aborted by the caller (its AbortSignal fired)`, {
          code: 'llm_aborted',
          cause: error,
        });
      }
      if (timeout.aborted) {
        throw new LLMError(
          `${this.id}: no response within ${this.#timeoutMs} ms; raise option \`llmOptions.timeoutMs\` if the ` +
            'model is slow, or check that the server at option `llmOptions.baseURL` / env MNEME_LLM_BASE_URL is up',
          { retryable: true, cause: error },
        );
      }
      throw new LLMError(
        `${this.id}: could not reach ${this.#endpoint} (${describeCause(error)}); check option ` +
          '`llmOptions.baseURL` / env MNEME_LLM_BASE_URL and that the server is running',
        { retryable: true, cause: error },
      );
    }

    if (status < 200 || status >= 300) {
      throw new LLMError(`${this.id}: HTTP ${status}: ${errorMessageOf(rawText)}${hint(status)}`, {
        retryable: isRetryableStatus(status),
        statusCode: status,
        rawText,
        cause: new HttpStatusError(status, responseHeaders, rawText),
      });
    }
    return parseCompletion(this.id, rawText, status);
  }
}

function parseCompletion(id: string, rawText: string, status: number): Completion {
  let body: unknown;
  try {
    body = JSON.parse(rawText);
  } catch (error) {
    throw new LLMError(`${id}: the server answered HTTP ${status} with a body that is not JSON`, {
      code: 'llm_invalid_response',
      statusCode: status,
      rawText,
      cause: error,
    });
  }
  const choice = isRecord(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
  const message = isRecord(choice) ? choice.message : undefined;
  if (!isRecord(body) || !isRecord(message)) {
    throw new LLMError(`${id}: the server answered HTTP ${status} with JSON that is not a chat completion`, {
      code: 'llm_invalid_response',
      statusCode: status,
      rawText,
    });
  }
  const text = contentText(message.content);
  if (text.trim() === '') {
    const finishReason = isRecord(choice) ? (choice.finish_reason ?? null) : null;
    throw new LLMError(
      `${id}: the reply holds no text (finish_reason ${JSON.stringify(finishReason)}); nothing to use`,
      { code: 'llm_empty_reply', statusCode: status, rawText },
    );
  }
  const usage = isRecord(body.usage) ? body.usage : {};
  return {
    text,
    usage: { inputTokens: count(usage.prompt_tokens), outputTokens: count(usage.completion_tokens) },
  };
}

/** `content` is a string, or (some servers) an array of `{ type: 'text', text }` parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function errorMessageOf(rawText: string): string {
  try {
    const body: unknown = JSON.parse(rawText);
    if (isRecord(body)) {
      if (isRecord(body.error) && typeof body.error.message === 'string') return body.error.message;
      if (typeof body.error === 'string') return body.error;
      if (typeof body.message === 'string') return body.message;
    }
  } catch {
    // Not JSON: show the start of the raw body below.
  }
  return rawText.slice(0, 300) || '(empty body)';
}

function hint(status: number): string {
  if (status === 401 || status === 403) return ' (check option `llmOptions.apiKey` / env MNEME_LLM_API_KEY)';
  if (status === 404) {
    return ' (check the model name in option `llm` / env MNEME_LLM and that the base URL ends in the API version, e.g. /v1)';
  }
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
