/**
 * Compiles the conditions every SQL store needs — a filter AST (`core/filters.ts`), a scope, the temporal
 * visibility rule — to SQL fragments with bound parameters only. No caller value is ever spliced into SQL text:
 * metadata keys, too, travel as parameters (a JSON path for SQLite, a key for PostgreSQL).
 *
 * The semantics equal `matchesFilter` exactly, which the conformance suite checks with a property test:
 * - a missing key and a JSON `null` are both "absent": `eq null` matches them, `ne null` the rest;
 * - equality is type-strict (the number 1 never equals the string "1" or `true`); objects and arrays equal nothing;
 * - `in` never matches an absent value, `nin` always does; `ne x` is `not (eq x)`;
 * - `contains` is a case-insensitive substring test on strings only;
 * - `gt/gte/lt/lte` compare only values of the operand's type (numbers numerically, strings in JavaScript's
 *   UTF-16 order, booleans with false < true); dates are ISO strings and compare as text.
 * Every fragment is two-valued (never SQL NULL), so `not` behaves like JavaScript's `!`.
 *
 * A {@link SqlDialect} supplies the few database-specific pieces; {@link sqliteDialect} and
 * {@link createPostgresDialect} are provided.
 */
import type { ComparisonOperator, FilterColumn, FilterNode, FilterScalar } from '../core/filters.js';
import { FILTER_COLUMNS } from '../core/filters.js';
import type { Scope } from '../core/types.js';
import type { EraseTarget } from './core/engine.js';
import { scopeEntries, type Visibility } from './core/visibility.js';
import type { TemporalOptions } from './types.js';

/** A value bound to a placeholder. */
export type SqlParam = string | number | null;

/** The JSON types a filter compares with. */
export type JsonScalarType = 'string' | 'number' | 'boolean';

/** Database-specific SQL pieces used by {@link SqlConditions}. */
export interface SqlDialect {
  /** Placeholder for the parameter at 1-based `position` (`?` for SQLite, `$n` for PostgreSQL). */
  placeholder(position: number): string;
  /** The SQL expression of a record column, e.g. `m.user_id`. */
  column(name: FilterColumn): string;
  /** True (never NULL) when metadata key `key` holds a JSON value of `type`. */
  metadataHasType(key: string, type: JsonScalarType, bind: Binder): string;
  /** True (never NULL) when metadata key `key` exists and is not JSON null. */
  metadataPresent(key: string, bind: Binder): string;
  /**
   * The value of metadata key `key` as an SQL value of `type` (text, number, or a boolean comparable with
   * {@link SqlDialect.booleanParam}); only evaluated where {@link SqlDialect.metadataHasType} holds.
   */
  metadataValue(key: string, type: JsonScalarType, bind: Binder): string;
  /** The parameter a boolean filter value binds as (SQLite: 1/0). */
  booleanParam(value: boolean): SqlParam;
  /** True when text `needle` occurs in non-NULL `haystack`, ignoring case as JavaScript's `toLowerCase` does. */
  contains(haystack: string, needle: string): string;
  /** Orders two non-NULL texts as JavaScript's `<` does (UTF-16 code units). */
  compareText(left: string, operator: OrderingOperator, right: string): string;
  /** Literal true and false conditions. */
  readonly alwaysTrue: string;
  readonly alwaysFalse: string;
}

/** Binds a value and returns its placeholder. */
export type Binder = (value: SqlParam) => string;
/** SQL ordering operators. */
export type OrderingOperator = '<' | '<=' | '>' | '>=';

const ORDERING: Record<'gt' | 'gte' | 'lt' | 'lte', OrderingOperator> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/**
 * Accumulates bound parameters while compiling conditions. Build one per statement, append fragments with the
 * methods below, then run the statement with {@link SqlConditions.params} (in order).
 */
export class SqlConditions {
  /** Parameters bound so far, in placeholder order. */
  readonly params: SqlParam[] = [];
  readonly bind: Binder = (value) => {
    this.params.push(value);
    return this.dialect.placeholder(this.params.length);
  };

