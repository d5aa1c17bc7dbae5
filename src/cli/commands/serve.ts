import { createConsoleMount } from '../../console/mount.js';
import { type Command, optionalString } from '../command.js';
import { runServer } from '../server-runner.js';

/** The flags `mneme serve` and `mneme console` share. */
export const SERVER_OPTIONS = {
  port: { type: 'string', short: 'p' },
  keys: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/**
 * `mneme serve --port 8787 [--host 127.0.0.1] [--store URL] [--keys PATH]`: the HTTP server (native API,
 * Mem0-compatible routes, OpenAPI at /openapi.json, the memory console at /console/, which asks for an API key).
 * Runs until SIGINT / SIGTERM, then drains in-flight requests, flushes queued ingestion and closes the store.
 * With --json, prints `{ "url", "port", "host", "keysFile" }` on stdout once listening.
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP server (native + Mem0-compatible API, API keys per app, the memory console)',
  usage:
    'serve [--port 8787] [--host 127.0.0.1] [--store URL] [--keys PATH] [--max-body-bytes N] ' +
    '[--drain-timeout-ms N] [--log-level info]',
  options: { ...SERVER_OPTIONS, host: { type: 'string' } },
  async run(context) {
    return runServer(context, {
      defaultPort: 8787,
      host: optionalString(context, 'host') ?? '127.0.0.1',
      // Request logs are the point of a server's log, so it defaults to `info` (env MNEME_LOG_LEVEL overrides).
      defaultLogLevel: 'info',
      mounts: [createConsoleMount()],
      async listening(server, { keysFile, keys }) {
        const active = (await keys.list()).filter(
          (key) => key.revokedAt === undefined && key.appId !== undefined,
        );
        if (context.json)
          context.out(JSON.stringify({ url: server.url, port: server.port, host: server.host, keysFile }));
        else
          context.err(
            `mneme: serving on ${server.url} (OpenAPI at ${server.url}/openapi.json, console at ` +
              `${server.url}/console/, keys in ${keysFile})`,
          );
        if (active.length === 0) {
          context.err(
            'mneme: no API key with an app exists yet, so every memory request gets 401: create one with ' +
              `\`mneme keys create --app APP${optionalString(context, 'keys') ? ` --keys ${keysFile}` : ''}\``,
          );
        }
      },
    });
  },
};
