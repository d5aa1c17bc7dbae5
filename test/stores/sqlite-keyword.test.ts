/**
 * The SQLite store's keyword search (`sqlite/keyword.ts`) on real files:
 * - a scope of one user holding most of the table is searched without its tokens in the MATCH, and the hits and
 *   BM25 scores equal the search that keeps them, for that user and for the others (whose searches keep theirs);
 * - a search filtered to some kinds narrows the MATCH by their kind tokens and returns what filtering every match
 *   returns; a kind changed by an update moves its token; migration 5 writes the tokens `kindToken` writes.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parseFilter } from '../../src/core/filters.js';
import type { Scope } from '../../src/core/types.js';
import { filterKinds, ftsRowCount, selectKeyword } from '../../src/stores/sqlite/keyword.js';
import { keywordScopeColumn } from '../../src/stores/sqlite/rows.js';
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.js';
import type { KeywordHit, TemporalOptions } from '../../src/stores/types.js';
import { tempPaths } from '../support/temp-files.js';
import { seededVector } from '../support/vectors.js';
import { insertChange, NOW, record } from './sqlite-records.js';

const DIMENSION = 64;
const EMBEDDER = { id: 'test:keyword', dimension: DIMENSION };
const CURRENT: TemporalOptions = { now: NOW };
const { tempPath, removeAll } = tempPaths('mneme-keyword-');

after(removeAll);

/** Kinds by row: mostly messages, a few standing memories. */
const KINDS = ['message', 'message', 'message', 'preference', 'message', 'message', 'user_fact'] as const;

const WORDS = [
  'garden',
  'coffee',
  'bicycle',
  'sister',
  'piano',
  'mortgage',
  'holiday',
  'recipe',
  'ferry',
  'lamp',
];

/**
 * Text number `index`: a few of the words, some repeated, and 0-16 filler words, so that BM25 scores (which
 * depend on the text's length) rarely tie.
 */
function text(index: number): string {
  const words = [WORDS[index % 10], WORDS[(index * 7) % 10], WORDS[(index * 3 + 1) % 10]];
  const filler = ' filler'.repeat(index % 17);
  return `${words.join(' ')} note ${index}${index % 4 === 0 ? ` ${words[0]} again` : ''}${filler}`;
}

/** A store at `path` with `alice` holding `aliceRows` memories and `bob` `bobRows`. */
async function filledStore(path: string, aliceRows: number, bobRows: number): Promise<SqliteStore> {
  const store = createSqliteStore({ path });
  await store.open({ embedder: EMBEDDER });
  const changes = [];
  for (let index = 0; index < aliceRows + bobRows; index += 1) {
    const scope: Scope = { userId: index < aliceRows ? 'alice' : 'bob' };
    const kind = KINDS[index % KINDS.length] ?? 'message';
    changes.push(insertChange(record(text(index), scope, { kind }), seededVector(index + 1, DIMENSION)));
  }
  await store.apply({ changes });
  return store;
}

const summary = (hits: KeywordHit[]) => hits.map((hit) => `${hit.record.id} ${hit.bm25.toFixed(12)}`);
const scores = (hits: KeywordHit[]) => hits.map((hit) => hit.bm25.toFixed(12));

describe('SQLite keyword search: the scope tokens', () => {
  test("ftsRowCount reads FTS5's row count from its averages record", async () => {
    const path = tempPath();
    const store = await filledStore(path, 150, 20);
    await store.close();
    const db = new Database(path, { readonly: true });
    const { block } = db.prepare('SELECT block FROM memory_fts_data WHERE id = 1').get() as { block: Buffer };
    db.close();
    assert.equal(ftsRowCount(block), 170);
    assert.equal(ftsRowCount(Uint8Array.of(0x81, 0x00)), 128, 'a two-byte varint');
    assert.equal(ftsRowCount(new Uint8Array()), undefined);
    assert.equal(ftsRowCount('not a blob'), undefined);
  });

  test('a user holding most of the table gets the same hits and scores without its tokens in the MATCH', async () => {
    const path = tempPath();
    const store = await filledStore(path, 300, 40);
    await store.close();
    const db = new Database(path, { readonly: true });
    const prepare = (sql: string) => db.prepare(sql);
    /** The MATCH texts each user's searches ran. */
    const matches = new Map<string, string[]>();
    let user = '';
    const spying = ((sql: string) => {
      const statement = prepare(sql);
      return {
        all: (...params: unknown[]) => {
          if (sql.includes('MATCH')) matches.set(user, [...(matches.get(user) ?? []), String(params[0])]);
          return statement.all(...params);
        },
        get: (...params: unknown[]) => statement.get(...params),
      };
    }) as unknown as typeof prepare;
    try {
      for (const userId of ['alice', 'bob']) {
        for (const terms of [['garden'], ['piano', 'ferry'], ['note'], ['lamp', 'again', 'mortgage']]) {
          for (const limit of [5, 50, 400]) {
            const visibility = { scope: { userId }, temporal: CURRENT };
            user = userId;
            const viaDefault = selectKeyword(spying, visibility, terms, limit);
            const withTokens = selectKeyword(
              prepare,
              visibility,
              terms,
              limit,
              undefined,
              Number.POSITIVE_INFINITY,
            );
            assert.ok(viaDefault.length > 0, `${userId} ${terms}: hits`);
            // Equal scores in order; equal ids too, except among tied scores, which either pool may cut
            // differently ('note' is in every row: FTS5 clamps its idf, so every row ties).
            const label = `${userId} ${terms} limit ${limit}`;
            assert.deepEqual(scores(viaDefault), scores(withTokens), label);
            if (!terms.includes('note')) assert.deepEqual(summary(viaDefault), summary(withTokens), label);
            for (const hit of viaDefault) assert.equal(hit.record.userId, userId, 'only the scope');
          }
        }
      }
    } finally {
      db.close();
    }
    // alice holds 300 / 340 of the rows: her searches leave the scope column out; bob's keep it.
    const alice = matches.get('alice') ?? [];
    const bob = matches.get('bob') ?? [];
    assert.ok(alice.length >= 12 && bob.length >= 12, 'every search ran a MATCH');
    assert.ok(
      alice.every((match) => !match.includes('scope :')),
      `alice: ${alice[0]}`,
    );
    assert.ok(
      bob.every((match) => match.startsWith('scope : (')),
      `bob: ${bob[0]}`,
    );
  });
});

