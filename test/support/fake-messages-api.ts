/**
 * A fake Anthropic Messages API on 127.0.0.1 (random port) speaking the real wire protocol, so the official
 * `@anthropic-ai/sdk` client and the Claude Agent SDK's bundled CLI both run unmodified against it.
 *
 * - `POST /v1/messages` (with or without `?beta=true`): answers SSE when the body has `stream: true`
 *   (`message_start`, per content block `content_block_start` / `content_block_delta` / `content_block_stop`,
 *   `message_delta` with `stop_reason` and usage, `message_stop`), otherwise one JSON message object.
 *   The reply comes from the queue filled by `enqueue()` first, then the handler, then the default `{ text: 'ok' }`.
 * - `POST /v1/messages/count_tokens` answers `{ input_tokens }` (an estimate: request bytes / 4).
 * - Any other `GET` / `HEAD` answers 200 `{}` so the CLI's probes succeed; other methods answer 404.
 *
 * Every request is recorded in `requests` in arrival order, including probes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it. `headers` keys are lower-case; `body` is parsed JSON, else `rawBody`. */
export interface RecordedRequest {
  method: string;
  /** Request target as sent, including the query string, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: Record<string, string>;
  body: unknown;
  rawBody: string;
}

/**
 * What the fake answers to one `POST /v1/messages`:
 * - a message: `text` and/or `toolUses` become content blocks (text first). `stopReason` defaults to
 *   `tool_use` when there are tool uses, else `end_turn`; `usage` defaults to an estimate from the sizes.
 * - an error: HTTP `status` with `body` (default: Anthropic's `{ type: 'error', error: { type, message } }`)
 *   and extra `headers` (e.g. `retry-after`).
 * - `malformed`: status 200 with this raw string as the body.
 * `delayMs` holds the response back before any byte is sent (to provoke client timeouts).
 */
export type FakeReply =
  | {
      text?: string;
      toolUses?: Array<{ id?: string; name: string; input: unknown }>;
      stopReason?: 'end_turn' | 'tool_use' | 'max_tokens';
      usage?: { input_tokens: number; output_tokens: number };
      delayMs?: number;
    }
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { malformed: string };

/** Chooses the reply for a message request. `index` counts message requests from 0 (probes are not counted). */
export type ReplyHandler = (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>;

export interface FakeMessagesApi {
  /** Base URL to give a client, e.g. `http://127.0.0.1:41234` (no trailing slash, no `/v1`). */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Only the `POST /v1/messages` requests (not count_tokens, not probes). */
  messageRequests(): RecordedRequest[];
  /** Replaces the handler used when the queue is empty. */
  setHandler(handler: ReplyHandler): void;
  /** Queues replies for the next message requests, used before the handler. */
  enqueue(...replies: FakeReply[]): void;
  /** Stops listening, drops open connections and pending delayed replies. */
  close(): Promise<void>;
}

const DEFAULT_REPLY: FakeReply = { text: 'ok' };

/** Starts a fake Messages API on 127.0.0.1 with a random free port. */
export async function startFakeMessagesApi(
  options: { handler?: ReplyHandler } = {},
): Promise<FakeMessagesApi> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let handler: ReplyHandler | undefined = options.handler;
  let messageCount = 0;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        sendJson(response, 500, { type: 'error', error: { type: 'api_error', message: String(error) } });
      } else {
        response.destroy();
      }
    });
  });

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawBody = await readBody(incoming);
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      headers: flattenHeaders(incoming),
      body: parseJson(rawBody),
      rawBody,
    };
    requests.push(request);
    const pathname = new URL(request.path, 'http://fake').pathname;

    if (request.method === 'POST' && pathname === '/v1/messages') {
      const index = messageCount++;
      const reply = queue.shift() ?? (handler ? await handler(request, index) : DEFAULT_REPLY);
      await sendReply(request, reply, response);
      return;
    }
    if (request.method === 'POST' && pathname === '/v1/messages/count_tokens') {
      sendJson(response, 200, { input_tokens: estimateTokens(rawBody) });
      return;
    }
    if (request.method === 'GET' || request.method === 'HEAD') {
      sendJson(response, 200, {});
      return;
    }
    sendJson(response, 404, {
      type: 'error',
      error: { type: 'not_found_error', message: `no route ${pathname}` },
    });
  }

  async function sendReply(
    request: RecordedRequest,
    reply: FakeReply,
    response: ServerResponse,
  ): Promise<void> {
    if ('delayMs' in reply && reply.delayMs !== undefined && reply.delayMs > 0) {
      await wait(reply.delayMs);
    }
    // The client may have given up (timeout) while we waited: nothing left to answer.
    if (response.destroyed || response.writableEnded) return;

    const body = isRecord(request.body) ? request.body : {};
    const streaming = body.stream === true;

    if ('malformed' in reply) {
      response.writeHead(200, {
        'content-type': streaming ? 'text/event-stream' : 'application/json',
        'request-id': requestId(),
      });
      response.end(reply.malformed);
      return;
    }
    if ('status' in reply) {
      const errorBody = reply.body ?? {
        type: 'error',
        error: { type: errorTypeFor(reply.status), message: `fake error ${reply.status}` },
      };
      sendJson(response, reply.status, errorBody, reply.headers);
      return;
    }

    const model = typeof body.model === 'string' ? body.model : 'claude-fake';
    const content: Array<Record<string, unknown>> = [];
    if (reply.text !== undefined || reply.toolUses === undefined) {
      content.push({ type: 'text', text: reply.text ?? '' });
    }
    for (const toolUse of reply.toolUses ?? []) {
      content.push({
        type: 'tool_use',
        id: toolUse.id ?? `toolu_${randomUUID().replaceAll('-', '')}`,
        name: toolUse.name,
        input: toolUse.input,
      });
    }
    const stopReason =
      reply.stopReason ?? (reply.toolUses && reply.toolUses.length > 0 ? 'tool_use' : 'end_turn');
    const usage = reply.usage ?? {
      input_tokens: estimateTokens(request.rawBody),
      output_tokens: Math.max(1, estimateTokens(JSON.stringify(content))),
    };
    const message = {
      id: `msg_${randomUUID().replaceAll('-', '')}`,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { ...usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };

    if (!streaming) {
      sendJson(response, 200, message);
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'request-id': requestId(),
    });
    const event = (type: string, data: Record<string, unknown>): void => {
      response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    };
    event('message_start', {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        usage: {
          input_tokens: usage.input_tokens,
          output_tokens: 1,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
    content.forEach((block, index) => {
      if (block.type === 'text') {
        event('content_block_start', { index, content_block: { type: 'text', text: '' } });
        const text = typeof block.text === 'string' ? block.text : '';
        for (const chunk of chunks(text, 16)) {
          event('content_block_delta', { index, delta: { type: 'text_delta', text: chunk } });
        }
      } else {
        event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        for (const chunk of chunks(JSON.stringify(block.input ?? {}), 16)) {
          event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: chunk } });
        }
      }
      event('content_block_stop', { index });
    });
    event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    event('message_stop', {});
    response.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    messageRequests: () =>
      requests.filter(
        (request) =>
          request.method === 'POST' && new URL(request.path, 'http://fake').pathname === '/v1/messages',
      ),
    setHandler(next) {
      handler = next;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    incoming.on('data', (part: Buffer) => parts.push(part));
    incoming.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    incoming.on('error', reject);
  });
}

function flattenHeaders(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function parseJson(rawBody: string): unknown {
  if (rawBody === '') return rawBody;
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    return rawBody;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId(), ...headers });
  response.end(JSON.stringify(body));
}

function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

function requestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}

function chunks(text: string, size: number): string[] {
  if (text === '') return [];
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += size) parts.push(text.slice(start, start + size));
  return parts;
}

/** Anthropic's error `type` for an HTTP status, as the real API sends it. */
function errorTypeFor(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return 'api_error';
  }
}
