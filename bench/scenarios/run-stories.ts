/**
 * Runs the memory stories (bench/data/memory-stories.ts) the way a user of `withMemory` lives them: every session
 * is a real Claude Agent SDK `query()` (its bundled CLI, its real loop) with `withMemory` on a real SQLite file and
 * the local embedder, against the fake Messages API on 127.0.0.1. After each session the ingestion queue is
 * drained (the next session starts a day later). In the final session, the block the model received is read from
 * the recorded request and checked: every `expectIn` phrase in it, no `expectOut` phrase.
 *
 * Two modes:
 * - `offline`: no LLM (the default a new user gets).
 * - `relevance_only`: offline with `profile: false`: what the agent gets when injection is by relevance alone (the
 *   baseline the profile is measured against).
 * - `llm`: the planner uses an Anthropic model served by the same fake: extraction answers with the story
 *   session's `facts`, reconciliation SUPERSEDEs the memory a fact `replaces`, NOOPs an identical text, else ADDs.
 *   The scripted model is told nothing the real one would not be: it answers from the request it receives.
 *
 * Used by `npm run bench -- scenarios` and by test/integrations/memory-stories.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '@anthropic-ai/claude-agent-sdk';
import type { Logger } from '../../src/core/logger.js';
import { EXTRACTION_SYSTEM, RECONCILE_SYSTEM } from '../../src/ingest/llm-prompts.js';
import { redactSecrets } from '../../src/ingest/redact.js';
import { injectedTextsIn } from '../../src/integrations/claude-agent-sdk/transcript.js';
import { withMemory } from '../../src/integrations/claude-agent-sdk.js';
import { createMemory } from '../../src/memory/memory.js';
import { createAgentSdkEnv } from '../../test/support/agent-sdk-env.js';
import {
  type FakeReply,
  type RecordedRequest,
  startFakeMessagesApi,
} from '../../test/support/fake-messages-api.js';
import type { MemoryStory, StoryFact } from '../data/memory-stories.js';

/** `relevance_only`: offline with the profile off (`profile: false`), the baseline of relevance-only injection. */
export type StoryMode = 'offline' | 'llm' | 'relevance_only';

/** What one story produced. */
export interface StoryOutcome {
  id: string;
  theme: string;
  passed: boolean;
  /** Expected phrases missing from the final block. */
  missing: string[];
  /** Unwanted phrases found in it. */
  unwanted: string[];
  /** The memory texts the model was given in the final session. */
  injected: string[];
  /** Warnings and errors logged by mneme during the story. */
  problems: string[];
  ms: number;
}

const LLM_MODEL = 'anthropic:claude-fake-planner';

