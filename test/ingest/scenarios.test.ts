/**
 * Scenario suite for `add` with an LLM: multi-session stories replayed through the real `createMemory` with
 * `llm: 'anthropic:claude-haiku-4-5'`, so the official @anthropic-ai/sdk client talks to a fake Messages API on
 * 127.0.0.1. The fake is driven by a scripted LLM that reads each request the way a model would (which system
 * prompt, the JSON data in the user turn, the local ids offered) and answers with scripted JSON. Nothing in the
 * planner is mocked: extraction, the code guards, reconciliation, the store and history are the real ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { LLMError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { EXTRACTION_SYSTEM, RECONCILE_SYSTEM } from '../../src/ingest/llm-prompts.js';
import type { AddResult } from '../../src/ingest/types.js';
import type { AddOptions, Memory } from '../../src/memory/memory.js';
import {
  type FakeMessagesApi,
  type FakeReply,
  type RecordedRequest,
  startFakeMessagesApi,
} from '../support/fake-messages-api.js';
import { createMemoryFixture, type MemoryFixture } from '../support/memory-fixture.js';

// ---------------------------------------------------------------------------------------------------------------
// The scripted LLM
// ---------------------------------------------------------------------------------------------------------------

type FactKind = 'preference' | 'user_fact' | 'other_fact' | 'event' | 'instruction';

/** A fact the scripted LLM extracts. Omitted fields get the defaults a careful model would give. */
interface ScriptedFact {
  text: string;
  kind: FactKind;
  /** @default 'user' */
  subject?: string;
  topic?: string;
  /** @default the index of the first user message */
  sources?: number[];
  refersTo?: string | null;
  /** @default 3 */
  importance?: number;
}

/** A reconciliation decision, naming the target by its TEXT: the script resolves it to the local id offered. */
interface ScriptedDecision {
  action: 'UPDATE' | 'SUPERSEDE' | 'NOOP';
  target: string;
  text?: string;
  reason: string;
}

interface ExtractionData {
  messages: Array<{
    index: number;
    role: string;
    speaker?: string;
    said_at: string;
    content: string;
    context_only?: boolean;
  }>;
  shown_from_memory: string[];
}

interface ReconcileData {
  new_facts: Array<{ id: string; text: string; kind: string; stated_at: string }>;
  existing_memories: Array<{ id: string; text: string; stated_at: string }>;
}

interface LoggedCall {
  kind: 'extraction' | 'reconciliation';
  data: ExtractionData | ReconcileData;
  inputTokens: number;
  outputTokens: number;
}

/**
 * A language model whose answers are scripted: extraction replies are keyed by the first user message of the
 * conversation, reconciliation decisions by the new fact's text. Facts without a scripted decision are ADDed.
 * What the script cannot answer (an unknown conversation, a target that was not offered) is recorded in
 * `problems` and answered in a way the planner must reject, so a wrong request fails the test.
 */
class ScriptedLlm {
  readonly extractions = new Map<string, (data: ExtractionData) => ScriptedFact[]>();
  readonly decisions = new Map<string, ScriptedDecision>();
  readonly log: LoggedCall[] = [];
  readonly problems: string[] = [];
  /** Overrides the next reply of that kind with raw text (for malformed and rogue replies). */
  readonly rawReplies: { extraction: string[]; reconciliation: string[] } = {
    extraction: [],
    reconciliation: [],
  };

  readonly handle = (request: RecordedRequest): FakeReply => {
    const body = request.body as { system?: unknown; messages?: Array<{ role: string; content: unknown }> };
    const content = body.messages?.[0]?.content;
    if (typeof content !== 'string') {
      this.problems.push(`unexpected request shape: ${request.rawBody.slice(0, 200)}`);
      return { status: 400 };
    }
    const data: unknown = JSON.parse(content.slice(content.indexOf('\n') + 1));
    if (body.system === EXTRACTION_SYSTEM) {
      const extraction = data as ExtractionData;
      const text = this.rawReplies.extraction.shift() ?? JSON.stringify({ facts: this.extract(extraction) });
      return this.reply(request, 'extraction', extraction, text);
    }
    if (body.system === RECONCILE_SYSTEM) {
      const reconcile = data as ReconcileData;
      const text =
        this.rawReplies.reconciliation.shift() ?? JSON.stringify({ decisions: this.decide(reconcile) });
      return this.reply(request, 'reconciliation', reconcile, text);
    }
    this.problems.push(`request with an unknown system prompt: ${String(body.system).slice(0, 80)}`);
    return { status: 400 };
  };

