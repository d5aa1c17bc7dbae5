/**
 * Drains the durable ingestion queue off the caller's critical path. `enqueue` only writes the request to the
 * store (durable once it resolves); this worker claims items with a lease, plans them with the pipeline and
 * applies the plan together with the item's completion in one transaction, so an item is applied exactly once
 * even if the process dies at any point (a crashed claim's lease expires and another worker takes it).
 *
 * Failures (embedder or LLM down, store busy) are logged and retried with exponential backoff; after
 * `maxAttempts` the item is dead-lettered: moved to the store's dead letters with its error and logged
 * (`mneme queue list|retry|drop` act on them). Nothing is thrown to the caller that enqueued.
 *
 * When the store itself fails mid-drain (a database restart: the item's apply fails, and so does recording the
 * failure), the drain stops but the worker keeps the claims it could not settle (that item and the rest of its
 * batch) and a background drain retries with backoff (`retryBaseMs` doubling, at most 30 s): it takes its held
 * claims first, while their lease lasts, so they are applied as soon as the store answers again rather than
 * `leaseMs` later. Still exactly once: applying completes the item in the same transaction, and completing an
 * item that is gone (another worker took it) fails and rolls the whole apply back.
 */
import { NotFoundError } from '../core/errors.js';
import { describeError, type Logger } from '../core/logger.js';
import type { MemoryStore, QueueItem } from '../stores/types.js';

/** Processes one claimed item: plans it and applies the plan, completing the item in the same transaction. */
export type QueueItemProcessor = (item: QueueItem) => Promise<void>;

export interface QueueWorkerOptions {
  store: MemoryStore;
  process: QueueItemProcessor;
  logger: Logger;
  clock: () => Date;
  maxAttempts: number;
  leaseMs: number;
  /** Items claimed per round. @default 8 */
  batchSize?: number;
  /** First retry delay; doubles per attempt up to 5 minutes. @default 1000 */
  retryBaseMs?: number;
}

/** Outcome of {@link QueueWorker.drain}. */
export interface DrainResult {
  processed: number;
  failed: number;
  /** Items still queued (waiting for a retry, or leased by another process). */
  pending: number;
}

/** The longest wait between background drains that failed in a row. */
const MAX_DRAIN_RETRY_MS = 30_000;

export class QueueWorker {
  private readonly options: QueueWorkerOptions;
  private running: Promise<DrainResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When `timer` fires (epoch ms). */
  private timerDueAt = 0;
  private stopped = false;
  /** Claims a failed drain could not settle, and when their lease ends (clock ms): retried first. */
  private held: { items: QueueItem[]; leasedUntil: number } | undefined;
  /** Background drains that failed in a row, for the backoff. */
  private failedDrains = 0;

  constructor(options: QueueWorkerOptions) {
    this.options = options;
  }

  /**
   * Starts a background drain in `delayMs` (coalesces repeated kicks into the soonest). Errors are logged, never
   * thrown; a failed drain (the store down) is retried with backoff until one succeeds.
   */
  kick(delayMs = 0): void {
    if (this.stopped) return;
    const dueAt = Date.now() + delayMs;
    if (this.timer) {
      // A sooner kick (an enqueue) is not held back by a pending retry.
      if (this.timerDueAt <= dueAt) return;
      clearTimeout(this.timer);
    }
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain().then(
        () => {
          this.failedDrains = 0;
        },
        (error: unknown) => {
          this.failedDrains += 1;
          const retryInMs = Math.min(
            MAX_DRAIN_RETRY_MS,
            (this.options.retryBaseMs ?? 1000) * 2 ** (this.failedDrains - 1),
          );
          this.options.logger.error('ingestion drain failed; will retry', {
            retryInMs,
            heldClaims: this.held?.items.length ?? 0,
            ...describeError(error),
          });
          this.kick(retryInMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Processes every item that is claimable now, until none is left. Concurrent calls share one run.
   * Schedules a background retry for items that failed.
   */
  drain(): Promise<DrainResult> {
    if (!this.running) {
      this.running = this.drainOnce().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Stops background kicks; an in-flight drain finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await this.running.catch(() => undefined);
  }

  private async drainOnce(): Promise<DrainResult> {
    const { store } = this.options;
    let processed = 0;
    let failed = 0;
    let nextRetryMs: number | undefined;
    for (;;) {
      const claim = this.takeHeld() ?? (await this.claim());
      if (claim.items.length === 0) break;
      for (const [position, item] of claim.items.entries()) {
        try {
          await this.options.process(item);
          processed += 1;
        } catch (error) {
          failed += 1;
          try {
            const retryInMs = await this.recordFailure(item, error);
            if (retryInMs !== undefined) nextRetryMs = Math.min(nextRetryMs ?? retryInMs, retryInMs);
          } catch (storeError) {
            // The store cannot even record the failure: hold this claim and the batch's rest for the retry.
            this.held = { items: claim.items.slice(position), leasedUntil: claim.leasedUntil };
            throw storeError;
          }
        }
      }
    }
    if (nextRetryMs !== undefined) this.kick(nextRetryMs);
    return { processed, failed, pending: await store.queueSize() };
  }

  /** Claims the next batch, noting when its lease ends. */
  private async claim(): Promise<{ items: QueueItem[]; leasedUntil: number }> {
    const now = this.options.clock();
    const items = await this.options.store.claimQueue({
      limit: this.options.batchSize ?? 8,
      leaseMs: this.options.leaseMs,
      now: now.toISOString(),
    });
    return { items, leasedUntil: now.getTime() + this.options.leaseMs };
  }

  /** The held claims while their lease lasts (then another worker may hold them: they are left to claims). */
  private takeHeld(): { items: QueueItem[]; leasedUntil: number } | undefined {
    const held = this.held;
    this.held = undefined;
    return held && this.options.clock().getTime() < held.leasedUntil ? held : undefined;
  }

  /**
   * Records a failed attempt: a retry after backoff (returns its delay), or the dead letters after
   * `maxAttempts` (returns undefined). @throws when the store cannot record it.
   */
  private async recordFailure(item: QueueItem, error: unknown): Promise<number | undefined> {
    const { store, logger, clock } = this.options;
    const attempts = item.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      logger.error('ingestion item dead-lettered after repeated failures', {
        itemId: item.id,
        attempts,
        ...describeError(error),
      });
      await ignoreVanished(
        store.dropQueueItem({
          id: item.id,
          reason: `failed ${attempts} times: ${describeError(error).error}`,
          now: clock().toISOString(),
        }),
      );
      return undefined;
    }
    const delay = Math.min(300_000, (this.options.retryBaseMs ?? 1000) * 2 ** (attempts - 1));
    logger.warn('ingestion failed; will retry', {
      itemId: item.id,
      attempts,
      retryInMs: delay,
      ...describeError(error),
    });
    await ignoreVanished(
      store.failQueueItem({
        id: item.id,
        error: String(describeError(error).error),
        retryAt: new Date(clock().getTime() + delay).toISOString(),
      }),
    );
    return delay;
  }
}

// An item erased meanwhile (deleteAll of its scope) is gone: nothing is left to retry or drop.
async function ignoreVanished(operation: Promise<void>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}
