/**
 * The memory hooks given to the Claude Agent SDK: retrieval on `UserPromptSubmit`, capture on `Stop`,
 * `PreCompact` and `SubagentStop`. Every callback catches everything: a failure (store down, embedder down,
 * unreadable transcript, deadline passed) is logged and the callback returns `{}`, so the agent carries on
 * without memory instead of failing. Capture only queues (`memory.enqueue`, durable once it resolves); ingestion
 * runs in the background worker, off the agent's critical path.
 */
import type { HookCallback, HookInput, HookJSONOutput } from '@anthropic-ai/claude-agent-sdk';
import { formatMemoryContext } from '../../core/context.js';
import { MnemeError } from '../../core/errors.js';
import { describeError, type Logger } from '../../core/logger.js';
import { normaliseText } from '../../core/text.js';
import type { Message, Metadata, Scope } from '../../core/types.js';
import { LIMITS } from '../../core/validate.js';
import type { Memory } from '../../memory/memory.js';
import {
  type BoundedSet,
  captureKey,
  createSessionState,
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
  SubagentStop: HookCallback;
}

/** Recorded on every captured queue item (`metadata.source`). */
export const CAPTURE_SOURCE = 'claude-agent-sdk';

type Run = (input: HookInput, signal: AbortSignal) => Promise<HookJSONOutput>;

/** Builds the hook callbacks. Their per-session state lives in the returned closures. */
export function createMemoryHooks(config: MemoryHooksConfig): MemoryHooks {
  const sessions = new LruMap<string, SessionState>(256);
  const subagents = new LruMap<string, SessionState>(256);
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
    if (query === '') return {};
    const { results } = await memory.search(query, {
      ...config.scope,
      // Ask for more than `limit` so memories already injected in this session do not crowd out new ones, but at
      // most twice as many: the search's cost grows with its limit (measured: 3x slower at limit 100 than at 20).
      limit: Math.min(LIMITS.searchLimit, config.limit + Math.min(state.injected.size, config.limit)),
      threshold: config.threshold,
    });
    const fresh = results
      .filter((result) => !state.injected.has(normaliseText(result.memory)))
      .slice(0, config.limit);
    const { text, includedIds } = formatMemoryContext(fresh, {
      maxTokens: config.maxContextTokens,
      ...(config.scope.userId ? { subject: config.scope.userId } : {}),
    });
    // The deadline passed while searching: the agent went on without these memories, so they were not injected.
    if (signal.aborted || text === '') return {};
    const included = new Set(includedIds);
    for (const result of fresh) if (included.has(result.id)) markInjected(state, result.memory);
    logger.debug('mneme: injected memories', { sessionId: input.session_id, count: included.size });
    return { hookSpecificOutput: { hookEventName: 'UserPromptSubmit', additionalContext: text } };
  };

  const capture = async (options: {
    state: SessionState;
    path: string;
    chain: 'main' | 'all';
    /** Which transcript texts are new when this process has not read the transcript yet. */
    firstContact: (texts: TranscriptText[]) => TranscriptText[];
    /** Texts the hook input proves were said, in case the transcript lags behind. */
    supplement: { prompt?: string | undefined; lastAssistant?: string | undefined };
    toMessage: (text: TranscriptText) => Message;
    scope: Scope;
    metadata: Metadata;
    signal: AbortSignal;
    /** Memories injected elsewhere that these messages may repeat (a subagent repeating the main session's). */
    alsoRecalled?: string[];
  }): Promise<void> => {
    const { state } = options;
    let texts: TranscriptText[];
    let nextOffset: number;
    if (state.transcriptOffset === undefined) {
      const chunk = await readTranscript(options.path, { chain: options.chain });
      for (const text of chunk.injected) markInjected(state, text);
      texts = options.firstContact(chunk.texts);
      nextOffset = chunk.nextOffset;
    } else {
      const chunk = await readTranscript(options.path, {
        chain: options.chain,
        offset: state.transcriptOffset,
      });
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
    const messages = withinLimits(fresh.map(options.toMessage));
    if (messages.some((message) => message.role === 'user' || message.role === 'assistant')) {
      const recalled = [
        ...state.injectedTexts,
        ...(options.alsoRecalled ?? []),
        ...config.recalledByTools.values(),
      ];
      for (let start = 0; start < messages.length; start += LIMITS.messagesPerAdd) {
        await memory.enqueue(messages.slice(start, start + LIMITS.messagesPerAdd), {
          ...options.scope,
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

  const mainMessage = (text: TranscriptText): Message => ({ role: text.role, content: text.text });

  const stop: Run = async (input, signal) => {
    if (input.hook_event_name !== 'Stop') return {};
    const state = sessions.getOrCreate(input.session_id, createSessionState);
    await capture({
      state,
      path: input.transcript_path,
      chain: 'main',
      firstContact: (texts) => currentExchange(texts, input.prompt_id),
      supplement: {
        prompt: input.prompt_id ? state.prompts.get(input.prompt_id) : undefined,
        lastAssistant: input.last_assistant_message,
      },
      toMessage: mainMessage,
      scope: config.scope,
      metadata: { source: CAPTURE_SOURCE, hookEvent: 'Stop', sessionId: input.session_id },
      signal,
    });
    return {};
  };

  const preCompact: Run = async (input, signal) => {
    if (input.hook_event_name !== 'PreCompact') return {};
    const state = sessions.getOrCreate(input.session_id, createSessionState);
    await capture({
      state,
      path: input.transcript_path,
      chain: 'main',
      // Compaction drops the whole context: on first contact, queue all of it (the pipeline drops duplicates).
      firstContact: (texts) => texts,
      supplement: {},
      toMessage: mainMessage,
      scope: config.scope,
      metadata: {
        source: CAPTURE_SOURCE,
        hookEvent: 'PreCompact',
        sessionId: input.session_id,
        trigger: input.trigger,
      },
      signal,
    });
    return {};
  };

  const subagentStop: Run = async (input, signal) => {
    if (input.hook_event_name !== 'SubagentStop') return {};
    const agentName = input.agent_type || input.agent_id;
    const state = subagents.getOrCreate(`${input.session_id}\u0000${input.agent_id}`, createSessionState);
    await capture({
      state,
      path: input.agent_transcript_path,
      chain: 'all',
      firstContact: (texts) => texts,
      supplement: { lastAssistant: input.last_assistant_message },
      // The subagent's "user" turns are the main agent's instructions, not the user's words: they go in as
      // context (system role, which verbatim ingestion never stores) and the subagent's findings as assistant.
      toMessage: (text) =>
        text.role === 'user'
          ? {
              role: 'system',
              content: `Task given to the ${agentName} subagent by the main agent: ${text.text}`,
            }
          : { role: 'assistant', content: text.text, name: agentName },
      scope: { ...config.scope, agentId: agentName },
      metadata: {
        source: CAPTURE_SOURCE,
        hookEvent: 'SubagentStop',
        sessionId: input.session_id,
        agentType: input.agent_type,
        agentInstanceId: input.agent_id,
      },
      signal,
      alsoRecalled: sessions.get(input.session_id)?.injectedTexts ?? [],
    });
    return {};
  };

  return {
    UserPromptSubmit: guard('UserPromptSubmit', userPromptSubmit),
    Stop: guard('Stop', stop),
    PreCompact: guard('PreCompact', preCompact),
    SubagentStop: guard('SubagentStop', subagentStop),
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
