/**
 * Binds the app to a port with `@hono/node-server` and shuts it down gracefully: stop accepting connections,
 * let in-flight requests finish (up to `drainTimeoutMs`, then cut the remaining connections), flush queued
 * ingestion, and close the memory (store and embedder).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { describeError, type Logger } from '../core/logger.js';
import type { Memory } from '../memory/memory.js';
import type { AppEnv } from './request.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  app: Hono<AppEnv>;
  /** Flushed and closed on shutdown. */
  memory: Memory;
  /** 0 picks a free port. @default 8787 */
  port?: number;
  /** @default '127.0.0.1' (loopback only; pass '0.0.0.0' to listen on every interface) */
  host?: string;
  /** How long shutdown waits for in-flight requests before closing their connections. @default 10000 */
  drainTimeoutMs?: number;
  logger: Logger;
}

/** A listening server. */
export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  host: string;
  /** Requests being handled right now. */
  inFlight(): number;
  /** Graceful shutdown (idempotent): drain, flush ingestion, close the memory. */
  close(): Promise<void>;
}

/** Starts listening; resolves once the port is bound. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  let inFlight = 0;
  const app = options.app;
  const { server, address } = await new Promise<{ server: Server; address: AddressInfo }>(
    (resolve, reject) => {
      const created = serve(
        {
          fetch: async (request, env) => {
            inFlight += 1;
            try {
              return await app.fetch(request, env);
            } finally {
              inFlight -= 1;
            }
          },
          port: options.port ?? 8787,
          hostname: host,
        },
        (info) => resolve({ server: created as Server, address: info }),
      ) as Server;
      created.once('error', reject);
    },
  );
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await drain(server, () => inFlight, drainTimeoutMs, options.logger);
      try {
        const flushed = await options.memory.flush();
        options.logger.info('ingestion queue flushed', { ...flushed });
      } catch (error) {
        options.logger.warn(
          'queued ingestion not flushed; it stays queued for the next start',
          describeError(error),
        );
      }
      await options.memory.close();
    })();
    return closing;
  };

  return { url, port: address.port, host, inFlight: () => inFlight, close };
}

async function drain(
  server: Server,
  inFlight: () => number,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Idle keep-alive sockets would hold close() open; busy ones are closed once their response is sent.
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  server.closeIdleConnections();
  const timedOut = new Promise<'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  const outcome = await Promise.race([closed.then(() => 'closed' as const), timedOut]);
  clearInterval(sweep);
  if (outcome === 'timeout') {
    logger.warn('shutdown: requests still running after the drain timeout; closing their connections', {
      inFlight: inFlight(),
      drainTimeoutMs: timeoutMs,
    });
    server.closeAllConnections();
    await closed;
  }
}
