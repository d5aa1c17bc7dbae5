/**
 * An embedder for any server speaking OpenAI's `POST /v1/embeddings` (OpenAI, Ollama, vLLM, LM Studio, llama.cpp,
 * LiteLLM...), over plain `fetch`. It sends `{ model, input: string[], encoding_format: 'float' }` in batches of
 * `maxBatchSize`, retries transient failures with exponential backoff and jitter, and checks every reply
 * (count, order, dimension, finite values) so a misbehaving server never yields silently wrong vectors.
 *
 * This class reads no environment variables: `resolveConfig` (src/memory/config.ts) maps `MNEME_EMBEDDER_BASE_URL`,
 * `MNEME_EMBEDDER_API_KEY` / `OPENAI_API_KEY` and `MNEME_EMBEDDER_DIMENSION` to the options below.
 */
import { ConfigError, EmbedderError } from '../core/errors.js';
import type { Embedder } from './types.js';
import { normaliseVector } from './types.js';

/** The OpenAI API, used when no `baseURL` is given. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** Options for {@link OpenAICompatibleEmbedder} and {@link createOpenAICompatibleEmbedder}. */
export interface OpenAICompatibleEmbedderOptions {
  /** Model name sent to the server, e.g. `text-embedding-3-small` or `nomic-embed-text`. */
  model: string;
  /**
   * Server base URL including the version prefix; `/embeddings` is appended, e.g. `http://127.0.0.1:11434/v1`
   * for Ollama. Env `MNEME_EMBEDDER_BASE_URL`.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`. Required for the OpenAI API, optional for local servers.
   * Env `MNEME_EMBEDDER_API_KEY`, then `OPENAI_API_KEY`.
   */
  apiKey?: string;
  /**
   * Vector length. When omitted, {@link createOpenAICompatibleEmbedder} discovers it by embedding one probe text.
   * Env `MNEME_EMBEDDER_DIMENSION`.
   */
  dimension?: number;
  /**
   * Also send `dimensions: <dimension>` in each request, asking the server to shorten its vectors (OpenAI's
   * `text-embedding-3-*` support this; many other servers reject or ignore it).
   * @default false
   */
  sendDimensions?: boolean;
  /** Per-request timeout in milliseconds (each retry gets a fresh one). @default 30000 */
  timeoutMs?: number;
  /** Retries after the first attempt on 408, 409, 429, 5xx, timeouts and network errors. @default 3 */
  maxRetries?: number;
  /** First backoff delay in milliseconds; doubles per retry, with jitter, capped at `maxRetryDelayMs`. @default 500 */
  retryBaseDelayMs?: number;
  /** Longest wait between attempts, including a server's `retry-after`. @default 30000 */
  maxRetryDelayMs?: number;
  /** Texts per request. @default 64 */
  maxBatchSize?: number;
  /** Extra request headers (e.g. `OpenAI-Organization`, a proxy's auth). */
  headers?: Record<string, string>;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = new Set([408, 409, 429]);
const PROBE_TEXT = 'mneme dimension probe';

/**
 * Embeds through an OpenAI-compatible `/v1/embeddings` endpoint; id `openai-compatible:<model>`. Symmetric:
 * `purpose` is not sent. Use {@link createOpenAICompatibleEmbedder} when the dimension is not known in advance.
 *
 * @throws {EmbedderError} on HTTP errors (message carries the status and the server's message; `retryable` for
 *   408/409/429/5xx, timeouts and network errors once retries are exhausted), on an aborted call, and on a reply
 *   with the wrong number of vectors, wrong dimension or non-numeric values.
 */
export class OpenAICompatibleEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatchSize: number;
  readonly #options: OpenAICompatibleEmbedderOptions;
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryBaseDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #fetch: typeof fetch;
  #closed = false;

