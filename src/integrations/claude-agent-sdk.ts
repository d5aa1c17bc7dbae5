/**
 * mneme for the Claude Agent SDK: persistent, per-user memory for an agent in one line.
 *
 * ```ts
 * import { query } from '@anthropic-ai/claude-agent-sdk';
 * import { createMemory } from 'mneme';
 * import { withMemory } from 'mneme/claude-agent-sdk';
 *
 * const memory = await createMemory();
 * const options = withMemory(memory, { userId: 'alice' }, { model: 'claude-sonnet-4-5', allowedTools: ['Read'] });
 * for await (const message of query({ prompt: 'Review src/app.ts', options })) { ... }
 * await memory.flush(); // waits for queued ingestion; close() also flushes
 * ```
 *
 * What {@link withMemory} adds to the options (see docs/claude-agent-sdk.md):
 * - `UserPromptSubmit` hook: injects, as `additionalContext` in one delimited data block, the user's profile
 *   (standing preferences, instructions and facts; at a session's first prompt, after a resume and after a
 *   compaction) and the memories relevant to the prompt, each section within its token budget, never the same memory
 *   twice in a session (the transcript is read on first contact, so this holds after a resume in a new process too).
 *   The block is built by `buildSessionContext` (src/memory/session-context.ts).
 * - `Stop` and `PreCompact` hooks: queue the new user / assistant messages for ingestion through the store's
 *   durable queue. Ingestion keeps what the user said (assistant text is context only, never a memory about the
 *   user). Subagent transcripts are not captured: a subagent's turns are the main agent's instructions and the
 *   subagent's findings, never the user's words. Hooks never throw: failures are logged and the agent carries on;
 *   queued items that fail are retried by the background worker.
 * - An in-process MCP server `memory` with the tools `recall`, `remember`, `forget`, confined to the user's scope.
 * - Claude Code's own file-based auto memory switched off (it would compete with mneme), unless kept.
 * - Optionally, a per-user session project key, so SessionStore sessions of different users never mix.
 *
 * The Agent SDK is an optional peer dependency of mneme. This entry point needs it: it is loaded when this module
 * is imported, and {@link withMemory} throws {@link MissingDependencyError} when it is not installed.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type {
  HookCallbackMatcher,
  HookEvent,
  McpServerConfig,
  Options,
  Settings,
} from '@anthropic-ai/claude-agent-sdk';
import { ConfigError, MissingDependencyError, ValidationError } from '../core/errors.js';
import { describeError, type Logger } from '../core/logger.js';
import { hashText } from '../core/text.js';
import type { Scope } from '../core/types.js';
import { LIMITS, validateScope } from '../core/validate.js';
import type { Memory } from '../memory/memory.js';
import { SESSION_CONTEXT_DEFAULTS } from '../memory/session-context.js';
import { createMemoryHooks, type MemoryHooks } from './claude-agent-sdk/hooks.js';
import { BoundedSet } from './claude-agent-sdk/session-state.js';
import { createMemoryTools, MEMORY_SERVER_NAME, MEMORY_TOOL_NAMES } from './claude-agent-sdk/tools.js';

export { MEMORY_SERVER_NAME, MEMORY_TOOL_NAMES } from './claude-agent-sdk/tools.js';

type AgentSdk = typeof import('@anthropic-ai/claude-agent-sdk');

// Loaded once, at import. A missing SDK is reported by withMemory, with what to install.
let agentSdk: AgentSdk | undefined;
let agentSdkError: unknown;
try {
  agentSdk = await import('@anthropic-ai/claude-agent-sdk');
} catch (error) {
  agentSdkError = error;
}

/** The scope the agent runs for, plus how the integration behaves. */
export interface MemoryIntegrationSettings {
  /** The user the agent works for: every memory read and written belongs to this user. Required. */
  userId: string;
  /**
   * The agent's id. Reads see only this agent's memories of the user, captures are stored under it.
   * @default none (reads see every agent's memories of the user)
   */
  agentId?: string;
  /** The application's id, for multi-tenant stores. @default none */
  appId?: string;
  /**
   * Token budget of the prompt-relevant memories in the injected block, the block's frame included (≈ 4
   * characters per token). @default 800
   */
  maxContextTokens?: number;
  /**
   * Give the user's profile (standing preferences, instructions, facts: `memory.profile()`) at the first prompt of
   * every session, after a resume and after a compaction, as its own section of the block. @default true
   */
  profile?: boolean;
  /** Token budget of the profile section. @default 400 */
  profileTokens?: number;
  /** At most this many memories injected per prompt, and the default number of `recall` results. @default 10 */
  limit?: number;
  /** Minimum search score (0..1) of an injected memory; see ranking.ts for what the score means. @default 0.12 */
  threshold?: number;
  /**
   * Add the in-process MCP server `memory` (tools `recall`, `remember`, `forget`), and add its three tool names
   * (`mcp__memory__recall`, ...) to `allowedTools` so they run without a permission prompt.
   * @default true
   */
  tools?: boolean;
  /**
   * Keep Claude Code's own file-based auto memory. By default it is switched off (`settings.autoMemoryEnabled:
   * false`, or env `CLAUDE_CODE_DISABLE_AUTO_MEMORY=1` when `settings` is a file path or `env` is given).
   * @default false
   */
  keepAutoMemory?: boolean;
  /**
   * Give each user their own session project key: sets `CLAUDE_CODE_PROJECT_DIR_NAME` to `mneme-user-<userId>`
   * (made filesystem-safe) in `options.env`, and `CLAUDE_CONFIG_DIR` to its default `~/.claude` when absent, without
   * which the CLI ignores the key and a `sessionStore` receives nothing. Sessions (transcripts, `continue: true`,
   * a SessionStore's `projectKey`) of different users then never mix.
   * @default false
   */
  perUserSessions?: boolean;
  /**
   * Deadline of each hook, in milliseconds. Past it the hook gives up (the agent continues without injected
   * memories, or the capture is retried at the next Stop) and logs a warning.
   * @default 5000
   */
  timeoutMs?: number;
  /** Where the hooks log failures. @default the memory's logger (`createMemory({ logger, logLevel })`) */
  logger?: Logger;
}

