/**
 * LanguageModel backend for servers speaking OpenAI's chat completions API (Ollama, vLLM, LM Studio,
 * llama.cpp server, OpenAI itself): `POST <baseURL>/chat/completions` with `fetch`, no client library.
 * Retries, timeouts, error mapping and reply parsing are the shared frame of `http-call.ts` (the same as the
 * Anthropic backend's); this file holds the wire format only.
 */
import { ConfigError } from '../core/errors.js';
import {
  abortedError,
  callWithRetry,
  type HttpCallOptions,
  type HttpCallSettings,
  HttpStatusError,
  httpCallSettings,
  httpStatusError,
  isRecord,
  parseReply,
  type ReplyFormat,
  timeoutError,
  tokenCount,
  unreachableError,
} from './http-call.js';
import type { Completion, CompletionOptions, LanguageModel } from './types.js';

/**
 * Settings of {@link OpenAICompatibleLanguageModel} (plus `timeoutMs`, `maxRetries`, `retryDelayMs`: see
 * {@link HttpCallOptions}). Only explicit values are used: resolveConfig reads MNEME_LLM_BASE_URL /
 * MNEME_LLM_API_KEY and passes them here.
 */
export interface OpenAICompatibleLanguageModelOptions extends HttpCallOptions {
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
}

const HINTS = {
  apiKey: 'option `llmOptions.apiKey` / env MNEME_LLM_API_KEY',
  model:
    'the model name in option `llm` / env MNEME_LLM and that the base URL ends in the API version, e.g. /v1',
};

/** Text and usage of a chat completion; usage missing from the reply counts as 0 tokens. */
const CHAT_COMPLETION: ReplyFormat = {
  source: 'the server',
  kind: 'a chat completion',
  read(body) {
    const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
    if (!isRecord(choice) || !isRecord(choice.message)) return undefined;
    const usage = isRecord(body.usage) ? body.usage : {};
    return {
      text: contentText(choice.message.content),
      usage: {
        inputTokens: tokenCount(usage.prompt_tokens),
        outputTokens: tokenCount(usage.completion_tokens),
      },
      stop: ['finish_reason', choice.finish_reason],
    };
  },
};

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
  readonly #settings: HttpCallSettings;

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
    this.#settings = httpCallSettings(options);
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
    return callWithRetry(this.#settings, options, () => this.#attempt(options));
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

    const timeout = AbortSignal.timeout(this.#settings.timeoutMs);
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
      if (options.signal?.aborted) throw abortedError(this.id, error);
      if (timeout.aborted) {
        throw timeoutError(
          this.id,
          this.#settings.timeoutMs,
          'check that the server at option `llmOptions.baseURL` / env MNEME_LLM_BASE_URL is up',
          error,
        );
      }
      throw unreachableError(
        this.id,
        this.#endpoint,
        'check option `llmOptions.baseURL` / env MNEME_LLM_BASE_URL and that the server is running',
        error,
      );
    }

    if (status < 200 || status >= 300) {
      throw httpStatusError(
        this.id,
        {
          status,
          detail: `: ${errorMessageOf(rawText)}`,
          rawText,
          cause: new HttpStatusError(status, responseHeaders, rawText),
        },
        HINTS,
      );
    }
    return parseReply(this.id, rawText, status, CHAT_COMPLETION);
  }
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
