/**
 * The Embedder seam: turns texts into vectors for dense search. Backends: `local.ts` (Universal Sentence
 * Encoder Lite, bundled weights, the offline default) and `openai-compatible.ts` (any `/v1/embeddings` server).
 * Every backend runs the shared conformance suite in `test/conformance/embedder-suite.ts`.
 *
 * Contract:
 * - `embed` returns one vector per input text, in input order, each a Float32Array of length `dimension`,
 *   L2-normalised (so cosine similarity is a dot product). Deterministic for the same text and purpose.
 * - `id` identifies the model and its output space (`local:use-lite-512`, `openai-compatible:<model>`): two
 *   embedders with the same id produce comparable vectors. Stores record it and refuse a different one.
 * - `purpose` lets asymmetric models embed queries and documents differently; symmetric models ignore it.
 * - Failures throw {@link EmbedderError} (`retryable` for timeouts, 429 and 5xx). An empty `texts` array
 *   returns an empty array without a call.
 */
export interface Embedder {
  readonly id: string;
  /** Vector length. */
  readonly dimension: number;
  /** Largest batch the backend handles in one call; callers split larger inputs. */
  readonly maxBatchSize: number;
  embed(options: {
    texts: string[];
    purpose: 'document' | 'query';
    signal?: AbortSignal;
  }): Promise<Float32Array[]>;
  /** Frees model memory or connections. Idempotent. */
  close(): Promise<void>;
}

/** L2-normalises a vector in place and returns it; a zero vector is returned unchanged. */
export function normaliseVector(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0)
    for (let index = 0; index < vector.length; index += 1) vector[index] = (vector[index] ?? 0) / norm;
  return vector;
}
