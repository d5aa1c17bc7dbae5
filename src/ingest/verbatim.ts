/**
 * The no-LLM extraction step. Memories about a user come from what the user said:
 * - System and tool messages are never stored. Assistant messages are never stored as memories about the user
 *   (reason `assistant_message`); an assistant question the user answers is kept as the answer's context in
 *   metadata (`mneme:replyTo`, core/reply-context.ts), never shown as a user fact.
 * - A user message is read sentence by sentence (statements/): questions and requests that state nothing about
 *   the user are dropped (reasons `question`, `request`); a message that mixes a statement and a question keeps
 *   the statement ("I'm on PostgreSQL 15, how do I add a column?" keeps "I'm on PostgreSQL 15"). Each standing
 *   sentence (a preference, an instruction, a fact about the user) becomes its own memory with its kind and its
 *   claim, so a later change replaces exactly it; neighbouring plain statements stay together in one memory.
 * - Messages from named speakers (`name`: transcripts of people talking to each other, e.g. LoCoMo) are stored
 *   whole, questions included: between people, a question carries the conversation. Each keeps the previous
 *   turns of the conversation (this call's earlier named turns, else `request.priorTurns`) as its reply context.
 * - A sentence that carried a secret (redacted before this step: "The staging DB password is [REDACTED:...]") is
 *   dropped (reason `secret`): what is left of it is not worth remembering.
 * - Empty and low-signal messages ("ok", "thanks!") and recall echoes (a message that only repeats memories
 *   injected into the prompt) are skipped, as before.
 * The user's words are stored verbatim: sentences are cut at their boundaries, never rewritten.
 */

import { CONTEXT_TURNS, replyContextMetadata } from '../core/reply-context.js';
import { isLowSignal, normaliseText } from '../core/text.js';
import { analyseClaim, type Claim, mergeClaims } from './statements/claims.js';
import { type Span, splitQuestionClauses, splitSentences } from './statements/sentences.js';
import { classifySentence, opensQuestion, type SpeechAct } from './statements/speech-acts.js';
import { claimOfText, slotTopic } from './supersession.js';
import type { CandidateMemory, IngestRequest, SkippedMessage } from './types.js';

export { REPLY_TO_KEY } from '../core/reply-context.js';

/** Splits messages into candidates and skipped messages. */
export function extractVerbatim(request: IngestRequest): {
  candidates: CandidateMemory[];
  skipped: SkippedMessage[];
} {
  const candidates: CandidateMemory[] = [];
  const skipped: SkippedMessage[] = [];
  const recalled = new Set((request.recalled ?? []).map((text) => normaliseText(text)));
  let lastAssistant: string | undefined;
  const conversation = [...(request.priorTurns ?? [])];
  for (const [index, message] of request.messages.entries()) {
    const text = message.content.trim();
    const skip = (reason: SkippedMessage['reason'], skippedText = text): void => {
      skipped.push({ index, reason, text: skippedText });
    };
    if (message.role === 'system') {
      skip('system_message');
      continue;
    }
    if (message.role === 'tool') {
      skip('tool_message');
      continue;
    }
    if (text.length === 0) {
      skip('empty');
      continue;
    }
    if (isLowSignal(text)) {
      skip('low_signal');
      continue;
    }
    if (isRecallEcho(text, recalled)) {
      skip('recall_echo');
      continue;
    }
    if (message.role === 'assistant') {
      lastAssistant = text;
      skip('assistant_message');
      continue;
    }
    const replyTo = lastAssistant && /\?\s*$/.test(lastAssistant) ? lastAssistant : undefined;
    lastAssistant = undefined;
    const base = (memoryText: string, claim: Claim | undefined): CandidateMemory => {
      const candidate: CandidateMemory = {
        text: memoryText,
        kind: claim?.kind ?? 'message',
        role: message.role,
        observedAt: request.observedAt,
        sourceIndex: index,
      };
      if (message.name) candidate.speaker = message.name;
      if (claim) candidate.claim = claim;
      if (claim?.slot) candidate.topic = slotTopic(claim.slot);
      if (replyTo) candidate.metadata = replyContextMetadata([replyTo]);
      return candidate;
    };
    if (message.name) {
      const spoken = withoutSpeakerLabel(text, message.name);
      const candidate = base(text, claimOfText(spoken));
      const context = replyContextMetadata(conversation.slice(-CONTEXT_TURNS));
      if (Object.keys(context).length > 0) candidate.metadata = { ...candidate.metadata, ...context };
      candidates.push(candidate);
      conversation.push(spoken);
      continue;
    }
    const { kept, dropped } = readUserMessage(text, recalled);
    for (const part of dropped) skip(part.reason, part.text);
    for (const part of kept) candidates.push(base(part.text, part.claim));
  }
  return { candidates, skipped };
}

