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

test('the session signal lifts a memory said in the same sitting as a strong match, not one said days apart', () => {
  const sitting = '2026-03-01T10:00:00.000Z';
  const inScope = (id: string, observedAt: string, userId = 'u') => ({ ...record(id, observedAt), userId });
  const run = (ranking = DEFAULT_RANKING) =>
    fuseCandidates({
      dense: [],
      keyword: [
        { record: inScope('strong', sitting), bm25: 12 },
        { record: inScope('days-later', '2026-03-05T10:00:00.000Z'), bm25: 3 },
        { record: inScope('same-sitting', '2026-03-01T10:20:00.000Z'), bm25: 2.9 },
        { record: inScope('other-user', '2026-03-01T10:05:00.000Z', 'v'), bm25: 3 },
      ],
      now: '2026-03-06T00:00:00.000Z',
      ranking: { ...ranking, recencyWeight: 0 },
    });
  const order = (results: ReturnType<typeof run>) => results.map((result) => result.id);
  // Without the signal the two weaker memories rank by their own keyword score.
  assert.deepEqual(order(run({ ...DEFAULT_RANKING, sessionWeight: 0 })).slice(1, 3), [
    'days-later',
    'other-user',
  ]);
  const results = run();
  assert.deepEqual(order(results).slice(0, 2), ['strong', 'same-sitting']);
  const byId = new Map(results.map((result) => [result.id, result]));
  assert.equal(byId.get('same-sitting')?.scores.session, byId.get('strong')?.scores.session);
  // A memory alone in its session (another scope, or days apart) gets its own base score as the session signal.
  for (const id of ['days-later', 'other-user']) {
    const result = byId.get(id);
    assert.ok(
      result &&
        result.scores.session > 0 &&
        result.scores.session < (byId.get('strong')?.scores.session ?? 0),
    );
  }
  for (const result of results) assert.ok(result.score >= 0 && result.score <= 1);
});

test('sessions split where consecutive observations are further apart than sessionGapHours', () => {
  const at = (hours: number) =>
    new Date(Date.parse('2026-03-01T00:00:00.000Z') + hours * 3_600_000).toISOString();
  const results = fuseCandidates({
    dense: [],
    keyword: [
      { record: { ...record('a', at(0)), userId: 'u' }, bm25: 10 },
      { record: { ...record('b', at(2)), userId: 'u' }, bm25: 1 },
      { record: { ...record('c', at(4)), userId: 'u' }, bm25: 1 },
      { record: { ...record('d', at(9)), userId: 'u' }, bm25: 1 },
    ],
    now: at(10),
    ranking: { ...DEFAULT_RANKING, sessionGapHours: 3 },
  });
  const session = new Map(results.map((result) => [result.id, result.scores.session]));
  // a-b-c chain within 3 h steps (c is 4 h after a, but 2 h after b); d is 5 h after c.
  assert.equal(session.get('c'), session.get('a'));
  assert.ok((session.get('d') ?? 1) < (session.get('a') ?? 0));
});

test('the session signal does not lift a memory that shares no word with the query', () => {
  const sitting = '2026-03-01T10:00:00.000Z';
  const results = fuseCandidates({
    dense: [
      { record: { ...record('filler', '2026-03-01T10:01:00.000Z'), userId: 'u' }, similarity: 0.4 },
      { record: { ...record('strong', sitting), userId: 'u' }, similarity: 0.5 },
    ],
    keyword: [{ record: { ...record('strong', sitting), userId: 'u' }, bm25: 12 }],
    now: '2026-03-02T00:00:00.000Z',
    ranking: DEFAULT_RANKING,
  });
  const filler = results.find((result) => result.id === 'filler');
  const strong = results.find((result) => result.id === 'strong');
  assert.ok(filler && strong);
  assert.ok(filler.scores.session < strong.scores.session);
  const alone = fuseCandidates({
    dense: [{ record: { ...record('filler', '2026-03-01T10:01:00.000Z'), userId: 'u' }, similarity: 0.4 }],
    keyword: [],
    now: '2026-03-02T00:00:00.000Z',
    ranking: DEFAULT_RANKING,
  });
  assert.equal(filler.score, alone[0]?.score);
});

