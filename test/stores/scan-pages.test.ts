/**
 * `scanPages` (`src/stores/scan-pages.ts`): follows `store.scan` from the first page to the last, passing each
 * cursor back, on a real SQLite file.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { scanPages } from '../../src/stores/scan-pages.js';
import { createSqliteStore } from '../../src/stores/sqlite.js';
import { tempPaths } from '../support/temp-files.js';
import { seededVector } from '../support/vectors.js';
import { insertChange, record } from './sqlite-records.js';

const paths = tempPaths('mneme-scan-pages-');
after(() => paths.removeAll());

test('scanPages yields every memory once, by id, in pages of the size asked for', async () => {
  const store = createSqliteStore({ path: paths.tempPath() });
  await store.open({ embedder: { id: 'test', dimension: 8 } });
  try {
    const empty = [];
    for await (const page of scanPages(store, 3)) empty.push(page);
    assert.deepEqual(
      empty.map((page) => page.items.length),
      [0],
      'an empty store is one empty page',
    );

    const records = Array.from({ length: 7 }, (_, index) => record(`memory ${index}`));
    await store.apply({ changes: records.map((item, index) => insertChange(item, seededVector(index, 8))) });
    const pages = [];
    for await (const page of scanPages(store, 3)) pages.push(page);
    assert.deepEqual(
      pages.map((page) => page.items.length),
      [3, 3, 1],
    );
    assert.deepEqual(
      pages.flatMap((page) => page.items.map((item) => item.record.id)),
      records.map((item) => item.id).sort(),
    );
    assert.ok(pages.every((page) => page.items.every((item) => item.history.length === 1)));
  } finally {
    await store.close();
  }
});
