/**
 * The no-LLM extraction step: each message becomes at most one candidate memory, verbatim, keeping its role and
 * speaker. System and tool messages, empty and low-signal messages are skipped and reported. Explicit
 * first-person preference statements get a topic key (see preferences.ts) so a later statement on the same
 * topic supersedes the earlier one. A message that only repeats memories injected into the prompt (`recalled`),
 * alone or as a list under a heading, is a recall echo and is skipped.
 */
import { isLowSignal, normaliseText } from '../core/text.js';
import { detectPreference } from './preferences.js';
import type { CandidateMemory, IngestRequest, SkippedMessage } from './types.js';

/** Splits messages into candidates and skipped messages. */
export function extractVerbatim(request: IngestRequest): {
  candidates: CandidateMemory[];
  skipped: SkippedMessage[];
} {
  const candidates: CandidateMemory[] = [];
  const skipped: SkippedMessage[] = [];
  const recalled = new Set((request.recalled ?? []).map((text) => normaliseText(text)));
  request.messages.forEach((message, index) => {
    const text = message.content.trim();
    if (message.role === 'system') {
      skipped.push({ index, reason: 'system_message', text });
      return;
    }
    if (message.role === 'tool') {
      skipped.push({ index, reason: 'tool_message', text });
      return;
    }
    if (text.length === 0) {
      skipped.push({ index, reason: 'empty', text });
      return;
    }
    if (isLowSignal(text)) {
      skipped.push({ index, reason: 'low_signal', text });
      return;
    }
    if (isRecallEcho(text, recalled)) {
      skipped.push({ index, reason: 'recall_echo', text });
      return;
    }
    const preference = message.role === 'user' ? detectPreference(text) : undefined;
    const candidate: CandidateMemory = {
      text,
      kind: preference ? 'preference' : 'message',
      role: message.role,
      observedAt: request.observedAt,
      sourceIndex: index,
    };
    if (message.name) candidate.speaker = message.name;
    if (preference) {
      candidate.topic = preference.topic;
      if (preference.replacesTopics.length > 0) candidate.replacesTopics = preference.replacesTopics;
    }
    candidates.push(candidate);
  });
  return { candidates, skipped };
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
