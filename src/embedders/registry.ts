/**
 * Chooses an embedder from a spec string (option `embedder` / env `MNEME_EMBEDDER`):
 *
 * | spec | embedder |
 * |---|---|
 * | `local`, `local:use-lite-512` | {@link LocalEmbedder} (offline default, 512 dimensions) |
 * | `openai-compatible:<model>` | {@link OpenAICompatibleEmbedder} for `<model>` at `baseURL` |
 * | an {@link Embedder} object | used as is |
 *
 * Backends are imported lazily, so choosing one never loads another's code (or the TF.js runtime).
 */
import { ConfigError } from '../core/errors.js';
import type { Embedder } from './types.js';

/** Settings passed to the chosen backend; the local embedder ignores the remote ones. */
export interface CreateEmbedderOptions {
  /** Base URL of an OpenAI-compatible server, with `/v1`. Env `MNEME_EMBEDDER_BASE_URL`. @default 'https://api.openai.com/v1' */
  baseURL?: string;
  /** Bearer token for the server. Env `MNEME_EMBEDDER_API_KEY`, then `OPENAI_API_KEY`. */
  apiKey?: string;
  /** Vector length; discovered with one probe request when omitted. Env `MNEME_EMBEDDER_DIMENSION`. */
  dimension?: number;
  /** Per-request timeout in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** Retries on transient failures. @default 3 */
  maxRetries?: number;
  /** Texts per request or forward pass. @default 64 (remote), 16 (local) */
  maxBatchSize?: number;
}

/** The spec strings {@link createEmbedder} accepts, for messages and docs. */
export const EMBEDDER_SPECS = ['local', 'local:use-lite-512', 'openai-compatible:<model>'] as const;

/**
 * Creates the embedder named by `spec`, or returns `spec` when it already is an {@link Embedder}.
 *
 * @throws {ConfigError} for an unknown spec or invalid options; {@link EmbedderError} when discovering a remote
 *   dimension fails.
 */
export async function createEmbedder(
  spec: string | Embedder,
  options: CreateEmbedderOptions = {},
): Promise<Embedder> {
  if (typeof spec !== 'string') return spec;
  const trimmed = spec.trim();
  if (trimmed === 'local' || trimmed === 'local:use-lite-512') {
    const { LocalEmbedder } = await import('./local.js');
    return new LocalEmbedder(
      options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize },
    );
  }
  const separator = trimmed.indexOf(':');
  const provider = separator === -1 ? trimmed : trimmed.slice(0, separator);
  const model = separator === -1 ? '' : trimmed.slice(separator + 1).trim();
  if (provider === 'openai-compatible' || provider === 'openai') {
    if (model === '') {
      throw new ConfigError(
        `embedder "${spec}" names no model: use "openai-compatible:<model>" (option \`embedder\` / env ` +
          'MNEME_EMBEDDER), e.g. openai-compatible:text-embedding-3-small or openai-compatible:nomic-embed-text',
      );
    }
    const { createOpenAICompatibleEmbedder } = await import('./openai-compatible.js');
    return createOpenAICompatibleEmbedder({ ...options, model });
  }
  throw new ConfigError(
    `unknown embedder "${spec}" (option \`embedder\` / env MNEME_EMBEDDER): use one of ${EMBEDDER_SPECS.join(', ')}`,
  );
}
