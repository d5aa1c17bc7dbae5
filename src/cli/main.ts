/**
 * The `mneme` command line: parses flags, opens the memory, runs one command, maps errors to exit codes
 * (0 success, 1 failure, 2 usage error). With --json, stdout holds exactly one JSON document, also for errors
 * (`{"error": {...}}`).
 */
import { parseArgs } from 'node:util';
import { MnemeError, ValidationError } from '../core/errors.js';
import type { MemoryOptions } from '../memory/config.js';
import type { Memory } from '../memory/memory.js';
import { createMemory } from '../memory/memory.js';
import { type Command, type CommandContext, GLOBAL_OPTIONS, UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';

export interface CliIO {
  out?: (text: string) => void;
  err?: (text: string) => void;
  env?: Record<string, string | undefined>;
  isTTY?: boolean;
}

/** Runs the CLI with `argv` (without node and script). Resolves with the exit code. */
export async function runCli(argv: string[], io: CliIO = {}): Promise<number> {
  const out = io.out ?? ((text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`));
  const err = io.err ?? ((text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`));
  const env = io.env ?? process.env;
  const [name, ...rest] = argv;
  const wantsJson = rest.includes('--json');
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    out(globalHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    out('mneme 0.1.0');
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    return report(
      new UsageError(`unknown command "${name}"; run \`mneme help\` for the list`),
      wantsJson,
      out,
      err,
    );
  }
  let memory: Memory | undefined;
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as CommandContext['values'];
    if (values.help) {
      out(commandHelp(command));
      return 0;
    }
    const context: CommandContext = {
      values,
      positionals: parsed.positionals,
      out,
      err,
      json: values.json === true,
      env,
      isTTY: io.isTTY ?? Boolean(process.stderr.isTTY),
      openMemory: async (extra: MemoryOptions = {}) => {
        const store = typeof values.store === 'string' ? values.store : undefined;
        memory = await createMemory({ env, ...(store ? { store } : {}), ...extra });
        return memory;
      },
    };
    const code = await command.run(context);
    if (memory) await memory.close();
    return code;
  } catch (error) {
    if (memory) await memory.close().catch(() => undefined);
    return report(error, wantsJson, out, err);
  }
}

function report(
  error: unknown,
  json: boolean,
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  const usage = error instanceof UsageError || isParseArgsError(error);
  const code = usage ? 2 : 1;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const body: Record<string, unknown> = { message, code: usage ? 'usage' : codeOf(error) };
    if (error instanceof ValidationError) body.field = error.field;
    out(JSON.stringify({ error: body }));
  }
  err(`mneme: ${message}${usage ? '\nRun `mneme help` for usage.' : ''}`);
  return code;
}

function codeOf(error: unknown): string {
  return error instanceof MnemeError ? error.code : 'internal_error';
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'mneme: persistent, per-user memory for AI agents',
    '',
    'Usage: mneme <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Every command takes --store URL (env MNEME_STORE; default: a SQLite file in the per-user data dir) and',
    '--json (one JSON document on stdout). Exit codes: 0 success, 1 failure, 2 usage error.',
    'Run `mneme <command> --help` for a command.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const flags = Object.entries({ ...command.options, ...GLOBAL_OPTIONS }).map(
    ([flag, spec]) => `  --${flag}${spec.type === 'string' ? ' VALUE' : ''}`,
  );
  return [
    `mneme ${command.name}: ${command.summary}`,
    '',
    `Usage: mneme ${command.usage}`,
    '',
    'Options:',
    ...flags,
  ].join('\n');
}
