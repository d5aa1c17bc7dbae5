import { ConfigError } from '../../core/errors.js';
import { createConsoleLogger, type LogLevel } from '../../core/logger.js';
import { resolveAgentScope } from '../../memory/config.js';
import { type Command, optionalString } from '../command.js';

const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * `mneme mcp --user U [--agent A] [--app APP] [--store URL]`: an MCP server on stdio with the tools add_memory,
 * search_memory, list_memories, profile and delete_memory, confined to that user. Without --user: env MNEME_USER,
 * the config file's `user`, else the operating-system account name (see `resolveAgentScope`), the same user the
 * Claude Code plugin's hooks resolve.
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
    const scope = resolveAgentScope({
      userId: optionalString(context, 'user'),
      agentId: optionalString(context, 'agent'),
      appId: optionalString(context, 'app'),
      env: context.env,
    });
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
    // Loaded here, not at the top: the MCP SDK costs ~0.3 s to import, which every other command would pay.
    const { runStdioMcpServer } = await import('../../mcp/server.js');
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
