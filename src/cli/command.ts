/**
 * The CLI command seam: each command is one file in `commands/` exporting a {@link Command}; `commands/index.ts`
 * lists them. Commands parse nothing themselves: `main.ts` parses flags with node:util `parseArgs` from the
 * command's `options` and hands over a {@link CommandContext}.
 */
import type { MemoryOptions } from '../memory/config.js';
import type { Memory } from '../memory/memory.js';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Writes to stdout. */
  out: (text: string) => void;
  /** Writes to stderr. */
  err: (text: string) => void;
  /** True when --json was given: print exactly one JSON document on stdout. */
  json: boolean;
  /** Opens the memory with --store applied (closed by main after `run`). */
  openMemory: (extra?: MemoryOptions) => Promise<Memory>;
  /** Environment (for commands that spawn children). */
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (progress bars). */
  isTTY: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line(s) after `mneme`. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit code (0 ok). Throw UsageError for bad usage, MnemeError for failures. */
  run(context: CommandContext): Promise<number>;
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Reads a required string flag. */
export function requireString(context: CommandContext, name: string, hint: string): string {
  const value = context.values[name];
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`--${name} is required: ${hint}`);
  return value;
}

/** Reads an optional string flag. */
export function optionalString(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Reads an optional flag holding JSON; `invalidMessage` is the usage error when its value does not parse. */
export function optionalJson(context: CommandContext, name: string, invalidMessage: string): unknown {
  const text = optionalString(context, name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(invalidMessage);
  }
}

/** Reads the first positional argument; `hint` is the usage error when there is none. */
export function requirePositional(context: CommandContext, hint: string): string {
  const [value] = context.positionals;
  if (!value) throw new UsageError(hint);
  return value;
}

/** Reads an optional positive integer flag. */
export function optionalInteger(context: CommandContext, name: string): number | undefined {
  const value = optionalString(context, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return parsed;
}

/** The scope flags shared by several commands. */
export const SCOPE_OPTIONS: Record<string, OptionSpec> = {
  user: { type: 'string', short: 'u' },
  agent: { type: 'string' },
  run: { type: 'string' },
  app: { type: 'string' },
};

/**
 * The flags of a command that reads a scope's memories (list, search), in the order help shows them: the scope
 * flags, --limit, the command's own `flags`, then --include-superseded.
 */
export function scopeReadOptions(flags: Record<string, OptionSpec>): Record<string, OptionSpec> {
  return {
    ...SCOPE_OPTIONS,
    limit: { type: 'string', short: 'n' },
    ...flags,
    'include-superseded': { type: 'boolean' },
  };
}

/** Builds a scope from --user/--agent/--run/--app. */
export function scopeFrom(context: CommandContext): {
  userId?: string;
  agentId?: string;
  runId?: string;
  appId?: string;
} {
  const scope: { userId?: string; agentId?: string; runId?: string; appId?: string } = {};
  const user = optionalString(context, 'user');
  const agent = optionalString(context, 'agent');
  const run = optionalString(context, 'run');
  const app = optionalString(context, 'app');
  if (user) scope.userId = user;
  if (agent) scope.agentId = agent;
  if (run) scope.runId = run;
  if (app) scope.appId = app;
  return scope;
}

/** Like {@link scopeFrom} but requires at least one flag. */
export function requireScope(context: CommandContext) {
  const scope = scopeFrom(context);
  if (Object.keys(scope).length === 0) {
    throw new UsageError('a scope is required: pass --user U (and optionally --agent A, --run R, --app APP)');
  }
  return scope;
}
