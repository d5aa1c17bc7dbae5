/**
 * The LLM-backed ingestion planner, loaded by `createMemory` only when an LLM is configured
 * (so a process without an LLM never loads the prompts or zod schemas).
 */
import { planWithLanguageModel } from './llm-planner.js';
import type { IngestionDependencies } from './pipeline.js';

export const inferencePlanner: IngestionDependencies['inferencePlanner'] = planWithLanguageModel;