  constructor(private readonly dialect: SqlDialect) {}

  /** `column = ?` for each named scope field, ANDed (the scope must name at least one field). */
  scope(scope: Scope, column: (key: keyof Scope) => string = (key) => this.dialect.column(key)): string {
    return scopeEntries(scope)
      .map(([key, value]) => `${column(key)} = ${this.bind(value)}`)
      .join(' AND ');
  }

  /** What a read may see: the scope, the temporal rule and the filter, ANDed. */
  visible(visibility: Visibility): string {
    return [
      this.scope(visibility.scope),
      this.temporal(visibility.temporal),
      this.filter(visibility.filter),
    ].join(' AND ');
  }

  /** The seam's temporal visibility rule (see `isVisible` in `core/visibility.ts`). */
  temporal(temporal: TemporalOptions): string {
    const instant = temporal.asOf ?? temporal.now;
    const column = (name: FilterColumn) => this.dialect.column(name);
    const parts: string[] = [];
    if (temporal.includeSuperseded !== true) {
      parts.push(`(${column('validTo')} IS NULL OR ${column('validTo')} > ${this.bind(instant)})`);
    }
    if (temporal.includeExpired !== true) {
      parts.push(`(${column('expiresAt')} IS NULL OR ${column('expiresAt')} > ${this.bind(instant)})`);
    }
    if (temporal.asOf !== undefined) {
      parts.push(`COALESCE(${column('validFrom')}, ${column('observedAt')}) <= ${this.bind(temporal.asOf)}`);
    }
    return parts.length === 0 ? this.dialect.alwaysTrue : parts.join(' AND ');
  }

  /** The filter as a two-valued condition; {@link SqlDialect.alwaysTrue} when there is none. */
  filter(node: FilterNode | undefined): string {
    if (!node) return this.dialect.alwaysTrue;
    switch (node.op) {
      case 'and':
      case 'or':
        return `(${node.children.map((child) => this.filter(child)).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${this.filter(node.child)})`;
      case 'compare':
        return node.field.kind === 'column'
          ? this.compareColumn(node.field.name, node.operator, node.value)
          : this.compareMetadata(node.field.key, node.operator, node.value);
    }
  }

  private compareColumn(
    name: FilterColumn,
    operator: ComparisonOperator,
    value: FilterScalar | FilterScalar[],
  ): string {
    const column = this.dialect.column(name);
    const { alwaysFalse } = this.dialect;
    switch (operator) {
      case 'eq':
      case 'ne': {
        let condition: string;
        if (value === null) condition = `${column} IS NULL`;
        else if (typeof value === 'string')
          condition = `(${column} IS NOT NULL AND ${column} = ${this.bind(value)})`;
        else condition = alwaysFalse;
        return operator === 'eq' ? condition : `(NOT ${condition})`;
      }
      case 'in':
      case 'nin': {
        const strings = asList(value).filter((item): item is string => typeof item === 'string');
        const condition =
          strings.length === 0
            ? alwaysFalse
            : `(${column} IS NOT NULL AND ${column} IN (${strings.map((item) => this.bind(item)).join(', ')}))`;
        return operator === 'in' ? condition : `(NOT ${condition})`;
      }
      case 'contains':
        return typeof value === 'string'
          ? `(${column} IS NOT NULL AND ${this.dialect.contains(column, this.bind(value))})`
          : alwaysFalse;
      default: {
        if (typeof value !== 'string') return alwaysFalse;
        const sqlOperator = ORDERING[operator];
        // Dates are ISO-8601 UTC text (ASCII), so plain comparison is JavaScript's order and can use indexes.
        const comparison =
          FILTER_COLUMNS[name] === 'date'
            ? `${column} ${sqlOperator} ${this.bind(value)}`
            : this.dialect.compareText(column, sqlOperator, this.bind(value));
        return `(${column} IS NOT NULL AND ${comparison})`;
      }
    }
  }