const DEFAULTS = {
  maxContextTokens: SESSION_CONTEXT_DEFAULTS.maxTokens,
  profileTokens: SESSION_CONTEXT_DEFAULTS.profileTokens,
  limit: SESSION_CONTEXT_DEFAULTS.limit,
  threshold: SESSION_CONTEXT_DEFAULTS.threshold,
  timeoutMs: 5000,
} as const;
const HOOK_EVENTS_USED = ['UserPromptSubmit', 'Stop', 'PreCompact'] as const satisfies HookEvent[];

/**
 * Returns new Agent SDK `query()` options that give the agent `memory` for one user (see the module comment).
 * The caller's options are not modified; their `hooks` (ours are appended per event), `mcpServers`,
 * `allowedTools`, `settings` and `env` are merged, never replaced.
 *
 * `options.env` replaces the CLI's whole environment. When this function must set a variable (per-user sessions,
 * or switching auto memory off while `settings` is a file path) and `options.env` is absent, it starts from a copy
 * of `process.env`.
 *
 * @throws {MissingDependencyError} when `@anthropic-ai/claude-agent-sdk` is not installed
 * @throws {ValidationError} on a missing `userId` or an out-of-range setting
 * @throws {ConfigError} when `options.mcpServers` already has a server named `memory` (rename it, or set `tools: false`)
 */
export function withMemory(
  memory: Memory,
  settings: MemoryIntegrationSettings,
  options: Options = {},
): Options {
  if (!agentSdk) {
    throw new MissingDependencyError(
      '@anthropic-ai/claude-agent-sdk',
      'mneme/claude-agent-sdk',
      agentSdkError,
    );
  }
  const config = resolveSettings(settings, memory.logger);
  const recalledByTools = new BoundedSet<string>(500);
  const hooks = createMemoryHooks({
    memory,
    scope: config.scope,
    limit: config.limit,
    threshold: config.threshold,
    maxContextTokens: config.maxContextTokens,
    profile: config.profile,
    profileTokens: config.profileTokens,
    timeoutMs: config.timeoutMs,
    logger: config.logger,
    recalledByTools,
  });

  const result: Options = { ...options, hooks: mergeHooks(options.hooks, hooks, config.timeoutMs) };

  if (config.tools) {
    if (options.mcpServers && MEMORY_SERVER_NAME in options.mcpServers) {
      throw new ConfigError(
        `options.mcpServers already has a server named "${MEMORY_SERVER_NAME}", the name of mneme's memory tools: ` +
          'rename yours, or pass { tools: false } to withMemory',
      );
    }
    const server: McpServerConfig = agentSdk.createSdkMcpServer({
      name: MEMORY_SERVER_NAME,
      version: '0.1.0',
      alwaysLoad: true,
      tools: createMemoryTools({
        scoped: memory.withScope(config.scope),
        tool: agentSdk.tool,
        logger: config.logger,
        recalledByTools,
        limit: config.limit,
      }),
    });
    result.mcpServers = { ...options.mcpServers, [MEMORY_SERVER_NAME]: server };
    // Without this, the CLI's default permission mode denies MCP tools that were not approved (measured).
    const allowed = options.allowedTools ?? [];
    result.allowedTools = [...allowed, ...MEMORY_TOOL_NAMES.filter((name) => !allowed.includes(name))];
  }

  // Variables the caller did not set themselves (theirs win), and variables mneme must set.
  const defaults: Record<string, string> = {};
  const required: Record<string, string> = {};
  const callerSettings = options.settings;
  if (!config.keepAutoMemory) {
    if (typeof callerSettings === 'string') {
      // A settings file cannot be merged: switch auto memory off through the environment instead.
      defaults.CLAUDE_CODE_DISABLE_AUTO_MEMORY = '1';
    } else if (callerSettings?.autoMemoryEnabled === undefined) {
      const settingsObject: Settings = callerSettings ?? {};
      result.settings = { ...settingsObject, autoMemoryEnabled: false };
      if (options.env) defaults.CLAUDE_CODE_DISABLE_AUTO_MEMORY = '1';
    }
  }
  if (config.perUserSessions) {
    required.CLAUDE_CODE_PROJECT_DIR_NAME = sessionProjectKey(config.scope.userId);
  }
  if (Object.keys(required).length > 0 || Object.keys(defaults).length > 0) {
    // options.env replaces the CLI's environment, so start from the caller's env, else from this process's:
    // the one place the integration reads process.env.
    const base = options.env ?? { ...process.env };
    const merged: Record<string, string | undefined> = { ...defaults, ...base };
    Object.assign(merged, required);
    if (config.perUserSessions && !merged.CLAUDE_CONFIG_DIR) {
      merged.CLAUDE_CONFIG_DIR = join(merged.HOME || homedir(), '.claude');
    }
    result.env = merged;
  }
  warmUpEmbedder(memory, config.logger);
  return result;
}

