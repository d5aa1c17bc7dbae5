/**
 * Chooses a LanguageModel from a `provider:model` spec. Adding a provider adds one row to `PROVIDERS`.
 * Provider modules load on first use, so a process without an LLM never loads `@anthropic-ai/sdk` (~190 ms).
 */
import { ConfigError } from '../core/errors.js';
import type { LanguageModel } from './types.js';

/** Provider settings, as resolveConfig produces them in `llmOptions`. */
export interface LanguageModelOptions {
  /** Option `llmOptions.apiKey`; env ANTHROPIC_API_KEY (anthropic) / MNEME_LLM_API_KEY. */
  apiKey?: string;
  /** Option `llmOptions.baseURL`; env ANTHROPIC_BASE_URL (anthropic) / MNEME_LLM_BASE_URL. */
  baseURL?: string;
  /** Time allowed for one attempt. @default 60000 */
  timeoutMs?: number;
  /** Retries of a retryable failure. @default 2 */
  maxRetries?: number;
  /** Backoff before the first retry. @default 500 */
  retryDelayMs?: number;
}

const PROVIDERS: Record<string, (model: string, options: LanguageModelOptions) => Promise<LanguageModel>> = {
  anthropic: async (model, options) => {
    const { AnthropicLanguageModel } = await import('./anthropic.js');
    return new AnthropicLanguageModel({ ...options, model });
  },
  'openai-compatible': async (model, options) => {
    const { baseURL, ...rest } = options;
    if (baseURL === undefined) {
      throw new ConfigError(
        `openai-compatible:${model} needs the server's base URL (e.g. http://localhost:11434/v1 for Ollama): ` +
          'set option `llmOptions.baseURL` or env MNEME_LLM_BASE_URL',
        { code: 'llm_base_url_missing' },
      );
    }
    const { OpenAICompatibleLanguageModel } = await import('./openai-compatible.js');
    return new OpenAICompatibleLanguageModel({ ...rest, baseURL, model });
  },
};

/**
 * Builds the language model for option `llm` (env MNEME_LLM):
 * - `anthropic:<model>`, e.g. `anthropic:claude-haiku-4-5` (needs `apiKey`);
 * - `openai-compatible:<model>`, e.g. `openai-compatible:llama3.1:8b` (needs `baseURL`; the model name is
 *   everything after the first colon);
 * - a LanguageModel object is returned as is; `null` means no LLM and returns null.
 *
 * @throws (rejects with) ConfigError for an unknown provider, an empty model name, or a provider's missing setting.
 */
export async function createLanguageModel(
  spec: string | LanguageModel | null,
  options: LanguageModelOptions = {},
): Promise<LanguageModel | null> {
  if (spec === null) return null;
  if (typeof spec !== 'string') return spec;
  const separator = spec.indexOf(':');
  const provider = separator === -1 ? spec : spec.slice(0, separator);
  const model = separator === -1 ? '' : spec.slice(separator + 1).trim();
  const create = Object.hasOwn(PROVIDERS, provider) ? PROVIDERS[provider] : undefined;
  if (create === undefined || model === '') {
    throw new ConfigError(
      `unknown language model ${JSON.stringify(spec)}: option \`llm\` / env MNEME_LLM takes ` +
        `${Object.keys(PROVIDERS)
          .map((name) => `\`${name}:<model>\``)
          .join(' or ')} (e.g. \`anthropic:claude-haiku-4-5\`), or \`none\` for no LLM`,
      { code: 'llm_unknown' },
    );
  }
  return create(model, options);
}
