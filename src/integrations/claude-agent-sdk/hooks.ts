/**
 * The memory hooks given to the Claude Agent SDK: retrieval on `UserPromptSubmit`, capture on `Stop`,
 * `PreCompact`. Every callback catches everything: a failure (store down, embedder down,
 * unreadable transcript, deadline passed) is logged and the callback returns `{}`, so the agent carries on
 * without memory instead of failing. Capture only queues (`memory.enqueue`, durable once it resolves); ingestion
 * runs in the background worker, off the agent's critical path.
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
  createSessionState,
  forgetInjected,
  LruMap,
  markInjected,
  type SessionState,
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
}

/** One callback per hook event mneme handles. */
export interface MemoryHooks {
  UserPromptSubmit: HookCallback;
  Stop: HookCallback;
  PreCompact: HookCallback;
}

/** Recorded on every captured queue item (`metadata.source`). */
export const CAPTURE_SOURCE = 'claude-agent-sdk';

type Run = (input: HookInput, signal: AbortSignal) => Promise<HookJSONOutput>;

/** Builds the hook callbacks. Their per-session state lives in the returned closures. */
export function createMemoryHooks(config: MemoryHooksConfig): MemoryHooks {
  const sessions = new LruMap<string, SessionState>(256);
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
    const state = sessions.getOrCreate(input.session_id, createSessionState);
    if (input.prompt_id) state.prompts.set(input.prompt_id, input.prompt);
    if (state.transcriptOffset === undefined) await syncTranscript(state, input.transcript_path);
    const query = stripInjectedContext(input.prompt).slice(0, LIMITS.queryLength);
    const includeProfile = config.profile && !state.profileGiven;
    if (query === '' && !includeProfile) return {};
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
    if (context.text === '') return {};
    for (const text of context.includedTexts) markInjected(state, text);
    logger.debug('mneme: injected memories', {
      sessionId: input.session_id,
      count: context.includedIds.length,
      profile: context.profile.filter((item) => item.included).length,
    });
    return { hookSpecificOutput: { hookEventName: 'UserPromptSubmit', additionalContext: context.text } };
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
          actor: CAPTURE_SOURCE,
          ...(recalled.length > 0 ? { recalled } : {}),
        });
      }
    }
    // Only now is the exchange safely queued: advance the cursor. (If the deadline passed, the enqueue may still
    // land; the next capture then queues the same texts again and the pipeline's duplicate check drops them.)
    if (options.signal.aborted) return;
    state.transcriptOffset = nextOffset;
    for (const key of keys) state.captured.add(key);
    logger.debug('mneme: captured messages', {
      count: messages.length,
      hookEvent: options.metadata.hookEvent,
    });
  };

  const stop: Run = async (input, signal) => {
    if (input.hook_event_name !== 'Stop') return {};
    const state = sessions.getOrCreate(input.session_id, createSessionState);
    await capture({
      state,
      path: input.transcript_path,
      firstContact: (texts) => currentExchange(texts, input.prompt_id),
      supplement: {
        prompt: input.prompt_id ? state.prompts.get(input.prompt_id) : undefined,
        lastAssistant: input.last_assistant_message,
      },
      metadata: { source: CAPTURE_SOURCE, hookEvent: 'Stop', sessionId: input.session_id },
      signal,
    });
    return {};
  };

  const preCompact: Run = async (input, signal) => {
    if (input.hook_event_name !== 'PreCompact') return {};
    const state = sessions.getOrCreate(input.session_id, createSessionState);
    try {
      await capture({
        state,
        path: input.transcript_path,
        // Compaction drops the whole context: on first contact, queue all of it (the pipeline drops duplicates).
        firstContact: (texts) => texts,
        supplement: {},
        metadata: {
          source: CAPTURE_SOURCE,
          hookEvent: 'PreCompact',
          sessionId: input.session_id,
          trigger: input.trigger,
        },
        signal,
      });
    } finally {
      // Compaction drops what was injected before it: give the profile and memories again at the next prompt.
      forgetInjected(state);
    }
    return {};
  };

  return {
    UserPromptSubmit: guard('UserPromptSubmit', userPromptSubmit),
    Stop: guard('Stop', stop),
    PreCompact: guard('PreCompact', preCompact),
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
