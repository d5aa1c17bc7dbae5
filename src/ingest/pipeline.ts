/**
 * The ingestion pipeline behind `add` and the durable queue: extract candidates, drop duplicates, supersede
 * memories on the same topic, embed what is new, and return a plan of store changes that the caller applies in
 * one transaction. Without an LLM (or with `infer: false`) extraction is verbatim (verbatim.ts); with an LLM the
 * `inferencePlanner` (written against the same plan shape) decides instead.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { CONTEXT_TURNS } from '../core/reply-context.js';
import { hasExactScope, hasSameOwner, ownerScope } from '../core/scope.js';
import { hashText } from '../core/text.js';
import type { MemoryRecord } from '../core/types.js';
import type { Embedder } from '../embedders/types.js';
import type { LanguageModel } from '../llm/types.js';
import type { MemoryChange, MemoryStore, TemporalOptions } from '../stores/types.js';
import type { Claim } from './statements/claims.js';
import { judgeAgainstStored, replacedWithinBatch } from './supersession.js';
import type { AddResultItem, CandidateMemory, IngestPlan, IngestRequest, SkippedMessage } from './types.js';
import { extractVerbatim, withoutSpeakerLabel } from './verbatim.js';

/** What the pipeline needs from its host. */
export interface IngestionDependencies {
  store: MemoryStore;
  embedder: Embedder;
  llm: LanguageModel | null;
  logger: Logger;
  /** Plans an `infer: true` add with an LLM. Absent: verbatim extraction is used. */
  inferencePlanner?: (request: IngestRequest, dependencies: IngestionDependencies) => Promise<IngestPlan>;
}

/** Plans the store changes for one ingestion request. Reads the store; writes nothing. */
export async function planIngestion(
  request: IngestRequest,
  dependencies: IngestionDependencies,
): Promise<IngestPlan> {
  if (request.infer && dependencies.llm && dependencies.inferencePlanner) {
    return dependencies.inferencePlanner(request, dependencies);
  }
  const priorTurns = await conversationBefore(request, dependencies.store);
  const { candidates, skipped } = extractVerbatim(priorTurns ? { ...request, priorTurns } : request);
  return planCandidates(request, candidates, skipped, dependencies, {
    llmCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
  });
}

/** A turn older than this before the first message starts a new conversation (no reply context from it). */
const CONVERSATION_GAP_MS = 6 * 3_600_000;

/**
 * The conversation's latest named-speaker turns stored before this request (oldest first, labels removed), when
 * the request's first message is a named speaker's and the caller gave none: memories of the exact same scope,
 * newest first, observed at most {@link CONVERSATION_GAP_MS} before the request.
 */
async function conversationBefore(request: IngestRequest, store: MemoryStore): Promise<string[] | undefined> {
  if (request.priorTurns !== undefined || !request.messages[0]?.name) return undefined;
  const { records } = await store.list({
    scope: request.scope,
    temporal: { now: request.now },
    page: { limit: CONTEXT_TURNS * 2 },
  });
  const observed = Date.parse(request.observedAt);
  const turns: string[] = [];
  for (const record of records) {
    if (!record.speaker || !hasExactScope(record, request.scope)) continue;
    const age = observed - Date.parse(record.observedAt);
    if (!(age >= 0 && age <= CONVERSATION_GAP_MS)) break;
    turns.unshift(withoutSpeakerLabel(record.memory, record.speaker));
    if (turns.length === CONTEXT_TURNS) break;
  }
  return turns;
}

/**
 * Turns candidates into a plan: exact duplicates (within the batch, or already stored in the exact same scope)
 * become NOOP; a statement that restates a current standing memory is a NOOP that refreshes it; one that
 * replaces current standing memories (supersession.ts) supersedes them; the rest are ADDed.
 */
