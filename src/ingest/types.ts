/**
 * Types of the ingestion pipeline (`add` and the durable queue). The pipeline turns messages into a plan: the
 * store changes to apply atomically, the per-memory results reported to the caller, what was skipped and why,
 * and what it cost.
 */
import type { MemoryKind, Message, Metadata, Role, Scope } from '../core/types.js';
import type { MemoryChange } from '../stores/types.js';
import type { Claim } from './statements/claims.js';

/** What `add` reports per memory it touched. */
export interface AddResultItem {
  id: string;
  memory: string;
  event: 'ADD' | 'UPDATE' | 'SUPERSEDE' | 'NOOP';
  /** For UPDATE and SUPERSEDE: the memory before the change (UPDATE) or the memory superseded (SUPERSEDE). */
  previous?: { id: string; memory: string };
  reason?: string;
}

/** A message that produced no memory, and why. */
export interface SkippedMessage {
  /** Index in the messages given to `add`. */
  index: number;
  reason:
    | 'empty'
    | 'low_signal'
    | 'system_message'
    | 'tool_message'
    | 'duplicate'
    | 'recall_echo'
    /** An assistant message: without an LLM, never stored as a memory about the user. */
    | 'assistant_message'
    /** A question that states nothing about the user ("What do you know about me?"). */
    | 'question'
    /** A request for work now that states nothing about the user ("Clean up the billing parser"). */
    | 'request'
    /** A sentence that carries a (redacted) secret: a pasted key or password has no value as a memory. */
    | 'secret'
    /** An LLM-extracted fact that no user message states (an assistant guess). */
    | 'not_user_stated';
  text: string;
}

/** The cost of one `add` call. */
export interface AddUsage {
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  embeddedTexts: number;
}

/** The result of `add`. */
export interface AddResult {
  results: AddResultItem[];
  skipped: SkippedMessage[];
  usage: AddUsage;
}

/** A validated ingestion request. */
export interface IngestRequest {
  messages: Message[];
  scope: Scope;
  metadata: Metadata;
  /** When the messages were said (ISO); relative dates resolve against it. */
  observedAt: string;
  expiresAt?: string;
  infer: boolean;
  /** Recorded in history. */
  actor: string;
  /** The current instant (ISO). */
  now: string;
  /** Texts of memories injected into the prompt during the exchange: never stored again (recall echo). */
  recalled?: string[];
  /**
   * The conversation's latest turns before these messages (oldest first, speaker labels removed), read from the
   * store by the pipeline for named-speaker messages: the reply context of the first turns (core/reply-context.ts).
   */
  priorTurns?: string[];
}

/** A memory the extraction step proposes, before de-duplication and reconciliation. */
export interface CandidateMemory {
  text: string;
  kind: MemoryKind;
  role?: Role;
  speaker?: string;
  /** Topic key (see MemoryRecord.topic): for a statement filling an identity slot, `user_fact:<slot>`. */
  topic?: string;
  /** The no-LLM analysis of the statement, used to find what it supersedes (supersession.ts). */
  claim?: Claim;
  observedAt: string;
  validFrom?: string;
  /** Index of the source message. */
  sourceIndex: number;
  metadata?: Metadata;
}

/** What the pipeline decided. `changes` are applied atomically by the caller. */
export interface IngestPlan {
  changes: MemoryChange[];
  results: AddResultItem[];
  skipped: SkippedMessage[];
  usage: AddUsage;
}
