/**
 * The LLM ingestion planner (`add` with `infer: true` and an LLM configured):
 * 1. extract self-contained facts from the messages (one LLM call per ~24k characters of conversation);
 * 2. guard them in code: drop facts sourced only from assistant/system/tool messages (guesses), facts that echo
 *    memories injected into the prompt, and duplicates; re-label a preference or user fact whose subject is
 *    someone else as `other_fact`; a fact whose exact text is already stored is a NOOP without asking the LLM;
 * 3. reconcile the rest against the most similar current memories of the same scope (dense neighbours plus
 *    memories on the same topic) in ONE batched call, with short local ids (f1, m1) — never real ids — and
 *    reject replies naming unknown ids;
 * 4. return the plan (ADD / UPDATE / SUPERSEDE / NOOP, each with its reason for history), applied atomically by
 *    the caller. A SUPERSEDE whose new fact was stated before the memory it contradicts (an imported old
 *    conversation) is turned around: the new fact is stored as already superseded by the newer memory.
 * Calls per `add`: one per extraction chunk (usually one) + at most one reconciliation call, which is skipped
 * when no fact has a similar stored memory.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { LLMError } from '../core/errors.js';
import { hasSameOwner, ownerScope } from '../core/scope.js';
import { hashText, normaliseText } from '../core/text.js';
import type { MemoryKind, MemoryRecord } from '../core/types.js';
import type { LanguageModel, TokenUsage } from '../llm/types.js';
import type { MemoryChange, TemporalOptions } from '../stores/types.js';
import {
  EXTRACTION_SYSTEM,
  type ExtractedFact,
  extractionReplySchema,
  FACT_KINDS,
  RECONCILE_SYSTEM,
  type ReconcileDecision,
  reconcileReplySchema,
} from './llm-prompts.js';
import { embedInBatches, type IngestionDependencies } from './pipeline.js';
import { parseStructuredReply } from './structured-output.js';
import type { AddResultItem, IngestPlan, IngestRequest, SkippedMessage } from './types.js';

/** Characters of conversation per extraction call. */
const CHUNK_CHARACTERS = 24_000;
/** Most extraction calls one `add` may make. */
const MAX_EXTRACTION_CALLS = 8;
/** Similar memories shown per fact, the similarity below which a memory is not shown, and the cap per call. */
const NEIGHBOURS_PER_FACT = 5;
const NEIGHBOUR_MIN_SIMILARITY = 0.3;
const MAX_NEIGHBOURS = 40;
/** Cosine similarity at or above which a fact is an echo of a recalled memory. */
const ECHO_SIMILARITY = 0.92;

/** What the model sees instead of a message's content, by role. */
const OMITTED: Partial<Record<string, string>> = {
  system: '(system prompt omitted)',
  tool: '(tool output omitted)',
};

interface Usage {
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
}

interface Fact extends ExtractedFact {
  localId: string;
  hash: string;
  observedAt: string;
  embedding: Float32Array;
}

/** A decision with its target resolved to the stored memory, and who made it (`llm`, or the add's actor). */
type Decision = ReconcileDecision & { actor: string; targetRecord?: MemoryRecord };