  private extract(data: ExtractionData): unknown[] {
    const firstUser = data.messages.find((message) => message.role === 'user');
    const script = firstUser ? this.extractions.get(firstUser.content) : undefined;
    if (!firstUser || !script) {
      this.problems.push(`no extraction scripted for ${JSON.stringify(firstUser?.content)}`);
      return [];
    }
    return script(data).map((fact) => ({
      text: fact.text,
      kind: fact.kind,
      subject: fact.subject ?? 'user',
      importance: fact.importance ?? 3,
      refersTo: fact.refersTo ?? null,
      sources: fact.sources ?? [firstUser.index],
      topic: fact.topic ?? null,
    }));
  }

  private decide(data: ReconcileData): unknown[] {
    return data.new_facts.map((fact) => {
      const scripted = this.decisions.get(fact.text);
      if (!scripted)
        return { fact: fact.id, action: 'ADD', target: null, text: null, reason: 'new information' };
      const target = data.existing_memories.find((memory) => memory.text === scripted.target);
      if (!target) this.problems.push(`"${scripted.target}" was not offered for "${fact.text}"`);
      return {
        fact: fact.id,
        action: scripted.action,
        target: target?.id ?? 'not-offered',
        text: scripted.text ?? null,
        reason: scripted.reason,
      };
    });
  }

