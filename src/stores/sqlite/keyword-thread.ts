/**
 * A worker thread with its own read-only connection to the SQLite store's file that runs keyword searches, so
 * they run beside the main thread's work: `memory.search` starts the keyword half first, and the query's
 * embedding and the dense half (its binary-code scan is JavaScript) run here meanwhile. SQLite calls are
 * synchronous: on one thread the two halves of a hybrid search add up instead of overlapping.
 *
 * Contract:
 * - `search(visibility, terms, limit)` resolves with `selectKeyword`'s hits on the thread's connection (see
 *   `keyword-worker.ts` for what that connection sees), or rejects with an Error carrying the SQLite `code`.
 * - It rejects with {@link KeywordThreadUnavailable} when the thread is not ready: the first call starts it and
 *   the searches made while it starts (and every one after a failure or `close()`) are the caller's to run on
 *   its own connection. So no search waits for the thread to boot, and a thread that cannot run (its
 *   connection cannot open, it exits) only costs the overlap. Searches pending when it fails reject the same way.
 * - `close()` asks the thread to close its connection and waits for it to exit (then terminates it).
 * - The thread does not keep the process alive (`unref`) while no search is pending.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Visibility } from '../core/visibility.js';
import type { KeywordHit } from '../types.js';
import type {
  KeywordRequest,
  KeywordResponse,
  KeywordWorkerData,
  KeywordWorkerStatus,
} from './keyword-worker.js';

/** The keyword thread is not running: search on the store's own connection. */
export class KeywordThreadUnavailable extends Error {
  constructor(reason: string) {
    super(`SQLite keyword thread unavailable: ${reason}`);
    this.name = 'KeywordThreadUnavailable';
  }
}

/** The worker's entry file beside this one: compiled `.js` in a build, `.ts` when run from source (tsx). */
function workerEntry(): string | undefined {
  const own = fileURLToPath(import.meta.url);
  const entry = own.replace(/keyword-thread\.([cm]?[jt]s)$/, 'keyword-worker.$1');
  return entry !== own && existsSync(entry) ? entry : undefined;
}

/**
 * How to start the worker on `entry`. A compiled `.js` entry runs as is. A `.ts` entry (the store run from
 * source, as the tests and benchmarks do) needs tsx's loader, which a worker does not inherit: it runs through
 * a small bootstrap that registers tsx first.
 */
function workerArguments(entry: string, workerData: KeywordWorkerData): ConstructorParameters<typeof Worker> {
  if (!entry.endsWith('.ts')) return [entry, { workerData }];
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`;
  return [bootstrap, { eval: true, execArgv: [], workerData }];
}

/** How long `close()` waits for the thread to close its connection before terminating it. */
const CLOSE_WAIT_MS = 2000;

export class KeywordThread {
  private worker: Worker | undefined;
  /** Resolves when the current worker has exited. */
  private exited: Promise<void> = Promise.resolve();
  private ready = false;
  private failure: string | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (hits: KeywordHit[]) => void; reject: (e: Error) => void }
  >();

  constructor(private readonly data: KeywordWorkerData) {}

  search(visibility: Visibility, terms: readonly string[], limit: number): Promise<KeywordHit[]> {
    const worker = this.worker ?? this.start();
    if (worker === undefined || !this.ready) {
      return Promise.reject(new KeywordThreadUnavailable(this.failure ?? 'it is starting'));
    }
    const id = this.nextId++;
    const request: KeywordRequest = { id, visibility, terms, limit };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.fail('the store is closed');
    if (worker === undefined) return;
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), CLOSE_WAIT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private start(): Worker | undefined {
    if (this.failure !== undefined) return undefined;
    const entry = workerEntry();
    if (entry === undefined) {
      this.failure = 'the worker file keyword-worker.js is missing';
      return undefined;
    }
    try {
      const worker = new Worker(...workerArguments(entry, this.data));
      this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
      worker.on('message', (message: KeywordResponse | KeywordWorkerStatus) => this.receive(message));
      worker.on('error', (error) => this.fail(`it failed: ${error.message}`));
      worker.on('exit', (code) => this.fail(`it exited with code ${code}`));
      worker.unref();
      this.worker = worker;
      return worker;
    } catch (error) {
      this.failure = `it could not start: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  }

  private receive(message: KeywordResponse | KeywordWorkerStatus): void {
    if ('status' in message) {
      if (message.status === 'ready') this.ready = true;
      else this.fail(`its connection did not open: ${message.reason}`);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (waiting === undefined) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('hits' in message) waiting.resolve(message.hits);
    else waiting.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.ready = false;
    const worker = this.worker;
    this.worker = undefined;
    if (reason !== 'the store is closed') void worker?.terminate();
    for (const waiting of this.pending.values()) waiting.reject(new KeywordThreadUnavailable(reason));
    this.pending.clear();
  }
}
