/**
 * The SQLite store's binary index (`vector_blocks`, `sqlite/vector-index.ts`): the triggers keep it equal to the
 * vectors through every write path, a search through it finds what the exact scan finds, and it falls back to
 * the exact scan where candidates run out. Real files, real sqlite-vec.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { parseFilter } from '../../src/core/filters.js';
import { MIGRATIONS, VECTOR_BLOCK_SLOTS } from '../../src/stores/sqlite/schema.js';
import { candidatePoolSize } from '../../src/stores/sqlite/vector-index.js';
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.js';
import type { TemporalOptions } from '../../src/stores/types.js';
import { normalise, seededRandom, seededVector } from '../support/vectors.js';
import { insertChange as insert, NOW, record } from './sqlite-records.js';

const DIMENSION = 256;
const EMBEDDER = { id: 'test:vector-index', dimension: DIMENSION };
const CURRENT: TemporalOptions = { now: NOW };
const directories: string[] = [];

after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-vector-index-'));
  directories.push(directory);
  return join(directory, 'mneme.db');
}

/** Clustered unit vectors (centroid + noise), so nearest neighbours mean something. */
function clusteredVectors(count: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  const gaussian = () =>
    Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const centroids = Array.from({ length: 20 }, () =>
    normalise(Float32Array.from({ length: DIMENSION }, gaussian)),
  );
  return Array.from({ length: count }, () => {
    const centroid = centroids[Math.floor(random() * centroids.length)] ?? new Float32Array(DIMENSION);
    return normalise(centroid.map((value) => value + (0.9 / Math.sqrt(DIMENSION)) * gaussian()));
  });
}

async function openStore(
  path: string,
  exactScanMaxRows: number,
  dimension = DIMENSION,
): Promise<SqliteStore> {
  const store = createSqliteStore({ path, exactScanMaxRows });
  await store.open({ embedder: { ...EMBEDDER, dimension } });
  return store;
}

/** Sign bits of `vector`, bit i of byte i / 8 for dimension i (sqlite-vec's layout). */
function signCode(vector: Float32Array): Buffer {
  const code = Buffer.alloc(vector.length / 8);
  vector.forEach((value, index) => {
    if (value > 0) code[index >> 3] = (code[index >> 3] ?? 0) | (1 << (index & 7));
  });
  return code;
}

interface BlockRow {
  block: number;
  user_id: string;
  used: number;
  live: number;
  seqs: Buffer;
  codes: Buffer;
}

function readBlocks(path: string): BlockRow[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT * FROM vector_blocks ORDER BY block').all() as BlockRow[];
  } finally {
    db.close();
  }
}

/** The (seq, code) of every live slot, from the blocks. */
function liveSlots(blocks: BlockRow[]): Map<number, string> {
  const slots = new Map<number, string>();
  for (const block of blocks) {
    const width = block.codes.length / block.used;
    for (let slot = 0; slot < block.used; slot += 1) {
      const seq = Number(block.seqs.readBigUInt64BE(slot * 8));
      if (seq !== 0) slots.set(seq, block.codes.subarray(slot * width, (slot + 1) * width).toString('hex'));
    }
  }
  return slots;
}

/** seq -> expected code hex for every vector of a user, from the memory_vectors table. */
function expectedSlots(path: string, userId: string): Map<number, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT v.seq, v.embedding FROM memory_vectors v JOIN memories m ON m.seq = v.seq WHERE m.user_id = ?',
      )
      .all(userId) as Array<{ seq: number; embedding: Buffer }>;
    return new Map(
      rows.map((row) => {
        const vector = new Float32Array(
          row.embedding.buffer.slice(
            row.embedding.byteOffset,
            row.embedding.byteOffset + row.embedding.byteLength,
          ),
        );
        return [row.seq, signCode(vector).toString('hex')];
      }),
    );
  } finally {
    db.close();
  }
}

