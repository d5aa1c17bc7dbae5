import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../src/core/errors.js';
import { matchesFilter, parseFilter } from '../../src/core/filters.js';
import type { MemoryRecord } from '../../src/core/types.js';

const record: MemoryRecord = {
  id: '1',
  memory: 'x',
  userId: 'alice',
  agentId: 'reviewer',
  kind: 'message',
  role: 'user',
  metadata: { repo: 'api', stars: 5, public: true, tags: ['a'], nothing: null },
  hash: 'h',
  createdAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-02T10:00:00.000Z',
  observedAt: '2026-03-01T10:00:00.000Z',
};

test('filters parse into an AST and evaluate with documented semantics', () => {
  const yes = [
    { userId: 'alice' },
    { user_id: 'alice', repo: 'api' },
    { 'metadata.repo': { in: ['web', 'api'] } },
    { stars: { gte: 5, lt: 6 } },
    { public: true },
    { observedAt: { gte: '2026-03-01', lte: '2026-03-01T23:00:00Z' } },
    { or: [{ repo: 'web' }, { agentId: 'reviewer' }] },
    { not: { repo: 'web' } },
    { AND: [{ repo: { ne: 'web' } }, { missing: null }] },
    { repo: { contains: 'AP' } },
    { repo: { nin: ['web'] } },
    { agent_id: { eq: 'reviewer' } },
  ];
  for (const filter of yes)
    assert.equal(matchesFilter(record, parseFilter(filter)), true, JSON.stringify(filter));
  const no = [
    { userId: 'bob' },
    { stars: { gt: 5 } },
    { public: 'true' },
    { stars: '5' },
    { observedAt: { gte: '2026-03-02' } },
    { and: [{ repo: 'api' }, { repo: 'web' }] },
    { not: { repo: 'api' } },
    { missing: { in: ['x'] } },
    { nothing: { ne: null } },
  ];
  for (const filter of no)
    assert.equal(matchesFilter(record, parseFilter(filter)), false, JSON.stringify(filter));
});

test('invalid filters are rejected naming the path', () => {
  const bad: Array<[unknown, string]> = [
    ['alice', 'filters'],
    [{ and: [] }, 'filters.and'],
    [{ repo: { $regex: '.*' } }, 'filters.repo.$regex'],
    [{ repo: { in: 'api' } }, 'filters.repo.in'],
    [{ 'bad key!': 1 }, 'filters.bad key!'],
    [{ createdAt: { gte: 'not a date' } }, 'filters.createdAt.gte'],
    [{ stars: { gt: null } }, 'filters.stars.gt'],
    [{ repo: { contains: 5 } }, 'filters.repo.contains'],
    [{ repo: [1, 2] }, 'filters.repo'],
    [{}, 'filters'],
  ];
  for (const [input, field] of bad) {
    assert.throws(
      () => parseFilter(input),
      (error: unknown) => error instanceof ValidationError && error.field === field,
      JSON.stringify(input),
    );
  }
});

test('filter bombs are bounded by depth and node count', () => {
  let deep: Record<string, unknown> = { repo: 'api' };
  for (let level = 0; level < 20; level += 1) deep = { not: deep };
  assert.throws(() => parseFilter(deep), ValidationError);
  const wide = { or: Array.from({ length: 500 }, (_, index) => ({ repo: `r${index}` })) };
  assert.throws(() => parseFilter(wide), ValidationError);
  assert.throws(
    () => parseFilter({ repo: { in: Array.from({ length: 1001 }, (_, i) => i) } }),
    ValidationError,
  );
});