  private compareMetadata(
    key: string,
    operator: ComparisonOperator,
    value: FilterScalar | FilterScalar[],
  ): string {
    const { alwaysFalse } = this.dialect;
    switch (operator) {
      case 'eq':
      case 'ne': {
        const condition =
          value === null
            ? `(NOT ${this.dialect.metadataPresent(key, this.bind)})`
            : this.metadataEquals(key, asList(value));
        return operator === 'eq' ? condition : `(NOT ${condition})`;
      }
      case 'in':
      case 'nin': {
        const condition = this.metadataEquals(key, asList(value));
        return operator === 'in' ? condition : `(NOT ${condition})`;
      }
      case 'contains':
        if (typeof value !== 'string') return alwaysFalse;
        return `(${this.dialect.metadataHasType(key, 'string', this.bind)} AND ${this.dialect.contains(
          this.dialect.metadataValue(key, 'string', this.bind),
          this.bind(value),
        )})`;
      default: {
        const type = scalarType(value);
        if (type === undefined) return alwaysFalse;
        const sqlOperator = ORDERING[operator];
        const has = this.dialect.metadataHasType(key, type, this.bind);
        const actual = this.dialect.metadataValue(key, type, this.bind);
        const expected = this.bindScalar(value as string | number | boolean);
        const comparison =
          type === 'string'
            ? this.dialect.compareText(actual, sqlOperator, expected)
            : `${actual} ${sqlOperator} ${expected}`;
        return `(${has} AND ${comparison})`;
      }
    }
  }

  /** True when the metadata value equals one of `values` (type-strict; nulls never match a present value). */
  private metadataEquals(key: string, values: FilterScalar[]): string {
    const groups: string[] = [];
    for (const type of ['string', 'number', 'boolean'] as const) {
      const ofType = values.filter((item) => scalarType(item) === type) as Array<string | number | boolean>;
      if (ofType.length === 0) continue;
      const has = this.dialect.metadataHasType(key, type, this.bind);
      const actual = this.dialect.metadataValue(key, type, this.bind);
      const expected = ofType.map((item) => this.bindScalar(item));
      groups.push(
        expected.length === 1
          ? `(${has} AND ${actual} = ${expected[0]})`
          : `(${has} AND ${actual} IN (${expected.join(', ')}))`,
      );
    }
    if (groups.length === 0) return this.dialect.alwaysFalse;
    return groups.length === 1 ? (groups[0] as string) : `(${groups.join(' OR ')})`;
  }

  private bindScalar(value: string | number | boolean): string {
    return this.bind(typeof value === 'boolean' ? this.dialect.booleanParam(value) : value);
  }
}

function asList(value: FilterScalar | FilterScalar[]): FilterScalar[] {
  return Array.isArray(value) ? value : [value];
}

function scalarType(value: FilterScalar | FilterScalar[]): JsonScalarType | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return undefined;
}

/** Snake-case column names of the record fields, shared by the SQL backends. */
export const SQL_COLUMNS: Record<FilterColumn, string> = {
  userId: 'user_id',
  agentId: 'agent_id',
  runId: 'run_id',
  appId: 'app_id',
  role: 'role',
  kind: 'kind',
  speaker: 'speaker',
  topic: 'topic',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  observedAt: 'observed_at',
  validFrom: 'valid_from',
  validTo: 'valid_to',
  expiresAt: 'expires_at',
};

/** The JSON path SQLite's json_* functions take for a top-level key (keys are validated: no `"`). */
export function sqliteJsonPath(key: string): string {
  return `$."${key}"`;
}

/**
 * The SQLite dialect for a memories table aliased `alias` with a JSON-text `metadata` column. It relies on two
 * functions the SQLite store registers on every connection: `mneme_contains(haystack, needle)` and
 * `mneme_compare_text(left, right)`, which reproduce JavaScript's case folding and string order exactly.
 */
