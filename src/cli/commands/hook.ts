import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConsoleLogger, describeError, type Logger, type LogLevel } from '../../core/logger.js';
import {
  DEFAULT_HOOK_DEADLINE_MS,
  HOOK_COMMAND_EVENTS,
  runHook,
} from '../../integrations/claude-code/hook-runner.js';
import { createSessionFiles } from '../../integrations/claude-code/session-files.js';
import { defaultDataDir, resolveAgentScope, resolveConfig } from '../../memory/config.js';
import { type Command, type CommandContext, optionalInteger, optionalString } from '../command.js';

/** How long `mneme hook ingest` may run before it stops (what is left stays queued for the next one). */
const INGEST_DEADLINE_MS = 120_000;
/** Session states untouched this long are deleted at SessionStart (sessions that never reached SessionEnd). */
const STATE_MAX_AGE_MS = 14 * 24 * 3600 * 1000;
/** The log file is rotated (to `hooks.log.1`) past this size. */
const LOG_MAX_BYTES = 1_000_000;
const BIN = fileURLToPath(new URL('../../../bin/mneme.js', import.meta.url));

/**
 * `mneme hook <event>`: the Claude Code plugin's command hooks (plugin/hooks/hooks.json). Events: session-start,
 * user-prompt-submit, stop, pre-compact, session-end (reading Claude Code's hook JSON on stdin, see
 * integrations/claude-code/hook-runner.ts), and `ingest`, which the capture events start as a detached process to
 * ingest the queue. The user: --user, env MNEME_USER, the config file's `user`, else the OS account name.
 * State and the log (`hooks.log`): --state-dir, else env CLAUDE_PLUGIN_DATA (set by Claude Code for a plugin),
 * else `<data dir>/claude-code`. Whatever happens, it exits 0; on failure it prints nothing and logs why (stderr and
 * the log file), so a session never breaks because of its memory.
 */
export const hookCommand: Command = {
  name: 'hook',
  summary:
    'Claude Code plugin hooks: inject memories at session start / prompt, capture at stop / compact / end',
  usage:
    `hook ${Object.keys(HOOK_COMMAND_EVENTS).join('|')}|ingest [--user U] [--agent A] [--app APP] ` +
    '[--deadline-ms N] [--state-dir DIR]   (hook JSON on stdin)',
  options: {
    user: { type: 'string', short: 'u' },
    agent: { type: 'string' },
    app: { type: 'string' },
    'deadline-ms': { type: 'string' },
    'state-dir': { type: 'string' },
  },
  async run(context) {
    const [event = ''] = context.positionals;
    const stateDir =
      optionalString(context, 'state-dir') ??
      nonEmpty(context.env.CLAUDE_PLUGIN_DATA) ??
      join(defaultDataDir(context.env), 'claude-code');
    const logger = hookLogger(context, stateDir);
    let deadlineMs = DEFAULT_HOOK_DEADLINE_MS;
    try {
      deadlineMs =
        event === 'ingest' ? INGEST_DEADLINE_MS : (optionalInteger(context, 'deadline-ms') ?? deadlineMs);
    } catch (error) {
      logger.warn('mneme hook: bad --deadline-ms, using the default', describeError(error));
    }
    // Whatever is still pending past the deadline (a model load, a locked store) must not keep the session waiting.
    setTimeout(() => process.exit(0), deadlineMs + 1000).unref();
    try {
      if (event === 'ingest') {
        await ingest(context, logger);
        return 0;
      }
      const scope = resolveAgentScope({
        userId: optionalString(context, 'user'),
        agentId: optionalString(context, 'agent'),
        appId: optionalString(context, 'app'),
        env: context.env,
      });
      const sessions = createSessionFiles(join(stateDir, 'sessions'));
      if (event === 'session-start') {
        await sessions.prune(STATE_MAX_AGE_MS).catch((error: unknown) => {
          logger.warn('mneme hook: could not prune old session states', describeError(error));
        });
      }
      const output = await runHook({
        event,
        input: await readStdin(deadlineMs),
        scope,
        sessions,
        logger,
        deadlineMs,
        openMemory: () => context.openMemory({ logger, ingestion: { background: false, closeTimeoutMs: 0 } }),
        startIngestion: () => startIngestion(context, stateDir, logger),
      });
      if (output !== '') context.out(output);
    } catch (error) {
      logger.warn(`mneme hook ${event} failed; the session goes on without it`, describeError(error));
    }
    return 0;
  },
};

/** Ingests every item queued now (what the capture hooks queued, and anything left before). */
async function ingest(context: CommandContext, logger: Logger): Promise<void> {
  const memory = await context.openMemory({ logger, ingestion: { background: false } });
  const result = await memory.flush();
  logger.info('mneme hook ingest: done', { ...result });
}

/** Starts `mneme hook ingest` detached, so the hook returns at once. Failures are logged. */
function startIngestion(context: CommandContext, stateDir: string, logger: Logger): void {
  const store = optionalString(context, 'store');
  const args = [BIN, 'hook', 'ingest', '--state-dir', stateDir, ...(store ? ['--store', store] : [])];
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env: context.env });
    child.on('error', (error) => logger.warn('mneme hook: could not start ingestion', describeError(error)));
    child.unref();
  } catch (error) {
    logger.warn(
      'mneme hook: could not start ingestion; it stays queued for the next one',
      describeError(error),
    );
  }
}

/** JSON lines at the configured level (MNEME_LOG_LEVEL, default warn) to stderr and `<stateDir>/hooks.log`. */
function hookLogger(context: CommandContext, stateDir: string): Logger {
  let level: LogLevel = 'warn';
  try {
    level = resolveConfig({ env: context.env }).logLevel;
  } catch {
    // A bad config is reported by the memory when it opens; log at the default level meanwhile.
  }
  const file = join(stateDir, 'hooks.log');
  return createConsoleLogger(level, (line) => {
    context.err(line);
    try {
      mkdirSync(stateDir, { recursive: true });
      if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > LOG_MAX_BYTES)
        renameSync(file, `${file}.1`);
      appendFileSync(file, `${line}\n`, { mode: 0o600 });
    } catch {
      // The log file is a convenience; stderr has the line.
    }
  });
}

/** All of stdin, or what arrived before the deadline. */
function readStdin(deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      process.stdin.pause();
      resolve(Buffer.concat(parts).toString('utf8'));
    }, deadlineMs);
    timer.unref();
    process.stdin.on('data', (part: Buffer) => parts.push(part));
    process.stdin.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts).toString('utf8'));
    });
    process.stdin.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