/** Plans an `infer: true` add with the configured LLM. See the module comment for the steps. */
export async function planWithLanguageModel(
  request: IngestRequest,
  dependencies: IngestionDependencies,
): Promise<IngestPlan> {
  const llm = dependencies.llm;
  if (!llm) throw new LLMError('no language model configured', { code: 'llm_missing' });
  const usage: Usage = { llmCalls: 0, inputTokens: 0, outputTokens: 0 };
  const skipped: SkippedMessage[] = [];
  request.messages.forEach((message, index) => {
    if (message.role === 'system') skipped.push({ index, reason: 'system_message', text: message.content });
  });
  const extracted = await extract(llm, request, usage);
  const { facts, embeddedTexts } = await guardFacts(extracted, request, dependencies, skipped);
  const finish = (plan: Pick<IngestPlan, 'changes' | 'results'>, embedded: number): IngestPlan => ({
    ...plan,
    skipped: skipped.sort((a, b) => a.index - b.index),
    usage: { ...usage, embeddedTexts: embedded },
  });
  if (facts.length === 0) return finish({ changes: [], results: [] }, embeddedTexts);

  const temporal: TemporalOptions = { now: request.now };
  // A fact whose exact text is already a current memory is known: no LLM call needed for it.
  const stored = await dependencies.store.findByHash({
    scope: ownerScope(request.scope),
    hashes: facts.map((fact) => fact.hash),
    temporal,
  });
  const storedByHash = new Map(
    stored.filter((record) => hasSameOwner(record, request.scope)).map((record) => [record.hash, record]),
  );
  const known = facts.filter((fact) => storedByHash.has(fact.hash));
  const open = facts.filter((fact) => !storedByHash.has(fact.hash));

  const decisions: Decision[] = known.map((fact) => {
    const record = storedByHash.get(fact.hash);
    return {
      fact: fact.localId,
      action: 'NOOP',
      reason: 'already stored with the same text',
      actor: request.actor,
      ...(record ? { targetRecord: record } : {}),
    };
  });
  if (open.length > 0) {
    const neighbours = await findNeighbours(open, request, dependencies, temporal);
    if (neighbours.size === 0) {
      for (const fact of open) {
        decisions.push({
          fact: fact.localId,
          action: 'ADD',
          reason: 'no similar memory stored',
          actor: request.actor,
        });
      }
    } else {
      for (const decision of await reconcile(llm, open, neighbours, usage)) {
        const record = decision.target ? neighbours.get(decision.target) : undefined;
        decisions.push({ ...decision, actor: 'llm', ...(record ? { targetRecord: record } : {}) });
      }
    }
  }
  const order = new Map(facts.map((fact, index) => [fact.localId, index]));
  decisions.sort((a, b) => (order.get(a.fact) ?? 0) - (order.get(b.fact) ?? 0));
  const mergedTexts = await embedMergedTexts(decisions, facts, dependencies);
  const plan = buildPlan(facts, decisions, mergedTexts, request);
  return finish(plan, embeddedTexts + mergedTexts.size);
}

async function extract(
  llm: LanguageModel,
  request: IngestRequest,
  usage: Usage,
): Promise<Array<ExtractedFact & { observedAt: string }>> {
  const rows = request.messages.map((message, index) => ({
    index,
    role: message.role,
    ...(message.name ? { speaker: message.name } : {}),
    said_at: request.observedAt,
    // The assistant's words are context for what the user answered or confirmed, never a source of user facts.
    ...(message.role === 'assistant' ? { context_only: true } : {}),
    // The system prompt must never become a memory, and tool output (often large) cannot be a user statement.
    content: OMITTED[message.role] ?? message.content,
  }));
  const chunks: Array<typeof rows> = [];
  let current: typeof rows = [];
  let size = 0;
  for (const row of rows) {
    if (current.length > 0 && size + row.content.length > CHUNK_CHARACTERS) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += row.content.length;
  }
  if (current.length > 0) chunks.push(current);
  if (chunks.length > MAX_EXTRACTION_CALLS) {
    throw new LLMError(
      `this add would need ${chunks.length} extraction calls (limit ${MAX_EXTRACTION_CALLS}); split the messages into smaller adds`,
      { code: 'llm_call_budget' },
    );
  }
  const facts: Array<ExtractedFact & { observedAt: string }> = [];
  for (const chunk of chunks) {
    const data = { messages: chunk, shown_from_memory: request.recalled ?? [] };
    const { reply } = await askForJson(llm, usage, {
      system: EXTRACTION_SYSTEM,
      heading: 'Conversation data',
      data,
      schema: extractionReplySchema,
      task: 'fact extraction',
    });
    for (const fact of reply.facts) facts.push({ ...fact, observedAt: request.observedAt });
  }
  return facts;
}

