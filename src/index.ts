/**
 * mneme: persistent, per-user memory for AI agents.
 *
 * ```ts
 * import { createMemory } from 'mneme';
 * const memory = await createMemory();
 * await memory.add('I prefer function-level docstrings', { userId: 'alice' });
 * const { results } = await memory.search('how should I document code?', { userId: 'alice' });
 * ```
 */

export * from './core/errors.js';
export { type FilterNode, parseFilter } from './core/filters.js';
export type { Logger, LogLevel } from './core/logger.js';
export { DEFAULT_RANKING, type RankingOptions } from './core/ranking.js';
export type * from './core/types.js';
export type { Embedder } from './embedders/types.js';
export {
  importFromMem0,
  type Mem0ImportOptions,
  type Mem0ImportPlan,
  type Mem0ImportReport,
  planMem0Import,
} from './import/mem0.js';
export type { BadRow, Mem0Format } from './import/mem0-memory.js';
export type { AddResult, AddResultItem, AddUsage, SkippedMessage } from './ingest/types.js';
export type { Completion, CompletionOptions, LanguageModel, TokenUsage } from './llm/types.js';
export { defaultDataDir, type MemoryOptions, type ResolvedConfig, resolveConfig } from './memory/config.js';
export {
  type AddOptions,
  createMemory,
  type ExportedMemory,
  type ListOptions,
  Memory,
  type ReadOptions,
  ScopedMemory,
  type SearchOptions,
  type UpdateInput,
} from './memory/memory.js';
export type { MemoryStore } from './stores/types.js';
