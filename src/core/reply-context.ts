/**
 * Reply context: what a memory answered. An answer often shares no word with the question it answers ("What
 * gave you the idea?" / "I'm obsessed with those colours"), so a memory keeps the text of the turns it replied to
 * in `metadata['mneme:replyTo']`, and the keyword index of every store indexes that text with the memory
 * ({@link keywordText}). Search still returns the memory itself; the context only helps it be found.
 *
 * Where the context comes from (ingest/verbatim.ts): for a user answering an assistant, the assistant's question;
 * for a transcript of named speakers, the previous {@link CONTEXT_TURNS} turns of the conversation (without their
 * speaker labels). Erasing a memory also removes its text from the context of the memories that copied it
 * (memory/memory.ts `erase`).
 */
import type { Metadata } from './types.js';

/** Metadata key holding the text of the turns a memory replied to. */
export const REPLY_TO_KEY = 'mneme:replyTo';
/** Characters of one turn kept as context. */
export const REPLY_TO_TURN_LENGTH = 300;
/** Earlier turns of a named-speaker conversation kept as a turn's context. */
export const CONTEXT_TURNS = 2;

/** The reply context stored on a memory, or undefined. */
export function replyContextOf(metadata: Metadata | undefined): string | undefined {
  const value = metadata?.[REPLY_TO_KEY];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Metadata holding `turns` (oldest first) as reply context, each cut to {@link REPLY_TO_TURN_LENGTH}. */
export function replyContextMetadata(turns: readonly string[]): Metadata {
  const cut = turns
    .map((turn) => turn.trim())
    .filter((turn) => turn !== '')
    .map((turn) =>
      turn.length > REPLY_TO_TURN_LENGTH ? `${turn.slice(0, REPLY_TO_TURN_LENGTH - 1)}…` : turn,
    );
  return cut.length === 0 ? {} : { [REPLY_TO_KEY]: cut.join('\n') };
}

/**
 * The text a store's keyword index holds for a memory: its text, then its reply context on the next line. Every
 * MemoryStore indexes exactly this, so a query ranks the same way on every backend.
 */
export function keywordText(record: { memory: string; metadata?: Metadata | undefined }): string {
  const context = replyContextOf(record.metadata);
  return context === undefined ? record.memory : `${record.memory}\n${context}`;
}