  /** @throws {ConfigError} when an option is missing or malformed. */
  constructor(options: OpenAICompatibleEmbedderOptions & { dimension: number }) {
    const settings = checkOptions(options);
    this.#options = options;
    this.#endpoint = settings.endpoint;
    this.id = `openai-compatible:${options.model}`;
    this.dimension = positiveInteger(
      options.dimension,
      'embedderOptions.dimension',
      'MNEME_EMBEDDER_DIMENSION',
    );
    this.maxBatchSize = positiveInteger(options.maxBatchSize ?? 64, 'maxBatchSize');
    this.#timeoutMs = positiveInteger(options.timeoutMs ?? 30_000, 'embedderOptions.timeoutMs');
    this.#maxRetries = nonNegativeInteger(options.maxRetries ?? 3, 'maxRetries');
    this.#retryBaseDelayMs = nonNegativeInteger(options.retryBaseDelayMs ?? 500, 'retryBaseDelayMs');
    this.#maxRetryDelayMs = nonNegativeInteger(options.maxRetryDelayMs ?? 30_000, 'maxRetryDelayMs');
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async embed({
    texts,
    signal,
  }: {
    texts: string[];
    purpose: 'document' | 'query';
    signal?: AbortSignal;
  }): Promise<Float32Array[]> {
    if (this.#closed)
      throw new EmbedderError(`${this.id}: embed called after close(); create a new embedder`);
    if (texts.length === 0) return [];
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.maxBatchSize) {
      const batch = texts.slice(start, start + this.maxBatchSize);
      const body: Record<string, unknown> = {
        model: this.#options.model,
        input: batch,
        encoding_format: 'float',
      };
      if (this.#options.sendDimensions === true) body.dimensions = this.dimension;
      const reply = await requestWithRetries(this.#request(body, signal));
      vectors.push(...parseEmbeddings(reply, batch.length, this.dimension, this.id));
    }
    return vectors;
  }

  #request(body: Record<string, unknown>, signal: AbortSignal | undefined): RequestPlan {
    return {
      label: this.id,
      endpoint: this.#endpoint,
      init: { method: 'POST', headers: requestHeaders(this.#options), body: JSON.stringify(body) },
      fetch: this.#fetch,
      timeoutMs: this.#timeoutMs,
      maxRetries: this.#maxRetries,
      retryBaseDelayMs: this.#retryBaseDelayMs,
      maxRetryDelayMs: this.#maxRetryDelayMs,
      signal,
    };
  }

  /** Marks the embedder closed (it holds no connections of its own). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * Creates an {@link OpenAICompatibleEmbedder}, discovering `dimension` by embedding one probe text when it is not
 * given (one request, with the usual retries).
 *
 * @throws {ConfigError} for missing or malformed options; {@link EmbedderError} when the probe fails.
 */
export async function createOpenAICompatibleEmbedder(
  options: OpenAICompatibleEmbedderOptions,
): Promise<OpenAICompatibleEmbedder> {
  if (options.dimension !== undefined)
    return new OpenAICompatibleEmbedder({ ...options, dimension: options.dimension });
  const settings = checkOptions(options);
  const label = `openai-compatible:${options.model}`;
  const reply = await requestWithRetries({
    label,
    endpoint: settings.endpoint,
    init: {
      method: 'POST',
      headers: requestHeaders(options),
      body: JSON.stringify({ model: options.model, input: [PROBE_TEXT], encoding_format: 'float' }),
    },
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: positiveInteger(options.timeoutMs ?? 30_000, 'embedderOptions.timeoutMs'),
    maxRetries: nonNegativeInteger(options.maxRetries ?? 3, 'maxRetries'),
    retryBaseDelayMs: nonNegativeInteger(options.retryBaseDelayMs ?? 500, 'retryBaseDelayMs'),
    maxRetryDelayMs: nonNegativeInteger(options.maxRetryDelayMs ?? 30_000, 'maxRetryDelayMs'),
    signal: undefined,
  });
  const [vector] = parseEmbeddings(reply, 1, undefined, label);
  if (vector === undefined || vector.length === 0) {
    throw new EmbedderError(`${label}: the dimension probe returned an empty vector`);
  }
  return new OpenAICompatibleEmbedder({ ...options, dimension: vector.length });
}

function checkOptions(options: OpenAICompatibleEmbedderOptions): { endpoint: string } {
  if (typeof options.model !== 'string' || options.model.trim() === '') {
    throw new ConfigError(
      'openai-compatible embedder: the model name is missing: use `embedder: "openai-compatible:<model>"` ' +
        '(env MNEME_EMBEDDER), e.g. openai-compatible:text-embedding-3-small',
    );
  }
  const baseURL = options.baseURL ?? OPENAI_BASE_URL;
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch (error) {
    throw new ConfigError(
      `openai-compatible embedder: embedderOptions.baseURL (env MNEME_EMBEDDER_BASE_URL) is not a URL: "${baseURL}"`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `openai-compatible embedder: embedderOptions.baseURL (env MNEME_EMBEDDER_BASE_URL) must be http(s), got "${baseURL}"`,
    );
  }
  if (url.hostname === 'api.openai.com' && (options.apiKey === undefined || options.apiKey === '')) {
    throw new ConfigError(
      'openai-compatible embedder: the OpenAI API needs an API key: set embedderOptions.apiKey ' +
        '(env MNEME_EMBEDDER_API_KEY or OPENAI_API_KEY), or point embedderOptions.baseURL ' +
        '(env MNEME_EMBEDDER_BASE_URL) at a local server such as Ollama (http://127.0.0.1:11434/v1)',
    );
  }
  return { endpoint: `${baseURL.replace(/\/+$/, '')}/embeddings` };
}

function requestHeaders(options: OpenAICompatibleEmbedderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...options.headers,
  };
  if (options.apiKey !== undefined && options.apiKey !== '')
    headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

interface RequestPlan {
  label: string;
  endpoint: string;
  init: RequestInit;
  fetch: typeof fetch;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  maxRetryDelayMs: number;
  signal: AbortSignal | undefined;
}

/** Sends the request, retrying transient failures; returns the parsed JSON body of a 2xx reply. */
async function requestWithRetries(plan: RequestPlan): Promise<unknown> {
  for (let attempt = 0; ; attempt += 1) {
    const outcome = await attemptRequest(plan);
    if (outcome.ok) return outcome.body;
    const { error, retryAfterMs } = outcome;
    if (!error.retryable || attempt >= plan.maxRetries) {
      if (error.retryable && plan.maxRetries > 0) {
        throw new EmbedderError(`${error.message} (gave up after ${attempt + 1} attempts)`, {
          cause: error.cause,
          retryable: true,
        });
      }
      throw error;
    }
    const backoff = Math.min(plan.maxRetryDelayMs, plan.retryBaseDelayMs * 2 ** attempt);
    // Full jitter on the upper half keeps concurrent clients from retrying in lockstep.
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    await sleep(
      Math.min(plan.maxRetryDelayMs, Math.max(jittered, retryAfterMs ?? 0)),
      plan.signal,
      plan.label,
    );
  }
}

type AttemptOutcome =
  | { ok: true; body: unknown }
  | { ok: false; error: EmbedderError; retryAfterMs?: number };

async function attemptRequest(plan: RequestPlan): Promise<AttemptOutcome> {
  if (plan.signal?.aborted) throw abortError(plan.label, plan.signal);
  const timeout = AbortSignal.timeout(plan.timeoutMs);
  const signal = plan.signal === undefined ? timeout : AbortSignal.any([plan.signal, timeout]);
  let response: Response;
  let text: string;
  try {
    response = await plan.fetch(plan.endpoint, { ...plan.init, signal });
    text = await response.text();
  } catch (error) {
    if (plan.signal?.aborted) throw abortError(plan.label, plan.signal);
    if (timeout.aborted) {
      const message = `${plan.label}: POST ${plan.endpoint} timed out after ${plan.timeoutMs} ms (option timeoutMs)`;
      return { ok: false, error: new EmbedderError(message, { cause: error, retryable: true }) };
    }
    const message = `${plan.label}: POST ${plan.endpoint} failed: ${describeNetworkError(error)}`;
    return { ok: false, error: new EmbedderError(message, { cause: error, retryable: true }) };
  }
  if (response.ok) {
    try {
      return { ok: true, body: JSON.parse(text) };
    } catch (error) {
      throw new EmbedderError(
        `${plan.label}: POST ${plan.endpoint} answered ${response.status} with a body that is not JSON: ` +
          `${truncate(text, 200)}`,
        { cause: error },
      );
    }
  }
  const status = response.status;
  const retryable = RETRYABLE_STATUS.has(status) || status >= 500;
  let hint = '';
  if (status === 401 || status === 403) {
    hint = ': check embedderOptions.apiKey (env MNEME_EMBEDDER_API_KEY or OPENAI_API_KEY)';
  } else if (status === 404) {
    hint =
      ': check embedderOptions.baseURL (env MNEME_EMBEDDER_BASE_URL, including the /v1 prefix) and the model name';
  }
  const message =
    `${plan.label}: POST ${plan.endpoint} failed with HTTP ${status}` +
    `${response.statusText ? ` ${response.statusText}` : ''}: ${serverMessage(text)}${hint}`;
  const outcome: AttemptOutcome = { ok: false, error: new EmbedderError(message, { retryable }) };
  const retryAfterMs = parseRetryAfter(response.headers);
  if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
  return outcome;
}

/** Milliseconds from `retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP date). */
function parseRetryAfter(headers: Headers): number | undefined {
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The server's own error message: OpenAI's `{ error: { message } }`, Ollama's `{ error: "..." }`, or the text. */
function serverMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body)) {
      const error = body.error;
      if (typeof error === 'string') return error;
      if (isRecord(error) && typeof error.message === 'string') return error.message;
      if (typeof body.message === 'string') return body.message;
      if (typeof body.detail === 'string') return body.detail;
    }
  } catch {
    // Not JSON: the raw text is the message.
  }
  return text.trim() === '' ? '(empty body)' : truncate(text.trim(), 500);
}

/** Checks a reply's shape, count, order and dimension; returns normalised vectors in input order. */
function parseEmbeddings(
  body: unknown,
  expectedCount: number,
  dimension: number | undefined,
  label: string,
): Float32Array[] {
  const data = isRecord(body) ? body.data : undefined;
  if (!Array.isArray(data)) {
    throw new EmbedderError(
      `${label}: the reply has no \`data\` array: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  if (data.length !== expectedCount) {
    throw new EmbedderError(
      `${label}: the server returned ${data.length} embeddings for ${expectedCount} inputs`,
    );
  }
  const vectors: Array<Float32Array | undefined> = new Array(expectedCount).fill(undefined);
  data.forEach((item: unknown, position: number) => {
    const index = isRecord(item) && item.index !== undefined ? item.index : position;
    const embedding = isRecord(item) ? item.embedding : undefined;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expectedCount) {
      throw new EmbedderError(`${label}: the reply has an embedding with an invalid index ${String(index)}`);
    }
    if (vectors[index] !== undefined) {
      throw new EmbedderError(`${label}: the reply has two embeddings for input ${index}`);
    }
    if (
      !Array.isArray(embedding) ||
      !embedding.every((value) => typeof value === 'number' && Number.isFinite(value))
    ) {
      throw new EmbedderError(
        `${label}: embedding ${index} is not an array of finite numbers (is the server using encoding_format=float?)`,
      );
    }
    if (dimension !== undefined && embedding.length !== dimension) {
      throw new EmbedderError(
        `${label}: the server returned a ${embedding.length}-dimensional embedding but ${dimension} dimensions are ` +
          'configured (embedderOptions.dimension / env MNEME_EMBEDDER_DIMENSION): the model or its settings ' +
          'changed; configure the matching dimension',
      );
    }
    vectors[index] = normaliseVector(Float32Array.from(embedding));
  });
  return vectors.map((vector, index) => {
    if (vector === undefined)
      throw new EmbedderError(`${label}: the reply has no embedding for input ${index}`);
    return vector;
  });
}

function sleep(milliseconds: number, signal: AbortSignal | undefined, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(label, signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      if (signal !== undefined) reject(abortError(label, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(label: string, signal: AbortSignal): EmbedderError {
  return new EmbedderError(`${label}: the call was aborted`, { cause: signal.reason });
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause} (is the server at embedderOptions.baseURL / env MNEME_EMBEDDER_BASE_URL running?)`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

function positiveInteger(value: number, option: string, envVar?: string): number {
  if (!Number.isInteger(value) || value < 1) {
    const env = envVar === undefined ? '' : ` (env ${envVar})`;
    throw new ConfigError(
      `openai-compatible embedder: ${option}${env} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

function nonNegativeInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(
      `openai-compatible embedder: ${option} must be a non-negative integer, got ${value}`,
    );
  }
  return value;
}
