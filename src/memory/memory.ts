/**
 * The Memory service: mneme's public API (`createMemory`). It validates input, resolves scope, runs the
 * ingestion pipeline, ranks search results, and delegates storage to the MemoryStore seam. It never reads
 * `process.env` (config.ts does) and holds no state a second process could not rebuild from the store.
 */

import { ConfigError, NotFoundError, ValidationError } from '../core/errors.js';
import { type FilterNode, parseFilter } from '../core/filters.js';
import { createConsoleLogger, type Logger } from '../core/logger.js';
import { fuseCandidates, type RankingOptions, resolveRanking } from '../core/ranking.js';
import { mergeScopes, pickScope } from '../core/scope.js';
import { hashText, queryTerms } from '../core/text.js';
import type {
  HistoryEvent,
  MemoryKind,
  MemoryRecord,
  Message,
  Metadata,
  Scope,
  SearchResult,
} from '../core/types.js';
import { MEMORY_KINDS, SCOPE_KEYS } from '../core/types.js';
import {
  LIMITS,
  validateIdentifier,
  validateMessages,
  validateMetadata,
  validateOptionalDate,
  validatePositiveInteger,
  validateQuery,
  validateScope,
  validateText,
  validateUnitInterval,
} from '../core/validate.js';
import type { Embedder } from '../embedders/types.js';
import { embedInBatches, type IngestionDependencies, planIngestion } from '../ingest/pipeline.js';
import { type DrainResult, QueueWorker } from '../ingest/queue-worker.js';
import { redactSecrets, SECRET_PATTERNS, type SecretPattern, stripPrivate } from '../ingest/redact.js';
import type { AddResult, IngestRequest } from '../ingest/types.js';
import type { LanguageModel } from '../llm/types.js';
import type { MemoryPatch, MemoryStore, QueueItem, TemporalOptions } from '../stores/types.js';
import { gateClaims } from './claim-gate.js';
import { type IngestionSettings, type MemoryOptions, resolveConfig } from './config.js';
import { correctionChanges } from './correct.js';
import { eraseReplyContextCopies } from './erase-reply-context.js';
import {
  PROFILE_DEFAULT_TOKENS,
  PROFILE_MAX_TOKENS,
  type ProfileOptions,
  readProfile,
  type UserProfile,
} from './profile.js';

/** Options of `add`: a scope (at least one field) plus what to record. */
export interface AddOptions extends Scope {
  metadata?: Metadata;
  /** When the messages were said. Relative dates resolve against it. @default now */
  observedAt?: string | Date;
  /** Hide the memories after this instant. */
  expiresAt?: string | Date;
  /** Use the LLM to extract and reconcile facts. Without an LLM, messages are stored verbatim. @default true */
  infer?: boolean;
  /** Who is writing, recorded in history. @default 'user' */
  actor?: string;
  /** Memory texts that were injected into the prompt: never stored again (recall echo). */
  recalled?: string[];
}

/** Read options shared by search and list. */
export interface ReadOptions extends Scope {
  /** Filter AST input, see filters.ts. Scope fields in top-level equality conditions may stand in for the scope. */
  filters?: unknown;
  /** Answer as of this instant. */
  asOf?: string | Date;
  /** Include memories that were superseded. @default false */
  includeSuperseded?: boolean;
  /** Include memories past `expiresAt`. @default false */
  includeExpired?: boolean;
}

/** Options of `search`. */
export interface SearchOptions extends ReadOptions {
  /** @default 10 */
  limit?: number;
  /** Drop results whose `score` is below this (0..1). @default 0 */
  threshold?: number;
  /** Which signals to use. @default 'hybrid' */
  mode?: 'hybrid' | 'dense' | 'keyword';
  /** A precomputed query vector (skips embedding the query). */
  queryEmbedding?: Float32Array;
}

/** Options of `list`. */
export interface ListOptions extends ReadOptions {
  /** @default 100 */
  limit?: number;
  cursor?: string;
}

/** One line of `mneme export`: a memory with its history. */
export interface ExportedMemory {
  type: 'memory';
  record: MemoryRecord;
  history: HistoryEvent[];
}

/** Options of `update`. */
export interface UpdateInput {
  text?: string;
  metadata?: Metadata;
  /** A corrected kind (e.g. `preference` for a memory that should be in the profile). */
  kind?: MemoryKind;
}

