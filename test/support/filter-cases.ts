/**
 * Shared filter test cases: a deterministic dataset covering every column and metadata type, hand-written
 * filters for every operator, and a fast-check arbitrary of raw filter input. Used by the MemoryStore
 * conformance suite and by the SQL dialect tests, always with `matchesFilter` as the oracle.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { JsonValue, MemoryRecord, Scope } from '../../src/core/types.js';
import { seededRandom } from './vectors.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** The instants the dataset's date columns take. */
export const FILTER_DATES = [at(0), at(1), at(2), at(3), at(5)];
const METADATA_VALUES: JsonValue[] = [
  'foo',
  'Foo',
  'FOO bar',
  '',
  'bar',
  '1',
  'true',
  'null',
  "x' OR 1=1 --",
  'Émile café',
  'ÉMILE',
  'İstanbul',
  'straße',
  '\uff46\uff4f\uff4f',
  '😀 emoji',
  '\ue000 private',
  0,
  1,
  -1,
  1.5,
  2,
  10,
  true,
  false,
  null,
  ['foo'],
  [],
  { nested: 'foo' },
];

/** Deterministic records covering every column and metadata type, all with `userId: 'alice'`. */
export function filterDataset(): MemoryRecord[] {
  const random = seededRandom(20_260_101);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const records: MemoryRecord[] = [];
  for (let index = 0; index < 40; index += 1) {
    const metadata: Record<string, JsonValue> = {};
    for (const key of ['a', 'b', 'user.name', 'role', 'userId']) {
      if (random() < 0.75) metadata[key] = pick(METADATA_VALUES);
    }
    const fields: Partial<MemoryRecord> = {
      memory: `filter record ${index}`,
      kind: pick(['user_fact', 'preference', 'event'] as const),
      metadata,
      createdAt: pick(FILTER_DATES),
      observedAt: pick(FILTER_DATES),
    };
    if (random() < 0.6) fields.role = pick(['user', 'assistant'] as const);
    if (random() < 0.5) fields.speaker = pick(['Alice', 'alice', 'Bob', 'foo']);
    if (random() < 0.5) fields.topic = pick(['preference:editor', 'Foo', 'fact:1']);
    if (random() < 0.4) fields.validTo = pick(FILTER_DATES);
    if (random() < 0.3) fields.expiresAt = pick(FILTER_DATES);
    const scope: Scope = { userId: 'alice' };
    if (random() < 0.5) scope.agentId = pick(['agent-1', 'agent-2']);
    records.push({
      id: randomUUID(),
      hash: `filter-hash-${index}`,
      updatedAt: at(0),
      ...(fields as Omit<MemoryRecord, 'id' | 'hash' | 'updatedAt'>),
      ...scope,
    });
  }
  return records;
}