async function guardFacts(
  extracted: Array<ExtractedFact & { observedAt: string }>,
  request: IngestRequest,
  dependencies: IngestionDependencies,
  skipped: SkippedMessage[],
): Promise<{ facts: Fact[]; embeddedTexts: number }> {
  const userSources = new Set(
    request.messages.flatMap((message, index) => (message.role === 'user' ? [index] : [])),
  );
  // With no assistant or tool message in the exchange, a fact without sources can only come from the user.
  const onlyUserSpoke = request.messages.every(
    (message) => message.role === 'user' || message.role === 'system',
  );
  const userNames = new Set(
    request.messages.flatMap((message) =>
      message.role === 'user' && message.name ? [normaliseText(message.name)] : [],
    ),
  );
  const recalledHashes = new Set((request.recalled ?? []).map((text) => hashText(text)));
  const seen = new Set<string>();
  const kept: Array<ExtractedFact & { observedAt: string; hash: string }> = [];
  for (const fact of extracted) {
    const sourceIndex = fact.sources[0] ?? 0;
    // A fact must come from at least one user message: assistant guesses are not user facts.
    const userStated =
      fact.sources.length === 0 ? onlyUserSpoke : fact.sources.some((index) => userSources.has(index));
    if (!userStated) {
      skipped.push({
        index: sourceIndex,
        reason: 'not_user_stated',
        text: fact.text,
      });
      continue;
    }
    // A preference or fact whose subject is someone else is that person's, never the user's.
    const subject = normaliseText(fact.subject);
    if ((fact.kind === 'preference' || fact.kind === 'user_fact') && !isUser(subject, userNames)) {
      fact.kind = 'other_fact';
    }
    const hash = hashText(fact.text);
    if (recalledHashes.has(hash)) {
      skipped.push({ index: sourceIndex, reason: 'recall_echo', text: fact.text });
      continue;
    }
    if (seen.has(hash)) {
      skipped.push({ index: sourceIndex, reason: 'duplicate', text: fact.text });
      continue;
    }
    seen.add(hash);
    kept.push({ ...fact, hash });
  }
  const vectors = await embedInBatches(
    dependencies.embedder,
    kept.map((fact) => fact.text),
  );
  const recalled = kept.length > 0 ? (request.recalled ?? []) : [];
  const recalledVectors = recalled.length ? await embedInBatches(dependencies.embedder, recalled) : [];
  const facts: Fact[] = [];
  kept.forEach((fact, index) => {
    const embedding = vectors[index];
    if (!embedding) throw new LLMError('the embedder returned fewer vectors than texts');
    if (recalledVectors.some((vector) => dot(vector, embedding) >= ECHO_SIMILARITY)) {
      skipped.push({ index: fact.sources[0] ?? 0, reason: 'recall_echo', text: fact.text });
      return;
    }
    facts.push({ ...fact, embedding, localId: `f${facts.length + 1}` });
  });
  return { facts, embeddedTexts: kept.length + recalled.length };
}

// "user", "me", "I", the empty string and the display names of the user's messages are the user.
function isUser(subject: string, userNames: Set<string>): boolean {
  return ['user', 'the user', 'me', 'i', 'myself', ''].includes(subject) || userNames.has(subject);
}

async function findNeighbours(
  facts: Fact[],
  request: IngestRequest,
  dependencies: IngestionDependencies,
  temporal: TemporalOptions,
): Promise<Map<string, MemoryRecord>> {
  const byId = new Map<string, MemoryRecord>();
  const add = (record: MemoryRecord): void => {
    if (byId.size < MAX_NEIGHBOURS && hasSameOwner(record, request.scope)) byId.set(record.id, record);
  };
  for (const fact of facts) {
    const hits = await dependencies.store.searchDense({
      scope: ownerScope(request.scope),
      temporal,
      embedding: fact.embedding,
      limit: NEIGHBOURS_PER_FACT,
    });
    for (const hit of hits) if (hit.similarity >= NEIGHBOUR_MIN_SIMILARITY) add(hit.record);
  }
  // Memories on the same topic may contradict a fact without sharing its words ("tabs" vs "4 spaces").
  const topics = [...new Set(facts.flatMap((fact) => (fact.topic ? [topicKey(fact.topic)] : [])))];
  if (topics.length > 0) {
    const onTopic = await dependencies.store.findByTopic({
      scope: ownerScope(request.scope),
      topics: topics.flatMap((topic) => FACT_KINDS.map((kind) => `${kind}:${topic}`)),
      temporal,
    });
    for (const record of onTopic) add(record);
  }
  return new Map([...byId.values()].map((record, index) => [`m${index + 1}`, record]));
}

