/**
 * What `mneme serve` and `mneme console` share: the log level, the keys file, the memory, the embedder warm-up,
 * the app, the listening server, ingestion resumed, and a graceful stop on SIGINT / SIGTERM.
 */
import { ConfigError } from '../core/errors.js';
import { createConsoleLogger, describeError, type Logger, type LogLevel } from '../core/logger.js';
import type { Memory } from '../memory/memory.js';
import type { AppOptions } from '../server/app.js';
import { createFileKeyStore, type KeyStore, resolveKeysFile } from '../server/keys.js';
import type { RunningServer } from '../server/listen.js';
import { type CommandContext, optionalInteger, optionalString, UsageError } from './command.js';

const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Options of {@link runServer}. */
export interface RunServerOptions {
  defaultPort: number;
  host: string;
  /** Request logs default to this level (env MNEME_LOG_LEVEL and --log-level override). */
  defaultLogLevel: LogLevel;
  /** Wraps the keys file's store (the console adds its session keys). */
  keys?: (base: KeyStore) => KeyStore;
  mounts?: AppOptions['mounts'];
  /** Runs once the memory is open, before the port is bound (the console seeds the demo users here). */
  beforeListen?: (memory: Memory) => Promise<void>;
  /** Runs once listening; then the process waits for a signal. */
  listening: (
    server: RunningServer,
    details: { keysFile: string; keys: KeyStore; logger: Logger },
  ) => Promise<void>;
}

/** Parses `--port`, `--log-level`, `--keys`, `--max-body-bytes`, `--drain-timeout-ms`; serves until a signal. */
export async function runServer(context: CommandContext, options: RunServerOptions): Promise<number> {
  const portText = optionalString(context, 'port') ?? String(options.defaultPort);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(
      `--port must be an integer from 0 to 65535 (0 picks a free port), got "${portText}"`,
    );
  }
  const maxBodyBytes = optionalInteger(context, 'max-body-bytes');
  const drainTimeoutMs = optionalInteger(context, 'drain-timeout-ms');
  const level =
    optionalString(context, 'log-level') ?? context.env.MNEME_LOG_LEVEL ?? options.defaultLogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(
      `--log-level (env MNEME_LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`,
    );
  }
  const logger = createConsoleLogger(level as LogLevel, context.err);
  const keysFile = resolveKeysFile(optionalString(context, 'keys'), context.env);
  const fileKeys = createFileKeyStore({ path: keysFile });
  const keys = options.keys ? options.keys(fileKeys) : fileKeys;
  const memory = await context.openMemory({ logger });
  // Load the embedding model now, so the first request does not pay for it; a failure here is reported by the
  // requests that need the embedder, so the server still starts (health, keys, reads by id work without it).
  await memory.embedder.embed({ texts: ['warm-up'], purpose: 'query' }).catch((error: unknown) => {
    logger.warn('embedder warm-up failed; searches and adds will fail until it works', describeError(error));
  });
  await options.beforeListen?.(memory);
  // The server's stack loads only when a server starts, so short commands (e.g. `mneme hook`) stay fast.
  const [{ createApp }, { startServer }] = await Promise.all([
    import('../server/app.js'),
    import('../server/listen.js'),
  ]);
  const app = createApp({
    memory,
    keys,
    logger,
    ...(maxBodyBytes !== undefined ? { limits: { maxBodyBytes } } : {}),
    ...(options.mounts ? { mounts: options.mounts } : {}),
  });
  const server = await startServer({
    app,
    memory,
    port,
    host: options.host,
    logger,
    ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
  });
  // Items left queued by an earlier process or a replica that died are drained now and by periodic polls.
  memory.resumeIngestion();
  await options.listening(server, { keysFile, keys: fileKeys, logger });
  const signal = await waitForShutdownSignal();
  context.err(`mneme: ${signal} received; draining requests and closing the store`);
  await server.close();
  return 0;
}

function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
