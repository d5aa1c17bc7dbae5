/**
 * Search and list filters: parsed from caller input into a validated AST, never spliced into SQL.
 *
 * Syntax (Mem0-compatible where Mem0 has an equivalent):
 * - `{ field: value }` is equality; several keys in one object are ANDed.
 * - `{ field: { eq | ne | gt | gte | lt | lte | in | nin | contains: value } }`.
 * - `{ and: [f, ...] }`, `{ or: [f, ...] }`, `{ not: f }` (also `AND` / `OR` / `NOT`).
 * - Fields: the scope fields `userId`, `agentId`, `runId`, `appId` (or `user_id`, ...), the columns `role`,
 *   `kind`, `speaker`, `topic`, the dates `createdAt`, `updatedAt`, `observedAt`, `validFrom`, `validTo`,
 *   `expiresAt` (or snake_case), and metadata as `metadata.<key>` or any other bare key.
 * - Dates compare as instants: values must be ISO-8601 strings (or epoch milliseconds).
 * Limits: depth 8, 200 nodes, 1,000 values per `in`, 1,000 characters per string.
 *
 * Filters only narrow: they are ANDed with the operation's scope, so no filter can widen what a caller sees.
 */
import { ValidationError } from './errors.js';
import type { JsonValue, MemoryRecord } from './types.js';

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'contains';

/** Columns a filter may name, with their value type. */
export const FILTER_COLUMNS = {
  userId: 'text',
  agentId: 'text',
  runId: 'text',
  appId: 'text',
  role: 'text',
  kind: 'text',
  speaker: 'text',
  topic: 'text',
  createdAt: 'date',
  updatedAt: 'date',
  observedAt: 'date',
  validFrom: 'date',
  validTo: 'date',
  expiresAt: 'date',
} as const;
export type FilterColumn = keyof typeof FILTER_COLUMNS;

export type FieldRef = { kind: 'column'; name: FilterColumn } | { kind: 'metadata'; key: string };

/** A scalar a filter compares with. Dates are normalised to ISO strings. */
export type FilterScalar = string | number | boolean | null;

export type FilterNode =
  | { op: 'and' | 'or'; children: FilterNode[] }
  | { op: 'not'; child: FilterNode }
  | { op: 'compare'; field: FieldRef; operator: ComparisonOperator; value: FilterScalar | FilterScalar[] };

const LIMITS = { depth: 8, nodes: 200, values: 1000, stringLength: 1000, metadataKeyLength: 200 };
const OPERATORS: ReadonlySet<string> = new Set([
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'contains',
]);
const SNAKE_TO_COLUMN: Record<string, FilterColumn> = {
  user_id: 'userId',
  agent_id: 'agentId',
  run_id: 'runId',
  app_id: 'appId',
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  observed_at: 'observedAt',
  valid_from: 'validFrom',
  valid_to: 'validTo',
  expires_at: 'expiresAt',
};
const METADATA_KEY = /^[A-Za-z0-9_\-:.]+$/;

/** Parses and validates caller filter input. Throws {@link ValidationError} naming the offending path. */
export function parseFilter(input: unknown, field = 'filters'): FilterNode | undefined {
  if (input === undefined || input === null) return undefined;
  const counter = { nodes: 0 };
  return parseNode(input, field, 0, counter);
}

function parseNode(input: unknown, path: string, depth: number, counter: { nodes: number }): FilterNode {
  if (depth > LIMITS.depth)
    throw new ValidationError(path, `filters nest deeper than ${LIMITS.depth} levels`);
  counter.nodes += 1;
  if (counter.nodes > LIMITS.nodes)
    throw new ValidationError(path, `filters have more than ${LIMITS.nodes} nodes`);
  if (!isPlainObject(input)) {
    throw new ValidationError(path, 'expected an object such as { "userId": "alice" } or { "and": [...] }');
  }
  const children: FilterNode[] = [];
  for (const [rawKey, value] of Object.entries(input)) {
    const key = rawKey.toLowerCase();
    const childPath = `${path}.${rawKey}`;
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new ValidationError(childPath, `expected a non-empty array of filters`);
      }
      children.push({
        op: key,
        children: value.map((item, index) => parseNode(item, `${childPath}[${index}]`, depth + 1, counter)),
      });
    } else if (key === 'not') {
      children.push({ op: 'not', child: parseNode(value, childPath, depth + 1, counter) });
    } else {
      children.push(...parseFieldConditions(rawKey, value, childPath, counter));
    }
  }
  if (children.length === 0) throw new ValidationError(path, 'an empty filter object matches nothing useful');
  const [only] = children;
  return children.length === 1 && only ? only : { op: 'and', children };
}

function parseFieldConditions(
  rawKey: string,
  value: unknown,
  path: string,
  counter: { nodes: number },
): FilterNode[] {
  const field = resolveField(rawKey, path);
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) throw new ValidationError(path, 'expected an operator such as { "in": [...] }');
    return entries.map(([operator, operand]) => {
      counter.nodes += 1;
      if (!OPERATORS.has(operator)) {
        throw new ValidationError(
          `${path}.${operator}`,
          `unknown operator; use one of ${[...OPERATORS].join(', ')}`,
        );
      }
      return makeComparison(field, operator as ComparisonOperator, operand, `${path}.${operator}`);
    });
  }
  return [makeComparison(field, 'eq', value, path)];
}

