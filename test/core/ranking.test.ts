import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { DEFAULT_RANKING, fuseCandidates, resolveRanking } from '../../src/core/ranking.js';
import type { MemoryRecord } from '../../src/core/types.js';

const record = (id: string, observedAt = '2026-03-01T00:00:00.000Z'): MemoryRecord => ({
  id,
  memory: id,
  kind: 'message',
  metadata: {},
  hash: id,
  createdAt: observedAt,
  updatedAt: observedAt,
  observedAt,
});

test('a memory found by both signals outranks one found by a single signal', () => {
  const results = fuseCandidates({
    dense: [
      { record: record('both'), similarity: 0.6 },
      { record: record('dense-only'), similarity: 0.62 },
    ],
    keyword: [
      { record: record('keyword-only'), bm25: 6 },
      { record: record('both'), bm25: 5 },
    ],
    now: '2026-03-02T00:00:00.000Z',
    ranking: DEFAULT_RANKING,
  });
  assert.equal(results[0]?.id, 'both');
  assert.equal(results.length, 3);
  for (const result of results) {
    assert.ok(result.score >= 0 && result.score <= 1);
    for (const value of Object.values(result.scores)) assert.ok(value >= 0 && value <= 1);
  }
});

test('recency breaks otherwise equal relevance in favour of the newer memory', () => {
  const results = fuseCandidates({
    dense: [
      { record: record('old', '2020-01-01T00:00:00.000Z'), similarity: 0.5 },
      { record: record('new', '2026-03-01T00:00:00.000Z'), similarity: 0.5 },
    ],
    keyword: [],
    now: '2026-03-02T00:00:00.000Z',
    ranking: { ...DEFAULT_RANKING, rrfWeight: 0 },
  });
  assert.equal(results[0]?.id, 'new');
  assert.ok((results[0]?.scores.recency ?? 0) > (results[1]?.scores.recency ?? 1));
});

test('ranking options are validated', () => {
  assert.throws(() => resolveRanking({ denseWeight: -1 }), ConfigError);
  assert.equal(resolveRanking({ rrfK: 10 }).rrfK, 10);
});