/** The memory API. Create with {@link createMemory}. */
export class Memory {
  readonly store: MemoryStore;
  readonly embedder: Embedder;
  readonly llm: LanguageModel | null;
  /** The logger this memory reports to (option `logger`, or JSON lines on stderr at `logLevel`). */
  readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly ranking: RankingOptions;
  private readonly worker: QueueWorker;
  private readonly closeWorker: QueueWorker;
  private readonly closeTimeoutMs: number;
  /** Set when close begins: the background worker stops claiming, the close drain runs until it. */
  private closeDeadline: number | undefined;
  /** Ids of items this instance enqueued and has not ingested yet: all that close drains. */
  private readonly enqueued = new Set<string>();
  private readonly dependencies: IngestionDependencies;
  private closed = false;

  /** @internal Use {@link createMemory}. */
  constructor(options: {
    store: MemoryStore;
    embedder: Embedder;
    llm: LanguageModel | null;
    logger: Logger;
    clock: () => Date;
    ranking: RankingOptions;
    ingestion: IngestionSettings;
    /** Patterns redacted from every stored text; null disables redaction. */
    secretPatterns: readonly SecretPattern[] | null;
    inferencePlanner?: IngestionDependencies['inferencePlanner'];
  }) {
    this.store = options.store;
    this.embedder = options.embedder;
    this.llm = options.llm;
    this.logger = options.logger;
    this.clock = options.clock;
    this.ranking = options.ranking;
    this.dependencies = {
      store: this.store,
      embedder: this.embedder,
      llm: this.llm,
      logger: this.logger,
      ...(options.inferencePlanner ? { inferencePlanner: options.inferencePlanner } : {}),
    };
    const workerOptions = {
      logger: this.logger,
      clock: this.clock,
      maxAttempts: options.ingestion.maxAttempts,
      leaseMs: options.ingestion.leaseMs,
      process: (item: QueueItem) => this.processQueueItem(item),
    };
    // The background worker takes anyone's items until close begins; the close drain takes only this
    // instance's, one at a time, until its deadline.
    this.worker = new QueueWorker({
      ...workerOptions,
      store: gateClaims(this.store, () => (this.closeDeadline === undefined ? undefined : null)),
    });
    this.closeWorker = new QueueWorker({
      ...workerOptions,
      batchSize: 1,
      store: gateClaims(this.store, () =>
        this.closeDeadline !== undefined && Date.now() < this.closeDeadline ? [...this.enqueued] : null,
      ),
    });
    this.closeTimeoutMs = options.ingestion.closeTimeoutMs;
    this.backgroundIngestion = options.ingestion.background;
    this.pollMs = options.ingestion.pollMs;
    this.secretPatterns = options.secretPatterns;
  }

  private readonly backgroundIngestion: boolean;
  private readonly pollMs: number;
  private poller: NodeJS.Timeout | undefined;
  private readonly secretPatterns: readonly SecretPattern[] | null;

  /**
   * Stores memories from a string, a message, or a list of messages. Without an LLM each message is stored
   * verbatim (role and speaker kept); system/tool, empty, low-signal and duplicate messages are skipped and
   * reported. Applied atomically: either every change lands, or none.
   */
  async add(input: string | Message | Message[], options: AddOptions): Promise<AddResult> {
    this.assertOpen();
    const request = this.buildRequest(input, options);
    const plan = await planIngestion(request, this.dependencies);
    if (plan.changes.length > 0) await this.store.apply({ changes: plan.changes });
    return { results: plan.results, skipped: plan.skipped, usage: plan.usage };
  }

  /**
   * Queues an `add` durably and returns at once; a background worker ingests it (see queue-worker.ts).
   * The request survives a crash once this resolves. Use {@link Memory.flush} to wait for it.
   */
  async enqueue(input: string | Message | Message[], options: AddOptions): Promise<{ queueItemId: string }> {
    this.assertOpen();
    const request = this.buildRequest(input, options);
    const item = await this.store.enqueue({
      scope: request.scope,
      payload: {
        messages: request.messages,
        options: {
          metadata: request.metadata,
          observedAt: request.observedAt,
          infer: request.infer,
          actor: request.actor,
          ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
          ...(request.recalled ? { recalled: request.recalled } : {}),
        },
      },
      now: request.now,
    });
    this.enqueued.add(item.id);
    if (this.backgroundIngestion) this.worker.kick();
    return { queueItemId: item.id };
  }

  /** Waits until every queued item claimable now is ingested. Items waiting for a retry stay `pending`. */
  async flush(): Promise<DrainResult> {
    this.assertOpen();
    return this.worker.drain();
  }

