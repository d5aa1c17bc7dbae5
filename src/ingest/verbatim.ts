/**
 * The no-LLM extraction step: each message becomes at most one candidate memory, verbatim, keeping its role and
 * speaker. System and tool messages, empty and low-signal messages are skipped and reported. Explicit
 * first-person preference statements get a topic key (see preferences.ts) so a later statement on the same
 * topic supersedes the earlier one.
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
    if (recalled.has(normaliseText(text))) {
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
