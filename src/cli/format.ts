/** Human-readable rendering of CLI results. */
import type { HistoryEvent, MemoryRecord, Scope, SearchResult } from '../core/types.js';
import type { ProfileItem } from '../memory/profile.js';

/** A scope as `user=U agent=A run=R app=P` (the fields it names). */
export function formatScope(scope: Scope): string {
  return [
    scope.userId && `user=${scope.userId}`,
    scope.agentId && `agent=${scope.agentId}`,
    scope.runId && `run=${scope.runId}`,
    scope.appId && `app=${scope.appId}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** One line per memory: id, date, scope and text. */
export function formatMemoryLine(record: MemoryRecord): string {
  const scope = formatScope(record);
  const superseded = record.validTo ? ` (superseded ${record.validTo.slice(0, 10)})` : '';
  return `${record.id}  ${record.observedAt.slice(0, 10)}  [${scope}]  ${record.memory}${superseded}`;
}

/** A search hit with its fused and per-signal scores. */
export function formatSearchLine(result: SearchResult): string {
  const { dense, keyword, recency } = result.scores;
  return (
    `${result.score.toFixed(3)}  (dense ${dense.toFixed(2)}, keyword ${keyword.toFixed(2)}, recency ` +
    `${recency.toFixed(2)})  ${result.memory}\n       id ${result.id}`
  );
}

/** A history event. */
export function formatHistoryLine(event: HistoryEvent): string {
  const change =
    event.previousValue !== undefined && event.newValue !== undefined
      ? `${JSON.stringify(event.previousValue)} -> ${JSON.stringify(event.newValue)}`
      : (event.newValue ?? event.previousValue ?? '');
  const reason = event.reason ? `  (${event.reason})` : '';
  return `${event.createdAt}  ${event.event.padEnd(9)} by ${event.actor}: ${change}${reason}`;
}

/** A profile item: `[kind] text  (id, updated date)`; pinned items say so in the label. */
export function formatProfileLine(item: ProfileItem): string {
  const label = item.pinned ? `pinned ${item.kind}` : item.kind;
  return `[${label}] ${item.memory}  (${item.id}, updated ${item.updatedAt.slice(0, 10)})`;
}
