/**
 * PostgreSQL search latency at the store seam, in one large scope, on a schema that is kept between runs so two
 * builds of the store can be measured back to back on the same data:
 *
 *   node --import tsx bench/postgres-search.ts load    <postgres-url-with-?schema=> [memories=100000]
 *   node --import tsx bench/postgres-search.ts measure <postgres-url-with-?schema=> [queries=100]
 *
 * `load` writes synthetic memories of one user (the latency suite's corpus, 512-d) through `store.restore` in
 * batches of 2,000 with the schema's GIN and HNSW indexes dropped, then builds them once (with a 1 GB
 * `maintenance_work_mem`). `measure` times `searchKeyword` (limit 200, the hybrid search's keyword candidates) and
 * `searchDense` (limit 200 and 10) for `user-0`, after 5 warm-up searches, then `apply` of one insert per
 * transaction into that scope (as `add` writes, leaving the rows behind), and prints p50/p95 in ms with the
 * 1-minute load average. Drop the schema afterwards (`DROP SCHEMA <name> CASCADE`).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { queryTerms } from '../src/core/text.js';
import { createPostgresStore } from '../src/stores/postgres.js';
import { messageRecord } from './support/message-record.js';
import { buildSearchIndexes, dropSearchIndexes } from './support/postgres-indexes.js';
import { nowMs, round } from './support/stats.js';
import { createSyntheticCorpus } from './support/synthetic.js';

const DIMENSION = 512;
const EMBEDDER = { id: 'local:use-lite-512', dimension: DIMENSION };

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return round(sorted[index] ?? 0, 1);
}

async function load(url: string, count: number): Promise<void> {
  const schema = new URL(url).searchParams.get('schema') ?? 'mneme';
  const store = createPostgresStore({ connectionString: url });
  await store.open({ embedder: EMBEDDER });
  const base = new URL(url);
  base.searchParams.delete('schema');
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  const indexes = await dropSearchIndexes(admin, schema);
  const corpus = createSyntheticCorpus({ dimension: DIMENSION, seed: 7 });
  const started = nowMs();
  const baseTime = Date.parse('2025-01-01T00:00:00.000Z');
  for (let start = 0; start < count; start += 2000) {
    const items = [];
    for (let index = start; index < Math.min(count, start + 2000); index += 1) {
      const { text, vector } = corpus.memory();
      const at = new Date(baseTime + index * 60_000).toISOString();
      items.push({ record: messageRecord(text, 'user-0', at), embedding: vector, history: [] });
    }
    await store.restore({ items });
  }
  const loaded = nowMs();
  const built = await buildSearchIndexes(admin, schema, indexes);
  console.log(
    JSON.stringify({
      memories: count,
      load_s: round((loaded - started) / 1000, 1),
      gin_s: built.ginS,
      hnsw_s: built.hnswS,
    }),
  );
  await admin.end();
  await store.close();
}

async function measure(url: string, count: number): Promise<void> {
  const store = createPostgresStore({ connectionString: url });
  await store.open({ embedder: EMBEDDER });
  const corpus = createSyntheticCorpus({ dimension: DIMENSION, seed: 7 });
  const queries = Array.from({ length: count + 5 }, () => corpus.query());
  const visibility = () => ({ scope: { userId: 'user-0' }, temporal: { now: new Date().toISOString() } });
  const time = async (run: (query: { text: string; vector: Float32Array }) => Promise<unknown>) => {
    for (const query of queries.slice(0, 5)) await run(query);
    const times: number[] = [];
    for (const query of queries.slice(5)) {
      const started = nowMs();
      await run(query);
      times.push(nowMs() - started);
    }
    times.sort((left, right) => left - right);
    return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
  };
  const load1 = round(loadavg()[0] ?? 0, 2);
  const keyword = await time((query) =>
    store.searchKeyword({ ...visibility(), terms: queryTerms(query.text), limit: 200 }),
  );
  const dense = await time((query) =>
    store.searchDense({ ...visibility(), embedding: query.vector, limit: 200 }),
  );
  const dense10 = await time((query) =>
    store.searchDense({ ...visibility(), embedding: query.vector, limit: 10 }),
  );
  // One memory per transaction, as `add` writes (in the measured scope; each run adds `count` rows to it).
  let written = 0;
  const add = await time(async (query) => {
    written += 1;
    const at = new Date().toISOString();
    const text = `added while measuring ${written}: ${query.text}`;
    await store.apply({
      changes: [
        {
          type: 'insert',
          record: messageRecord(text, 'user-0', at),
          embedding: query.vector,
          event: { event: 'ADD', newValue: text, actor: 'bench', createdAt: at },
        },
      ],
    });
  });
  console.log(
    JSON.stringify({
      at: new Date().toISOString(),
      load_average_start: load1,
      load_average_end: round(loadavg()[0] ?? 0, 2),
      searchKeyword_200: keyword,
      searchDense_200: dense,
      searchDense_10: dense10,
      apply_one_insert: add,
      plans: (await store.diagnostics()).densePlans,
    }),
  );
  await store.close();
}

const [command, url, size] = process.argv.slice(2);
if (url === undefined || (command !== 'load' && command !== 'measure')) {
  console.error('usage: postgres-search.ts load|measure <postgres-url?schema=name> [count]');
  process.exit(2);
}
if (command === 'load') await load(url, Number(size ?? 100_000));
else await measure(url, Number(size ?? 100));