  private reply(
    request: RecordedRequest,
    kind: LoggedCall['kind'],
    data: ExtractionData | ReconcileData,
    text: string,
  ): FakeReply {
    // Token counts as a provider reports them; here ~4 bytes per token of what was sent and returned.
    const inputTokens = Math.ceil(Buffer.byteLength(request.rawBody) / 4);
    const outputTokens = Math.ceil(Buffer.byteLength(text) / 4);
    this.log.push({ kind, data, inputTokens, outputTokens });
    return { text, usage: { input_tokens: inputTokens, output_tokens: outputTokens } };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Story harness
// ---------------------------------------------------------------------------------------------------------------

const USER = { userId: 'sam' };
const MODEL = 'anthropic:claude-haiku-4-5';

interface Story {
  memory: Memory;
  fixture: MemoryFixture;
  llm: ScriptedLlm;
  /** Index into `fake.requests` where this story began. */
  firstRequest: number;
  /** Usage of every add in the story, for the printed table. */
  usage: Array<{ step: string; llmCalls: number; inputTokens: number; outputTokens: number }>;
}

let fake: FakeMessagesApi;

before(async () => {
  fake = await startFakeMessagesApi();
});

after(async () => {
  await fake.close();
});

async function startStory(): Promise<Story> {
  const llm = new ScriptedLlm();
  fake.setHandler(llm.handle);
  const fixture = await createMemoryFixture({
    llm: MODEL,
    llmOptions: { apiKey: 'test-key', baseURL: fake.url, maxRetries: 2 },
    ingestion: { background: false },
  });
  return { memory: fixture.memory, fixture, llm, firstRequest: fake.requests.length, usage: [] };
}

/**
 * Runs `add` and checks that its reported usage is exactly what the scripted LLM served during it: one LLM call
 * per served reply, tokens summed as the provider reported them.
 */
async function add(
  story: Story,
  step: string,
  input: string | Message[],
  options: Omit<AddOptions, 'userId'> = {},
): Promise<AddResult> {
  const before = story.llm.log.length;
  const result = await story.memory.add(input, { ...USER, ...options });
  const served = story.llm.log.slice(before);
  assert.deepEqual(
    {
      llmCalls: result.usage.llmCalls,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
    },
    {
      llmCalls: served.length,
      inputTokens: served.reduce((sum, call) => sum + call.inputTokens, 0),
      outputTokens: served.reduce((sum, call) => sum + call.outputTokens, 0),
    },
    `${step}: usage must match what the LLM served`,
  );
  story.usage.push({ step, ...result.usage });
  return result;
}

/** The story's requests, checked for real ids, its script problems, and its usage printed. */
async function endStory(story: Story, t: TestContext): Promise<void> {
  assert.deepEqual(story.llm.problems, [], 'the scripted LLM was asked something it could not answer');
  const all = await story.memory.list({
    ...USER,
    includeSuperseded: true,
    includeExpired: true,
    limit: 1000,
  });
  const requests = fake.requests.slice(story.firstRequest);
  for (const record of all.results) {
    for (const request of requests) {
      assert.ok(!request.rawBody.includes(record.id), `a real memory id reached the LLM: ${record.id}`);
    }
  }
  for (const call of story.llm.log) {
    if (call.kind !== 'reconciliation') continue;
    const data = call.data as ReconcileData;
    for (const fact of data.new_facts) assert.match(fact.id, /^f\d+$/);
    for (const memory of data.existing_memories) assert.match(memory.id, /^m\d+$/);
  }
  for (const row of story.usage) {
    t.diagnostic(
      `usage ${row.step}: ${row.llmCalls} LLM calls, ${row.inputTokens} input + ${row.outputTokens} output tokens`,
    );
  }
  await story.memory.close();
}

async function current(story: Story): Promise<string[]> {
  const { results } = await story.memory.list({ ...USER });
  return results.map((record) => record.memory).sort();
}

function byText(results: Array<{ memory: string; id: string }>, text: string): string {
  const found = results.find((item) => item.memory === text);
  assert.ok(found, `expected a memory "${text}" among ${JSON.stringify(results.map((item) => item.memory))}`);
  return found.id;
}

function userMessage(content: string, name?: string): Message {
  return { role: 'user', content, ...(name ? { name } : {}) };
}

const dayBefore = (iso: string): string => new Date(Date.parse(iso) - 86_400_000).toISOString().slice(0, 10);

const firstOfPreviousMonth = (iso: string): string => {
  const date = new Date(iso);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
};

// ---------------------------------------------------------------------------------------------------------------
// Stories
// ---------------------------------------------------------------------------------------------------------------

describe('LLM scenarios (scripted model behind the official Anthropic client)', () => {
  test('a preference that changes twice: each change supersedes the last, history and asOf keep the past', async (t) => {
    const story = await startStory();
    const { llm } = story;
    const tabs = 'The user prefers tabs for indentation';
    const four = 'The user prefers 4 spaces for indentation';
    const two = 'The user prefers 2 spaces for indentation';
    llm.extractions.set('I indent with tabs, always.', () => [
      { text: tabs, kind: 'preference', topic: 'indentation' },
    ]);
    llm.extractions.set("I've switched to 4 spaces, tabs were a pain in code review.", () => [
      { text: four, kind: 'preference', topic: 'indentation' },
    ]);
    llm.extractions.set('Actually make that 2 spaces, the style guide changed.', () => [
      { text: two, kind: 'preference', topic: 'indentation' },
    ]);
    llm.decisions.set(four, {
      action: 'SUPERSEDE',
      target: tabs,
      reason: 'the user switched from tabs to 4 spaces',
    });
    llm.decisions.set(two, {
      action: 'SUPERSEDE',
      target: four,
      reason: 'the style guide now says 2 spaces',
    });

    const first = await add(
      story,
      'preference #1 (new)',
      [
        { role: 'system', content: 'You are the ACME coding agent. Internal marker do-not-store-7731.' },
        userMessage('I indent with tabs, always.'),
        { role: 'assistant', content: 'Got it, tabs it is.' },
      ],
      { observedAt: '2026-01-05T09:00:00Z' },
    );
    story.fixture.advance(60_000);
    const second = await add(
      story,
      'preference #2 (supersede)',
      [userMessage("I've switched to 4 spaces, tabs were a pain in code review.")],
      { observedAt: '2026-02-01T09:00:00Z' },
    );
    story.fixture.advance(60_000);
    const third = await add(
      story,
      'preference #3 (supersede)',
      [userMessage('Actually make that 2 spaces, the style guide changed.')],
      { observedAt: '2026-03-01T09:00:00Z' },
    );

    assert.deepEqual(
      [first, second, third].map((result) => result.results.map((item) => item.event)),
      [['ADD'], ['SUPERSEDE'], ['SUPERSEDE']],
    );
    assert.deepEqual(first.skipped, [
      {
        index: 0,
        reason: 'system_message',
        text: 'You are the ACME coding agent. Internal marker do-not-store-7731.',
      },
    ]);
    const tabsId = first.results[0]?.id ?? '';
    const fourId = second.results[0]?.id ?? '';
    const twoId = third.results[0]?.id ?? '';
    assert.deepEqual(second.results[0]?.previous, { id: tabsId, memory: tabs });
    assert.deepEqual(third.results[0]?.previous, { id: fourId, memory: four });
    // Calls: the first add has nothing to reconcile against; the others extract + reconcile once.
    assert.deepEqual(
      [first, second, third].map((result) => result.usage.llmCalls),
      [1, 2, 2],
    );
    // Only the current memory is offered for reconciliation: the superseded "tabs" is not shown again.
    const lastReconcile = llm.log.at(-1)?.data as ReconcileData;
    assert.deepEqual(
      lastReconcile.existing_memories.map((memory) => memory.text),
      [four],
    );
    // The system prompt never reaches the model nor the store.
    for (const request of fake.requests.slice(story.firstRequest)) {
      assert.ok(!request.rawBody.includes('do-not-store-7731'));
    }

    const { memory } = story;
    const search = await memory.search('which indentation does the user prefer', { ...USER });
    assert.deepEqual(
      search.results.map((result) => result.memory),
      [two],
    );
    const chain = await memory.search('indentation', { ...USER, includeSuperseded: true });
    assert.deepEqual(chain.results.map((result) => result.memory).sort(), [four, tabs, two].sort());
    const asOf = async (instant: string) =>
      (await memory.search('indentation', { ...USER, asOf: instant })).results.map((result) => result.memory);
    assert.deepEqual(await asOf('2026-01-20T00:00:00Z'), [tabs]);
    assert.deepEqual(await asOf('2026-02-15T00:00:00Z'), [four]);
    assert.deepEqual(await asOf('2026-03-01T09:00:00Z'), [two]);
    assert.deepEqual(await asOf('2025-12-31T00:00:00Z'), []);
    assert.deepEqual(
      (await memory.list({ ...USER, asOf: '2026-02-15T00:00:00Z' })).results.map((r) => r.memory),
      [four],
    );

    const tabsRecord = await memory.get(tabsId);
    assert.equal(tabsRecord?.validTo, '2026-02-01T09:00:00.000Z');
    assert.equal(tabsRecord?.supersededBy, fourId);
    assert.equal(tabsRecord?.kind, 'preference');
    assert.equal(tabsRecord?.topic, 'preference:indentation');
    const tabsHistory = await memory.history(tabsId);
    assert.deepEqual(
      tabsHistory.map((event) => [event.event, event.actor, event.reason, event.relatedId]),
      [
        ['ADD', 'user', 'no similar memory stored', undefined],
        ['SUPERSEDE', 'llm', 'the user switched from tabs to 4 spaces', fourId],
      ],
    );
    const fourHistory = await memory.history(fourId);
    assert.deepEqual(
      fourHistory.map((event) => [event.event, event.actor, event.reason]),
      [
        ['ADD', 'llm', 'the user switched from tabs to 4 spaces'],
        ['SUPERSEDE', 'llm', 'the style guide now says 2 spaces'],
      ],
    );
    assert.equal(fourHistory[1]?.previousValue, four);
    assert.equal(fourHistory[1]?.newValue, two);
    assert.deepEqual(
      (await memory.history(twoId)).map((event) => event.event),
      ['ADD'],
    );
    await endStory(story, t);
  });

  test("a colleague's facts are stored as other_fact with the colleague as subject, never as the user's", async (t) => {
    const story = await startStory();
    const { llm, memory } = story;
    const python = 'The user prefers Python for backend work';
    const leads = "Priya, the user's colleague, leads the payments team";
    const priyaGo = 'Priya prefers Go over Java';
    const samWorks = 'Sam works on the checkout service with Priya';
    const fraud = 'Priya also leads the fraud team';
    const merged = "Priya, the user's colleague, leads the payments and fraud teams";
    llm.extractions.set('For backend work I reach for Python.', () => [
      { text: python, kind: 'preference', topic: 'programming language' },
    ]);
    llm.extractions.set(
      'My colleague Priya leads the payments team. She swears by Go and hates Java.',
      () => [
        { text: leads, kind: 'other_fact', subject: 'Priya', topic: 'priya role' },
        // A careless model labels Priya's taste a "preference": the code guard re-labels it.
        { text: priyaGo, kind: 'preference', subject: 'Priya', topic: 'programming language' },
        // The user's own display name is the user.
        { text: samWorks, kind: 'user_fact', subject: 'Sam', sources: [1] },
      ],
    );
    llm.extractions.set('Priya took over the fraud team as well.', () => [
      { text: fraud, kind: 'other_fact', subject: 'Priya', topic: 'priya role' },
    ]);
    llm.decisions.set(fraud, {
      action: 'UPDATE',
      target: leads,
      text: merged,
      reason: 'same role, now with the fraud team',
    });

    await add(story, 'colleague #1 (user preference)', 'For backend work I reach for Python.', {
      observedAt: '2026-02-01T10:00:00Z',
    });
    const colleague = await add(
      story,
      'colleague #2 (three facts)',
      [
        userMessage('My colleague Priya leads the payments team. She swears by Go and hates Java.', 'Sam'),
        userMessage('I work with her on the checkout service.', 'Sam'),
      ],
      { observedAt: '2026-02-10T10:00:00Z' },
    );
    // Priya's "Go" fact shares the topic of the user's Python preference, so it was offered to the model
    // (by topic: the words barely overlap) and the model kept them apart.
    const reconcile = llm.log.at(-1)?.data as ReconcileData;
    assert.equal(llm.log.at(-1)?.kind, 'reconciliation');
    assert.ok(reconcile.existing_memories.some((memory) => memory.text === python));
    assert.deepEqual(
      colleague.results.map((item) => item.event),
      ['ADD', 'ADD', 'ADD'],
    );

    const leadsId = byText(colleague.results, leads);
    const goRecord = await memory.get(byText(colleague.results, priyaGo));
    assert.equal(goRecord?.kind, 'other_fact');
    assert.equal(goRecord?.metadata['mneme:subject'], 'Priya');
    assert.equal(goRecord?.topic, 'other_fact:programming-language');
    const samRecord = await memory.get(byText(colleague.results, samWorks));
    assert.equal(samRecord?.kind, 'user_fact');
    const leadsRecord = await memory.get(leadsId);
    assert.equal(leadsRecord?.kind, 'other_fact');
    assert.equal(leadsRecord?.metadata['mneme:subject'], 'Priya');

    // The user's own preferences are still only the user's.
    const preferences = await memory.search('which programming language does the user prefer', {
      ...USER,
      filters: { kind: 'preference' },
    });
    assert.deepEqual(
      preferences.results.map((result) => result.memory),
      [python],
    );

    const update = await add(story, 'colleague #3 (update)', 'Priya took over the fraud team as well.', {
      observedAt: '2026-02-20T10:00:00Z',
    });
    assert.deepEqual(update.results, [
      {
        id: leadsId,
        memory: merged,
        event: 'UPDATE',
        previous: { id: leadsId, memory: leads },
        reason: 'same role, now with the fraud team',
      },
    ]);
    const history = await memory.history(leadsId);
    assert.deepEqual(
      history.map((event) => [event.event, event.previousValue, event.newValue]),
      [
        ['ADD', undefined, leads],
        ['UPDATE', leads, merged],
      ],
    );
    // The merged text, not the fact's, was embedded: searching for it densely is an exact match.
    const dense = await memory.search(merged, { ...USER, mode: 'dense' });
    assert.equal(dense.results[0]?.id, leadsId);
    assert.ok((dense.results[0]?.scores.dense ?? 0) > 0.99);
    assert.deepEqual(await current(story), [merged, priyaGo, python, samWorks].sort());
    await endStory(story, t);
  });

  test("the assistant's speculation is dropped even when the model extracts it", async (t) => {
    const story = await startStory();
    const { llm, memory } = story;
    const guess = 'The user is a backend engineer at a fintech company';
    const unsourced = 'The user works in fintech';
    const onCall = 'The user is on call for the checkout service this week';
    const opening = "The checkout service keeps timing out, I've been on it since 8am.";
    llm.extractions.set(opening, () => [
      // Sourced only from the assistant's message: a guess, not a user fact.
      { text: guess, kind: 'user_fact', sources: [1] },
      // No source at all in a conversation with an assistant: cannot be attributed to the user.
      { text: unsourced, kind: 'user_fact', sources: [] },
      { text: onCall, kind: 'user_fact', sources: [2] },
    ]);
    const result = await add(
      story,
      'speculation (1 kept, 2 dropped)',
      [
        userMessage(opening),
        {
          role: 'assistant',
          content:
            "Long day! Since you're debugging payment code, I'd guess you're a backend engineer at a fintech.",
        },
        userMessage("Anyway, I'm on call for checkout this week."),
        { role: 'tool', content: 'grafana: checkout p99 latency 4.2s, marker tool-output-5521' },
      ],
      { observedAt: '2026-02-11T18:00:00Z' },
    );
    // Tool output is not sent to the model: it cannot be a user statement and may be large.
    for (const request of fake.requests.slice(story.firstRequest)) {
      assert.ok(!request.rawBody.includes('tool-output-5521'));
    }
    // The model is told that the assistant's words are context only, and the assistant's row is marked so.
    const extraction = fake.requests
      .slice(story.firstRequest)
      .find((request) => request.rawBody.includes(opening));
    assert.ok(extraction, 'no extraction request');
    assert.match(extraction.rawBody, /never take a fact from them alone/);
    const call = story.llm.log.find((item) => item.kind === 'extraction' && 'messages' in item.data);
    const rows = call ? (call.data as ExtractionData).messages : [];
    assert.deepEqual(
      rows.map((row) => [row.role, row.context_only === true]),
      [
        ['user', false],
        ['assistant', true],
        ['user', false],
        ['tool', false],
      ],
    );
    assert.deepEqual(
      result.results.map((item) => [item.event, item.memory]),
      [['ADD', onCall]],
    );
    assert.deepEqual(
      result.skipped.map((item) => [item.index, item.reason, item.text]),
      [
        [0, 'not_user_stated', unsourced],
        [1, 'not_user_stated', guess],
      ],
    );
    const search = await memory.search('backend engineer fintech company', { ...USER });
    assert.ok(search.results.every((hit) => !/fintech/i.test(hit.memory)));
    assert.deepEqual(await current(story), [onCall]);
    await endStory(story, t);
  });

  test('a recalled memory echoed back by the model is not stored again', async (t) => {
    const story = await startStory();
    const { llm, memory } = story;
    const two = 'The user prefers 2 spaces for indentation';
    const rust = 'The user is learning Rust';
    const opening = 'Format this snippet the way I like it.';
    llm.extractions.set('I like 2-space indentation.', () => [
      { text: two, kind: 'preference', topic: 'indentation' },
    ]);
    llm.extractions.set(opening, () => [
      { text: two, kind: 'preference', topic: 'indentation' },
      {
        text: 'User prefers 2 spaces for indentation.',
        kind: 'preference',
        topic: 'indentation',
        sources: [0, 1],
      },
      { text: rust, kind: 'user_fact', sources: [2] },
    ]);
    const stored = await add(story, 'recall #1 (new)', 'I like 2-space indentation.', {
      observedAt: '2026-02-01T10:00:00Z',
    });
    const storedId = stored.results[0]?.id ?? '';
    const echoed = await add(
      story,
      'recall #2 (echo dropped, 1 new)',
      [
        userMessage(opening),
        { role: 'assistant', content: 'Here it is with 2-space indentation, as you prefer.' },
        userMessage("Thanks. By the way, I'm learning Rust."),
      ],
      { observedAt: '2026-02-12T10:00:00Z', recalled: [two] },
    );
    // The model was told what was shown from memory.
    const extraction = llm.log.find(
      (call) => call.kind === 'extraction' && (call.data as ExtractionData).messages[0]?.content === opening,
    )?.data as ExtractionData;
    assert.deepEqual(extraction.shown_from_memory, [two]);
    assert.deepEqual(
      echoed.results.map((item) => [item.event, item.memory]),
      [['ADD', rust]],
    );
    assert.deepEqual(
      echoed.skipped.map((item) => [item.reason, item.text]),
      [
        ['recall_echo', two],
        ['recall_echo', 'User prefers 2 spaces for indentation.'],
      ],
    );
    // The echo left no trace on the recalled memory: no NOOP, no second copy.
    assert.deepEqual(
      (await memory.history(storedId)).map((event) => event.event),
      ['ADD'],
    );
    assert.deepEqual(await current(story), [two, rust].sort());
    await endStory(story, t);
  });

  test('a fact stated three times is one memory: the same text is a NOOP without a reconciliation call', async (t) => {
    const story = await startStory();
    const { llm, memory } = story;
    const allergic = 'The user is allergic to peanuts';
    const paraphrase = 'The user has a peanut allergy';
    llm.extractions.set("I'm allergic to peanuts.", () => [
      { text: allergic, kind: 'user_fact', importance: 5 },
    ]);
    llm.extractions.set("Remember, peanuts are a no-go for me, I'm allergic.", () => [
      { text: allergic, kind: 'user_fact', importance: 5 },
    ]);
    llm.extractions.set('Just so you know, I have a peanut allergy.', () => [
      { text: paraphrase, kind: 'user_fact', importance: 5 },
    ]);
    llm.decisions.set(paraphrase, { action: 'NOOP', target: allergic, reason: 'same allergy already known' });

    const results: AddResult[] = [];
    for (const [step, text, day] of [
      ['duplicate #1 (new)', "I'm allergic to peanuts.", '01'],
      ['duplicate #2 (same text)', "Remember, peanuts are a no-go for me, I'm allergic.", '08'],
      ['duplicate #3 (paraphrase)', 'Just so you know, I have a peanut allergy.', '15'],
    ] as const) {
      results.push(await add(story, step, text, { observedAt: `2026-02-${day}T10:00:00Z` }));
      story.fixture.advance(1000);
    }
    const id = results[0]?.results[0]?.id ?? '';
    assert.deepEqual(
      results.map((result) => result.results.map((item) => [item.event, item.id])),
      [[['ADD', id]], [['NOOP', id]], [['NOOP', id]]],
    );
    assert.deepEqual(
      results.map((result) => result.usage.llmCalls),
      [1, 1, 2],
    );
    assert.deepEqual(
      (await memory.history(id)).map((event) => [event.event, event.actor, event.reason]),
      [
        ['ADD', 'user', 'no similar memory stored'],
        ['NOOP', 'user', 'already stored with the same text'],
        ['NOOP', 'llm', 'same allergy already known'],
      ],
    );
    assert.deepEqual(await current(story), [allergic]);
    assert.equal((await memory.get(id))?.metadata['mneme:importance'], 5);
    await endStory(story, t);
  });

  test('an imported old conversation: relative dates resolve against its time, not the clock', async (t) => {
    const story = await startStory();
    const { llm, memory } = story;
    const porto = 'The user lives in Porto';
    const lisbon = 'The user lives in Lisbon';
    const job = 'The user started a new job at Acme Robotics';
    const saidAt = '2023-06-15T18:30:00.000Z';
    llm.extractions.set('I live in Porto these days.', () => [
      { text: porto, kind: 'user_fact', topic: 'home city' },
    ]);
    llm.extractions.set('Yesterday I started my new job at Acme Robotics!', (data) => {
      // The model resolves "yesterday" and "last month" against when each message was said.
      const [first, second] = data.messages;
      return [
        { text: job, kind: 'event', refersTo: dayBefore(first?.said_at ?? ''), sources: [0] },
        {
          text: lisbon,
          kind: 'user_fact',
          topic: 'home city',
          refersTo: firstOfPreviousMonth(second?.said_at ?? ''),
          sources: [1],
        },
      ];
    });
    // The model contradicts Porto with Lisbon, as the prompt asks, whichever is older.
    llm.decisions.set(lisbon, { action: 'SUPERSEDE', target: porto, reason: 'the user moved' });

    const today = await add(story, 'import #1 (current fact)', 'I live in Porto these days.', {
      observedAt: '2026-02-20T10:00:00Z',
    });
    const portoId = today.results[0]?.id ?? '';
    const imported = await add(
      story,
      'import #2 (old conversation, 2 facts)',
      [
        userMessage('Yesterday I started my new job at Acme Robotics!'),
        userMessage('And I moved to Lisbon last month for it.'),
      ],
      { observedAt: saidAt },
    );
    const extraction = llm.log.find(
      (call) =>
        call.kind === 'extraction' &&
        (call.data as ExtractionData).messages[0]?.content.startsWith('Yesterday') === true,
    )?.data as ExtractionData;
    assert.deepEqual(
      extraction.messages.map((message) => message.said_at),
      [saidAt, saidAt],
    );

    const jobId = byText(imported.results, job);
    const lisbonId = byText(imported.results, lisbon);
    const jobRecord = await memory.get(jobId);
    assert.equal(jobRecord?.kind, 'event');
    assert.equal(jobRecord?.observedAt, saidAt);
    assert.equal(jobRecord?.validFrom, '2023-06-14T00:00:00.000Z');
    assert.equal(jobRecord?.metadata['mneme:refersTo'], '2023-06-14');
    // Older than what is known: stored as already superseded by Porto, which stays current.
    const lisbonRecord = await memory.get(lisbonId);
    assert.equal(lisbonRecord?.metadata['mneme:refersTo'], '2023-05-01');
    assert.equal(lisbonRecord?.validFrom, saidAt);
    assert.equal(lisbonRecord?.validTo, '2026-02-20T10:00:00.000Z');
    assert.equal(lisbonRecord?.supersededBy, portoId);
    assert.equal((await memory.get(portoId))?.validTo, undefined);
    assert.deepEqual(
      (await memory.history(portoId)).map((event) => event.event),
      ['ADD'],
    );
    const lisbonHistory = await memory.history(lisbonId);
    assert.equal(lisbonHistory[0]?.event, 'ADD');
    assert.equal(lisbonHistory[0]?.relatedId, portoId);
    assert.match(lisbonHistory[0]?.reason ?? '', /the user moved; stated before the memory it contradicts/);

    const where = async (options: { asOf?: string; includeSuperseded?: boolean } = {}) =>
      (await memory.search('where does the user live', { ...USER, ...options })).results
        .map((result) => result.memory)
        .filter((text) => text !== job)
        .sort();
    assert.deepEqual(await where(), [porto]);
    assert.deepEqual(await where({ asOf: '2024-01-01T00:00:00Z' }), [lisbon]);
    assert.deepEqual(await where({ includeSuperseded: true }), [lisbon, porto]);
    const jobAsOf = async (instant: string) =>
      (await memory.search('new job', { ...USER, asOf: instant })).results.some(
        (result) => result.id === jobId,
      );
    assert.equal(await jobAsOf('2023-06-13T12:00:00Z'), false);
    assert.equal(await jobAsOf('2023-06-14T12:00:00Z'), true);
    await endStory(story, t);
  });
});

describe('LLM failures: nothing is written, errors carry what the model said', () => {
  async function storyWithOneMemory(): Promise<{ story: Story; tabsId: string }> {
    const story = await startStory();
    story.llm.extractions.set('I indent with tabs.', () => [
      { text: 'The user prefers tabs for indentation', kind: 'preference', topic: 'indentation' },
    ]);
    story.llm.extractions.set('I switched to spaces.', () => [
      { text: 'The user prefers spaces for indentation', kind: 'preference', topic: 'indentation' },
    ]);
    story.llm.decisions.set('The user prefers spaces for indentation', {
      action: 'SUPERSEDE',
      target: 'The user prefers tabs for indentation',
      reason: 'switched to spaces',
    });
    const first = await story.memory.add('I indent with tabs.', {
      ...USER,
      observedAt: '2026-02-01T10:00:00Z',
    });
    return { story, tabsId: first.results[0]?.id ?? '' };
  }

  async function snapshot(memory: Memory, id: string) {
    return {
      stats: await memory.store.stats(),
      all: await memory.list({ ...USER, includeSuperseded: true, includeExpired: true }),
      history: await memory.history(id),
    };
  }

  test('a decision naming an unknown id, or a real id, is rejected with the raw reply', async (t) => {
    const { story, tabsId } = await storyWithOneMemory();
    const before = await snapshot(story.memory, tabsId);
    const rogue = [
      '{"decisions":[{"fact":"f1","action":"SUPERSEDE","target":"m7","reason":"x"}]}',
      `{"decisions":[{"fact":"f1","action":"SUPERSEDE","target":"${tabsId}","reason":"x"}]}`,
      '{"decisions":[{"fact":"f9","action":"ADD","target":null,"reason":"x"}]}',
      '{"decisions":[{"fact":"f1","action":"NOOP","target":null,"reason":"x"}]}',
      '{"decisions":[]}',
    ];
    for (const text of rogue) {
      story.llm.rawReplies.reconciliation.push(text);
      await assert.rejects(
        story.memory.add('I switched to spaces.', { ...USER }),
        (error: unknown) =>
          error instanceof LLMError &&
          error.code === 'llm_invalid_reply' &&
          error.retryable === false &&
          error.rawText === text &&
          /memory reconciliation/.test(error.message),
      );
    }
    assert.deepEqual(await snapshot(story.memory, tabsId), before);
    await endStory(story, t);
  });

  test('malformed JSON from extraction or reconciliation is an LLMError with rawText; nothing written', async (t) => {
    const { story, tabsId } = await storyWithOneMemory();
    const before = await snapshot(story.memory, tabsId);
    const cases: Array<['extraction' | 'reconciliation', string]> = [
      ['extraction', '{"facts": [{"text": "The user prefers spaces", '],
      ['extraction', 'I could not find any facts in this conversation.'],
      ['extraction', '{"facts": [{"text": "The user prefers spaces", "kind": "opinion"}]}'],
      ['reconciliation', 'Sure! {"decisions": [ {"fact": "f1", "action": "ADD"} ] } Hope this helps.'],
      ['reconciliation', '{"decisions": "ADD everything"}'],
    ];
    for (const [stage, text] of cases) {
      story.llm.rawReplies[stage].push(text);
      await assert.rejects(
        story.memory.add('I switched to spaces.', { ...USER }),
        (error: unknown) =>
          error instanceof LLMError &&
          error.code === 'llm_invalid_reply' &&
          error.rawText === text &&
          error.message.startsWith(stage === 'extraction' ? 'fact extraction' : 'memory reconciliation'),
        `${stage}: ${text}`,
      );
    }
    assert.deepEqual(await snapshot(story.memory, tabsId), before);
    await endStory(story, t);
  });

  test('a 429 is retried (honouring retry-after) and the add succeeds', async (t) => {
    const { story } = await storyWithOneMemory();
    const start = fake.messageRequests().length;
    fake.enqueue({ status: 429, headers: { 'retry-after-ms': '20' } });
    const result = await add(story, '429 then success', 'I switched to spaces.', {
      observedAt: '2026-02-10T10:00:00Z',
    });
    assert.deepEqual(
      result.results.map((item) => item.event),
      ['SUPERSEDE'],
    );
    // The rejected extraction attempt, its retry, then the reconciliation; only served replies count as calls.
    const requests = fake.messageRequests().slice(start);
    assert.deepEqual(
      requests.map((request) => (request.body as { system?: string }).system === EXTRACTION_SYSTEM),
      [true, true, false],
    );
    assert.equal(result.usage.llmCalls, 2);
    await endStory(story, t);
  });

  test('a 500 storm fails the add with a retryable LLMError; enqueued, the item stays queued and is retried', async (t) => {
    const { story, tabsId } = await storyWithOneMemory();
    const before = await snapshot(story.memory, tabsId);
    const storm = (): FakeReply => ({ status: 500, headers: { 'retry-after-ms': '5' } });
    fake.setHandler(storm);
    const start = fake.messageRequests().length;
    await assert.rejects(
      story.memory.add('I switched to spaces.', { ...USER }),
      (error: unknown) =>
        error instanceof LLMError &&
        error.retryable === true &&
        error.statusCode === 500 &&
        /gave up after 3 attempts/.test(error.message),
    );
    assert.equal(fake.messageRequests().length - start, 3);
    assert.deepEqual(await snapshot(story.memory, tabsId), before);

    await story.memory.enqueue('I switched to spaces.', { ...USER, observedAt: '2026-02-10T10:00:00Z' });
    const failed = await story.memory.flush();
    assert.deepEqual(failed, { processed: 0, failed: 1, pending: 1 });
    assert.ok(story.fixture.logs.some((line) => line.level === 'warn' && /will retry/.test(line.message)));
    assert.deepEqual((await snapshot(story.memory, tabsId)).all, before.all);

    // The provider recovers; once the retry is due, the queued add is ingested exactly once.
    fake.setHandler(story.llm.handle);
    story.fixture.advance(5_000);
    assert.deepEqual(await story.memory.flush(), { processed: 1, failed: 0, pending: 0 });
    assert.deepEqual(await current(story), ['The user prefers spaces for indentation']);
    await endStory(story, t);
  });
});