async function reconcile(
  llm: LanguageModel,
  facts: Fact[],
  neighbours: Map<string, MemoryRecord>,
  usage: Usage,
): Promise<ReconcileDecision[]> {
  const data = {
    new_facts: facts.map((fact) => ({
      id: fact.localId,
      text: fact.text,
      kind: fact.kind,
      stated_at: fact.observedAt,
    })),
    existing_memories: [...neighbours.entries()].map(([id, record]) => ({
      id,
      text: record.memory,
      stated_at: record.observedAt,
    })),
  };
  const { reply, rawText } = await askForJson(llm, usage, {
    system: RECONCILE_SYSTEM,
    heading: 'Memory data',
    data,
    schema: reconcileReplySchema,
    task: 'memory reconciliation',
  });
  const factIds = new Set(facts.map((fact) => fact.localId));
  const decided = new Set<string>();
  const fail = (problem: string) =>
    new LLMError(`memory reconciliation: the language model's reply is not usable: ${problem}`, {
      code: 'llm_invalid_reply',
      rawText,
    });
  for (const decision of reply.decisions) {
    if (!factIds.has(decision.fact)) throw fail(`unknown fact id "${decision.fact}"`);
    if (decided.has(decision.fact)) throw fail(`two decisions for fact "${decision.fact}"`);
    decided.add(decision.fact);
    const target = decision.target ?? undefined;
    if (target !== undefined && !neighbours.has(target)) {
      throw fail(`decision for "${decision.fact}" names unknown memory id "${target}"`);
    }
    if (decision.action !== 'ADD' && target === undefined) {
      throw fail(`${decision.action} decision for "${decision.fact}" names no memory id`);
    }
  }
  for (const id of factIds) if (!decided.has(id)) throw fail(`no decision for fact "${id}"`);
  return reply.decisions;
}

/** Embeds the merged texts of UPDATE decisions that differ from their fact's text, keyed by fact id. */
async function embedMergedTexts(
  decisions: Decision[],
  facts: Fact[],
  dependencies: IngestionDependencies,
): Promise<Map<string, { text: string; embedding: Float32Array }>> {
  const factById = new Map(facts.map((fact) => [fact.localId, fact]));
  const pending = decisions.flatMap((decision) => {
    const text = decision.text?.trim();
    const fact = factById.get(decision.fact);
    return decision.action === 'UPDATE' && text && fact && hashText(text) !== fact.hash
      ? [{ id: decision.fact, text }]
      : [];
  });
  const vectors = await embedInBatches(
    dependencies.embedder,
    pending.map((item) => item.text),
  );
  const merged = new Map<string, { text: string; embedding: Float32Array }>();
  pending.forEach((item, index) => {
    const embedding = vectors[index];
    if (!embedding) throw new LLMError('the embedder returned fewer vectors than texts');
    merged.set(item.id, { text: item.text, embedding });
  });
  return merged;
}

