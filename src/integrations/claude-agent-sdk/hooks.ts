/**
 * mneme's Claude Code hooks, shared by the Agent SDK integration (`withMemory` registers `UserPromptSubmit`, `Stop`,
 * `PreCompact` as in-process callbacks) and the Claude Code plugin (`mneme hook <event>` runs all five, one process
 * per call, with its session state in files):
 * - `SessionStart` (startup, resume, clear, compact): the user's profile, as `additionalContext`.
 * - `UserPromptSubmit`: the memories relevant to the prompt, and the profile when the session has not had it.
 * - `Stop`, `PreCompact`, `SessionEnd`: queue the new user / assistant messages of the transcript for ingestion.
 * Every callback catches everything: a failure (store down, embedder down, unreadable transcript, deadline passed)
 * is logged and the callback returns `{}`, so the agent carries on without memory instead of failing. Capture only
 * queues (`memory.enqueue`, durable once it resolves); ingestion runs in a background worker, off the agent's
 * critical path.
 */
import type { HookCallback, HookInput, HookJSONOutput } from '@anthropic-ai/claude-agent-sdk';
import { MnemeError } from '../../core/errors.js';
import { describeError, type Logger } from '../../core/logger.js';
import type { Message, Metadata, Scope } from '../../core/types.js';
import { LIMITS } from '../../core/validate.js';
import type { Memory } from '../../memory/memory.js';
import { buildSessionContext } from '../../memory/session-context.js';
import {
  type BoundedSet,
  captureKey,
  createInProcessSessionStates,
  forgetInjected,
  markInjected,
  type SessionState,
  type SessionStateStore,
} from './session-state.js';
import { MACHINE_PROMPT, readTranscript, stripInjectedContext, type TranscriptText } from './transcript.js';

/** The resolved settings the hooks run with (see `MemoryIntegrationSettings` for the documented options). */
export interface MemoryHooksConfig {
  memory: Memory;
  /** The user's scope (always has `userId`). Reads and main-thread captures use it as is. */
  scope: Scope;
  limit: number;
  threshold: number;
  maxContextTokens: number;
  /** Give the profile at a session's first prompt, after a resume and after a compaction. */
  profile: boolean;
  profileTokens: number;
  timeoutMs: number;
  logger: Logger;
  /** Memory texts returned by the `recall` tool: passed to ingestion as `recalled` (never stored again). */
  recalledByTools: BoundedSet<string>;
  /** Where each session's bookkeeping is kept between calls. @default in this process (256 sessions) */
  sessions?: SessionStateStore;
  /** Recorded on every captured queue item as `metadata.source`. @default 'claude-agent-sdk' */
  source?: string;
  /** Called after a capture queued messages (the plugin starts its ingestion process then). */
  onCaptured?: (messages: number) => void;
}

/** One callback per hook event mneme handles. */
export interface MemoryHooks {
  SessionStart: HookCallback;
  UserPromptSubmit: HookCallback;
  Stop: HookCallback;
  PreCompact: HookCallback;
  SessionEnd: HookCallback;
}

/** Recorded on every captured queue item (`metadata.source`) by default. */
export const CAPTURE_SOURCE = 'claude-agent-sdk';

type Run = (input: HookInput, signal: AbortSignal) => Promise<HookJSONOutput>;