  /** Hybrid search within a scope. Results are ranked by `score` (see ranking.ts) with per-signal `scores`. */
  async search(query: string, options: SearchOptions): Promise<{ results: SearchResult[] }> {
    this.assertOpen();
    const text = validateQuery(query);
    const { scope, filter, temporal } = this.readContext(options);
    const limit = validatePositiveInteger(options.limit, 'limit', 10, LIMITS.searchLimit);
    const threshold = validateUnitInterval(options.threshold, 'threshold') ?? 0;
    const mode = options.mode ?? 'hybrid';
    if (mode !== 'hybrid' && mode !== 'dense' && mode !== 'keyword') {
      throw new ValidationError('mode', 'expected "hybrid", "dense" or "keyword"');
    }
    const wantDense = mode !== 'keyword';
    const wantKeyword = mode !== 'dense';
    if (options.queryEmbedding) this.checkQueryEmbedding(options.queryEmbedding);
    if (options.queryEmbedding && !isUsableVector(options.queryEmbedding)) {
      throw new ValidationError(
        'queryEmbedding',
        'expected finite numbers, not all zero (an L2-normalised vector)',
      );
    }
    const terms = wantKeyword ? queryTerms(text) : [];
    // What both candidate searches share: the scope, the point in time and the metadata filter.
    const candidateQuery = { scope, temporal, ...(filter ? { filter } : {}) };
    // The keyword half starts first, so a store that answers it asynchronously (PostgreSQL, on its own pooled
    // connection) overlaps it with the query's embedding and the dense half. Marked handled now, awaited below.
    const keywordSearch =
      terms.length > 0
        ? this.store.searchKeyword({
            ...candidateQuery,
            terms,
            limit: Math.max(limit * 10, this.ranking.keywordCandidates),
          })
        : Promise.resolve([]);
    keywordSearch.catch(() => undefined);
    let embedding = options.queryEmbedding;
    if (wantDense && !embedding) {
      [embedding] = await embedInBatches(this.embedder, [text], 'query');
    }
    if (embedding) this.checkQueryEmbedding(embedding);
    const [dense, keyword] = await Promise.all([
      wantDense && embedding
        ? this.store.searchDense({
            ...candidateQuery,
            embedding,
            limit: Math.max(limit * 10, this.ranking.denseCandidates),
          })
        : Promise.resolve([]),
      keywordSearch,
    ]);
    // One signal alone: the other list's weight and every signal beside the two lists are off.
    const alone = { rrfWeight: 0, recencyWeight: 0, sessionWeight: 0, speakerWeight: 0 };
    const ranking =
      mode === 'hybrid'
        ? this.ranking
        : mode === 'dense'
          ? { ...this.ranking, ...alone, keywordWeight: 0 }
          : { ...this.ranking, ...alone, denseWeight: 0 };
    const now = temporal.asOf ?? temporal.now;
    return { results: fuseCandidates({ dense, keyword, now, ranking, query: text, limit, threshold }) };
  }

  private checkQueryEmbedding(embedding: Float32Array): void {
    if (embedding.length !== this.embedder.dimension) {
      throw new ValidationError('queryEmbedding', `expected ${this.embedder.dimension} dimensions`);
    }
  }