type DroppedReason = 'question' | 'request' | 'recall_echo' | 'secret';
/** What redaction (redact.ts) leaves where a secret was. */
const REDACTED_MARK = '[REDACTED:';

interface Clause extends Span {
  act: SpeechAct;
}

/** The statements of a user message to keep (grouped, see the module comment) and the parts dropped. */
function readUserMessage(
  text: string,
  recalled: ReadonlySet<string>,
): {
  kept: Array<{ text: string; claim: Claim | undefined }>;
  dropped: Array<{ text: string; reason: DroppedReason }>;
} {
  const clauses: Clause[] = splitSentences(text).flatMap((sentence) =>
    splitQuestionClauses(sentence, opensQuestion).map((clause) => ({
      ...clause,
      act: classifySentence(clause.text),
    })),
  );
  const dropped: Array<{ text: string; reason: DroppedReason }> = [];
  const kept: Array<{ text: string; claim: Claim | undefined }> = [];
  let group: Array<{ clause: Clause; claim: Claim }> = [];
  const flush = (): void => {
    const first = group[0]?.clause;
    const last = group[group.length - 1]?.clause;
    if (first && last)
      kept.push({
        text: text.slice(first.start, last.end),
        claim: mergeClaims(group.map((item) => item.claim)),
      });
    group = [];
  };
  for (const clause of clauses) {
    const secret = clause.text.includes(REDACTED_MARK);
    if (
      secret ||
      clause.act === 'question' ||
      clause.act === 'request' ||
      recalled.has(normaliseText(clause.text))
    ) {
      const reason: DroppedReason = secret
        ? 'secret'
        : recalled.has(normaliseText(clause.text))
          ? 'recall_echo'
          : clause.act === 'question'
            ? 'question'
            : 'request';
      dropped.push({ text: clause.text, reason });
      flush();
      continue;
    }
    const claim = analyseClaim(clause.text, clause.act);
    if (claim.kind === 'message' && group.every((item) => item.claim.kind === 'message')) {
      group.push({ clause, claim });
      continue;
    }
    flush();
    group.push({ clause, claim });
    if (claim.kind !== 'message') flush();
  }
  flush();
  return { kept, dropped };
}

/** "Caroline: I love painting" analysed as "I love painting" when the speaker is Caroline. */
export function withoutSpeakerLabel(text: string, name: string): string {
  const label = `${name}:`;
  return text.toLowerCase().startsWith(label.toLowerCase()) ? text.slice(label.length).trim() : text;
}

const BULLET = /^(?:[-*\u2022]|\d+[.)])\s+/;

/**
 * True when the message is a recalled memory, or a block made only of recalled memories: one per line, optionally
 * bulleted ("- ", "* ", "1. "), optionally under heading lines that end with ":" ("Relevant memories:").
 */
function isRecallEcho(text: string, recalled: Set<string>): boolean {
  if (recalled.size === 0) return false;
  if (recalled.has(normaliseText(text))) return true;
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const items = lines.filter((line) => !line.endsWith(':'));
  return (
    lines.length > 1 &&
    items.length > 0 &&
    items.every((line) => recalled.has(normaliseText(line.replace(BULLET, ''))))
  );
}
