/**
 * The SQLite store's keyword search (`sqlite/keyword.ts`) on real files: a scope of one user holding most of the
 * table is searched without its tokens in the MATCH, and the hits and BM25 scores equal the search that keeps
 * them, for that user and for the others (whose searches keep their tokens).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Scope } from '../../src/core/types.js';
import { ftsRowCount, selectKeyword } from '../../src/stores/sqlite/keyword.js';
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.js';
import type { KeywordHit, TemporalOptions } from '../../src/stores/types.js';
import { seededVector } from '../support/vectors.js';
import { insertChange, NOW, record } from './sqlite-records.js';

const DIMENSION = 64;
const EMBEDDER = { id: 'test:keyword', dimension: DIMENSION };
const CURRENT: TemporalOptions = { now: NOW };
const directories: string[] = [];

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-keyword-'));
  directories.push(directory);
  return join(directory, 'mneme.db');
}

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
    changes.push(insertChange(record(text(index), scope), seededVector(index + 1, DIMENSION)));
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
            const withTokens = selectKeyword(prepare, visibility, terms, limit, Number.POSITIVE_INFINITY);
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
