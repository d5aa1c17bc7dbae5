/**
 * A fake OpenAI-compatible HTTP API on 127.0.0.1 (random port) speaking the real wire protocol, for testing the
 * `openai-compatible` embedder and LLM provider (and the official `openai` client, if used) without a network.
 *
 * Endpoints:
 * - `POST /v1/embeddings`: `{ model, input: string | string[], dimensions?, encoding_format? }` ->
 *   `{ object: 'list', data: [{ object: 'embedding', index, embedding }], model, usage }`. Default vectors are
 *   deterministic hashed bag-of-words (`hashedBagOfWords` from test-embedder.ts) of length `dimensions` from the
 *   request, else `options.dimension` (default 64). `encoding_format: 'base64'` answers little-endian float32
 *   base64 strings, as OpenAI does. Missing `model` or empty `input` answer 400 like OpenAI.
 * - `POST /v1/chat/completions`: `{ model, messages, stream?, ... }` -> a `chat.completion` object, or an SSE
 *   stream of `chat.completion.chunk` events ending in `data: [DONE]` when `stream: true` (with a final usage
 *   chunk when `stream_options.include_usage` is true).
 * - `GET /v1/models`: `{ object: 'list', data: [{ id, object: 'model' }] }` for `options.models`.
 * - Anything else answers 404 with an OpenAI-style error body.
 * With `options.apiKey` set, every request must carry `Authorization: Bearer <apiKey>`, else 401
 * `{ error: { message: 'Incorrect API key provided...', type: 'invalid_request_error', code: 'invalid_api_key' } }`.
 *
 * Scripting replies (both endpoints): the queue filled by `enqueueEmbeddings()` / `enqueueChat()` is used first,
 * then the handler set by `setEmbeddingsHandler()` / `setChatHandler()` (returning `undefined` falls through),
 * then the default (hashed vectors; for chat, HTTP 500 "no scripted chat reply", so an unscripted call fails
 * loudly). A reply is one of:
 * - success: chat `{ content, toolCalls?, finishReason?, usage?, model? }`; embeddings `{ vectors: number[][] }`
 *   (sent as given, so tests can return wrong counts or dimensions);
 * - an HTTP error: `{ status, body?, headers? }`; `body` defaults to `{ error: { message, type, code } }`, a string
 *   body is sent raw; `headers` can carry `retry-after` / `retry-after-ms`;
 * - `{ malformed: string }`: status 200 with this raw body (e.g. `'{"data": ['`);
 * - `{ dropConnection: true }`: the socket is destroyed without a reply (a network error for the client);
 * - `{ delayMs }` alone: wait, then answer as if the queue were empty (handler, then default).
 * Every reply accepts `delayMs`: nothing is sent before it elapses (to provoke client timeouts).
 *
 * Every request is recorded in `requests` (arrival order) with lower-case `headers` and parsed JSON `body`.
 *
 * @example
 * const api = await startFakeOpenAIApi({ dimension: 32 });
 * api.enqueueEmbeddings({ status: 429, headers: { 'retry-after': '0' } });
 * api.enqueueChat({ content: '{"facts": []}' });
 * // ... client with baseURL api.baseURL ...
 * await api.close();
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashedBagOfWords } from './test-embedder.js';

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Request target as sent, including any query string, e.g. `/v1/embeddings`. */
  path: string;
  /** Header names are lower-case; repeated headers are joined with `, `. */
  headers: Record<string, string>;
  /** Parsed JSON body, or `undefined` when the body is empty or not JSON (see `rawBody`). */
  body: unknown;
  rawBody: string;
}

/** Fields every scripted reply accepts. */
interface ReplyTiming {
  /** Hold the reply back this long before sending any byte. */
  delayMs?: number;
}

