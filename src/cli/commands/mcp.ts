import { ConfigError } from '../../core/errors.js';
import { createConsoleLogger, type LogLevel } from '../../core/logger.js';
import type { Scope } from '../../core/types.js';
import { runStdioMcpServer } from '../../mcp/server.js';
import { type Command, optionalString, UsageError } from '../command.js';

const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * `mneme mcp --user U [--agent A] [--app APP] [--store URL]`: an MCP server on stdio with the tools add_memory,
 * search_memory, list_memories, profile and delete_memory, confined to that user (env MNEME_USER when --user is
 * absent).
 * Runs until the client closes stdin (or SIGINT / SIGTERM).
 */
export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'MCP server on stdio (tools add/search/list/delete memory, profile), confined to one user',
  usage:
    'mcp --user U [--agent A] [--app APP] [--store URL]   (e.g. claude mcp add mneme -- npx mneme mcp --user alice)',
  options: {
    user: { type: 'string', short: 'u' },
    agent: { type: 'string' },
    app: { type: 'string' },
  },
  async run(context) {
    const user = optionalString(context, 'user') ?? context.env.MNEME_USER;
    if (user === undefined || user.trim() === '') {
      throw new UsageError('--user is required (or env MNEME_USER): mneme mcp --user alice');
    }
    const agent = optionalString(context, 'agent');
    const app = optionalString(context, 'app');
    const scope: Scope = {
      userId: user,
      ...(agent ? { agentId: agent } : {}),
      ...(app ? { appId: app } : {}),
    };
    const level = context.env.MNEME_LOG_LEVEL ?? 'warn';
    if (!LOG_LEVELS.includes(level)) {
      throw new ConfigError(`env MNEME_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`);
    }
    // stdout carries the protocol: send any stray console output from dependencies to stderr instead.
    const toStderr = (...args: unknown[]) => console.error(...args);
    console.log = toStderr;
    console.info = toStderr;
    console.debug = toStderr;
    const logger = createConsoleLogger(level as LogLevel);
    const memory = await context.openMemory({ logger });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runStdioMcpServer({ memory, scope, logger, signal: stop.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  },
};
