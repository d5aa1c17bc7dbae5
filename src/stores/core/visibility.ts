/**
 * Scope enforcement and temporal visibility, the two rules that decide which memories a read may see. SQL engines
 * compile the same rules to SQL (`sql-filter.ts`); the in-memory engine calls these.
 *
 * - Scope: a read names a {@link Scope} with at least one field and sees only rows whose scope columns equal every
 *   named field ({@link scopeEntries} lists them in canonical order; `core/scope.ts` `isWithinScope` tests a row).
 * - Time ({@link isVisible}): for instant `T = asOf ?? now`, unless `includeSuperseded` no `validTo` at or before T;
 *   unless `includeExpired` no `expiresAt` at or before T; with `asOf` only, the memory had begun by T (`validFrom`,
 *   or `observedAt` when unset, at or before T). Instants are ISO strings in UTC (`toISOString()`), so text order is
 *   time order.
 */
import type { FilterNode } from '../../core/filters.js';
import type { MemoryRecord, Scope, ScopeKey } from '../../core/types.js';
import { SCOPE_KEYS } from '../../core/types.js';
import type { TemporalOptions } from '../types.js';

/** Which memories a query may see: the scope (validated by the caller), the temporal rule and a filter. */
export interface Visibility {
  scope: Scope;
  temporal: TemporalOptions;
  filter?: FilterNode | undefined;
}

/** Where a page of `list` (newest first) resumes: after this `createdAt` and, on a tie, before this id. */
export interface PageKey {
  createdAt: string;
  id: string;
}

/** The named fields of a scope, in canonical order, as `[key, value]` pairs. */
export function scopeEntries(scope: Scope): Array<[ScopeKey, string]> {
  const entries: Array<[ScopeKey, string]> = [];
  for (const key of SCOPE_KEYS) {
    const value = scope[key];
    if (value !== undefined) entries.push([key, value]);
  }
  return entries;
}

/** True when `record` is visible under `temporal` (see the module comment). */
export function isVisible(record: MemoryRecord, temporal: TemporalOptions): boolean {
  const instant = temporal.asOf ?? temporal.now;
  if (temporal.includeSuperseded !== true && record.validTo !== undefined && record.validTo <= instant) {
    return false;
  }
  if (temporal.includeExpired !== true && record.expiresAt !== undefined && record.expiresAt <= instant) {
    return false;
  }
  if (temporal.asOf !== undefined && (record.validFrom ?? record.observedAt) > temporal.asOf) return false;
  return true;
}
