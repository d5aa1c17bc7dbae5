/**
 * What an agent is given at a prompt: the block `withMemory`, the Claude Code plugin and the console's
 * search-explain view all build with {@link buildSessionContext}, so the three can never disagree.
 *
 * The block has two sections inside one delimited data block (src/core/context.ts): the user's profile (standing
 * memories, see profile.ts) when the caller asks for it — at a session's first prompt, after a resume and after
 * a compaction — and the memories most relevant to the prompt (hybrid search). Each section has its own token
 * budget. A memory appears at most once: never in both sections, never when the session already received it
 * (`alreadyInjected`, normalised texts). With `explain`, every search candidate is returned with the reason it
 * was left out (`threshold`, `already_injected`, `in_profile`, `limit`, `budget`), scores included.
 */
import { formatSessionContext } from '../core/context.js';
import { ValidationError } from '../core/errors.js';
import { normaliseText } from '../core/text.js';
import type { Scope, SearchResult } from '../core/types.js';
import { LIMITS } from '../core/validate.js';
import type { Memory } from './memory.js';
import type { ProfileItem } from './profile.js';

/** Defaults shared by every caller (the Agent SDK settings document them). */
export const SESSION_CONTEXT_DEFAULTS: Readonly<Record<BudgetSetting, number>> = {
  profileTokens: 400,
  maxTokens: 800,
  limit: 10,
  threshold: 0.12,
};

type BudgetSetting = 'profileTokens' | 'maxTokens' | 'limit' | 'threshold';

/** Options of {@link buildSessionContext}. */
export interface SessionContextOptions {
  /** The user (and optionally agent / app) the agent works for. */
  scope: Scope;
  /** The prompt; an empty prompt gets the profile only. */
  prompt: string;
  /** Include the profile section. @default true */
  includeProfile?: boolean;
  /** Token budget of the profile section. @default 400 */
  profileTokens?: number;
  /** Token budget of the relevant section plus the block's frame. @default 800 */
  maxTokens?: number;
  /** At most this many relevant memories. @default 10 */
  limit?: number;
  /** Minimum search score (0..1) of a relevant memory. @default 0.12 */
  threshold?: number;
  /** Normalised texts (`normaliseText`) the session already received: never given again. */
  alreadyInjected?: ReadonlySet<string>;
  /** Return every candidate with why it was or was not included (costs a wider search). @default false */
  explain?: boolean;
}

/** Why a candidate is not in the block. */
export type ExclusionReason = 'threshold' | 'already_injected' | 'in_profile' | 'limit' | 'budget';

/** A profile item and whether it made it into the block. */
export interface ProfileEntry extends ProfileItem {
  included: boolean;
  reason?: ExclusionReason;
}

/** A search candidate and whether it made it into the block. */
export interface RelevantEntry extends SearchResult {
  included: boolean;
  reason?: ExclusionReason;
}

/** The block and how it was made. */
export interface SessionContext {
  /** The delimited block exactly as injected; empty when nothing is to be given. */
  text: string;
  /** Profile items considered (only when the profile was asked for), in block order. */
  profile: ProfileEntry[];
  /** Search candidates considered, best first (with `explain`: every candidate, else those above threshold). */
  relevant: RelevantEntry[];
  /** Ids of the memories in the block, profile first. */
  includedIds: string[];
  /** The stored texts of the memories in the block (for the session's "already injected" set). */
  includedTexts: string[];
}

/** Builds the block for one prompt (see the module comment). Reads only; changes nothing. */
export async function buildSessionContext(
  memory: Memory,
  options: SessionContextOptions,
): Promise<SessionContext> {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'expected { scope, prompt, ... }');
  }
  const settings = { ...SESSION_CONTEXT_DEFAULTS, ...definedOnly(options) };
  const already = options.alreadyInjected ?? new Set<string>();
  const prompt = typeof options.prompt === 'string' ? options.prompt.trim().slice(0, LIMITS.queryLength) : '';
  if (typeof options.prompt !== 'string') throw new ValidationError('prompt', 'expected a string');
  const includeProfile = options.includeProfile ?? true;
  const [profile, results] = await Promise.all([
    includeProfile
      ? memory.profile(options.scope, { maxTokens: settings.profileTokens })
      : Promise.resolve(undefined),
    prompt === ''
      ? Promise.resolve([] as SearchResult[])
      : memory
          .search(prompt, {
            ...options.scope,
            // Wider than `limit` so memories already given (or shown in the profile) do not crowd out new ones,
            // but bounded: a search's cost grows with its limit.
            limit: Math.min(LIMITS.searchLimit, settings.limit * (options.explain ? 3 : 2) + already.size),
            threshold: options.explain ? 0 : settings.threshold,
          })
          .then((found) => found.results),
  ]);

  const profileCandidates = (profile?.items ?? []).filter((item) => !already.has(normaliseText(item.memory)));
  const profileTexts = new Set(profileCandidates.map((item) => normaliseText(item.memory)));
  const relevant: RelevantEntry[] = [];
  const relevantCandidates: SearchResult[] = [];
  for (const result of results) {
    const text = normaliseText(result.memory);
    const reason: ExclusionReason | undefined =
      result.score < settings.threshold
        ? 'threshold'
        : already.has(text)
          ? 'already_injected'
          : profileTexts.has(text)
            ? 'in_profile'
            : relevantCandidates.length >= settings.limit
              ? 'limit'
              : undefined;
    if (reason === undefined) relevantCandidates.push(result);
    relevant.push({ ...result, included: false, ...(reason ? { reason } : {}) });
  }
  const formatted = formatSessionContext(
    { profile: profileCandidates, relevant: relevantCandidates },
    {
      profileTokens: settings.profileTokens,
      maxTokens: settings.maxTokens,
      ...(options.scope.userId ? { subject: options.scope.userId } : {}),
    },
  );
  const inProfile = new Set(formatted.profileIds);
  const inRelevant = new Set(formatted.relevantIds);
  for (const entry of relevant) {
    if (entry.reason) continue;
    if (inRelevant.has(entry.id)) entry.included = true;
    else entry.reason = 'budget';
  }
  const profileEntries: ProfileEntry[] = (profile?.items ?? []).map((item) => {
    if (inProfile.has(item.id)) return { ...item, included: true };
    return {
      ...item,
      included: false,
      reason: already.has(normaliseText(item.memory)) ? 'already_injected' : 'budget',
    };
  });
  const byId = new Map<string, string>([
    ...profileCandidates.map((item) => [item.id, item.memory] as const),
    ...relevantCandidates.map((item) => [item.id, item.memory] as const),
  ]);
  const includedIds = [...formatted.profileIds, ...formatted.relevantIds];
  return {
    text: formatted.text,
    profile: profileEntries,
    relevant,
    includedIds,
    includedTexts: includedIds.map((id) => byId.get(id) ?? ''),
  };
}

function definedOnly(options: SessionContextOptions): Partial<Record<BudgetSetting, number>> {
  const picked: Partial<Record<BudgetSetting, number>> = {};
  for (const key of ['profileTokens', 'maxTokens', 'limit', 'threshold'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const valid =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (key === 'threshold' ? value >= 0 && value <= 1 : Number.isInteger(value) && value >= 1);
    if (!valid) {
      throw new ValidationError(
        key,
        key === 'threshold' ? 'expected a number from 0 to 1' : 'expected a positive integer',
      );
    }
    picked[key] = value;
  }
  return picked;
}
