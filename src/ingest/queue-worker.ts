/**
 * Drains the durable ingestion queue off the caller's critical path. `enqueue` only writes the request to the
 * store (durable once it resolves); this worker claims items with a lease, plans them with the pipeline and
 * applies the plan together with the item's completion in one transaction, so an item is applied exactly once
 * even if the process dies at any point (a crashed claim's lease expires and another worker takes it).
 *
 * Failures (embedder or LLM down, store busy) are logged and retried with exponential backoff; after
 * `maxAttempts` the item is dead-lettered: moved to the store's dead letters with its error and logged
 * (`mneme queue list|retry|drop` act on them). Nothing is thrown to the caller that enqueued.
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

export class QueueWorker {
  private readonly options: QueueWorkerOptions;
  private running: Promise<DrainResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: QueueWorkerOptions) {
    this.options = options;
  }

  /** Starts a background drain soon (coalesces repeated kicks). Errors are logged, never thrown. */
  kick(delayMs = 0): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain().catch((error: unknown) =>
        this.options.logger.error('ingestion drain failed', describeError(error)),
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
    const { store, logger, clock } = this.options;
    let processed = 0;
    let failed = 0;
    let nextRetryMs: number | undefined;
    for (;;) {
      const items = await store.claimQueue({
        limit: this.options.batchSize ?? 8,
        leaseMs: this.options.leaseMs,
        now: clock().toISOString(),
      });
      if (items.length === 0) break;
      for (const item of items) {
        try {
          await this.options.process(item);
          processed += 1;
        } catch (error) {
          failed += 1;
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
            continue;
          }
          const delay = Math.min(300_000, (this.options.retryBaseMs ?? 1000) * 2 ** (attempts - 1));
          nextRetryMs = Math.min(nextRetryMs ?? delay, delay);
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
        }
      }
    }
    if (nextRetryMs !== undefined) this.kick(nextRetryMs);
    return { processed, failed, pending: await store.queueSize() };
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
