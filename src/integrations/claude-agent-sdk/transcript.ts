/**
 * Reading Claude Code session transcripts (`<CLAUDE_CONFIG_DIR>/projects/<key>/<sessionId>.jsonl`, one JSON entry
 * per line, append-only) for the memory hooks: which memory blocks were already injected into a session, and
 * which user / assistant messages are new since the last read.
 *
 * Facts this relies on (Claude Agent SDK 0.3.x, CLI 2.1.x):
 * - Conversation entries have `type: 'user' | 'assistant'`, a `uuid`, `isSidechain`, and `message.content`
 *   (a string or content blocks). Tool results come back as `user` entries holding `tool_result` blocks.
 * - A hook's `additionalContext` is stored as an `attachment` entry (`hook_additional_context`) and replayed to the
 *   model on resume, so injected memories are found by scanning every string of an entry for our delimited block.
 * - The CLI writes the transcript asynchronously: when a hook fires, the newest entries (the final assistant
 *   message, a subagent's whole file) may not be on disk yet. Callers supplement from the hook input.
 */
import { open } from 'node:fs/promises';
import { MEMORY_CONTEXT_TAG } from '../../core/context.js';

/** One conversation text from a transcript: a user prompt or an assistant text block, already cleaned. */
export interface TranscriptText {
  role: 'user' | 'assistant';
  text: string;
  /** The transcript entry it came from. */
  uuid?: string;
  /** The prompt it belongs to (set on user entries by the CLI). */
  promptId?: string;
}

/** What one read of a transcript found. */
export interface TranscriptChunk {
  /** Conversation texts in file order. */
  texts: TranscriptText[];
  /** Memory texts found inside injected memory blocks (since the last compaction in the part read). */
  injected: string[];
  /** Byte offset just past the last complete line read: pass it to the next read. */
  nextOffset: number;
}

/** Which entries count as conversation. */
export interface ReadTranscriptOptions {
  /** Byte offset to start from (a previous `nextOffset`). Restarts at 0 when the file is now shorter. @default 0 */
  offset?: number;
  /** Keep main-thread entries (`main`), subagent entries (`sidechain`), or both (`all`). @default 'main' */
  chain?: 'main' | 'sidechain' | 'all';
}

const OPEN_TAG = `<${MEMORY_CONTEXT_TAG}>`;
const CLOSE_TAG = `</${MEMORY_CONTEXT_TAG}>`;

/**
 * Reads complete lines from `offset` to the end of a transcript. A missing file reads as empty (a new session's
 * transcript does not exist before its first entry is written). A last line without its newline is left for the
 * next read, since the CLI may be writing it. Lines that are not JSON are skipped.
 */
export async function readTranscript(
  path: string,
  options: ReadTranscriptOptions = {},
): Promise<TranscriptChunk> {
  const chain = options.chain ?? 'main';
  let offset = options.offset ?? 0;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      return { texts: [], injected: [], nextOffset: offset };
    throw error;
  }
  let buffer: Buffer;
  try {
    const { size } = await handle.stat();
    if (size < offset) offset = 0;
    buffer = Buffer.alloc(size - offset);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    buffer = buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
  const end = buffer.lastIndexOf(0x0a);
  if (end < 0) return { texts: [], injected: [], nextOffset: offset };
  const texts: TranscriptText[] = [];
  const injected: string[] = [];
  for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) {
    // Most lines (attachments, snapshots, bookkeeping) are neither conversation nor injected memories: skip
    // them before paying for JSON.parse.
    const hasBlock = line.includes(OPEN_TAG);
    const mayCompact = line.includes('compact_boundary') || line.includes('isCompactSummary');
    if (!hasBlock && !mayCompact && !line.includes('"type":"user"') && !line.includes('"type":"assistant"'))
      continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    // The model no longer sees blocks injected before a compaction: only later ones count as given.
    if (mayCompact && isCompaction(entry)) injected.length = 0;
    if (hasBlock) injected.push(...injectedTextsIn(entry));
    const text = conversationText(entry, chain);
    if (text) texts.push(text);
  }
  return { texts, injected, nextOffset: offset + end + 1 };
}

