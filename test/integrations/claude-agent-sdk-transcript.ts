/**
 * Writes Claude Code session transcripts (JSONL) in the shape the real CLI 2.1.x writes them (entries copied from
 * a real offline run: user prompt, hook_additional_context attachment, assistant text / tool_use, tool_result,
 * bookkeeping lines), so the hooks can be unit-tested without spawning the CLI.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export type TranscriptEntry = Record<string, unknown>;

export interface TranscriptWriter {
  path: string;
  sessionId: string;
  /** Appends entries as JSON lines. */
  append(...entries: TranscriptEntry[]): Promise<void>;
  /** A user prompt entry (returns the entry; its promptId is the hook's prompt_id). */
  prompt(
    text: string,
    options?: { promptId?: string; sidechain?: boolean; agentId?: string },
  ): TranscriptEntry;
  /** The attachment the CLI records for a UserPromptSubmit hook's additionalContext. */
  hookContext(additionalContext: string): TranscriptEntry;
  assistantText(text: string, options?: { sidechain?: boolean; agentId?: string }): TranscriptEntry;
  toolUse(name: string, input: unknown, id?: string): TranscriptEntry;
  toolResult(toolUseId: string, text: string, promptId?: string): TranscriptEntry;
  /** Lines that are not conversation (queue operations, request bookkeeping, a system-reminder attachment). */
  bookkeeping(): TranscriptEntry[];
}

export async function createTranscriptWriter(
  path: string,
  sessionId: string = randomUUID(),
): Promise<TranscriptWriter> {
  await mkdir(dirname(path), { recursive: true });
  let parentUuid: string | null = null;
  const base = (extra: TranscriptEntry): TranscriptEntry => {
    const uuid = randomUUID();
    const entry = {
      parentUuid,
      isSidechain: false,
      uuid,
      timestamp: new Date().toISOString(),
      userType: 'external',
      entrypoint: 'sdk-ts',
      cwd: '/tmp/project',
      sessionId,
      version: '2.1.331',
      ...extra,
    };
    parentUuid = uuid;
    return entry;
  };
  return {
    path,
    sessionId,
    async append(...entries) {
      await appendFile(path, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
    },
    prompt(text, options = {}) {
      return base({
        type: 'user',
        promptId: options.promptId ?? randomUUID(),
        message: { role: 'user', content: [{ type: 'text', text }] },
        permissionMode: 'default',
        promptSource: 'sdk',
        ...(options.sidechain ? { isSidechain: true, agentId: options.agentId } : {}),
      });
    },
    hookContext(additionalContext) {
      return base({
        type: 'attachment',
        attachment: {
          type: 'hook_additional_context',
          content: [additionalContext],
          hookName: 'UserPromptSubmit',
          toolUseID: `hook-${randomUUID()}`,
          hookEvent: 'UserPromptSubmit',
        },
      });
    },
    assistantText(text, options = {}) {
      return base({
        type: 'assistant',
        message: {
          id: `msg_${randomUUID()}`,
          role: 'assistant',
          model: 'claude-fake',
          content: [{ type: 'text', text }],
        },
        ...(options.sidechain ? { isSidechain: true, agentId: options.agentId } : {}),
      });
    },
    toolUse(name, input, id = `toolu_${randomUUID()}`) {
      return base({
        type: 'assistant',
        message: { role: 'assistant', content: [{ type: 'tool_use', id, name, input }] },
      });
    },
    toolResult(toolUseId, text, promptId) {
      return base({
        type: 'user',
        ...(promptId ? { promptId } : {}),
        message: {
          role: 'user',
          content: [{ tool_use_id: toolUseId, type: 'tool_result', content: [{ type: 'text', text }] }],
        },
      });
    },
    bookkeeping() {
      return [
        { type: 'queue-operation', operation: 'enqueue', timestamp: new Date().toISOString(), sessionId },
        base({
          type: 'attachment',
          attachment: { type: 'date', date: '2026-03-02' },
          rendered: [{ content: '<system-reminder>\nToday is 2026-03-02.\n</system-reminder>' }],
        }),
        { type: 'last-prompt', sessionId },
      ];
    },
  };
}