/**
 * The session project key for a user: `mneme-user-<userId>` when the id is filesystem-safe (letters, digits,
 * `-`, `_`, `.`), else the safe characters plus a hash of the id, so distinct users never share a key.
 */
export function sessionProjectKey(userId: string): string {
  const safe = userId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  const exact = safe === userId && !/^\.+$/.test(userId);
  return exact ? `mneme-user-${safe}` : `mneme-user-${safe}-${hashText(userId).slice(0, 12)}`;
}

/**
 * Loads the bundled embedding model (~1 s) while the CLI starts (~2 s), instead of during the first prompt's
 * search. Only for the local embedder: a remote one would be billed for the call. A failure here is logged at
 * debug level only because the first search will meet it again, and report it.
 */
const warmedUp = new WeakSet<object>();
function warmUpEmbedder(memory: Memory, logger: Logger): void {
  if (!memory.embedder.id.startsWith('local:') || warmedUp.has(memory.embedder)) return;
  warmedUp.add(memory.embedder);
  memory.embedder.embed({ texts: ['warm-up'], purpose: 'query' }).then(
    () => undefined,
    (error: unknown) => logger.debug('mneme: embedder warm-up failed', describeError(error)),
  );
}

interface ResolvedSettings {
  scope: Scope & { userId: string };
  maxContextTokens: number;
  profile: boolean;
  profileTokens: number;
  limit: number;
  threshold: number;
  timeoutMs: number;
  tools: boolean;
  keepAutoMemory: boolean;
  perUserSessions: boolean;
  logger: Logger;
}

function resolveSettings(settings: MemoryIntegrationSettings, memoryLogger: Logger): ResolvedSettings {
  if (typeof settings !== 'object' || settings === null) {
    throw new ValidationError(
      'settings',
      'expected { userId: "alice", ... } as the second argument of withMemory',
    );
  }
  const scope = validateScope(settings, { required: false, field: 'settings' });
  if (!scope.userId) {
    throw new ValidationError('settings.userId', 'withMemory needs the id of the user the agent works for');
  }
  if (scope.runId !== undefined) {
    throw new ValidationError(
      'settings.runId',
      'not supported: captures record the session id in metadata instead',
    );
  }
  const integer = (value: unknown, field: string, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ValidationError(`settings.${field}`, `expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  const flag = (value: unknown, field: string, fallback: boolean): boolean => {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw new ValidationError(`settings.${field}`, 'expected true or false');
    return value;
  };
  const threshold = settings.threshold ?? DEFAULTS.threshold;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new ValidationError('settings.threshold', 'expected a number from 0 to 1');
  }
  return {
    scope: { ...scope, userId: scope.userId },
    maxContextTokens: integer(
      settings.maxContextTokens,
      'maxContextTokens',
      DEFAULTS.maxContextTokens,
      50,
      100_000,
    ),
    profile: flag(settings.profile, 'profile', true),
    profileTokens: integer(settings.profileTokens, 'profileTokens', DEFAULTS.profileTokens, 50, 100_000),
    limit: integer(settings.limit, 'limit', DEFAULTS.limit, 1, Math.min(100, LIMITS.searchLimit)),
    threshold,
    timeoutMs: integer(settings.timeoutMs, 'timeoutMs', DEFAULTS.timeoutMs, 1, 600_000),
    tools: flag(settings.tools, 'tools', true),
    keepAutoMemory: flag(settings.keepAutoMemory, 'keepAutoMemory', false),
    perUserSessions: flag(settings.perUserSessions, 'perUserSessions', false),
    logger: settings.logger ?? memoryLogger,
  };
}

function mergeHooks(
  callerHooks: Options['hooks'],
  ours: MemoryHooks,
  timeoutMs: number,
): Partial<Record<HookEvent, HookCallbackMatcher[]>> {
  const merged: Partial<Record<HookEvent, HookCallbackMatcher[]>> = { ...callerHooks };
  // The SDK's own timeout (seconds) is a backstop behind ours, which logs and returns cleanly.
  const timeout = Math.ceil(timeoutMs / 1000) + 5;
  for (const event of HOOK_EVENTS_USED) {
    merged[event] = [...(callerHooks?.[event] ?? []), { hooks: [ours[event]], timeout }];
  }
  return merged;
}