describe('SQLite binary index: the triggers keep it equal to the vectors', () => {
  test("inserts fill 256-slot blocks per user with each vector's sign bits; updates and deletes follow", async () => {
    const path = tempPath();
    const store = await openStore(path, 0);
    const vectors = clusteredVectors(VECTOR_BLOCK_SLOTS + 44, 1);
    const alice = vectors.map((vector, index) => ({ item: record(`alice ${index}`), vector }));
    const bob = record('bob 0', { userId: 'bob' });
    const agentOnly = record('agent 0', { agentId: 'helper' });
    await store.apply({
      changes: [
        ...alice.map(({ item, vector }) => insert(item, vector)),
        insert(bob, seededVector(5, DIMENSION)),
        insert(agentOnly, seededVector(6, DIMENSION)),
      ],
    });
    let blocks = readBlocks(path);
    assert.deepEqual(
      blocks.map((block) => [block.user_id, block.used, block.live]),
      [
        ['alice', VECTOR_BLOCK_SLOTS, VECTOR_BLOCK_SLOTS],
        ['alice', 44, 44],
        ['bob', 1, 1],
      ],
      'a memory without a user id has no code',
    );
    assert.deepEqual(
      liveSlots(blocks.filter((block) => block.user_id === 'alice')),
      expectedSlots(path, 'alice'),
    );
    assert.equal(blocks[0]?.codes.length, VECTOR_BLOCK_SLOTS * (DIMENSION / 8));

    const changed = alice[3];
    const removed = alice[7];
    assert.ok(changed && removed);
    await store.apply({
      changes: [
        {
          type: 'update',
          id: changed.item.id,
          patch: { updatedAt: NOW },
          embedding: seededVector(99, DIMENSION),
          event: { event: 'UPDATE', actor: 'test', createdAt: NOW },
        },
        { type: 'delete', id: removed.item.id, event: { event: 'DELETE', actor: 'test', createdAt: NOW } },
      ],
    });
    blocks = readBlocks(path);
    assert.equal(blocks[0]?.live, VECTOR_BLOCK_SLOTS - 1);
    assert.equal(blocks[0]?.used, VECTOR_BLOCK_SLOTS, 'a freed slot stays in place');
    assert.deepEqual(
      liveSlots(blocks.filter((block) => block.user_id === 'alice')),
      expectedSlots(path, 'alice'),
    );
    assert.equal(liveSlots(blocks).size, VECTOR_BLOCK_SLOTS + 44 - 1 + 1);
    const freed = blocks[0]?.codes.subarray(7 * (DIMENSION / 8), 8 * (DIMENSION / 8));
    assert.deepEqual(freed, Buffer.alloc(DIMENSION / 8), "a deleted vector's code is zeroed");

    await store.eraseScope({ scope: { userId: 'alice' }, now: NOW, actor: 'test' });
    assert.deepEqual(
      readBlocks(path).map((block) => block.user_id),
      ['bob'],
      "erasing a user drops the user's blocks (no trace of the user id in them)",
    );
    await store.close();
  });

  test('freed slots are never candidates: a user with few live vectors gets all of them', async () => {
    const path = tempPath();
    const store = await openStore(path, 0);
    const items = clusteredVectors(10, 5).map((vector, index) => ({ item: record(`few ${index}`), vector }));
    await store.apply({ changes: items.map(({ item, vector }) => insert(item, vector)) });
    await store.apply({
      changes: items.slice(0, 7).map(({ item }) => ({
        type: 'delete' as const,
        id: item.id,
        event: { event: 'DELETE' as const, actor: 'test', createdAt: NOW },
      })),
    });
    const hits = await store.searchDense({
      scope: { userId: 'alice' },
      temporal: CURRENT,
      embedding: seededVector(3, DIMENSION),
      limit: 10,
    });
    assert.deepEqual(
      hits.map((hit) => hit.record.id).sort(),
      items
        .slice(7)
        .map(({ item }) => item.id)
        .sort(),
    );
    assert.deepEqual((await store.diagnostics()).densePlans, { exact: 0, approximate: 1, fallback: 0 });
    await store.close();
  });

  test('a store written before the index (schema 1) is backfilled when opened', async () => {
    const path = tempPath();
    const db = new Database(path);
    sqliteVec.load(db);
    const first = MIGRATIONS[0];
    assert.ok(first);
    db.exec(first.sql);
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)').run(
      'schema_version',
      '1',
      'embedder_id',
      EMBEDDER.id,
      'embedder_dimension',
      String(DIMENSION),
    );
    const vectors = clusteredVectors(600, 2);
    const insertMemory = db.prepare(
      `INSERT INTO memories (id, memory, user_id, kind, hash, created_at, updated_at, observed_at)
       VALUES (?, ?, ?, 'user_fact', ?, ?, ?, ?) RETURNING seq`,
    );
    const insertVector = db.prepare('INSERT INTO memory_vectors (seq, embedding) VALUES (?, ?)');
    db.transaction(() => {
      vectors.forEach((vector, index) => {
        const user = index % 3 === 0 ? 'carol' : 'dave';
        const { seq } = insertMemory.get(randomUUID(), `m ${index}`, user, `h${index}`, NOW, NOW, NOW) as {
          seq: number;
        };
        insertVector.run(seq, Buffer.from(vector.buffer));
      });
    })();
    db.close();

    const store = await openStore(path, 0);
    assert.equal((await store.diagnostics()).schemaVersion, MIGRATIONS.length);
    const blocks = readBlocks(path);
    assert.deepEqual(
      liveSlots(blocks.filter((block) => block.user_id === 'carol')),
      expectedSlots(path, 'carol'),
    );
    assert.deepEqual(
      liveSlots(blocks.filter((block) => block.user_id === 'dave')),
      expectedSlots(path, 'dave'),
    );
    assert.equal(liveSlots(blocks).size, 600);
    await store.close();
  });
});