test('limit and threshold return exactly the head of the full ranking that scores at least the threshold', () => {
  const dense = Array.from({ length: 40 }, (_, index) => ({
    record: record(`m${index}`, `2026-02-${String(1 + (index % 28)).padStart(2, '0')}T00:00:00.000Z`),
    similarity: ((index * 37) % 41) / 41,
  }));
  const keyword = dense
    .filter((_, index) => index % 3 === 0)
    .map((hit, index) => ({ record: hit.record, bm25: 12 - (index % 7) }));
  const options = { dense, keyword, now: '2026-03-02T00:00:00.000Z', ranking: DEFAULT_RANKING };
  const all = fuseCandidates(options);
  assert.equal(all.length, 40);
  const threshold = all[25]?.score ?? 1;
  const expected = all.filter((result) => result.score >= threshold);
  assert.ok(expected.length > 10 && expected.length < 40);
  assert.deepEqual(fuseCandidates({ ...options, limit: 10 }), all.slice(0, 10));
  assert.deepEqual(fuseCandidates({ ...options, threshold }), expected);
  assert.deepEqual(fuseCandidates({ ...options, limit: 10, threshold }), expected.slice(0, 10));
  assert.deepEqual(fuseCandidates({ ...options, limit: 100, threshold: 1.01 }), []);
});

test('the speaker signal lifts what the person a query names said, and changes nothing when no one is named', () => {
  const said = (id: string, speaker: string) => ({ ...record(id), userId: 'u', speaker });
  const keyword = [
    { record: said('caroline-paints', 'Caroline'), bm25: 6 },
    { record: said('melanie-paints', 'Melanie'), bm25: 5 },
    { record: { ...record('unnamed'), userId: 'u' }, bm25: 5.5 },
  ];
  const run = (query: string | undefined, ranking = DEFAULT_RANKING) =>
    fuseCandidates({
      dense: [],
      keyword,
      now: '2026-03-02T00:00:00.000Z',
      ranking,
      ...(query ? { query } : {}),
    });
  const order = (results: ReturnType<typeof run>) => results.map((result) => result.id);
  const byId = (results: ReturnType<typeof run>) => new Map(results.map((result) => [result.id, result]));

  // Naming Melanie (in any case, with a possessive) puts her memory first and marks it.
  const named = run("What did melanie's kids paint?");
  assert.equal(order(named)[0], 'melanie-paints');
  assert.deepEqual(
    named.map((result) => [result.id, result.scores.speaker]),
    [
      ['melanie-paints', 1],
      ['caroline-paints', 0],
      ['unnamed', 0],
    ],
  );
  for (const result of named) assert.ok(result.score >= 0 && result.score <= 1);

  // No one named, a name only as part of a word, no query given, or the weight at 0: the same scores as without
  // the signal, to the last digit (its weight is left out of the sum).
  const without = run('What did the kids paint?', { ...DEFAULT_RANKING, speakerWeight: 0 });
  for (const query of ['What did the kids paint?', 'What did the Melanies paint?', undefined]) {
    assert.deepEqual(run(query), without, String(query));
  }
  assert.deepEqual(
    run('What did Melanie paint?', { ...DEFAULT_RANKING, speakerWeight: 0 }).map((result) => result.score),
    without.map((result) => result.score),
  );

  // Naming both lifts both alike: their order is what it is without the signal.
  const both = run('What did Caroline and Melanie paint?');
  assert.deepEqual(order(both).slice(0, 2), ['caroline-paints', 'melanie-paints']);
  assert.equal(byId(both).get('unnamed')?.scores.speaker, 0);
  assert.ok((byId(both).get('unnamed')?.score ?? 1) < (byId(both).get('melanie-paints')?.score ?? 0));
});
