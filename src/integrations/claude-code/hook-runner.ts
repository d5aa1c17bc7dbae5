/**
 * One Claude Code hook call of the mneme plugin (`mneme hook <event>`, see plugin/hooks/hooks.json): the hook input
 * is the JSON Claude Code writes on stdin; the result is what to print on stdout, the hookSpecificOutput JSON
 * Claude Code reads for `SessionStart` and `UserPromptSubmit`, or nothing.
 *
 * What each event does is the shared hook logic of src/integrations/claude-agent-sdk/hooks.ts (the same code
 * `withMemory` runs in process); this file only adapts it to one process per call:
 * - the session's bookkeeping is loaded from and saved to a {@link SessionStateStore} (files),
 * - the whole call has one deadline (`deadlineMs`, opening the store included): past it, nothing is printed,
 * - a capture (Stop, PreCompact, SessionEnd) only queues durably, then `startIngestion` is called so that
 *   a separate process ingests off the session's path; SessionStart also starts one when items were left queued.
 *
 * Contract: {@link runHook} never throws and never rejects. Any failure (bad input, store or embedder down,
 * deadline passed) is logged and gives `''`, so the command exits 0 with no output and the session goes on.
 */
import { MnemeError } from '../../core/errors.js';
import { describeError, type Logger } from '../../core/logger.js';
import type { Scope } from '../../core/types.js';
import type { Memory } from '../../memory/memory.js';
import { SESSION_CONTEXT_DEFAULTS } from '../../memory/session-context.js';
import { createMemoryHooks, type MemoryHooks } from '../claude-agent-sdk/hooks.js';
import { BoundedSet, type SessionStateStore } from '../claude-agent-sdk/session-state.js';

/** The events of `mneme hook <event>`, and the Claude Code hook event each one answers. */
export const HOOK_COMMAND_EVENTS = {
  'session-start': 'SessionStart',
  'user-prompt-submit': 'UserPromptSubmit',
  stop: 'Stop',
  'pre-compact': 'PreCompact',
  'session-end': 'SessionEnd',
} as const satisfies Record<string, keyof MemoryHooks>;

export type HookCommandEvent = keyof typeof HOOK_COMMAND_EVENTS;

/** Recorded as `metadata.source` on what the plugin captures. */
export const PLUGIN_CAPTURE_SOURCE = 'claude-code-plugin';

/** The default deadline of one hook call, in milliseconds (opening the store and loading the model included). */
export const DEFAULT_HOOK_DEADLINE_MS = 8000;

export interface RunHookOptions {
  /** The command's event name (`session-start`, ...). */
  event: string;
  /** The hook input as read from stdin. */
  input: string;
  /** Opens the memory (the caller closes it). */
  openMemory: () => Promise<Memory>;
  /** The user (and agent / app) the session works for. */
  scope: Scope & { userId: string };
  sessions: SessionStateStore;
  logger: Logger;
  /** Budget of the whole call in milliseconds. @default {@link DEFAULT_HOOK_DEADLINE_MS} */
  deadlineMs?: number;
  /** Starts ingesting the queue outside this process. Must not throw. */
  startIngestion: () => void;
}

/** Runs one hook call; resolves with the text to print on stdout (possibly empty). Never rejects. */
export async function runHook(options: RunHookOptions): Promise<string> {
  const started = Date.now();
  const deadlineMs = options.deadlineMs ?? DEFAULT_HOOK_DEADLINE_MS;
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  const work = (async (): Promise<string> => {
    const hookEvent = HOOK_COMMAND_EVENTS[options.event as HookCommandEvent];
    if (!hookEvent) {
      throw new MnemeError(
        `unknown hook event "${options.event}": expected one of ${Object.keys(HOOK_COMMAND_EVENTS).join(', ')}`,
        { code: 'hook_input' },
      );
    }
    const input = parseHookInput(options.input, hookEvent);
    const memory = await options.openMemory();
    let captured = false;
    const hooks = createMemoryHooks({
      memory,
      scope: options.scope,
      limit: SESSION_CONTEXT_DEFAULTS.limit,
      threshold: SESSION_CONTEXT_DEFAULTS.threshold,
      maxContextTokens: SESSION_CONTEXT_DEFAULTS.maxTokens,
      profile: true,
      profileTokens: SESSION_CONTEXT_DEFAULTS.profileTokens,
      // What is left of the call's budget once the store is open.
      timeoutMs: Math.max(1, deadlineMs - (Date.now() - started)),
      logger,
      recalledByTools: new BoundedSet<string>(1),
      sessions: options.sessions,
      source: PLUGIN_CAPTURE_SOURCE,
      onCaptured: () => {
        captured = true;
      },
    });
    // The hooks log and swallow their own failures (giving {}), as they must in process.
    const output = await hooks[hookEvent](input as never, undefined, {
      signal: new AbortController().signal,
    });
    if (captured || (hookEvent === 'SessionStart' && (await memory.store.queueSize()) > 0)) {
      options.startIngestion();
    }
    return output && Object.keys(output).length > 0 ? JSON.stringify(output) : '';
  })();
  try {
    const result = await Promise.race([work, deadline]);
    if (result === 'deadline') {
      work.catch(() => undefined);
      logger.warn(
        `mneme hook ${options.event}: gave up after ${deadlineMs} ms (--deadline-ms); the session goes on`,
        {
          hookEvent: options.event,
        },
      );
      return '';
    }
    return result;
  } catch (error) {
    logger.warn(`mneme hook ${options.event} failed; the session goes on without it`, {
      hookEvent: options.event,
      ...describeError(error),
    });
    return '';
  } finally {
    clearTimeout(timer);
  }
}

/** The hook input, checked for what the hooks read. @throws MnemeError naming the field. */
function parseHookInput(text: string, hookEvent: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MnemeError('hook input on stdin is not JSON (Claude Code writes one JSON object)', {
      code: 'hook_input',
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MnemeError('hook input on stdin must be a JSON object', { code: 'hook_input' });
  }
  const input = value as Record<string, unknown>;
  if (input.hook_event_name !== hookEvent) {
    throw new MnemeError(
      `hook input: hook_event_name is ${JSON.stringify(input.hook_event_name)}, this command answers "${hookEvent}" ` +
        '(check the event names in hooks.json)',
      { code: 'hook_input' },
    );
  }
  for (const field of ['session_id', 'transcript_path'] as const) {
    if (typeof input[field] !== 'string' || input[field] === '') {
      throw new MnemeError(`hook input: ${field} must be a non-empty string`, { code: 'hook_input' });
    }
  }
  if (hookEvent === 'UserPromptSubmit' && typeof input.prompt !== 'string') {
    throw new MnemeError('hook input: prompt must be a string', { code: 'hook_input' });
  }
  return input;
}
