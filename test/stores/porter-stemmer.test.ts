/**
 * mneme's Porter stemmer against a real SQLite FTS5 `porter` tokenizer, word by word: every distinct token of
 * this repository's own text (docs, README, source comments, test stories: several thousand English words, plus
 * identifiers and numbers), and the cases where the npm stemmers part from FTS5 (see the header of
 * src/stores/porter-stemmer.ts): tokens over 64 bytes, which FTS5 passes through, and non-ASCII letters, which FTS5
 * counts as consonant bytes. FTS5 stems each word alone (one row per word, read back with fts5vocab 'instance').
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { porterStem } from '../../src/stores/porter-stemmer.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKENIZER = "'porter unicode61 remove_diacritics 2'";

function textFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return textFiles(path);
    return /\.(ts|md)$/.test(name) ? [path] : [];
  });
}

/** The distinct tokens of `texts` as FTS5's unicode61 tokenizer (no stemming) folds them. */
function tokensOf(db: Database.Database, texts: string[]): string[] {
  db.exec(`CREATE VIRTUAL TABLE plain USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
           CREATE VIRTUAL TABLE plain_terms USING fts5vocab (plain, 'row');`);
  const add = db.prepare('INSERT INTO plain (body) VALUES (?)');
  db.transaction(() => {
    for (const text of texts) add.run(text);
  })();
  return (db.prepare('SELECT term FROM plain_terms').all() as Array<{ term: string }>).map((row) => row.term);
}

/** FTS5's porter stem of each word, each stemmed alone in its own row. */
function fts5Stems(db: Database.Database, words: string[]): Map<string, string> {
  db.exec(`CREATE VIRTUAL TABLE stemmed USING fts5 (body, tokenize = ${TOKENIZER});
           CREATE VIRTUAL TABLE stemmed_terms USING fts5vocab (stemmed, 'instance');`);
  const add = db.prepare('INSERT INTO stemmed (rowid, body) VALUES (?, ?)');
  db.transaction(() => {
    for (const [index, word] of words.entries()) add.run(index + 1, word);
  })();
  const stems = new Map<string, string>();
  const rows = db.prepare('SELECT doc, term FROM stemmed_terms').all() as Array<{
    doc: number;
    term: string;
  }>;
  for (const row of rows) stems.set(words[row.doc - 1] ?? '', row.term);
  return stems;
}

test("porterStem equals SQLite FTS5's porter tokenizer on every word of the repository's text", () => {
  const files = ['README.md', 'BENCHMARKS.md', 'docs', 'src', 'test', 'bench'].flatMap((entry) => {
    const path = join(ROOT, entry);
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ? textFiles(path) : [path];
  });
  const texts = files
    .filter((path) => statSync(path, { throwIfNoEntry: false }))
    .map((path) => readFileSync(path, 'utf8'));
  // Where the npm stemmers differ from FTS5: byte-counted non-ASCII letters and the 64-byte pass-through.
  texts.push('straße weiße ærø łodz ελληνικά λέξεισ русские Ꭰx ǆemal cosine² façade naïve');
  texts.push(`${'relational'.repeat(7)} ${'a'.repeat(64)}ing ${'b'.repeat(61)}ing`);

  const db = new Database(':memory:');
  try {
    const words = tokensOf(db, texts);
    const expected = fts5Stems(db, words);
    const differ = words
      .filter((word) => porterStem(word) !== expected.get(word))
      .map((word) => `${word}: FTS5 ${expected.get(word)}, ours ${porterStem(word)}`);
    assert.deepEqual(differ, []);
    const english = words.filter((word) => /^[a-z]+$/.test(word));
    assert.ok(
      english.length > 3000,
      `compared ${words.length} words, ${english.length} of them plain English`,
    );
    assert.ok(
      english.filter((word) => porterStem(word) !== word).length > 1000,
      'the comparison covers words the stemmer changes',
    );
    assert.equal(porterStem('straße'), 'straß', 'ß is two consonant bytes, as in FTS5');
  } finally {
    db.close();
  }
});