function resolveField(rawKey: string, path: string): FieldRef {
  // Own keys only: `in` and plain indexing would also match Object.prototype members ("constructor", ...).
  if (Object.hasOwn(FILTER_COLUMNS, rawKey)) return { kind: 'column', name: rawKey as FilterColumn };
  const snake = Object.hasOwn(SNAKE_TO_COLUMN, rawKey) ? SNAKE_TO_COLUMN[rawKey] : undefined;
  if (snake) return { kind: 'column', name: snake };
  const key = rawKey.startsWith('metadata.') ? rawKey.slice('metadata.'.length) : rawKey;
  if (key.length === 0 || key.length > LIMITS.metadataKeyLength || !METADATA_KEY.test(key)) {
    throw new ValidationError(
      path,
      'metadata keys may use letters, digits and _ - : . (at most 200 characters); prefix with "metadata." if ' +
        'the key collides with a column name',
    );
  }
  return { kind: 'metadata', key };
}

function makeComparison(
  field: FieldRef,
  operator: ComparisonOperator,
  operand: unknown,
  path: string,
): FilterNode {
  const isDate = field.kind === 'column' && FILTER_COLUMNS[field.name] === 'date';
  if (operator === 'in' || operator === 'nin') {
    if (!Array.isArray(operand) || operand.length === 0) {
      throw new ValidationError(path, 'expected a non-empty array of values');
    }
    if (operand.length > LIMITS.values) throw new ValidationError(path, `at most ${LIMITS.values} values`);
    return {
      op: 'compare',
      field,
      operator,
      value: operand.map((item, index) => toScalar(item, `${path}[${index}]`, isDate)),
    };
  }
  if (operator === 'contains' && typeof operand !== 'string') {
    throw new ValidationError(path, '"contains" takes a string');
  }
  if (
    (operator === 'gt' || operator === 'gte' || operator === 'lt' || operator === 'lte') &&
    operand === null
  ) {
    throw new ValidationError(path, 'ordering comparisons need a number, string or date, not null');
  }
  return { op: 'compare', field, operator, value: toScalar(operand, path, isDate) };
}

function toScalar(value: unknown, path: string, isDate: boolean): FilterScalar {
  if (isDate) return normaliseDate(value, path);
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(path, 'numbers must be finite');
    return value;
  }
  if (typeof value === 'string') {
    if (value.length > LIMITS.stringLength) {
      throw new ValidationError(path, `strings in filters are limited to ${LIMITS.stringLength} characters`);
    }
    return value;
  }
  throw new ValidationError(path, 'expected a string, number, boolean or null');
}

/** Normalises a date given as ISO-8601 text or epoch milliseconds to an ISO string; throws naming `path`. */
export function normaliseDate(value: unknown, path: string): string {
  if (typeof value === 'string' || typeof value === 'number') {
    if (typeof value === 'string' && value.length > 100)
      throw new ValidationError(path, 'date string too long');
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  throw new ValidationError(path, 'expected an ISO-8601 date such as "2026-03-02T10:00:00Z"');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the value a field refers to from a record (used by in-process stores and tests). */
export function readField(record: MemoryRecord, field: FieldRef): JsonValue | undefined {
  if (field.kind === 'metadata') {
    return Object.hasOwn(record.metadata, field.key) ? record.metadata[field.key] : undefined;
  }
  return record[field.name];
}

/** Evaluates a filter against a record with the same semantics the SQL stores implement. */
export function matchesFilter(record: MemoryRecord, node: FilterNode | undefined): boolean {
  if (!node) return true;
  switch (node.op) {
    case 'and':
      return node.children.every((child) => matchesFilter(record, child));
    case 'or':
      return node.children.some((child) => matchesFilter(record, child));
    case 'not':
      return !matchesFilter(record, node.child);
    case 'compare':
      return compare(readField(record, node.field), node.operator, node.value);
  }
}

function compare(actual: JsonValue | undefined, operator: ComparisonOperator, expected: unknown): boolean {
  const present = actual !== undefined && actual !== null;
  switch (operator) {
    case 'eq':
      return expected === null ? !present : present && scalarEquals(actual, expected);
    case 'ne':
      return expected === null ? present : !present || !scalarEquals(actual, expected);
    case 'in':
      return present && (expected as unknown[]).some((item) => scalarEquals(actual, item));
    case 'nin':
      return !present || !(expected as unknown[]).some((item) => scalarEquals(actual, item));
    case 'contains':
      return typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase());
    default: {
      if (!present || typeof actual !== typeof expected) return false;
      const a = actual as number | string;
      const b = expected as number | string;
      if (operator === 'gt') return a > b;
      if (operator === 'gte') return a >= b;
      if (operator === 'lt') return a < b;
      return a <= b;
    }
  }
}

function scalarEquals(actual: JsonValue | undefined, expected: unknown): boolean {
  if (typeof actual === 'object' && actual !== null) return false;
  return actual === expected;
}