/** Builds the hook callbacks. Their per-session state lives in `config.sessions`. */
export function createMemoryHooks(config: MemoryHooksConfig): MemoryHooks {
  const sessions = config.sessions ?? createInProcessSessionStates();
  const source = config.source ?? CAPTURE_SOURCE;
  const { memory, logger } = config;

  const guard =
    (event: string, run: Run): HookCallback =>
    async (input, _toolUseId, options) => {
      const controller = new AbortController();
      const outer = options?.signal;
      const onAbort = (): void =>
        controller.abort(new MnemeError(`${event} hook aborted by the agent`, { code: 'hook_aborted' }));
      const timer = setTimeout(
        () =>
          controller.abort(
            new MnemeError(`${event} hook took longer than ${config.timeoutMs} ms (setting timeoutMs)`, {
              code: 'hook_timeout',
            }),
          ),
        config.timeoutMs,
      );
      if (outer?.aborted) onAbort();
      outer?.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.race([run(input, controller.signal), rejectOnAbort(controller.signal)]);
      } catch (error) {
        logger.warn(`mneme: ${event} hook failed; the agent continues without it`, {
          hookEvent: event,
          sessionId: input?.session_id,
          ...describeError(error),
        });
        return {};
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onAbort);
      }
    };

  /** First contact with a session in this process: learn what the transcript already holds. */
  async function syncTranscript(state: SessionState, path: string): Promise<TranscriptText[]> {
    const chunk = await readTranscript(path);
    for (const text of chunk.injected) markInjected(state, text);
    state.transcriptOffset = chunk.nextOffset;
    return chunk.texts;
  }

  const userPromptSubmit: Run = async (input, signal) => {
    if (input.hook_event_name !== 'UserPromptSubmit') return {};
    // Notifications the CLI submits as prompts (a background subagent finished) are not the user asking.
    if (input.source === 'system' || MACHINE_PROMPT.test(input.prompt.trimStart())) return {};
    const state = await sessions.load(input.session_id);
    if (input.prompt_id) state.prompts.set(input.prompt_id, input.prompt);
    if (state.transcriptOffset === undefined) await syncTranscript(state, input.transcript_path);
    const query = stripInjectedContext(input.prompt).slice(0, LIMITS.queryLength);
    const includeProfile = config.profile && !state.profileGiven;
    if (query === '' && !includeProfile) {
      await sessions.save(input.session_id, state);
      return {};
    }
    const context = await buildSessionContext(memory, {
      scope: config.scope,
      prompt: query,
      includeProfile,
      profileTokens: config.profileTokens,
      maxTokens: config.maxContextTokens,
      limit: config.limit,
      threshold: config.threshold,
      alreadyInjected: state.injected,
    });
    // The deadline passed while searching: the agent went on without these memories, so they were not given.
    if (signal.aborted) return {};
    if (includeProfile) state.profileGiven = true;
    for (const text of context.includedTexts) markInjected(state, text);
    await sessions.save(input.session_id, state);
    if (context.text === '') return {};
    logger.debug('mneme: injected memories', {
      sessionId: input.session_id,
      count: context.includedIds.length,
      profile: context.profile.filter((item) => item.included).length,
    });
    return { hookSpecificOutput: { hookEventName: 'UserPromptSubmit', additionalContext: context.text } };
  };

  const sessionStart: Run = async (input, signal) => {
    if (input.hook_event_name !== 'SessionStart') return {};
    const state = await sessions.load(input.session_id);
    // After a compaction or /clear the model no longer sees what was injected before.
    if (input.source === 'compact' || input.source === 'clear') forgetInjected(state);
    // A resumed (or forked) session's transcript already holds blocks: learn them, and start capturing after them.
    if (state.transcriptOffset === undefined) await syncTranscript(state, input.transcript_path);
    if (!config.profile || state.profileGiven) {
      await sessions.save(input.session_id, state);
      return {};
    }
    const context = await buildSessionContext(memory, {
      scope: config.scope,
      prompt: '',
      includeProfile: true,
      profileTokens: config.profileTokens,
      maxTokens: config.maxContextTokens,
      limit: config.limit,
      threshold: config.threshold,
      alreadyInjected: state.injected,
    });
    if (signal.aborted) return {};
    state.profileGiven = true;
    for (const text of context.includedTexts) markInjected(state, text);
    await sessions.save(input.session_id, state);
    if (context.text === '') return {};
    logger.debug('mneme: injected the profile', {
      sessionId: input.session_id,
      count: context.includedIds.length,
    });
    return { hookSpecificOutput: { hookEventName: 'SessionStart', additionalContext: context.text } };
  };

  const capture = async (options: {
    state: SessionState;
    path: string;
    /** Which transcript texts are new when this process has not read the transcript yet. */
    firstContact: (texts: TranscriptText[]) => TranscriptText[];
    /** Texts the hook input proves were said, in case the transcript lags behind. */
    supplement: { prompt?: string | undefined; lastAssistant?: string | undefined };
    metadata: Metadata;
    signal: AbortSignal;
    /** Keeps the state once the capture is queued. */
    save: () => Promise<void>;
  }): Promise<void> => {
    const { state } = options;
    let texts: TranscriptText[];
    let nextOffset: number;
    if (state.transcriptOffset === undefined) {
      const chunk = await readTranscript(options.path);
      for (const text of chunk.injected) markInjected(state, text);
      texts = options.firstContact(chunk.texts);
      nextOffset = chunk.nextOffset;
    } else {
      const chunk = await readTranscript(options.path, { offset: state.transcriptOffset });
      for (const text of chunk.injected) markInjected(state, text);
      texts = chunk.texts;
      nextOffset = chunk.nextOffset;
    }
    const fresh: TranscriptText[] = [];
    const keys = new Set<string>();
    const add = (text: TranscriptText, where: 'start' | 'end'): void => {
      const key = captureKey(text.role, text.text);
      if (state.captured.has(key) || keys.has(key)) return;
      keys.add(key);
      if (where === 'start') fresh.unshift(text);
      else fresh.push(text);
    };
    for (const text of texts) add(text, 'end');
    const prompt = options.supplement.prompt && stripInjectedContext(options.supplement.prompt);
    if (prompt) add({ role: 'user', text: prompt }, 'start');
    const lastAssistant =
      options.supplement.lastAssistant && stripInjectedContext(options.supplement.lastAssistant);
    if (lastAssistant) add({ role: 'assistant', text: lastAssistant }, 'end');

    // One message per text block: an assistant reply split by tool calls stays split, so that a block repeating an
    // injected memory is recognised as a recall echo by the pipeline (it compares whole messages).
    const messages = withinLimits(fresh.map((text): Message => ({ role: text.role, content: text.text })));
    if (messages.some((message) => message.role === 'user' || message.role === 'assistant')) {
      const recalled = [...state.injectedTexts, ...config.recalledByTools.values()];
      for (let start = 0; start < messages.length; start += LIMITS.messagesPerAdd) {
        await memory.enqueue(messages.slice(start, start + LIMITS.messagesPerAdd), {
          ...config.scope,
          metadata: options.metadata,
          actor: source,
          ...(recalled.length > 0 ? { recalled } : {}),
        });
      }
      config.onCaptured?.(messages.length);
    }
    // Only now is the exchange safely queued: advance the cursor. (If the deadline passed, the enqueue may still
    // land; the next capture then queues the same texts again and the pipeline's duplicate check drops them.)
    if (options.signal.aborted) return;
    state.transcriptOffset = nextOffset;
    for (const key of keys) state.captured.add(key);
    await options.save();
    logger.debug('mneme: captured messages', {
      count: messages.length,
      hookEvent: options.metadata.hookEvent,
    });
  };

  const stop: Run = async (input, signal) => {
    if (input.hook_event_name !== 'Stop') return {};
    const state = await sessions.load(input.session_id);
    await capture({
      state,
      path: input.transcript_path,
      firstContact: (texts) => currentExchange(texts, input.prompt_id),
      supplement: {
        prompt: input.prompt_id ? state.prompts.get(input.prompt_id) : undefined,
        lastAssistant: input.last_assistant_message,
      },
      metadata: { source, hookEvent: 'Stop', sessionId: input.session_id },
      signal,
      save: () => sessions.save(input.session_id, state),
    });
    return {};
  };

  const preCompact: Run = async (input, signal) => {
    if (input.hook_event_name !== 'PreCompact') return {};
    const state = await sessions.load(input.session_id);
    try {
      await capture({
        state,
        path: input.transcript_path,
        // Compaction drops the whole context: on first contact, queue all of it (the pipeline drops duplicates).
        firstContact: (texts) => texts,
        supplement: {},
        metadata: {
          source,
          hookEvent: 'PreCompact',
          sessionId: input.session_id,
          trigger: input.trigger,
        },
        signal,
        save: async () => undefined,
      });
    } finally {
      // Compaction drops what was injected before it: give the profile and memories again at the next prompt.
      forgetInjected(state);
      await sessions.save(input.session_id, state);
    }
    return {};
  };

  const sessionEnd: Run = async (input, signal) => {
    if (input.hook_event_name !== 'SessionEnd') return {};
    const state = await sessions.load(input.session_id);
    // What the last Stop could not queue (it failed, or the session ended mid-turn).
    await capture({
      state,
      path: input.transcript_path,
      firstContact: (texts) => currentExchange(texts, input.prompt_id),
      supplement: { prompt: input.prompt_id ? state.prompts.get(input.prompt_id) : undefined },
      metadata: { source, hookEvent: 'SessionEnd', sessionId: input.session_id, reason: input.reason },
      signal,
      save: async () => undefined,
    });
    // A later resume rebuilds what it needs from the transcript.
    if (!signal.aborted) await sessions.delete(input.session_id);
    return {};
  };

  return {
    SessionStart: guard('SessionStart', sessionStart),
    UserPromptSubmit: guard('UserPromptSubmit', userPromptSubmit),
    Stop: guard('Stop', stop),
    PreCompact: guard('PreCompact', preCompact),
    SessionEnd: guard('SessionEnd', sessionEnd),
  };
}

/**
 * The texts of the exchange that just finished, for a process that has not seen this session before (it resumed a
 * session another process ran): from the prompt with `promptId` on, else from the last user prompt on.
 */
function currentExchange(texts: TranscriptText[], promptId: string | undefined): TranscriptText[] {
  let start = promptId ? texts.findIndex((text) => text.role === 'user' && text.promptId === promptId) : -1;
  if (start < 0) start = texts.findLastIndex((text) => text.role === 'user');
  return start < 0 ? texts : texts.slice(start);
}

/** Messages within the size `add` accepts (a longer text is cut: memory is for statements, not documents). */
function withinLimits(messages: Message[]): Message[] {
  return messages.map((message) => ({
    ...message,
    content: message.content.slice(0, LIMITS.memoryTextLength),
  }));
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
