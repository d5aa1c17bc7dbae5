/**
 * mneme as an MCP server over stdio (`mneme mcp --user U`), built on the official `@modelcontextprotocol/sdk`:
 * tools `add_memory`, `search_memory`, `list_memories`, `profile` and `delete_memory`, every one confined to the
 * scope the server was started with (a user, optionally an agent / app). A tool never reaches another user's memories:
 * the scope is fixed by the process, not by tool arguments.
 *
 * Failures are tool results with `isError: true` and the error's message (what failed and what to do), so the
 * model can read them; they never crash the server. stdout is the protocol channel: nothing else may write to it
 * (logs go to stderr through the Logger seam).
 */
import type { Readable, Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { formatSessionContext } from '../core/context.js';
import { MnemeError } from '../core/errors.js';
import { describeError, type Logger } from '../core/logger.js';
import type { Metadata, Scope } from '../core/types.js';
import { LIMITS } from '../core/validate.js';
import type { Memory } from '../memory/memory.js';
import { PROFILE_MAX_TOKENS } from '../memory/profile.js';

/** Options of {@link createMcpServer}. */
export interface McpServerOptions {
  memory: Memory;
  /** The scope every tool is confined to; must name a user (or agent / run). */
  scope: Scope;
  /** Failures that are the server's fault are logged here (stderr by default). */
  logger: Logger;
}

/** Builds the MCP server with mneme's five tools (not yet connected to a transport). */
export function createMcpServer(options: McpServerOptions): McpServer {
  const scoped = options.memory.withScope(options.scope);
  const subject = options.scope.userId;
  const server = new McpServer({ name: 'mneme', version: '0.1.0' });
  const run = async (tool: string, action: () => Promise<string>): Promise<CallToolResult> => {
    try {
      return { content: [{ type: 'text', text: await action() }] };
    } catch (error) {
      if (!(error instanceof MnemeError))
        options.logger.error('mcp tool failed', { tool, ...describeError(error) });
      const message = error instanceof Error ? error.message : String(error);
      return { content: [{ type: 'text', text: `${tool} failed: ${message}` }], isError: true };
    }
  };

  server.registerTool(
    'add_memory',
    {
      title: 'Remember something',
      description:
        'Store a durable fact, preference or instruction about the user for future conversations. Write it as ' +
        'one self-contained statement ("Prefers tabs over spaces in Go").',
      inputSchema: {
        text: z
          .string()
          .describe(`The statement to remember (at most ${LIMITS.memoryTextLength} characters)`),
        metadata: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('Optional JSON metadata, e.g. {"repo": "api"}'),
      },
    },
    ({ text, metadata }) =>
      run('add_memory', async () => {
        const result = await scoped.add(
          text,
          metadata === undefined ? {} : { metadata: metadata as Metadata },
        );
        const lines = [
          ...result.results.map((item) => `${item.event} ${item.id}: ${item.memory}`),
          ...result.skipped.map((item) => `not stored (${item.reason}): ${item.text}`),
        ];
        return lines.length > 0 ? lines.join('\n') : 'nothing to store';
      }),
  );

  server.registerTool(
    'search_memory',
    {
      title: 'Search memories',
      description: 'Find stored memories about the user relevant to a question or topic, best first.',
      inputSchema: {
        query: z.string().describe('What to look for, in natural language'),
        limit: z.number().int().min(1).max(100).optional().describe('Most results to return (default 10)'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ query, limit }) =>
      run('search_memory', async () => {
        const { results } = await scoped.search(query, limit === undefined ? {} : { limit });
        if (results.length === 0) return 'no memories found';
        return results
          .map(
            (result, index) =>
              `${index + 1}. [${result.score.toFixed(3)}] ${result.memory} (id ${result.id})`,
          )
          .join('\n');
      }),
  );

  server.registerTool(
    'list_memories',
    {
      title: 'List memories',
      description:
        'List stored memories about the user, newest first. Pass the returned cursor for the next page.',
      inputSchema: {
        limit: z.number().int().min(1).max(LIMITS.listLimit).optional().describe('Page size (default 50)'),
        cursor: z.string().optional().describe('The cursor printed at the end of the previous page'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ limit, cursor }) =>
      run('list_memories', async () => {
        const page = await scoped.list({ limit: limit ?? 50, ...(cursor !== undefined ? { cursor } : {}) });
        if (page.results.length === 0) return 'no memories stored';
        const lines = page.results.map(
          (record) => `${record.id}  ${record.observedAt.slice(0, 10)}  ${record.memory}`,
        );
        if (page.nextCursor) lines.push(`next cursor: ${page.nextCursor}`);
        return lines.join('\n');
      }),
  );

  server.registerTool(
    'profile',
    {
      title: "The user's profile",
      description:
        "The user's standing instructions, preferences and facts (pinned first, newest first per kind), as " +
        'delimited data: what an agent should know at the start of every session.',
      inputSchema: {
        max_tokens: z
          .number()
          .int()
          .min(1)
          .max(PROFILE_MAX_TOKENS)
          .optional()
          .describe('Token budget of the profile (default 400)'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ max_tokens }) =>
      run('profile', async () => {
        const profile = await scoped.profile(max_tokens === undefined ? {} : { maxTokens: max_tokens });
        const omitted =
          profile.omitted > 0
            ? `${profile.omitted} more left out by the token budget (raise max_tokens to see them)`
            : '';
        if (profile.items.length === 0)
          return omitted || 'no profile: no instructions, preferences or facts stored';
        // The items are already within the budget; the formatter only renders and delimits them.
        const { text } = formatSessionContext(
          { profile: profile.items, relevant: [] },
          { profileTokens: Number.POSITIVE_INFINITY, ...(subject ? { subject } : {}) },
        );
        return omitted ? `${text}\n${omitted}` : text;
      }),
  );

  server.registerTool(
    'delete_memory',
    {
      title: 'Forget a memory',
      description:
        'Erase one stored memory by its id (ids are shown by search_memory and list_memories): its text is ' +
        'removed everywhere, history included.',
      inputSchema: { id: z.string().describe('The memory id') },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    ({ id }) =>
      run('delete_memory', async () => {
        await scoped.erase(id);
        return `erased memory ${id}`;
      }),
  );

  return server;
}

/** Options of {@link runStdioMcpServer}. */
export interface StdioMcpServerOptions extends McpServerOptions {
  /** @default process.stdin */
  stdin?: Readable;
  /** @default process.stdout */
  stdout?: Writable;
  /** Stops the server when aborted (e.g. on SIGTERM). */
  signal?: AbortSignal;
}

/** Serves the tools over stdio until stdin ends (the client went away) or `signal` aborts. */
export async function runStdioMcpServer(options: StdioMcpServerOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const server = createMcpServer(options);
  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout);
  const finished = new Promise<void>((resolve) => {
    const done = () => resolve();
    stdin.once('end', done);
    stdin.once('close', done);
    transport.onclose = done;
    if (options.signal?.aborted) done();
    options.signal?.addEventListener('abort', done, { once: true });
  });
  await server.connect(transport);
  await finished;
  await server.close();
}