export async function planCandidates(
  request: IngestRequest,
  candidates: CandidateMemory[],
  skipped: SkippedMessage[],
  dependencies: IngestionDependencies,
  usage: { llmCalls: number; inputTokens: number; outputTokens: number },
): Promise<IngestPlan> {
  const { store, embedder } = dependencies;
  const temporal: TemporalOptions = { now: request.now };
  const changes: MemoryChange[] = [];
  const results: AddResultItem[] = [];
  const allSkipped = [...skipped];

  const seen = new Set<string>();
  const unique: Array<CandidateMemory & { hash: string }> = [];
  for (const candidate of candidates) {
    const hash = hashText(candidate.text);
    if (seen.has(hash)) {
      allSkipped.push({ index: candidate.sourceIndex, reason: 'duplicate', text: candidate.text });
      continue;
    }
    seen.add(hash);
    unique.push({ ...candidate, hash });
  }

  const stored = unique.length
    ? await store.findByHash({
        scope: ownerScope(request.scope),
        hashes: unique.map((item) => item.hash),
        temporal,
      })
    : [];
  const storedByHash = new Map(
    stored.filter((record) => hasSameOwner(record, request.scope)).map((record) => [record.hash, record]),
  );
  const fresh: Array<CandidateMemory & { hash: string }> = [];
  for (const candidate of unique) {
    const existing = storedByHash.get(candidate.hash);
    if (existing) {
      results.push({ id: existing.id, memory: existing.memory, event: 'NOOP', reason: 'already stored' });
      changes.push({
        type: 'note',
        id: existing.id,
        scope: ownerScope(request.scope),
        event: { event: 'NOOP', reason: 'stated again', actor: request.actor, createdAt: request.now },
      });
    } else {
      fresh.push(candidate);
    }
  }

  const vectors = await embedInBatches(
    embedder,
    fresh.map((item) => item.text),
  );
  const superseded = new Set<string>();
  // Memories inserted by this plan, with their claims: a later sentence of the same add may replace one.
  const inserted: Array<{ record: MemoryRecord; claim: Claim }> = [];
  for (const [index, candidate] of fresh.entries()) {
    const embedding = vectors[index];
    if (!embedding) throw new Error('embedder returned fewer vectors than texts');
    const id = randomUUID();
    const record = buildRecord(id, candidate, request);
    const found = candidate.claim
      ? await judgeAgainstStored({
          store,
          scope: request.scope,
          temporal,
          claim: candidate.claim,
          embedding,
          speaker: candidate.speaker,
          exclude: superseded,
        })
      : { replaces: [], restates: undefined };
    if (found.replaces.length === 0 && found.restates) {
      const known = found.restates;
      results.push({ id: known.record.id, memory: known.record.memory, event: 'NOOP', reason: known.reason });
      changes.push({
        type: 'update',
        id: known.record.id,
        scope: ownerScope(request.scope),
        patch: { updatedAt: request.now },
        event: {
          event: 'NOOP',
          reason: `stated again: ${known.reason}`,
          actor: request.actor,
          createdAt: request.now,
        },
      });
      continue;
    }
    // A plain statement that replaces a standing memory takes its place, and its kind ("Bumped everything to
    // Python 3.12" replacing the user_fact "I'm on Python 3.9").
    const [firstReplaced] = found.replaces;
    if (record.kind === 'message' && firstReplaced) record.kind = firstReplaced.record.kind;
    const older = found.replaces.filter((old) => old.record.observedAt <= record.observedAt);
    const newest = found.replaces
      .filter((old) => old.record.observedAt > record.observedAt)
      .sort((a, b) => a.record.observedAt.localeCompare(b.record.observedAt))[0];
    if (newest) {
      // An imported statement older than what we know: store it as already superseded.
      record.validTo = newest.record.observedAt;
      record.supersededBy = newest.record.id;
    }
    changes.push({
      type: 'insert',
      record,
      embedding,
      event: {
        event: 'ADD',
        newValue: record.memory,
        actor: request.actor,
        createdAt: request.now,
        ...(newest
          ? {
              reason: `older than ${newest.record.id}, which replaced it (${newest.reason})`,
              relatedId: newest.record.id,
            }
          : {}),
      },
    });
    const replacedInBatch = candidate.claim
      ? replacedWithinBatch(candidate.claim, candidate.speaker, inserted, superseded)
      : [];
    for (const old of [...older, ...replacedInBatch]) {
      superseded.add(old.record.id);
      changes.push({
        type: 'update',
        id: old.record.id,
        scope: ownerScope(request.scope),
        patch: { validTo: record.observedAt, supersededBy: id, updatedAt: request.now },
        event: {
          event: 'SUPERSEDE',
          previousValue: old.record.memory,
          newValue: record.memory,
          reason: `superseded by a newer statement: ${old.reason}`,
          actor: request.actor,
          relatedId: id,
          createdAt: request.now,
        },
      });
    }
    if (candidate.claim) inserted.push({ record, claim: candidate.claim });
    const replaced = older[0] ?? replacedInBatch[0];
    results.push(
      replaced
        ? {
            id,
            memory: record.memory,
            event: 'SUPERSEDE',
            previous: { id: replaced.record.id, memory: replaced.record.memory },
            reason: replaced.reason,
          }
        : { id, memory: record.memory, event: 'ADD' },
    );
  }
  return {
    changes,
    results,
    skipped: allSkipped.sort((a, b) => a.index - b.index),
    usage: { ...usage, embeddedTexts: fresh.length },
  };
}

function buildRecord(
  id: string,
  candidate: CandidateMemory & { hash: string },
  request: IngestRequest,
): MemoryRecord {
  const record: MemoryRecord = {
    id,
    memory: candidate.text,
    kind: candidate.kind,
    metadata: { ...request.metadata, ...(candidate.metadata ?? {}) },
    hash: candidate.hash,
    createdAt: request.now,
    updatedAt: request.now,
    observedAt: candidate.observedAt,
    validFrom: candidate.validFrom ?? candidate.observedAt,
    ...request.scope,
  };
  if (candidate.role) record.role = candidate.role;
  if (candidate.speaker) record.speaker = candidate.speaker;
  if (candidate.topic) record.topic = candidate.topic;
  if (request.expiresAt) record.expiresAt = request.expiresAt;
  return record;
}

/** Embeds texts in batches of the embedder's `maxBatchSize`, preserving order. */
export async function embedInBatches(
  embedder: Embedder,
  texts: string[],
  purpose: 'document' | 'query' = 'document',
): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  const size = Math.max(1, embedder.maxBatchSize);
  for (let start = 0; start < texts.length; start += size) {
    vectors.push(...(await embedder.embed({ texts: texts.slice(start, start + size), purpose })));
  }
  return vectors;
}
