/** Scope helpers shared by the service and the stores. */
import { SCOPE_KEYS, type Scope } from './types.js';

/** True when `record` has exactly the scope fields of `scope` (fields absent from `scope` must be absent). */
export function hasExactScope(record: Scope, scope: Scope): boolean {
  return SCOPE_KEYS.every((key) => record[key] === scope[key]);
}

/** True when `record` matches every field `scope` names (fields `scope` does not name are unconstrained). */
export function isWithinScope(record: Scope, scope: Scope): boolean {
  return SCOPE_KEYS.every((key) => scope[key] === undefined || record[key] === scope[key]);
}

/** Combines two scopes; throws when they name the same field with different values. */
export function mergeScopes(base: Scope, extra: Scope): Scope | undefined {
  const merged: Scope = { ...base };
  for (const key of SCOPE_KEYS) {
    const value = extra[key];
    if (value === undefined) continue;
    if (merged[key] !== undefined && merged[key] !== value) return undefined;
    merged[key] = value;
  }
  return merged;
}

/** Copies only the scope fields of an object. */
export function pickScope(source: Scope): Scope {
  const scope: Scope = {};
  for (const key of SCOPE_KEYS) {
    const value = source[key];
    if (value !== undefined) scope[key] = value;
  }
  return scope;
}

/**
 * The scope that owns long-lived facts: the scope without `runId` when it names a user, agent or app (a
 * preference stated in one run is the same user's preference in the next), else the scope itself.
 * Duplicate detection and superseding compare owners, so "I prefer tabs" said in two sessions is one memory.
 */
export function ownerScope(scope: Scope): Scope {
  const { runId, ...rest } = scope;
  return Object.keys(rest).length > 0 ? rest : scope;
}

/** True when `record` belongs to exactly the owner of `scope` (see {@link ownerScope}). */
export function hasSameOwner(record: Scope, scope: Scope): boolean {
  const owner = ownerScope(scope);
  return SCOPE_KEYS.every(
    (key) => (key === 'runId' && owner.runId === undefined) || record[key] === owner[key],
  );
}