describe('SQLite binary index: search', () => {
  const COUNT = 6000;
  const path = tempPath();
  // Queries come from the same clusters as the memories (held out), as a user's questions are near their memories.
  const drawn = clusteredVectors(COUNT + 25, 3);
  const vectors = drawn.slice(0, COUNT);
  const queries = drawn.slice(COUNT);
  let approximate: SqliteStore;
  let exact: SqliteStore;

  test('finds what the exact scan finds (recall@10 >= 0.9 on clustered vectors) and reports its plan', async () => {
    approximate = await openStore(path, 1000);
    exact = await openStore(path, Number.POSITIVE_INFINITY);
    await approximate.apply({
      changes: vectors.map((vector, index) =>
        insert(record(`memory ${index}`, { userId: 'alice' }, { metadata: { n: index } }), vector),
      ),
    });
    assert.ok(candidatePoolSize(COUNT, 10) < COUNT / 5, 'the test set is larger than one candidate pool');
    let found = 0;
    for (const embedding of queries) {
      const search = { scope: { userId: 'alice' }, temporal: CURRENT, embedding, limit: 10 };
      const truth = new Set((await exact.searchDense(search)).map((hit) => hit.record.id));
      const hits = await approximate.searchDense(search);
      assert.equal(hits.length, 10);
      for (let index = 1; index < hits.length; index += 1) {
        assert.ok(
          (hits[index - 1]?.similarity ?? 0) >= (hits[index]?.similarity ?? 0),
          'ordered by exact cosine',
        );
      }
      found += hits.filter((hit) => truth.has(hit.record.id)).length;
    }
    const recall = found / (queries.length * 10);
    assert.ok(recall >= 0.9, `recall@10 ${recall}`);
    assert.deepEqual((await approximate.diagnostics()).densePlans, {
      exact: 0,
      approximate: 25,
      fallback: 0,
    });
    assert.deepEqual((await exact.diagnostics()).densePlans, { exact: 25, approximate: 0, fallback: 0 });
  });

  test('falls back to the exact scan when the filter leaves fewer than `limit` candidates', async () => {
    const embedding = queries[0] ?? new Float32Array(DIMENSION);
    const filter = parseFilter({ n: { in: [11, 2222, 4444] } });
    assert.ok(filter);
    const search = { scope: { userId: 'alice' }, temporal: CURRENT, embedding, limit: 5, filter };
    const before = (await approximate.diagnostics()).densePlans.fallback;
    const hits = await approximate.searchDense(search);
    assert.deepEqual(
      hits.map((hit) => hit.record.id),
      (await exact.searchDense(search)).map((hit) => hit.record.id),
    );
    assert.equal(hits.length, 3);
    assert.equal((await approximate.diagnostics()).densePlans.fallback, before + 1);
  });

  test("another connection's committed vector is found by the next search", async () => {
    const embedding = queries[1] ?? new Float32Array(DIMENSION);
    const newcomer = record('written by another connection');
    await exact.apply({ changes: [insert(newcomer, embedding)] });
    const [top] = await approximate.searchDense({
      scope: { userId: 'alice' },
      temporal: CURRENT,
      embedding,
      limit: 3,
    });
    assert.equal(top?.record.id, newcomer.id);
    assert.ok(Math.abs((top?.similarity ?? 0) - 1) < 1e-5);
  });

  test("another connection's changed vector is seen through the cached blocks", async () => {
    const embedding = queries[3] ?? new Float32Array(DIMENSION);
    const search = { scope: { userId: 'alice' }, temporal: CURRENT, embedding, limit: 3 };
    await approximate.searchDense(search);
    const [, , third] = await exact.searchDense({ ...search, limit: 50 });
    const moved = (await exact.searchDense({ ...search, embedding: queries[4] ?? embedding, limit: 1 }))[0];
    assert.ok(third && moved && moved.record.id !== third.record.id);
    await exact.apply({
      changes: [
        {
          type: 'update',
          id: moved.record.id,
          patch: { updatedAt: NOW },
          embedding,
          event: { event: 'UPDATE', actor: 'test', createdAt: NOW },
        },
      ],
    });
    const [top] = await approximate.searchDense(search);
    assert.equal(top?.record.id, moved.record.id);
  });

  test('scopes without a user id, small users and other dimensions are searched exactly', async () => {
    const embedding = queries[2] ?? new Float32Array(DIMENSION);
    const before = (await approximate.diagnostics()).densePlans;
    await approximate.searchDense({ scope: { agentId: 'nobody' }, temporal: CURRENT, embedding, limit: 3 });
    await approximate.searchDense({ scope: { userId: 'nobody' }, temporal: CURRENT, embedding, limit: 3 });
    const afterPlans = (await approximate.diagnostics()).densePlans;
    assert.equal(afterPlans.exact, before.exact + 2);
    assert.equal(afterPlans.approximate, before.approximate);
    await approximate.close();
    await exact.close();

    const odd = tempPath();
    const store = await openStore(odd, 0, 40);
    await store.apply({ changes: [insert(record('forty dimensions'), seededVector(1, 40))] });
    const hits = await store.searchDense({
      scope: { userId: 'alice' },
      temporal: CURRENT,
      embedding: seededVector(1, 40),
      limit: 1,
    });
    assert.equal(hits.length, 1);
    assert.deepEqual(readBlocks(odd), [], 'no codes for a dimension that is not a multiple of 32');
    assert.deepEqual((await store.diagnostics()).densePlans, { exact: 1, approximate: 0, fallback: 0 });
    await store.close();
  });

  test('exactScanMaxRows must be a number >= 0', () => {
    assert.throws(() => createSqliteStore({ path: tempPath(), exactScanMaxRows: -1 }), /exactScanMaxRows/);
    assert.throws(
      () => createSqliteStore({ path: tempPath(), exactScanMaxRows: Number.NaN }),
      /exactScanMaxRows/,
    );
  });
});