describe('SQLite keyword search: kind tokens', () => {
  test('filterKinds reads a top-level kind eq / in, alone or in an and', () => {
    assert.deepEqual(filterKinds(parseFilter({ kind: 'preference' })), ['preference']);
    assert.deepEqual(filterKinds(parseFilter({ kind: { in: ['preference', 'user_fact'] } })), [
      'preference',
      'user_fact',
    ]);
    assert.deepEqual(filterKinds(parseFilter({ AND: [{ topic: 'x' }, { kind: { in: ['instruction'] } }] })), [
      'instruction',
    ]);
    assert.equal(filterKinds(parseFilter({ OR: [{ kind: 'preference' }, { topic: 'x' }] })), undefined);
    assert.equal(filterKinds(parseFilter({ kind: { ne: 'message' } })), undefined);
    assert.equal(filterKinds(undefined), undefined);
  });

  test('a kind-filtered search returns what filtering every match returns, and follows a changed kind', async () => {
    const path = tempPath();
    const store = await filledStore(path, 300, 40);
    try {
      for (const filterInput of [{ kind: { in: ['preference', 'user_fact'] } }, { kind: 'user_fact' }]) {
        const filter = parseFilter(filterInput);
        assert.ok(filter);
        const kinds = filterKinds(filter) ?? [];
        for (const terms of [['garden'], ['piano', 'ferry', 'note']]) {
          const scope = { userId: 'alice' };
          const filtered = await store.searchKeyword({ scope, temporal: CURRENT, terms, limit: 15, filter });
          const everyMatch = await store.searchKeyword({ scope, temporal: CURRENT, terms, limit: 1000 });
          const expected = everyMatch.filter((hit) => kinds.includes(hit.record.kind)).slice(0, 15);
          assert.ok(filtered.length > 0, `${JSON.stringify(filterInput)} ${terms}: hits`);
          assert.deepEqual(scores(filtered), scores(expected), `${JSON.stringify(filterInput)} ${terms}`);
        }
      }
      const [message] = (
        await store.searchKeyword({ scope: { userId: 'bob' }, temporal: CURRENT, terms: ['note'], limit: 1 })
      ).filter((hit) => hit.record.kind === 'message');
      assert.ok(message, 'a message of bob');
      const asPreference = parseFilter({ kind: 'preference' });
      assert.ok(asPreference);
      const find = () =>
        store.searchKeyword({
          scope: { userId: 'bob' },
          temporal: CURRENT,
          terms: [`${message.record.memory.split(' ')[0]}`, 'note'],
          limit: 100,
          filter: asPreference,
        });
      assert.ok(!(await find()).some((hit) => hit.record.id === message.record.id));
      await store.apply({
        changes: [
          {
            type: 'update',
            id: message.record.id,
            patch: { kind: 'preference' },
            event: { event: 'UPDATE', actor: 'test', createdAt: NOW },
          },
        ],
      });
      assert.ok(
        (await find()).some((hit) => hit.record.id === message.record.id),
        'found under its new kind',
      );
    } finally {
      await store.close();
    }
  });

  test('migration 5 writes the kind tokens the store writes', async () => {
    const path = tempPath();
    const store = await filledStore(path, 30, 10);
    await store.close();
    // Back to a schema-4 file: scope tokens only, version 4.
    const db = new Database(path);
    const expected = db
      .prepare(
        `SELECT f.rowid AS seq, f.scope, m.user_id, m.kind FROM memory_fts f JOIN memories m ON m.seq = f.rowid`,
      )
      .all() as Array<{ seq: number; scope: string; user_id: string; kind: string }>;
    for (const row of expected) {
      assert.equal(row.scope, keywordScopeColumn({ userId: row.user_id }, row.kind));
      const scopeOnly = row.scope.split(' ').slice(0, -1).join(' ');
      db.prepare('UPDATE memory_fts SET scope = ? WHERE rowid = ?').run(scopeOnly, row.seq);
    }
    db.prepare("UPDATE meta SET value = '4' WHERE key = 'schema_version'").run();
    db.exec('DROP TABLE keyword_changes');
    db.close();

    const reopened = createSqliteStore({ path });
    await reopened.open({ embedder: EMBEDDER });
    await reopened.close();
    const after = new Database(path, { readonly: true });
    const migrated = after.prepare('SELECT rowid AS seq, scope FROM memory_fts').all() as Array<{
      seq: number;
      scope: string;
    }>;
    after.close();
    const bySeq = new Map(expected.map((row) => [row.seq, row.scope]));
    assert.equal(migrated.length, expected.length);
    for (const row of migrated) assert.equal(row.scope, bySeq.get(row.seq), `row ${row.seq}`);
  });
});
