/**
 * The frame every HTTP LanguageModel backend shares, so a provider file holds only its wire format (how it sends
 * one request and where text and usage sit in its reply):
 *
 * - settings: `timeoutMs` 60000 per attempt, `maxRetries` 2, `retryDelayMs` 500 ({@link httpCallSettings});
 * - the retry loop of `retry.ts` around one attempt, honouring the `retry-after` headers the failure carries
 *   (any `cause` with a `headers: Headers` field: the SDK's APIError, {@link HttpStatusError});
 * - the {@link LLMError} each failure becomes: aborted (`llm_aborted`), timed out or unreachable (`llm_failed`,
 *   retryable), an HTTP status (`llm_failed`, `statusCode`, retryable as the status says, with a hint for
 *   401/403 and 404), and a reply that is not JSON or not of the provider's kind (`llm_invalid_response`) or holds
 *   no text (`llm_empty_reply`), both not retryable and with `rawText`;
 * - usage accounting: a missing or non-numeric token count is 0.
 */
import { LLMError } from '../core/errors.js';
import { isRetryableStatus, type RetryOptions, retryAfterMs, withRetry } from './retry.js';
import type { Completion, CompletionOptions, TokenUsage } from './types.js';

/** The frame's settings, as the backends' options give them. */
export interface HttpCallOptions {
  /** Time allowed for one attempt, response body included. @default 60000 */
  timeoutMs?: number;
  /** Retries of a retryable failure (timeout, connection error, 408/409/429/5xx). @default 2 */
  maxRetries?: number;
  /** Backoff before the first retry, doubling per retry with jitter; `retry-after` wins. @default 500 */
  retryDelayMs?: number;
}

/** {@link HttpCallOptions} with the defaults applied. */
export type HttpCallSettings = Required<HttpCallOptions>;

/** Applies the defaults of {@link HttpCallOptions}. */
export function httpCallSettings(options: HttpCallOptions): HttpCallSettings {
  return {
    timeoutMs: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 500,
  };
}

/**
 * Runs `attempt` in the shared retry loop with the caller's signal. Each attempt throws an {@link LLMError}
 * (use the constructors below); its `cause` may carry the response headers for `retry-after`.
 */
export function callWithRetry(
  settings: HttpCallSettings,
  options: CompletionOptions,
  attempt: () => Promise<Completion>,
): Promise<Completion> {
  const retryOptions: RetryOptions = {
    maxRetries: settings.maxRetries,
    baseDelayMs: settings.retryDelayMs,
    retryAfter: (error) => (error instanceof LLMError ? retryAfterMs(headersOf(error.cause)) : undefined),
  };
  if (options.signal) retryOptions.signal = options.signal;
  return withRetry(attempt, retryOptions);
}

/** Carries an HTTP failure's headers to the retry loop (as an LLMError's `cause`), for backends without an SDK. */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly headers: Headers;

  constructor(status: number, headers: Headers, body: string) {
    super(`HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'HttpStatusError';
    this.status = status;
    this.headers = headers;
  }
}

/** Where a backend's configuration lives, for the hints in its error messages. */
export interface ProviderHints {
  /** The option and env var holding the key, e.g. "option `llmOptions.apiKey` / env MNEME_LLM_API_KEY". */
  apiKey: string;
  /** What to check on a 404, e.g. "the model name in option `llm` / env MNEME_LLM". */
  model: string;
}

/** The caller's AbortSignal fired. */
export function abortedError(id: string, cause: unknown): LLMError {
  return new LLMError(`${id}: call aborted by the caller (its AbortSignal fired)`, {
    code: 'llm_aborted',
    cause,
  });
}

/** No response within `timeoutMs` (retryable); `check` says what else to look at. */
export function timeoutError(id: string, timeoutMs: number, check: string, cause: unknown): LLMError {
  return new LLMError(
    `${id}: no response within ${timeoutMs} ms; raise option \`llmOptions.timeoutMs\` if the model is slow, or ${check}`,
    { retryable: true, cause },
  );
}

/** The connection failed (retryable): `target` is what could not be reached, `check` what to look at. */
export function unreachableError(id: string, target: string, check: string, cause: unknown): LLMError {
  return new LLMError(`${id}: could not reach ${target} (${describeCause(cause)}); ${check}`, {
    retryable: true,
    cause,
  });
}

/** Any other transport failure, e.g. a connection dropped while reading the body (retryable). */
export function requestFailedError(id: string, cause: unknown): LLMError {
  return new LLMError(`${id}: request failed (${describeCause(cause)})`, { retryable: true, cause });
}

/** An HTTP error status; `detail` is the provider's own description (`HTTP 429 rate_limit_error: ...`). */
export function httpStatusError(
  id: string,
  reply: { status: number; detail: string; retryable?: boolean; rawText?: string; cause: unknown },
  hints: ProviderHints,
): LLMError {
  const options: ConstructorParameters<typeof LLMError>[1] = {
    retryable: reply.retryable ?? isRetryableStatus(reply.status),
    statusCode: reply.status,
    cause: reply.cause,
  };
  if (reply.rawText !== undefined) options.rawText = reply.rawText;
  let hint = '';
  if (reply.status === 401 || reply.status === 403) hint = ` (check ${hints.apiKey})`;
  else if (reply.status === 404) hint = ` (check ${hints.model})`;
  return new LLMError(`${id}: HTTP ${reply.status}${reply.detail}${hint}`, options);
}

/** What a provider's successful reply holds, read by its {@link ReplyFormat}. */
export interface ReplyContent {
  text: string;
  usage: TokenUsage;
  /** The provider's stop field and its value, named when the text is empty (`stop_reason`, `finish_reason`). */
  stop: readonly [field: string, value: unknown];
}

/** A provider's reply format. */
export interface ReplyFormat {
  /** Who answered, in messages: `the API`, `the server`. */
  source: string;
  /** What a reply is, in messages: `a Messages reply`, `a chat completion`. */
  kind: string;
  /** Reads a parsed JSON body; undefined when it is not a reply of this kind. */
  read(body: Record<string, unknown>): ReplyContent | undefined;
}

/** Parses a 2xx body into a {@link Completion}, or throws `llm_invalid_response` / `llm_empty_reply`. */
export function parseReply(id: string, rawText: string, status: number, format: ReplyFormat): Completion {
  let body: unknown;
  try {
    body = JSON.parse(rawText);
  } catch (error) {
    throw new LLMError(`${id}: ${format.source} answered HTTP ${status} with a body that is not JSON`, {
      code: 'llm_invalid_response',
      statusCode: status,
      rawText,
      cause: error,
    });
  }
  const content = isRecord(body) ? format.read(body) : undefined;
  if (content === undefined) {
    throw new LLMError(
      `${id}: ${format.source} answered HTTP ${status} with JSON that is not ${format.kind}`,
      {
        code: 'llm_invalid_response',
        statusCode: status,
        rawText,
      },
    );
  }
  if (content.text.trim() === '') {
    const [field, value] = content.stop;
    throw new LLMError(
      `${id}: the reply holds no text (${field} ${JSON.stringify(value ?? null)}); nothing to use`,
      { code: 'llm_empty_reply', statusCode: status, rawText },
    );
  }
  return { text: content.text, usage: content.usage };
}

/** A token count as reported: anything but a finite number counts as 0. */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function headersOf(cause: unknown): Headers | undefined {
  return isRecord(cause) && cause.headers instanceof Headers ? cause.headers : undefined;
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
