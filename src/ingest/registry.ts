/**
 * The LLM-backed ingestion planner, loaded by `createMemory` only when an LLM is configured.
 * Until the LLM extraction + reconciliation pipeline lands, there is none and `add` stores messages verbatim.
 */
import type { IngestionDependencies } from './pipeline.js';

export const inferencePlanner: IngestionDependencies['inferencePlanner'] = undefined;
