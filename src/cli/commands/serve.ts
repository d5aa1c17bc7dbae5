import { ConfigError } from '../../core/errors.js';
import { createConsoleLogger, describeError, type LogLevel } from '../../core/logger.js';
import { createFileKeyStore, resolveKeysFile } from '../../server/keys.js';
import { type Command, optionalInteger, optionalString, UsageError } from '../command.js';

const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * `mneme serve --port 8787 [--host 127.0.0.1] [--store URL] [--keys PATH]`: the HTTP server (native API,
 * Mem0-compatible routes, OpenAPI at /openapi.json). Runs until SIGINT / SIGTERM, then drains in-flight requests,
 * flushes queued ingestion and closes the store. With --json, prints `{ "url", "port", "host", "keysFile" }` on
 * stdout once listening.
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP server (native + Mem0-compatible API, API keys per app)',
  usage:
    'serve [--port 8787] [--host 127.0.0.1] [--store URL] [--keys PATH] [--max-body-bytes N] ' +
    '[--drain-timeout-ms N] [--log-level info]',
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    keys: { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    'log-level': { type: 'string' },
  },
  async run(context) {
    const portText = optionalString(context, 'port') ?? '8787';
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new UsageError(
        `--port must be an integer from 0 to 65535 (0 picks a free port), got "${portText}"`,
      );
    }
    const host = optionalString(context, 'host') ?? '127.0.0.1';
    const maxBodyBytes = optionalInteger(context, 'max-body-bytes');
    const drainTimeoutMs = optionalInteger(context, 'drain-timeout-ms');
    // Request logs are the point of a server's log, so it defaults to `info` (env MNEME_LOG_LEVEL overrides).
    const level = optionalString(context, 'log-level') ?? context.env.MNEME_LOG_LEVEL ?? 'info';
    if (!LOG_LEVELS.includes(level)) {
      throw new ConfigError(
        `--log-level (env MNEME_LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`,
      );
    }
    const logger = createConsoleLogger(level as LogLevel, context.err);
    const keysFile = resolveKeysFile(optionalString(context, 'keys'), context.env);
    const keys = createFileKeyStore({ path: keysFile });
    const active = (await keys.list()).filter(
      (key) => key.revokedAt === undefined && key.appId !== undefined,
    );
    const memory = await context.openMemory({ logger });
    // Load the embedding model now, so the first request does not pay for it; a failure here is reported by the
    // requests that need the embedder, so the server still starts (health, keys, reads by id work without it).
    await memory.embedder.embed({ texts: ['warm-up'], purpose: 'query' }).catch((error: unknown) => {
      logger.warn(
        'embedder warm-up failed; searches and adds will fail until it works',
        describeError(error),
      );
    });
    // Loaded here, not at the top: the HTTP stack is not worth importing for every other command.
    const [{ createApp }, { startServer }] = await Promise.all([
      import('../../server/app.js'),
      import('../../server/listen.js'),
    ]);
    const app = createApp({
      memory,
      keys,
      logger,
      ...(maxBodyBytes !== undefined ? { limits: { maxBodyBytes } } : {}),
    });
    const server = await startServer({
      app,
      memory,
      port,
      host,
      logger,
      ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
    });
    // Items left queued by an earlier process or a replica that died are drained now and by periodic polls.
    memory.resumeIngestion();
    if (context.json)
      context.out(JSON.stringify({ url: server.url, port: server.port, host: server.host, keysFile }));
    else
      context.err(
        `mneme: serving on ${server.url} (OpenAPI at ${server.url}/openapi.json, keys in ${keysFile})`,
      );
    if (active.length === 0) {
      context.err(
        'mneme: no API key with an app exists yet, so every memory request gets 401: create one with ' +
          `\`mneme keys create --app APP${optionalString(context, 'keys') ? ` --keys ${keysFile}` : ''}\``,
      );
    }
    const signal = await waitForShutdownSignal();
    context.err(`mneme: ${signal} received; draining requests and closing the store`);
    await server.close();
    return 0;
  },
};

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
