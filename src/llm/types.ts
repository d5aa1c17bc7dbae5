/**
 * The LanguageModel seam: one chat completion at a time, used by the ingestion pipeline to extract facts and
 * decide how they reconcile with what is stored. Backends: `anthropic.ts` (official `@anthropic-ai/sdk`,
 * honours ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL) and `openai-compatible.ts` (Ollama, vLLM, LM Studio, ...).
 * Every backend runs the shared conformance suite in `test/conformance/language-model-suite.ts` against a
 * fake server on 127.0.0.1 speaking the real wire protocol.
 *
 * Contract:
 * - `complete` sends `system` + `messages` and resolves with the reply text and token usage. It retries
 *   retryable failures (timeouts, connection errors, 408/409/429/5xx) with exponential backoff up to the
 *   configured count, then throws {@link LLMError} with `retryable`, `statusCode` and, when a reply arrived,
 *   `rawText`. It never resolves with an empty text to hide a failure.
 * - Structured output is the caller's job (`ingest/structured-output.ts` parses and validates JSON replies).
 */
export interface LanguageModel {
  /** `provider:model`, e.g. `anthropic:claude-haiku-4-5`. */
  readonly id: string;
  complete(options: CompletionOptions): Promise<Completion>;
}

export interface CompletionOptions {
  system: string;
  messages: Array<{ role: 'user' | 'assistant'; content: string }>;
  /** @default 1024 */
  maxTokens?: number;
  /** @default 0 */
  temperature?: number;
  signal?: AbortSignal;
}

export interface Completion {
  text: string;
  usage: TokenUsage;
}

/** Token counts as reported by the provider. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}
