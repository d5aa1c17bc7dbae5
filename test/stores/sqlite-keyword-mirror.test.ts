/**
 * The in-memory keyword index and the SQLite store's mirror of `memory_fts` built on it:
 * - `KeywordPostings` ranks like `KeywordIndex` (the in-memory store's FTS5-equal BM25), score for score, through
 *   re-indexed and deleted documents, stemmed duplicates and unknown terms; a multi-token term is declined;
 * - `selectKeyword` answered by a current mirror returns exactly what FTS5's `bm25()` returns (ids, order and
 *   scores), without running a MATCH, for a user holding most of the file, and stays equal through inserts,
 *   text and kind updates, deletes and an erasure written by other connections, as another process writes;
 * - a mirror is not used for a kind-filtered search, nor for a file larger than its limit.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parseFilter } from '../../src/core/filters.js';
import type { Scope } from '../../src/core/types.js';
import { KeywordIndex } from '../../src/stores/keyword-index.js';
import { KeywordPostings } from '../../src/stores/keyword-postings.js';
import { selectKeyword } from '../../src/stores/sqlite/keyword.js';
import { KeywordMirror } from '../../src/stores/sqlite/keyword-mirror.js';
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.js';
import type { KeywordHit, TemporalOptions } from '../../src/stores/types.js';
import { tempPaths } from '../support/temp-files.js';
import { seededVector } from '../support/vectors.js';
import { insertChange, NOW, record } from './sqlite-records.js';

const DIMENSION = 32;
const EMBEDDER = { id: 'test:keyword-mirror', dimension: DIMENSION };
const CURRENT: TemporalOptions = { now: NOW };
const { tempPath, removeAll } = tempPaths('mneme-keyword-mirror-');
after(removeAll);

const WORDS = [
  'garden',
  'gardens',
  'coffee',
  'bicycle',
  'sister',
  'piano',
  'ferry',
  'lamp',
  'recipes',
  'holiday',
];

/** A deterministic generator in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** 1-12 words of {@link WORDS} and filler, some repeated, so lengths and frequencies vary. */
function sentence(next: () => number): string {
  const words: string[] = [];
  const count = 1 + Math.floor(next() * 12);
  for (let index = 0; index < count; index += 1) {
    words.push(next() < 0.6 ? (WORDS[Math.floor(next() * WORDS.length)] ?? 'lamp') : `filler${index % 3}`);
  }
  return words.join(' ');
}

const QUERIES = [
  ['garden'],
  ['garden', 'gardens'],
  ['piano', 'ferry', 'coffee'],
  ['recipe', 'holiday'],
  ['lamp', 'unknownword'],
  ['sister', 'bicycle', 'filler1'],
];

describe('KeywordPostings', () => {
  test('ranks like KeywordIndex, through re-indexed and deleted documents', () => {
    const next = random(7);
    const postings = new KeywordPostings();
    const reference = new KeywordIndex();
    const outside = (id: number) => 'scope1 scope2 '.repeat(id % 3).trim();
    for (let id = 1; id <= 400; id += 1) {
      const text = sentence(next);
      postings.set(id, text, outside(id));
      reference.set(String(id), text, outside(id).split(' ').filter(Boolean).length);
    }
    for (let id = 1; id <= 400; id += 7) {
      postings.delete(id);
      reference.delete(String(id));
    }
    for (let id = 3; id <= 400; id += 11) {
      const text = sentence(next);
      postings.set(id, text, outside(id));
      reference.set(String(id), text, outside(id).split(' ').filter(Boolean).length);
    }
    assert.equal(postings.size, reference.size);
    assert.ok(postings.deadShare > 0, 'deleted and re-indexed slots are counted dead');
    for (const terms of QUERIES) {
      const expected = [...reference.score(terms, () => true).values()].sort((left, right) => right - left);
      for (const count of [1, 10, expected.length + 5]) {
        const top = postings.top(terms, count);
        assert.ok(top, `${terms}: answered`);
        assert.deepEqual(
          top.map((hit) => hit.score),
          expected.slice(0, count),
          `${terms} top ${count}`,
        );
      }
    }
    assert.equal(postings.top(['e-mail'], 5), undefined, 'a multi-token phrase is declined');
    assert.deepEqual(postings.top(['!!!'], 5), []);
  });
});

/** A store at `path` where `alice` holds 300 memories and `bob` 40. */
async function filledStore(path: string): Promise<SqliteStore> {
  const store = createSqliteStore({ path, keywordMirrorMaxRows: 0 });
  await store.open({ embedder: EMBEDDER });
  const next = random(11);
  const changes = [];
  for (let index = 0; index < 340; index += 1) {
    const scope: Scope = { userId: index < 300 ? 'alice' : 'bob' };
    const kind = index % 5 === 0 ? 'preference' : 'message';
    changes.push(insertChange(record(sentence(next), scope, { kind }), seededVector(index + 1, DIMENSION)));
  }
  await store.apply({ changes });
  return store;
}