/** An HTTP error reply. A string `body` is sent raw; an object is sent as JSON. */
export interface FakeErrorReply extends ReplyTiming {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Replies shared by both endpoints. */
export type FakeCommonReply =
  | FakeErrorReply
  | (ReplyTiming & { malformed: string })
  | (ReplyTiming & { dropConnection: true })
  | ReplyTiming;

/** What `POST /v1/embeddings` answers; `vectors` are sent as given (one per input, in order, as `index`). */
export type FakeEmbeddingsReply = (ReplyTiming & { vectors: number[][] }) | FakeCommonReply;

/** What `POST /v1/chat/completions` answers. */
export type FakeChatReply =
  | (ReplyTiming & {
      content: string | null;
      /** Function tool calls; `arguments` is the JSON string the model produced. */
      toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
      /** @default 'tool_calls' when there are tool calls, else 'stop' */
      finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
      /** @default an estimate: request characters / 4 and content characters / 4 */
      usage?: { prompt_tokens: number; completion_tokens: number };
      /** Model name in the reply. @default the request's model */
      model?: string;
    })
  | FakeCommonReply;

/** The embeddings request as handlers see it: `inputs` is `input` as an array. */
export interface EmbeddingsRequest extends RecordedRequest {
  model: string;
  inputs: string[];
  /** Dimension the default reply would use for this request. */
  dimension: number;
}

/**
 * Chooses an embeddings reply; `index` counts from 0 the embeddings requests that passed validation (a 400 for a
 * missing model is not counted). `undefined` falls through to the default.
 */
export type EmbeddingsHandler = (
  request: EmbeddingsRequest,
  index: number,
) => FakeEmbeddingsReply | undefined | Promise<FakeEmbeddingsReply | undefined>;

/** Chooses a chat reply; `index` counts valid chat requests from 0. `undefined` falls through to the default. */
export type ChatHandler = (
  request: RecordedRequest,
  index: number,
) => FakeChatReply | undefined | Promise<FakeChatReply | undefined>;

/** Options for {@link startFakeOpenAIApi}. */
export interface FakeOpenAIApiOptions {
  /** Default embedding length when the request has no `dimensions`. @default 64 */
  dimension?: number;
  /** When set, requests must send `Authorization: Bearer <apiKey>` or get 401. */
  apiKey?: string;
  /** Model ids listed by `GET /v1/models`. @default ['fake-embedding', 'fake-chat'] */
  models?: string[];
  embeddingsHandler?: EmbeddingsHandler;
  chatHandler?: ChatHandler;
}

/** A running fake; see the module comment for the protocol. */
export interface FakeOpenAIApi {
  /** Base URL to give an OpenAI-style client, with `/v1`: `http://127.0.0.1:<port>/v1`. */
  baseURL: string;
  /** Origin without `/v1`: `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Only the `POST /v1/embeddings` requests. */
  embeddingsRequests(): RecordedRequest[];
  /** Only the `POST /v1/chat/completions` requests. */
  chatRequests(): RecordedRequest[];
  /** Replaces the embeddings handler (`undefined` restores the default vectors). */
  setEmbeddingsHandler(handler: EmbeddingsHandler | undefined): void;
  /** Replaces the chat handler (`undefined` restores the default 500 reply). */
  setChatHandler(handler: ChatHandler | undefined): void;
  /** Queues replies for the next embeddings requests, used before the handler. */
  enqueueEmbeddings(...replies: FakeEmbeddingsReply[]): void;
  /** Queues replies for the next chat requests, used before the handler. */
  enqueueChat(...replies: FakeChatReply[]): void;
  /** Clears recorded requests, queues, handlers and counters. */
  reset(): void;
  /** Stops listening, drops open connections and pending delayed replies. */
  close(): Promise<void>;
}

/** The default embedding of one text (exported so tests can compute expected vectors). */
export function fakeEmbedding(text: string, dimension: number): number[] {
  return Array.from(hashedBagOfWords(text, dimension));
}

/** Starts a fake OpenAI-compatible API on 127.0.0.1 with a random free port. */
export async function startFakeOpenAIApi(options: FakeOpenAIApiOptions = {}): Promise<FakeOpenAIApi> {
  const defaultDimension = options.dimension ?? 64;
  const models = options.models ?? ['fake-embedding', 'fake-chat'];
  const requests: RecordedRequest[] = [];
  const embeddingsQueue: FakeEmbeddingsReply[] = [];
  const chatQueue: FakeChatReply[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let embeddingsHandler = options.embeddingsHandler;
  let chatHandler = options.chatHandler;
  let embeddingsCount = 0;
  let chatCount = 0;

  const wait = (milliseconds: number, response: ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, milliseconds);
      timers.add(timer);
      // The client gave up (timeout): stop waiting so the server can close promptly.
      response.once('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve();
      });
    });

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        sendJson(response, 500, errorBody(`fake OpenAI API failed: ${String(error)}`, 'server_error'));
      } else {
        response.destroy();
      }
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawBody = await readBody(request);
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers,
      body,
      rawBody,
    };
    requests.push(recorded);
    const pathname = new URL(recorded.path, 'http://fake').pathname.replace(/\/+$/, '');

    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(
        response,
        401,
        errorBody(
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_request_error',
          'invalid_api_key',
        ),
      );
      return;
    }
    if (recorded.method === 'POST' && pathname === '/v1/embeddings') {
      await answerEmbeddings(recorded, response);
      return;
    }
    if (recorded.method === 'POST' && pathname === '/v1/chat/completions') {
      await answerChat(recorded, response);
      return;
    }
    if (recorded.method === 'GET' && pathname === '/v1/models') {
      sendJson(response, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
      });
      return;
    }
    sendJson(
      response,
      404,
      errorBody(`Unknown request URL: ${recorded.method} ${recorded.path}`, 'invalid_request_error'),
    );
  }

  async function answerEmbeddings(recorded: RecordedRequest, response: ServerResponse): Promise<void> {
    const body = isRecord(recorded.body) ? recorded.body : {};
    const model = typeof body.model === 'string' ? body.model : '';
    const input = body.input;
    const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
    if (recorded.body === undefined) {
      sendJson(
        response,
        400,
        errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
      return;
    }
    if (model === '') {
      sendJson(response, 400, errorBody('you must provide a model parameter', 'invalid_request_error'));
      return;
    }
    if (inputs.length === 0 || !inputs.every((item): item is string => typeof item === 'string')) {
      sendJson(
        response,
        400,
        errorBody(
          "'$.input' is invalid: expected a non-empty string or array of strings",
          'invalid_request_error',
        ),
      );
      return;
    }
    const dimension =
      typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0
        ? body.dimensions
        : defaultDimension;
    const request: EmbeddingsRequest = { ...recorded, model, inputs, dimension };
    const reply = await chooseReply(embeddingsQueue, embeddingsHandler, request, embeddingsCount++, response);
    if (reply === 'closed') return;
    if (reply !== undefined && 'vectors' in reply) {
      sendEmbeddings(response, reply.vectors, model, inputs, body.encoding_format === 'base64');
      return;
    }
    if (reply !== undefined && sendCommon(response, reply)) return;
    sendEmbeddings(
      response,
      inputs.map((text) => fakeEmbedding(text, dimension)),
      model,
      inputs,
      body.encoding_format === 'base64',
    );
  }

  async function answerChat(recorded: RecordedRequest, response: ServerResponse): Promise<void> {
    const body = isRecord(recorded.body) ? recorded.body : undefined;
    if (body === undefined) {
      sendJson(
        response,
        400,
        errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
      return;
    }
    if (typeof body.model !== 'string' || body.model === '' || !Array.isArray(body.messages)) {
      sendJson(response, 400, errorBody('you must provide a model and messages', 'invalid_request_error'));
      return;
    }
    const reply = await chooseReply(chatQueue, chatHandler, recorded, chatCount++, response);
    if (reply === 'closed') return;
    if (reply !== undefined && 'content' in reply) {
      sendChat(response, reply, body);
      return;
    }
    if (reply !== undefined && sendCommon(response, reply)) return;
    sendJson(
      response,
      500,
      errorBody(
        'fake OpenAI API: no scripted chat reply (use enqueueChat or setChatHandler)',
        'server_error',
      ),
    );
  }

  /** Queue first, then handler; applies `delayMs`. `'closed'` when the client went away during the delay. */
  async function chooseReply<Reply extends ReplyTiming, Request>(
    queue: Reply[],
    handler:
      | ((request: Request, index: number) => Reply | undefined | Promise<Reply | undefined>)
      | undefined,
    request: Request,
    index: number,
    response: ServerResponse,
  ): Promise<Reply | undefined | 'closed'> {
    let reply = queue.shift();
    if (reply !== undefined && isDelayOnly(reply)) {
      await wait(reply.delayMs ?? 0, response);
      if (response.destroyed) return 'closed';
      reply = undefined;
    }
    reply ??= handler === undefined ? undefined : await handler(request, index);
    if (reply?.delayMs !== undefined && reply.delayMs > 0) {
      await wait(reply.delayMs, response);
      if (response.destroyed) return 'closed';
    }
    return reply;
  }

  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
  const url = `http://127.0.0.1:${address.port}`;

  return {
    baseURL: `${url}/v1`,
    url,
    port: address.port,
    requests,
    embeddingsRequests: () => requests.filter((request) => isPath(request, '/v1/embeddings')),
    chatRequests: () => requests.filter((request) => isPath(request, '/v1/chat/completions')),
    setEmbeddingsHandler(handler) {
      embeddingsHandler = handler;
    },
    setChatHandler(handler) {
      chatHandler = handler;
    },
    enqueueEmbeddings(...replies) {
      embeddingsQueue.push(...replies);
    },
    enqueueChat(...replies) {
      chatQueue.push(...replies);
    },
    reset() {
      requests.length = 0;
      embeddingsQueue.length = 0;
      chatQueue.length = 0;
      embeddingsHandler = options.embeddingsHandler;
      chatHandler = options.chatHandler;
      embeddingsCount = 0;
      chatCount = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function isPath(request: RecordedRequest, path: string): boolean {
  return (
    request.method === 'POST' && new URL(request.path, 'http://fake').pathname.replace(/\/+$/, '') === path
  );
}

function isDelayOnly(reply: ReplyTiming): boolean {
  return Object.keys(reply).every((key) => key === 'delayMs');
}

/** Sends an error, malformed or dropped reply; false when `reply` is none of those. */
function sendCommon(response: ServerResponse, reply: FakeCommonReply): boolean {
  if ('dropConnection' in reply) {
    response.socket?.destroy();
    return true;
  }
  if ('malformed' in reply) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(reply.malformed);
    return true;
  }
  if ('status' in reply) {
    const body =
      reply.body ??
      errorBody(`fake error ${reply.status}`, reply.status >= 500 ? 'server_error' : 'invalid_request_error');
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    response.end(text);
    return true;
  }
  return false;
}

function sendEmbeddings(
  response: ServerResponse,
  vectors: number[][],
  model: string,
  inputs: string[],
  base64: boolean,
): void {
  const tokens = inputs.reduce((sum, text) => sum + estimateTokens(text), 0);
  sendJson(response, 200, {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : vector,
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function sendChat(
  response: ServerResponse,
  reply: Extract<FakeChatReply, { content: string | null }>,
  body: Record<string, unknown>,
): void {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = reply.model ?? String(body.model);
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    index,
    id: call.id ?? `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: 'function' as const,
    function: { name: call.name, arguments: call.arguments },
  }));
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const promptTokens = reply.usage?.prompt_tokens ?? estimateTokens(JSON.stringify(body.messages));
  const completionTokens =
    reply.usage?.completion_tokens ??
    estimateTokens((reply.content ?? '') + toolCalls.map((call) => call.function.arguments).join(''));
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };

  if (body.stream === true) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (
      delta: Record<string, unknown>,
      finish: string | null,
      extra: Record<string, unknown> = {},
    ) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...extra,
      })}\n\n`;
    let stream = chunk({ role: 'assistant', content: '' }, null);
    const content = reply.content ?? '';
    // Three pieces, so clients' delta concatenation is exercised.
    const pieceLength = Math.max(1, Math.ceil(content.length / 3));
    for (let start = 0; start < content.length; start += pieceLength) {
      stream += chunk({ content: content.slice(start, start + pieceLength) }, null);
    }
    if (toolCalls.length > 0) stream += chunk({ tool_calls: toolCalls }, null);
    stream += chunk({}, finishReason);
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    if (streamOptions.include_usage === true) {
      stream += `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`;
    }
    stream += 'data: [DONE]\n\n';
    response.end(stream);
    return;
  }

  const message: Record<string, unknown> = { role: 'assistant', content: reply.content, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls.map(({ index: _index, ...call }) => call);
  sendJson(response, 200, {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    usage,
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function errorBody(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