  /**
   * The scope's current standing memories (instructions, preferences, facts about the user, and pinned
   * memories), de-duplicated, within `maxTokens` (default 400). See profile.ts for the rules.
   */
  async profile(scope: Scope, options: ProfileOptions = {}): Promise<UserProfile> {
    this.assertOpen();
    const validScope = validateScope(scope, { required: true, field: 'scope' });
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('options', 'expected { maxTokens? }');
    }
    const maxTokens = validatePositiveInteger(
      options.maxTokens,
      'maxTokens',
      PROFILE_DEFAULT_TOKENS,
      PROFILE_MAX_TOKENS,
    );
    return readProfile(this.store, { scope: validScope, now: this.now(), maxTokens });
  }

  /** The memory with this id, or null. With a scope, a memory outside it is reported as null too. */
  async get(id: string, scope?: Scope): Promise<MemoryRecord | null> {
    this.assertOpen();
    const validId = validateIdentifier(id, 'id');
    const validScope = validateScope(scope, { required: false, field: 'scope' });
    return this.store.get({ id: validId, ...(Object.keys(validScope).length ? { scope: validScope } : {}) });
  }

  /** Memories in a scope, newest first, paginated with an opaque cursor. */
  async list(options: ListOptions): Promise<{ results: MemoryRecord[]; nextCursor?: string }> {
    this.assertOpen();
    const { scope, filter, temporal } = this.readContext(options);
    const limit = validatePositiveInteger(options.limit, 'limit', 100, LIMITS.listLimit);
    if (options.cursor !== undefined && typeof options.cursor !== 'string') {
      throw new ValidationError('cursor', 'expected the nextCursor string of a previous page');
    }
    const page = await this.store.list({
      scope,
      temporal,
      page: { limit, ...(options.cursor ? { cursor: options.cursor } : {}) },
      ...(filter ? { filter } : {}),
    });
    return { results: page.records, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  /** Changes a memory's text and/or metadata (scope cannot change). Recorded in history as UPDATE. */
  async update(id: string, input: UpdateInput, scope?: Scope): Promise<MemoryRecord> {
    this.assertOpen();
    const validId = validateIdentifier(id, 'id');
    const validScope = validateScope(scope, { required: false, field: 'scope' });
    if (typeof input !== 'object' || input === null) {
      throw new ValidationError('update', 'expected { text?, metadata? }');
    }
    if (input.text === undefined && input.metadata === undefined && input.kind === undefined) {
      throw new ValidationError('update', 'give text, metadata or kind');
    }
    if (input.kind !== undefined && !(MEMORY_KINDS as readonly unknown[]).includes(input.kind)) {
      throw new ValidationError('kind', `expected one of ${MEMORY_KINDS.join(', ')}`);
    }
    const scoped = Object.keys(validScope).length ? { scope: validScope } : {};
    const current = await this.store.get({ id: validId, ...scoped });
    if (!current) throw new NotFoundError(`memory ${validId} not found`);
    const now = this.now();
    const patch: MemoryPatch = { updatedAt: now };
    let embedding: Float32Array | undefined;
    if (input.text !== undefined) {
      const text = validateText(input.text, 'text').trim();
      if (text.length === 0)
        throw new ValidationError('text', 'must not be empty; use delete() to remove a memory');
      patch.memory = this.redact(text).trim();
      if (patch.memory.length === 0)
        throw new ValidationError(
          'text',
          'holds only <private> text, which is never stored; use delete() instead',
        );
      patch.hash = hashText(patch.memory);
      [embedding] = await embedInBatches(this.embedder, [patch.memory]);
    }
    if (input.metadata !== undefined) patch.metadata = validateMetadata(input.metadata);
    if (input.kind !== undefined) patch.kind = input.kind;
    await this.store.apply({
      changes: [
        {
          type: 'update',
          id: validId,
          scope: pickScope(current),
          patch,
          ...(embedding ? { embedding } : {}),
          event: {
            event: 'UPDATE',
            previousValue: current.memory,
            newValue: patch.memory ?? current.memory,
            actor: 'user',
            createdAt: now,
            ...(patch.memory === undefined ? { reason: describeEdit(input) } : {}),
          },
        },
      ],
    });
    const updated = await this.store.get({ id: validId });
    if (!updated) throw new NotFoundError(`memory ${validId} not found`);
    return updated;
  }

  /**
   * Marks a memory as wrong and replaces it with a correction (see correct.ts): a new memory with `text`
   * supersedes it, in one transaction; both stay in history. Only a current memory can be corrected.
   * @returns the correction and the superseded memory.
   * @throws NotFoundError when the id is unknown (within `scope` when given); ValidationError (`id`) when it was
   * already superseded; ValidationError (`text`) for empty or invalid text.
   */
  async correct(
    id: string,
    text: string,
    scope?: Scope,
  ): Promise<{ memory: MemoryRecord; superseded: MemoryRecord }> {
    this.assertOpen();
    const validId = validateIdentifier(id, 'id');
    const validScope = validateScope(scope, { required: false, field: 'scope' });
    const within = Object.keys(validScope).length ? { scope: validScope } : {};
    const valid = validateText(text, 'text').trim();
    if (valid.length === 0) throw new ValidationError('text', 'must not be empty: give the corrected text');
    const current = await this.store.get({ id: validId, ...within });
    if (!current) throw new NotFoundError(`memory ${validId} not found`);
    if (current.supersededBy !== undefined) {
      throw new ValidationError(
        'id',
        `already superseded by ${current.supersededBy}; correct that one instead`,
      );
    }
    const corrected = this.redact(valid);
    const [embedding] = await embedInBatches(this.embedder, [corrected]);
    if (!embedding) throw new ValidationError('text', 'could not be embedded');
    const { id: newId, changes } = correctionChanges({
      current,
      text: corrected,
      embedding,
      now: this.now(),
      actor: 'user',
    });
    await this.store.apply({ changes });
    const [memory, superseded] = await Promise.all([
      this.store.get({ id: newId }),
      this.store.get({ id: validId }),
    ]);
    if (!memory || !superseded) throw new NotFoundError(`memory ${validId} not found`);
    return { memory, superseded };
  }

  /**
   * Deletes one memory, softly: its history keeps a DELETE event with the last text, for audit. To leave no
   * text behind, use {@link Memory.erase}.
   */
  async delete(id: string, scope?: Scope): Promise<void> {
    this.assertOpen();
    const validId = validateIdentifier(id, 'id');
    const validScope = validateScope(scope, { required: false, field: 'scope' });
    const current = await this.store.get({
      id: validId,
      ...(Object.keys(validScope).length ? { scope: validScope } : {}),
    });
    if (!current) throw new NotFoundError(`memory ${validId} not found`);
    await this.store.apply({
      changes: [
        {
          type: 'delete',
          id: validId,
          scope: pickScope(current),
          event: { event: 'DELETE', previousValue: current.memory, actor: 'user', createdAt: this.now() },
        },
      ],
    });
  }

  /**
   * Erases one memory: its row, vector and keyword entry, and the text of every event of its history (an ERASE
   * tombstone with ids and times remains), as {@link Memory.deleteAll} does for a scope. Also erases the history
   * text of a memory deleted before, and the copies of its text held as other memories' reply context
   * (erase-reply-context.ts; for a memory deleted before, those copies stay). On SQLite the freed pages are zeroed and the WAL emptied before this returns.
   * @throws NotFoundError when the id is unknown (within `scope` when given) or already erased.
   */
  async erase(id: string, scope?: Scope): Promise<void> {
    this.assertOpen();
    const validId = validateIdentifier(id, 'id');
    const validScope = validateScope(scope, { required: false, field: 'scope' });
    const within = Object.keys(validScope).length ? { scope: validScope } : {};
    const current = await this.store.get({ id: validId, ...within });
    // A named speaker's turn is copied into the reply context of the turns after it (core/reply-context.ts).
    // Those copies go first, so that the store's erase (which zeroes freed pages and empties the WAL on SQLite)
    // also wipes the bytes they leave behind.
    if (current?.speaker) await eraseReplyContextCopies(this.store, current, this.now());
    const erased = await this.store.eraseMemory({ id: validId, ...within, now: this.now(), actor: 'user' });
    if (!erased) throw new NotFoundError(`memory ${validId} not found`);
  }

  /**
   * Erases every memory in a scope (at least one field): rows, vectors, keyword index, queued items and the
   * text of their history (ERASE tombstones with ids and times remain).
   */
  async deleteAll(scope: Scope): Promise<{ deleted: number }> {
    this.assertOpen();
    const validScope = validateScope(scope, { required: true, field: 'scope' });
    const deleted = await this.store.eraseScope({ scope: validScope, now: this.now(), actor: 'user' });
    return { deleted };
  }

  /** Every recorded change to a memory, oldest first. */
  async history(id: string, scope?: Scope): Promise<HistoryEvent[]> {
    this.assertOpen();
    const validId = validateIdentifier(id, 'id');
    const validScope = validateScope(scope, { required: false, field: 'scope' });
    return this.store.history({
      id: validId,
      ...(Object.keys(validScope).length ? { scope: validScope } : {}),
    });
  }

  /**
   * Every memory of a scope (including superseded and expired ones) with its history, newest first, as one
   * point-in-time snapshot (the state when the iteration started; writes go on meanwhile, unseen). The export
   * format is portable: vectors are not included; `importMemories` re-embeds.
   */
  async *exportMemories(scope: Scope): AsyncGenerator<ExportedMemory> {
    this.assertOpen();
    const validScope = validateScope(scope, { required: true, field: 'scope' });
    const snapshot = this.store.exportScope({
      scope: validScope,
      temporal: { now: this.now(), includeSuperseded: true, includeExpired: true },
    });
    for await (const { record, history } of snapshot) yield { type: 'memory', record, history };
  }

  /**
   * Imports exported memories verbatim (ids, times, scope, history), re-embedding their text with this
   * memory's embedder. Idempotent: ids already present are skipped.
   */
  async importMemories(items: ExportedMemory[]): Promise<{ imported: number; skipped: number }> {
    this.assertOpen();
    const redacted = items.map((item, index) => {
      const exported = validateExported(item, `items[${index}]`);
      // Imports pass the same redaction as add (secrets, <private> spans), history text included: an old export
      // (or another system's) may predate it.
      const memory = this.redact(exported.record.memory).trim();
      const record =
        memory === exported.record.memory
          ? exported.record
          : { ...exported.record, memory, hash: hashText(memory) };
      const history = exported.history.map((event) => ({
        ...event,
        ...(typeof event.previousValue === 'string'
          ? { previousValue: this.redact(event.previousValue) }
          : {}),
        ...(typeof event.newValue === 'string' ? { newValue: this.redact(event.newValue) } : {}),
      }));
      return { ...exported, record, history };
    });
    // A memory that was all <private> text has nothing left to keep: it counts as skipped.
    const valid = redacted.filter((item) => item.record.memory !== '');
    const vectors = await embedInBatches(
      this.embedder,
      valid.map((item) => item.record.memory),
    );
    const imported = await this.store.restore({
      items: valid.map((item, index) => {
        const embedding = vectors[index];
        if (!embedding) throw new ValidationError(`items[${index}]`, 'could not be embedded');
        return { record: item.record, embedding, history: item.history };
      }),
    });
    return { imported, skipped: items.length - imported };
  }

  /** A view of this memory confined to `scope`: every call is ANDed with it and cannot leave it. */
  withScope(scope: Scope): ScopedMemory {
    return new ScopedMemory(this, validateScope(scope, { required: true, field: 'scope' }));
  }

  /**
   * Ingests the items this instance enqueued that are claimable now, for at most `ingestion.closeTimeoutMs`,
   * then closes the store. Other processes' items, and this instance's items waiting for a retry or left at the
   * deadline, stay queued for a worker (`mneme serve`, the next process). Best effort: a failure is logged.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closeDeadline = Date.now() + this.closeTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.closeTimeoutMs);
    });
    const drained = (async () => {
      await this.worker.stop(); // the background drain ends after the items it holds
      await this.closeWorker.drain();
      return 'drained' as const;
    })();
    try {
      if ((await Promise.race([drained, deadline])) === 'timeout') {
        this.logger.warn('close: ingestion deadline reached; the rest stays queued for the next worker', {
          closeTimeoutMs: this.closeTimeoutMs,
          enqueuedHere: this.enqueued.size,
        });
        // An item still being processed fails against the closed store; its lease expires and a worker retries it.
        drained.catch(() => undefined);
      }
    } catch (error) {
      this.logger.warn('queued ingestion not flushed at close; it stays queued for the next process', {
        error: String(error),
      });
    } finally {
      clearTimeout(timer);
    }
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    void this.worker.stop();
    void this.closeWorker.stop();
    await this.store.close();
    await this.embedder.close();
  }

  /**
   * Starts draining items left queued by an earlier process, and (for a long-running server) keeps polling
   * every `ingestion.pollMs` for items other processes left: a replica that died mid-ingestion leaves its
   * claimed items for whoever polls after their lease ends. Idempotent; stopped by {@link Memory.close}.
   */
  resumeIngestion(): void {
    if (!this.backgroundIngestion) return;
    this.worker.kick();
    if (this.pollMs > 0 && !this.poller) {
      this.poller = setInterval(() => this.worker.kick(), this.pollMs);
      this.poller.unref();
    }
  }

  private async processQueueItem(item: QueueItem): Promise<void> {
    const payload = item.payload as {
      messages: Message[];
      options: Omit<IngestRequest, 'messages' | 'scope' | 'now'>;
    };
    const request: IngestRequest = {
      ...payload.options,
      messages: payload.messages,
      scope: item.scope,
      now: this.now(),
    };
    const plan = await planIngestion(request, this.dependencies);
    await this.store.apply({ changes: plan.changes, completeQueueItem: item.id });
    this.enqueued.delete(item.id);
  }

  private buildRequest(input: string | Message | Message[], options: AddOptions): IngestRequest {
    const scope = validateScope(options, { required: true });
    const messages = validateMessages(input).map((message) => ({
      ...message,
      content: this.redact(message.content),
    }));
    const now = this.now();
    const observedAt = validateOptionalDate(options.observedAt, 'observedAt') ?? now;
    const expiresAt = validateOptionalDate(options.expiresAt, 'expiresAt');
    if (options.infer !== undefined && typeof options.infer !== 'boolean') {
      throw new ValidationError('infer', 'expected true or false');
    }
    const actor = options.actor === undefined ? 'user' : validateIdentifier(options.actor, 'actor');
    let recalled: string[] | undefined;
    if (options.recalled !== undefined) {
      if (!Array.isArray(options.recalled) || options.recalled.some((item) => typeof item !== 'string')) {
        throw new ValidationError('recalled', 'expected an array of memory texts');
      }
      recalled = options.recalled;
    }
    return {
      messages,
      scope,
      metadata: validateMetadata(options.metadata),
      observedAt,
      infer: options.infer ?? true,
      actor,
      now,
      ...(expiresAt ? { expiresAt } : {}),
      ...(recalled ? { recalled } : {}),
    };
  }

  private readContext(options: ReadOptions): {
    scope: Scope;
    filter?: FilterNode;
    temporal: TemporalOptions;
  } {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('options', 'expected an options object such as { userId: "alice" }');
    }
    const explicit = validateScope(options, { required: false });
    const filter = parseFilter(options.filters);
    const lifted = liftScopeFromFilter(filter);
    const scope = mergeScopes(explicit, lifted);
    if (!scope) {
      throw new ValidationError('filters', 'a scope field in filters contradicts the scope given in options');
    }
    if (Object.keys(scope).length === 0) {
      throw new ValidationError(
        'options.userId',
        'every operation needs a scope: pass at least one of userId, agentId, runId or appId',
      );
    }
    const asOf = validateOptionalDate(options.asOf, 'asOf');
    const temporal: TemporalOptions = {
      now: this.now(),
      ...(asOf ? { asOf } : {}),
      ...(options.includeSuperseded ? { includeSuperseded: true } : {}),
      ...(options.includeExpired ? { includeExpired: true } : {}),
    };
    return { scope, temporal, ...(filter ? { filter } : {}) };
  }

  /** What every stored text goes through: `<private>` spans removed (always), then secrets redacted. */
  private redact(text: string): string {
    const shared = stripPrivate(text);
    return this.secretPatterns ? redactSecrets(shared, this.secretPatterns).text : shared;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private assertOpen(): void {
    if (this.closed) throw new ConfigError('this memory is closed; create a new one with createMemory()');
  }
}

/** A {@link Memory} confined to one scope (used by the server, MCP tools and the Agent SDK integration). */
export class ScopedMemory {
  constructor(
    readonly memory: Memory,
    readonly scope: Scope,
  ) {}

  async add(
    input: string | Message | Message[],
    options: Omit<AddOptions, keyof Scope> & Scope = {},
  ): Promise<AddResult> {
    return this.memory.add(input, { ...options, ...this.confine(options) });
  }

  async enqueue(input: string | Message | Message[], options: Omit<AddOptions, keyof Scope> & Scope = {}) {
    return this.memory.enqueue(input, { ...options, ...this.confine(options) });
  }

  async search(query: string, options: SearchOptions = {}) {
    return this.memory.search(query, { ...options, ...this.confine(options) });
  }

  async list(options: ListOptions = {}) {
    return this.memory.list({ ...options, ...this.confine(options) });
  }

  async get(id: string) {
    return this.memory.get(id, this.scope);
  }

  async update(id: string, input: UpdateInput) {
    return this.memory.update(id, input, this.scope);
  }

  async delete(id: string) {
    return this.memory.delete(id, this.scope);
  }

  async correct(id: string, text: string) {
    return this.memory.correct(id, text, this.scope);
  }

  async erase(id: string) {
    return this.memory.erase(id, this.scope);
  }

  async history(id: string) {
    return this.memory.history(id, this.scope);
  }

  /** The profile of this view's scope, narrowed by the scope fields of `options` (e.g. a user of an app view). */
  async profile(options: ProfileOptions & Scope = {}) {
    const { maxTokens, ...scope } = options;
    return this.memory.profile(this.confine(scope), maxTokens === undefined ? {} : { maxTokens });
  }

  async deleteAll(scope: Scope = {}) {
    return this.memory.deleteAll(this.confine(scope));
  }

  private confine(extra: Scope): Scope {
    const merged = mergeScopes(this.scope, validateScope(extra, { required: false }));
    if (!merged) throw new NotFoundError('the requested scope is outside this view');
    return merged;
  }
}

/** Creates a Memory from options, env and defaults (see config.ts). Opens the store and checks the embedder. */
export async function createMemory(options: MemoryOptions = {}): Promise<Memory> {
  const config = resolveConfig(options);
  const logger = options.logger ?? createConsoleLogger(config.logLevel);
  const ranking = resolveRanking(config.ranking);
  // Registries load backends lazily, so an unused backend's dependencies are never imported.
  const embedder =
    typeof config.embedder === 'string'
      ? await (await import('../embedders/registry.js')).createEmbedder(
          config.embedder,
          config.embedderOptions,
        )
      : config.embedder;
  const llm =
    config.llm === null || typeof config.llm !== 'string'
      ? config.llm
      : await (await import('../llm/registry.js')).createLanguageModel(config.llm, config.llmOptions);
  const store =
    typeof config.store === 'string'
      ? await (await import('../stores/registry.js')).createStore(config.store)
      : config.store;
  try {
    await store.open({ embedder: { id: embedder.id, dimension: embedder.dimension } });
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const inferencePlanner = llm ? await loadInferencePlanner() : undefined;
  const memory = new Memory({
    store,
    embedder,
    llm,
    logger,
    clock: options.clock ?? (() => new Date()),
    ranking,
    ingestion: config.ingestion,
    secretPatterns:
      options.redaction === false ? null : [...SECRET_PATTERNS, ...(options.redaction?.patterns ?? [])],
    ...(inferencePlanner ? { inferencePlanner } : {}),
  });
  memory.resumeIngestion();
  return memory;
}

// The LLM planner lives in ingest/ and is loaded only when an LLM is configured.
async function loadInferencePlanner(): Promise<IngestionDependencies['inferencePlanner']> {
  const module = (await import('../ingest/registry.js')) as {
    inferencePlanner?: IngestionDependencies['inferencePlanner'];
  };
  return module.inferencePlanner;
}

function validateExported(item: unknown, field: string): ExportedMemory {
  if (typeof item !== 'object' || item === null || (item as { type?: unknown }).type !== 'memory') {
    throw new ValidationError(
      field,
      'expected an exported line { "type": "memory", "record": {...}, "history": [...] }',
    );
  }
  const { record, history } = item as { record?: unknown; history?: unknown };
  if (typeof record !== 'object' || record === null)
    throw new ValidationError(`${field}.record`, 'expected an object');
  const value = record as Record<string, unknown>;
  validateIdentifier(value.id, `${field}.record.id`);
  const text = validateText(value.memory, `${field}.record.memory`);
  if (text.trim().length === 0) throw new ValidationError(`${field}.record.memory`, 'must not be empty');
  validateScope(value, { required: true, field: `${field}.record` });
  for (const key of ['createdAt', 'updatedAt', 'observedAt'] as const) {
    validateOptionalDate(value[key], `${field}.record.${key}`);
    if (value[key] === undefined) throw new ValidationError(`${field}.record.${key}`, 'is required');
  }
  const metadata = validateMetadata(value.metadata, `${field}.record.metadata`);
  if (!Array.isArray(history))
    throw new ValidationError(`${field}.history`, 'expected an array (may be empty)');
  const kind = typeof value.kind === 'string' ? value.kind : 'message';
  const hash = typeof value.hash === 'string' ? value.hash : hashText(text);
  return {
    type: 'memory',
    record: {
      ...(value as unknown as MemoryRecord),
      memory: text,
      metadata,
      kind: kind as MemoryRecord['kind'],
      hash,
    },
    history: history as HistoryEvent[],
  };
}

function describeEdit(input: UpdateInput): string {
  const changed = [
    input.metadata !== undefined ? 'metadata' : '',
    input.kind !== undefined ? `kind (${input.kind})` : '',
  ]
    .filter((part) => part !== '')
    .join(' and ');
  return `${changed} changed`;
}

function isUsableVector(vector: Float32Array): boolean {
  let nonZero = false;
  for (const value of vector) {
    if (!Number.isFinite(value)) return false;
    if (value !== 0) nonZero = true;
  }
  return nonZero;
}

// Top-level AND equality conditions on scope fields (`{ user_id: 'alice' }`, Mem0 style) act as scope.
function liftScopeFromFilter(filter: FilterNode | undefined): Scope {
  const scope: Scope = {};
  if (!filter) return scope;
  const conditions = filter.op === 'and' ? filter.children : [filter];
  for (const node of conditions) {
    if (
      node.op === 'compare' &&
      node.operator === 'eq' &&
      node.field.kind === 'column' &&
      (SCOPE_KEYS as readonly string[]).includes(node.field.name) &&
      typeof node.value === 'string'
    ) {
      scope[node.field.name as keyof Scope] = node.value;
    }
  }
  return scope;
}