const summary = (hits: KeywordHit[]) => hits.map((hit) => `${hit.record.id} ${hit.bm25}`);

/** Polls until `mirror` is built (the build runs on timers). */
async function untilReady(
  mirror: KeywordMirror,
  prepare: (sql: string) => Database.Statement,
): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (mirror.request(prepare, 1_000)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`mirror still ${mirror.status}`);
}

describe('SQLite keyword mirror', () => {
  test('answers exactly as FTS5 does, without a MATCH, through other connections writes', async () => {
    const path = tempPath();
    const writer = await filledStore(path);
    const other = createSqliteStore({ path, keywordMirrorMaxRows: 0 });
    await other.open({ embedder: EMBEDDER });
    const db = new Database(path, { readonly: true });
    const prepare = (sql: string) => db.prepare(sql);
    let matches = 0;
    const counting = ((sql: string) => {
      if (sql.includes('MATCH')) matches += 1;
      return prepare(sql);
    }) as typeof prepare;
    const mirror = new KeywordMirror();
    const alice = { scope: { userId: 'alice' }, temporal: CURRENT };
    const compare = (label: string) => {
      for (const terms of QUERIES) {
        for (const limit of [3, 40, 500]) {
          matches = 0;
          const viaMirror = selectKeyword(counting, alice, terms, limit, mirror);
          const mirrorMatches = matches;
          const viaFts = selectKeyword(prepare, alice, terms, limit);
          assert.deepEqual(summary(viaMirror), summary(viaFts), `${label}: ${terms} limit ${limit}`);
          if (viaMirror.length === limit) assert.equal(mirrorMatches, 0, `${label}: ${terms}: no MATCH ran`);
        }
      }
    };
    try {
      assert.equal(mirror.status, 'none');
      await untilReady(mirror, prepare);
      compare('built');

      const next = random(23);
      await writer.apply({
        changes: Array.from({ length: 30 }, (_, index) =>
          insertChange(
            record(`${sentence(next)} piano`, { userId: 'alice' }),
            seededVector(500 + index, DIMENSION),
          ),
        ),
      });
      const [first, second, third] = selectKeyword(prepare, alice, ['piano'], 3);
      assert.ok(first && second && third);
      await other.apply({
        changes: [
          {
            type: 'update',
            id: first.record.id,
            patch: { memory: 'ferry ferry holiday lamp' },
            embedding: seededVector(900, DIMENSION),
            event: { event: 'UPDATE', actor: 'test', createdAt: NOW },
          },
          {
            type: 'update',
            id: second.record.id,
            patch: { kind: 'user_fact' },
            event: { event: 'UPDATE', actor: 'test', createdAt: NOW },
          },
          { type: 'delete', id: third.record.id, event: { event: 'DELETE', actor: 'test', createdAt: NOW } },
        ],
      });
      compare('after inserts, updates and a delete');
      assert.ok(
        !selectKeyword(prepare, alice, ['piano'], 500, mirror).some(
          (hit) => hit.record.id === third.record.id,
        ),
        'the deleted memory is gone',
      );

      assert.ok((await other.eraseScope({ scope: { userId: 'bob' }, now: NOW, actor: 'test' })) > 0);
      compare('after erasing bob');
      assert.equal(mirror.status, 'ready');
    } finally {
      db.close();
      await other.close();
      await writer.close();
    }
  });

  test('is not used for a kind-filtered search, nor above its row limit', async () => {
    const path = tempPath();
    const writer = await filledStore(path);
    const db = new Database(path, { readonly: true });
    const prepare = (sql: string) => db.prepare(sql);
    try {
      const mirror = new KeywordMirror();
      await untilReady(mirror, prepare);
      let matches = 0;
      const counting = ((sql: string) => {
        if (sql.includes('MATCH')) matches += 1;
        return prepare(sql);
      }) as typeof prepare;
      const filter = parseFilter({ kind: 'preference' });
      assert.ok(filter);
      const filtered = { scope: { userId: 'alice' }, temporal: CURRENT, filter };
      const hits = selectKeyword(counting, filtered, ['garden'], 5, mirror);
      assert.ok(hits.length > 0 && hits.every((hit) => hit.record.kind === 'preference'));
      assert.ok(matches > 0, 'FTS5 answered the kind-filtered search');

      const small = new KeywordMirror(100);
      assert.equal(small.request(prepare, 340), false);
      assert.equal(small.status, 'none', 'no build for a file above the limit');
    } finally {
      db.close();
      await writer.close();
    }
  });
});