function buildPlan(
  facts: Fact[],
  decisions: Decision[],
  mergedTexts: Map<string, { text: string; embedding: Float32Array }>,
  request: IngestRequest,
): Pick<IngestPlan, 'changes' | 'results'> {
  const changes: MemoryChange[] = [];
  const results: AddResultItem[] = [];
  // Memories whose row this plan already changes: a second change to one would undo the first.
  const changed = new Set<string>();
  const factById = new Map(facts.map((fact) => [fact.localId, fact]));
  for (const decision of decisions) {
    const fact = factById.get(decision.fact);
    if (!fact) continue;
    let reason = decision.reason ?? undefined;
    const target = decision.targetRecord;
    let action = decision.action;
    if (target && action !== 'NOOP' && changed.has(target.id)) {
      action = 'ADD';
      reason = `${reason ? `${reason}; ` : ''}stored as new: memory already changed by another fact of this add`;
    }
    const event = (type: 'ADD' | 'UPDATE' | 'SUPERSEDE' | 'NOOP', why = reason) => ({
      event: type,
      actor: decision.actor,
      createdAt: request.now,
      ...(why ? { reason: why } : {}),
    });
    const withReason = reason ? { reason } : {};
    if (action === 'NOOP' && target) {
      changes.push({ type: 'note', id: target.id, scope: ownerScope(request.scope), event: event('NOOP') });
      results.push({ id: target.id, memory: target.memory, event: 'NOOP', ...withReason });
    } else if (action === 'UPDATE' && target) {
      const merged = mergedTexts.get(fact.localId);
      const text = merged?.text ?? fact.text;
      changes.push({
        type: 'update',
        id: target.id,
        scope: ownerScope(request.scope),
        patch: { memory: text, hash: hashText(text), updatedAt: request.now },
        embedding: merged?.embedding ?? fact.embedding,
        event: { ...event('UPDATE'), previousValue: target.memory, newValue: text },
      });
      results.push({
        id: target.id,
        memory: text,
        event: 'UPDATE',
        previous: { id: target.id, memory: target.memory },
        ...withReason,
      });
      changed.add(target.id);
    } else if (action === 'SUPERSEDE' && target && fact.observedAt < target.observedAt) {
      // The new fact is older than the memory it contradicts (an imported conversation): it was true once,
      // until the newer memory replaced it. Store it as already superseded; the newer memory stays current.
      const id = randomUUID();
      const record = recordFor(id, fact, request);
      record.validTo = target.validFrom ?? target.observedAt;
      record.supersededBy = target.id;
      const why = `${reason ? `${reason}; ` : ''}stated before the memory it contradicts, so stored as superseded by it`;
      changes.push({
        type: 'insert',
        record,
        embedding: fact.embedding,
        event: { ...event('ADD', why), newValue: record.memory, relatedId: target.id },
      });
      results.push({ id, memory: record.memory, event: 'ADD', reason: why });
    } else {
      const id = randomUUID();
      const record = recordFor(id, fact, request);
      changes.push({
        type: 'insert',
        record,
        embedding: fact.embedding,
        event: { ...event('ADD'), newValue: record.memory },
      });
      if (action === 'SUPERSEDE' && target) {
        changes.push({
          type: 'update',
          id: target.id,
          scope: ownerScope(request.scope),
          patch: { validTo: record.validFrom ?? record.observedAt, supersededBy: id, updatedAt: request.now },
          event: {
            ...event('SUPERSEDE'),
            previousValue: target.memory,
            newValue: record.memory,
            relatedId: id,
          },
        });
        changed.add(target.id);
        results.push({
          id,
          memory: record.memory,
          event: 'SUPERSEDE',
          previous: { id: target.id, memory: target.memory },
          ...withReason,
        });
      } else {
        results.push({ id, memory: record.memory, event: 'ADD', ...withReason });
      }
    }
  }
  return { changes, results };
}

function recordFor(id: string, fact: Fact, request: IngestRequest): MemoryRecord {
  const refersTo = parseDay(fact.refersTo);
  const kind: MemoryKind = fact.kind;
  const record: MemoryRecord = {
    id,
    memory: fact.text,
    kind,
    role: 'user',
    metadata: {
      ...request.metadata,
      'mneme:subject': fact.subject,
      'mneme:importance': fact.importance,
      ...(refersTo ? { 'mneme:refersTo': refersTo.slice(0, 10) } : {}),
    },
    hash: fact.hash,
    createdAt: request.now,
    updatedAt: request.now,
    observedAt: fact.observedAt,
    // An event's validity starts when it happened; other facts when they were stated.
    validFrom: kind === 'event' && refersTo ? refersTo : fact.observedAt,
    ...request.scope,
  };
  if (fact.topic) record.topic = `${kind}:${topicKey(fact.topic)}`;
  if (request.expiresAt) record.expiresAt = request.expiresAt;
  return record;
}

function topicKey(topic: string): string {
  return normaliseText(topic).replace(/\s+/g, '-');
}

function parseDay(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/**
 * One call that answers in JSON: sends `data` as JSON under `heading`, counts the call in `usage`, and parses the
 * reply with `schema` (an unusable reply is an LLMError naming `task`). Returns the reply and the model's raw text.
 */
async function askForJson<T>(
  llm: LanguageModel,
  usage: Usage,
  request: { system: string; heading: string; data: unknown; schema: z.ZodType<T>; task: string },
): Promise<{ reply: T; rawText: string }> {
  const completion = await llm.complete({
    system: request.system,
    messages: [{ role: 'user', content: `${request.heading} (JSON):\n${JSON.stringify(request.data)}` }],
    maxTokens: 2048,
  });
  count(usage, completion.usage);
  return {
    reply: parseStructuredReply(completion.text, request.schema, request.task),
    rawText: completion.text,
  };
}

function count(usage: Usage, tokens: TokenUsage): void {
  usage.llmCalls += 1;
  usage.inputTokens += tokens.inputTokens;
  usage.outputTokens += tokens.outputTokens;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index += 1) sum += (a[index] ?? 0) * (b[index] ?? 0);
  return sum;
}