/** Filters for every operator, field kind and combinator. */
export const HAND_WRITTEN_FILTERS: unknown[] = [
  { a: 'foo' },
  { a: 'FOO' },
  { a: 1 },
  { a: 1.5 },
  { a: '1' },
  { a: true },
  { a: false },
  { a: null },
  { a: { eq: null } },
  { a: { ne: null } },
  { a: { ne: 'foo' } },
  { a: { ne: 1 } },
  { a: { gt: 1 } },
  { a: { gte: 1 } },
  { a: { lt: 1 } },
  { a: { lte: 0 } },
  { a: { gt: 'a' } },
  { a: { lt: 'foo' } },
  { a: { gte: false } },
  { a: { gt: false } },
  { a: { in: ['foo', 1, true, null] } },
  { a: { in: [null] } },
  { a: { nin: ['foo', 1] } },
  { a: { nin: [null] } },
  { a: { contains: 'fo' } },
  { a: { contains: 'FOO' } },
  { a: { contains: '' } },
  { a: { contains: 'CAFÉ' } },
  { a: { contains: 'émile' } },
  { a: { contains: 'i̇s' } },
  { a: { gt: '\uff46' } },
  { a: { lt: '😀' } },
  { a: { gte: '\ue000' } },
  { a: "x' OR 1=1 --" },
  { 'metadata.role': 'foo' },
  { 'user.name': { contains: 'o' } },
  { userId: 'alice' },
  { user_id: 'bob' },
  { agentId: 'agent-1' },
  { agentId: null },
  { agent_id: { ne: 'agent-1' } },
  { role: 'user' },
  { role: { ne: 'user' } },
  { role: { in: ['user', 'assistant'] } },
  { role: { nin: ['user'] } },
  { role: 1 },
  { speaker: { contains: 'ALI' } },
  { speaker: { gt: 'B' } },
  { topic: null },
  { topic: { contains: 'pref' } },
  { kind: { in: ['preference', 'event'] } },
  { createdAt: { gte: at(2) } },
  { created_at: { lt: at(2) } },
  { createdAt: at(1) },
  { createdAt: { in: [at(0), at(5)] } },
  { validTo: { lte: at(2) } },
  { expiresAt: { gt: T0 + 60_000 } },
  { observedAt: { ne: at(3) } },
  { and: [{ a: { ne: null } }, { b: { ne: null } }] },
  { or: [{ a: 'foo' }, { b: 1 }] },
  { not: { a: 'foo' } },
  { not: { a: { gt: 0 } } },
  { not: { or: [{ role: 'user' }, { topic: null }] } },
  { AND: [{ kind: 'event' }, { NOT: { speaker: null } }] },
  { a: 'foo', b: 'bar' },
  { a: { gt: 0, lt: 10 } },
  { or: [{ and: [{ a: { contains: 'o' } }, { not: { b: true } }] }, { createdAt: { gt: at(3) } }] },
];

/** Random raw filter input over the fields and values of {@link filterDataset}. */
export function filterInputArbitrary(): fc.Arbitrary<unknown> {
  const metadataFields = ['a', 'b', 'metadata.a', 'user.name', 'metadata.role', 'metadata.userId', 'missing'];
  const textFields = ['role', 'speaker', 'topic', 'kind', 'userId', 'agentId', 'agent_id'];
  const dateFields = ['createdAt', 'observedAt', 'validTo', 'expiresAt', 'valid_from'];
  const scalar = fc.constantFrom<JsonValue>(
    'foo',
    'FOO',
    'fo',
    'o b',
    'bar',
    '1',
    '',
    'Alice',
    'user',
    'assistant',
    'agent-1',
    'preference:editor',
    'café',
    'émile',
    'i̇s',
    'STRASSE',
    '😀',
    '\uff46',
    '\ue000',
    0,
    1,
    -1,
    1.5,
    2,
    true,
    false,
    null,
  );
  const date = fc.oneof(fc.constantFrom(...FILTER_DATES, at(0.5), at(4)), fc.constantFrom(T0, T0 + 120_000));
  const operator = fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains');
  const operand = (values: fc.Arbitrary<JsonValue>, op: string): fc.Arbitrary<unknown> =>
    op === 'in' || op === 'nin' ? fc.array(values, { minLength: 1, maxLength: 3 }) : values;
  const leaf = fc.oneof(
    fc
      .tuple(fc.constantFrom(...metadataFields, ...textFields), operator)
      .chain(([field, op]) => operand(scalar, op).map((value) => ({ [field]: { [op]: value } }))),
    fc
      .tuple(fc.constantFrom(...dateFields), operator)
      .chain(([field, op]) => operand(date, op).map((value) => ({ [field]: { [op]: value } }))),
    fc
      .tuple(fc.constantFrom(...metadataFields, ...textFields), scalar)
      .map(([field, value]) => ({ [field]: value })),
  );
  const { node } = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 3, depthSize: 'small' },
      leaf,
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children) => ({ and: children })),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children) => ({ or: children })),
      tie('node').map((child) => ({ not: child })),
    ),
  }));
  return node;
}
