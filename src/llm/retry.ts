/**
 * The retry loop shared by every LanguageModel backend, so retry behaviour is uniform and tested once:
 * bounded attempts, exponential backoff with jitter, the server's `retry-after` honoured, abortable at any point.
 */
import { isRetryable, LLMError } from '../core/errors.js';

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt (so at most `maxRetries + 1` attempts). @default 2 */
  maxRetries?: number;
  /** Backoff before the first retry; doubles per retry, with jitter in [50%, 100%]. @default 500 */
  baseDelayMs?: number;
  /** Upper bound of one computed backoff. @default 8000 */
  maxDelayMs?: number;
  /**
   * Longest server-requested wait (`retry-after`) to honour; a longer request falls back to the computed
   * backoff rather than stalling the caller. @default 60000
   */
  maxRetryAfterMs?: number;
  /** Aborts the current wait and stops retrying; the loop then throws LLMError `llm_aborted`. */
  signal?: AbortSignal;
  /** Whether a failure is worth another attempt. @default {@link isRetryable} */
  shouldRetry?: (error: unknown) => boolean;
  /** The server-requested wait for this failure in ms, if it carried one (see {@link retryAfterMs}). */
  retryAfter?: (error: unknown) => number | undefined;
  /** Random source in [0, 1) for jitter (tests pin it). @default Math.random */
  random?: () => number;
  /** Called before each wait, e.g. for logging. `attempt` is the 1-based attempt that just failed. */
  onRetry?: (event: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable error, or the attempts are used up.
 * `operation` receives the 1-based attempt number. A non-retryable error is rethrown unchanged; when the
 * attempts run out, a last LLMError is rethrown as a copy whose message ends with `(gave up after N attempts)`
 * (same code, retryable, statusCode and rawText; the original as `cause`), other errors unchanged.
 *
 * @throws the operation's error; LLMError (code `llm_aborted`, not retryable) when `signal` aborts.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 8000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const shouldRetry = options.shouldRetry ?? isRetryable;
  const random = options.random ?? Math.random;
  const { signal } = options;

  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await operation(attempt);
    } catch (error) {
      if (signal?.aborted) {
        throw error instanceof LLMError && error.code === 'llm_aborted' ? error : abortedError(signal, error);
      }
      if (!shouldRetry(error)) throw error;
      if (attempt > maxRetries) throw attempt > 1 ? exhausted(error, attempt) : error;
      const requested = options.retryAfter?.(error);
      const delayMs =
        requested !== undefined && requested >= 0 && requested <= maxRetryAfterMs
          ? requested
          : Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

/**
 * Reads the server-requested wait from response headers: `retry-after-ms` (milliseconds, sent by Anthropic and
 * OpenAI), else `retry-after` as seconds or an HTTP date. Returns undefined when absent or unparseable.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && milliseconds.trim() !== '') {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const header = headers.get('retry-after');
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** True for the HTTP statuses worth retrying: 408, 409, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function exhausted(error: unknown, attempts: number): unknown {
  if (!(error instanceof LLMError)) return error;
  const options: ConstructorParameters<typeof LLMError>[1] = {
    code: error.code,
    retryable: error.retryable,
    cause: error,
  };
  if (error.statusCode !== undefined) options.statusCode = error.statusCode;
  if (error.rawText !== undefined) options.rawText = error.rawText;
  return new LLMError(`${error.message} (gave up after ${attempts} attempts)`, options);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      if (signal) reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

function abortedError(signal: AbortSignal, error?: unknown): LLMError {
  return new LLMError('language model call aborted by the caller (its AbortSignal fired)', {
    code: 'llm_aborted',
    retryable: false,
    cause: error ?? signal.reason,
  });
}