/** A compaction marker: the CLI's `compact_boundary` system entry, or the summary that replaces the context. */
function isCompaction(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const record = entry as Record<string, unknown>;
  return (
    record.isCompactSummary === true || (record.type === 'system' && record.subtype === 'compact_boundary')
  );
}

/** The memory texts inside every injected block found in any string of `value` (walked recursively). */
export function injectedTextsIn(value: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      if (node.includes(OPEN_TAG)) found.push(...parseMemoryBlocks(node));
    } else if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (typeof node === 'object' && node !== null) {
      for (const item of Object.values(node)) visit(item);
    }
  };
  visit(value);
  return found;
}

/**
 * The memory texts of the blocks rendered by `formatMemoryContext`: each item is a line `- [date] "<JSON string>"`
 * whose escapes (`\u003c`, `\n`, ...) JSON.parse reverses, giving back the stored text exactly.
 */
export function parseMemoryBlocks(text: string): string[] {
  const texts: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf(OPEN_TAG, from);
    if (start < 0) break;
    const stop = text.indexOf(CLOSE_TAG, start);
    const body = text.slice(start + OPEN_TAG.length, stop < 0 ? undefined : stop);
    for (const line of body.split('\n')) {
      const match = /^- \[[^\]]*\](?: [a-z_]+:)? ("(?:[^"\\]|\\.)*")\s*$/.exec(line);
      if (!match?.[1]) continue;
      try {
        const value: unknown = JSON.parse(match[1]);
        if (typeof value === 'string') texts.push(value);
      } catch {
        // Not one of our lines.
      }
    }
    if (stop < 0) break;
    from = stop + CLOSE_TAG.length;
  }
  return texts;
}

/** Removes injected memory blocks and `<system-reminder>` blocks (harness context, not the user's words). */
export function stripInjectedContext(text: string): string {
  return text
    .replace(new RegExp(`${OPEN_TAG}[\\s\\S]*?(?:${CLOSE_TAG}|$)`, 'g'), '')
    .replace(/<system-reminder>[\s\S]*?(?:<\/system-reminder>|$)/g, '')
    .trim();
}

/**
 * Machine-written "user" turns: slash-command bookkeeping, and the notification the CLI submits as a prompt when
 * a background subagent finishes (measured: `<task-notification>...`, recorded with `promptSource: 'system'`).
 */
export const MACHINE_PROMPT =
  /^<(?:command-name|command-message|command-args|local-command-stdout|local-command-stderr|task-notification)>/;

function conversationText(entry: unknown, chain: 'main' | 'sidechain' | 'all'): TranscriptText | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const record = entry as Record<string, unknown>;
  const role = record.type;
  if (role !== 'user' && role !== 'assistant') return undefined;
  if (
    record.isMeta === true ||
    record.isCompactSummary === true ||
    record.isVisibleInTranscriptOnly === true ||
    record.promptSource === 'system'
  ) {
    return undefined;
  }
  const sidechain = record.isSidechain === true;
  if ((chain === 'main' && sidechain) || (chain === 'sidechain' && !sidechain)) return undefined;
  const message = record.message;
  if (typeof message !== 'object' || message === null) return undefined;
  const content = (message as { content?: unknown }).content;
  const parts: string[] = [];
  if (typeof content === 'string') parts.push(content);
  else if (Array.isArray(content)) {
    for (const block of content) {
      if (typeof block !== 'object' || block === null) continue;
      const { type, text } = block as { type?: unknown; text?: unknown };
      // Tool calls and tool results are not conversation; thinking is not said to the user.
      if (type === 'text' && typeof text === 'string') parts.push(text);
    }
  }
  const text = stripInjectedContext(parts.join('\n'));
  if (text === '' || MACHINE_PROMPT.test(text)) return undefined;
  const result: TranscriptText = { role, text };
  if (typeof record.uuid === 'string') result.uuid = record.uuid;
  if (typeof record.promptId === 'string') result.promptId = record.promptId;
  return result;
}