/** Runs `stories` one after another (each on its own store file) and returns their outcomes. */
export async function runStories(
  stories: readonly MemoryStory[],
  options: { mode: StoryMode; onOutcome?: (outcome: StoryOutcome) => void },
): Promise<StoryOutcome[]> {
  const planner = new ScriptedPlanner();
  let current: MemoryStory | undefined;
  const api = await startFakeMessagesApi({
    handler: (request) => planner.answer(request) ?? agentReply(current, request),
  });
  const sandbox = await createAgentSdkEnv({ baseURL: api.url, prefix: 'mneme-stories-' });
  const outcomes: StoryOutcome[] = [];
  try {
    for (const story of stories) {
      current = story;
      planner.reset(story);
      const outcome = await runStory(story, {
        mode: options.mode,
        env: sandbox.env,
        cwd: sandbox.cwd,
        apiUrl: api.url,
        requests: () => api.messageRequests(),
      });
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
  } finally {
    await sandbox.cleanup();
    await api.close();
  }
  return outcomes;
}

interface StoryRun {
  mode: StoryMode;
  env: Record<string, string>;
  cwd: string;
  apiUrl: string;
  requests: () => RecordedRequest[];
}

async function runStory(story: MemoryStory, run: StoryRun): Promise<StoryOutcome> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), `mneme-story-${story.id}-`));
  const problems: string[] = [];
  const note =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      problems.push(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    };
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: note('warn'),
    error: note('error'),
  };
  const memory = await createMemory({
    store: `sqlite://${join(dir, 'memory.db')}`,
    embedder: 'local',
    env: {},
    logger,
    ingestion: { background: false },
    ...(run.mode === 'llm'
      ? { llm: LLM_MODEL, llmOptions: { apiKey: 'test-key', baseURL: run.apiUrl, maxRetries: 0 } }
      : { llm: null }),
  });
  try {
    const session = async (userId: string, prompt: string): Promise<void> => {
      const options = withMemory(
        memory,
        { userId, logger, ...(run.mode === 'relevance_only' ? { profile: false } : {}) },
        { env: run.env, cwd: run.cwd, model: 'claude-fake-model', maxTurns: 2, settingSources: [] },
      );
      for await (const _message of query({ prompt, options })) {
        // The run's messages are not needed: the fake records what the model was sent.
      }
      const drained = await memory.flush();
      if (drained.failed > 0 || drained.pending > 0) {
        problems.push(`ingestion left ${drained.pending} pending, ${drained.failed} failed`);
      }
    };
    for (const item of story.sessions) await session(item.userId ?? story.userId, item.prompt);
    const before = run.requests().length;
    await session(story.finalUserId ?? story.userId, story.finalPrompt);
    const finalRequest = run
      .requests()
      .slice(before)
      .find((request) => request.rawBody.includes(story.finalPrompt.slice(0, 40)));
    const injected = finalRequest ? injectedTextsIn(finalRequest.body) : [];
    if (!finalRequest) problems.push('the final prompt never reached the model');
    const block = injected.join('\n').toLowerCase();
    const expectIn = run.mode === 'llm' ? (story.llmExpectIn ?? story.expectIn) : story.expectIn;
    const expectOut = run.mode === 'llm' ? (story.llmExpectOut ?? story.expectOut) : story.expectOut;
    const missing = expectIn.filter((phrase) => !block.includes(phrase.toLowerCase()));
    const unwanted = expectOut.filter((phrase) => block.includes(phrase.toLowerCase()));
    return {
      id: story.id,
      theme: story.theme,
      passed: missing.length === 0 && unwanted.length === 0 && finalRequest !== undefined,
      missing,
      unwanted,
      injected,
      problems,
      ms: Date.now() - started,
    };
  } finally {
    await memory.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The agent's scripted reply: the story session's `reply` for its prompt, else a neutral answer. */
function agentReply(story: MemoryStory | undefined, request: RecordedRequest): FakeReply {
  const session = story?.sessions.find((item) => request.rawBody.includes(jsonFragment(item.prompt)));
  return { text: session?.reply ?? 'Sure, let me take a look.' };
}

/** A prompt as it appears inside a JSON request body (quotes and newlines escaped). */
function jsonFragment(text: string): string {
  return JSON.stringify(text).slice(1, -1).slice(0, 120);
}

interface ExtractionData {
  messages: Array<{ role: string; content: string }>;
}

interface ReconcileData {
  new_facts: Array<{ id: string; text: string }>;
  existing_memories: Array<{ id: string; text: string }>;
}

/**
 * The planner's model, scripted from the story: it recognises extraction and reconciliation requests by their
 * system prompts and answers from the conversation data in the request, as a careful model would.
 */
class ScriptedPlanner {
  private story: MemoryStory | undefined;

  reset(story: MemoryStory): void {
    this.story = story;
  }

  /** The reply to a planner request, or undefined when the request is the agent's. */
  answer(request: RecordedRequest): FakeReply | undefined {
    const body = request.body as { system?: unknown; messages?: Array<{ content: unknown }> };
    if (body.system !== EXTRACTION_SYSTEM && body.system !== RECONCILE_SYSTEM) return undefined;
    const content = body.messages?.[0]?.content;
    if (typeof content !== 'string') return { status: 400 };
    const data: unknown = JSON.parse(content.slice(content.indexOf('\n') + 1));
    if (body.system === EXTRACTION_SYSTEM) {
      return { text: JSON.stringify({ facts: this.extract(data as ExtractionData) }) };
    }
    return { text: JSON.stringify({ decisions: this.reconcile(data as ReconcileData) }) };
  }

  private extract(data: ExtractionData): unknown[] {
    const userIndex = data.messages.findIndex((message) => message.role === 'user');
    const said = data.messages[userIndex]?.content ?? '';
    // The planner sees the prompt after redaction, as the real model would.
    const session = this.story?.sessions.find((item) =>
      said.includes(redactSecrets(item.prompt).text.trim().slice(0, 60)),
    );
    return (session?.facts ?? []).map((fact) => ({
      text: fact.text,
      kind: fact.kind,
      subject: fact.kind === 'other_fact' ? 'someone else' : 'user',
      importance: 3,
      refersTo: null,
      sources: [Math.max(0, userIndex)],
      topic: fact.topic,
    }));
  }

  private reconcile(data: ReconcileData): unknown[] {
    const facts = this.story?.sessions.flatMap((item) => item.facts) ?? [];
    return data.new_facts.map((fact) => {
      const known: StoryFact | undefined = facts.find((item) => item.text === fact.text);
      const same = data.existing_memories.find((memory) => memory.text === fact.text);
      if (same)
        return { fact: fact.id, action: 'NOOP', target: same.id, text: null, reason: 'already known' };
      const replaced = known?.replaces
        ? data.existing_memories.find((memory) => memory.text === known.replaces)
        : undefined;
      if (replaced) {
        return { fact: fact.id, action: 'SUPERSEDE', target: replaced.id, text: null, reason: 'changed' };
      }
      return { fact: fact.id, action: 'ADD', target: null, text: null, reason: 'new' };
    });
  }
}