export function createSqliteDialect(alias = 'm'): SqlDialect {
  const prefix = alias ? `${alias}.` : '';
  const metadata = `${prefix}metadata`;
  const types: Record<JsonScalarType, string> = {
    string: `IN ('text')`,
    number: `IN ('integer', 'real')`,
    boolean: `IN ('true', 'false')`,
  };
  return {
    placeholder: () => '?',
    column: (name) => `${prefix}${SQL_COLUMNS[name]}`,
    metadataHasType: (key, type, bind) =>
      `COALESCE(json_type(${metadata}, ${bind(sqliteJsonPath(key))}) ${types[type]}, 0)`,
    metadataPresent: (key, bind) =>
      `COALESCE(json_type(${metadata}, ${bind(sqliteJsonPath(key))}), 'null') <> 'null'`,
    metadataValue: (key, type, bind) =>
      type === 'boolean'
        ? `(json_type(${metadata}, ${bind(sqliteJsonPath(key))}) = 'true')`
        : `json_extract(${metadata}, ${bind(sqliteJsonPath(key))})`,
    booleanParam: (value) => (value ? 1 : 0),
    contains: (haystack, needle) => `mneme_contains(${haystack}, ${needle}) = 1`,
    compareText: (left, operator, right) => `mneme_compare_text(${left}, ${right}) ${operator} 0`,
    alwaysTrue: '1',
    alwaysFalse: '0',
  };
}

/** The default SQLite dialect (memories aliased `m`). */
export const sqliteDialect: SqlDialect = createSqliteDialect('m');

/**
 * A PostgreSQL dialect for a memories table aliased `alias` with a `jsonb` `metadata` column, for the
 * PostgreSQL store. Two documented differences from JavaScript remain (test/stores/sql-filter.test.ts checks
 * everything else on a real server): text order uses `COLLATE "C"`, i.e. code point order, which differs from
 * JavaScript's UTF-16 order only when comparing astral characters with U+E000–U+FFFF; and `contains` folds case
 * with `lower()`, which lacks JavaScript's special cases for İ (U+0130) and the final sigma.
 */
export function createPostgresDialect(alias = 'm'): SqlDialect {
  const prefix = alias ? `${alias}.` : '';
  const metadata = `${prefix}metadata`;
  return {
    placeholder: (position) => `$${position}`,
    column: (name) => `${prefix}${SQL_COLUMNS[name]}`,
    metadataHasType: (key, type, bind) =>
      `(jsonb_typeof(${metadata} -> ${bind(key)}::text) IS NOT DISTINCT FROM '${type}')`,
    metadataPresent: (key, bind) =>
      `(COALESCE(jsonb_typeof(${metadata} -> ${bind(key)}::text), 'null') <> 'null')`,
    metadataValue: (key, type, bind) => {
      const path = bind(key);
      if (type === 'string') return `(${metadata} ->> ${path}::text)`;
      // Guarded casts: PostgreSQL does not promise to evaluate the type test first.
      if (type === 'number') {
        return `(CASE WHEN jsonb_typeof(${metadata} -> ${path}::text) = 'number' THEN (${metadata} ->> ${path}::text)::numeric END)`;
      }
      return `(CASE WHEN jsonb_typeof(${metadata} -> ${path}::text) = 'boolean' THEN (${metadata} ->> ${path}::text)::boolean END)`;
    },
    booleanParam: (value) => (value ? 'true' : 'false'),
    contains: (haystack, needle) => `(strpos(lower(${haystack}), lower(${needle}::text)) > 0)`,
    compareText: (left, operator, right) => `(${left} COLLATE "C" ${operator} ${right}::text COLLATE "C")`,
    alwaysTrue: 'TRUE',
    alwaysFalse: 'FALSE',
  };
}

/**
 * The erase target's condition on a table aliased `alias` with the scope columns; `memoryId` names its column
 * holding the memory id (used when the target is one memory).
 */
export function eraseCondition(
  conditions: SqlConditions,
  target: EraseTarget,
  alias: string,
  memoryId: string,
): string {
  const parts = [conditions.scope(target.scope ?? {}, (key) => `${alias}.${SQL_COLUMNS[key]}`)];
  if (target.id !== undefined) parts.push(`${alias}.${memoryId} = ${conditions.bind(target.id)}`);
  return parts.filter((part) => part !== '').join(' AND ');
}
