/**
 * PostgreSQL (PGlite + pgvector, in-process over the wire protocol) vs SQLite on the same data: the same
 * memories, vectors and queries go into both stores; the script reports whether dense, keyword and hybrid
 * results agree, and the wall-clock time of each step.
 *
 * FUNCTIONAL STAND-IN ONLY: PGlite is PostgreSQL compiled to WASM, running single-threaded inside this Node
 * process, with the pg driver talking to it over loopback TCP. Its timings say nothing about a real PostgreSQL
 * server and must never be quoted as PostgreSQL performance.
 *
 * Run: `node --import tsx bench/postgres-vs-sqlite.ts [--memories 2000] [--queries 100] [--dimension 512] [--json]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keywordTerms } from '../src/core/text.js';
import type { MemoryRecord, SearchResult } from '../src/core/types.js';
import type { Embedder } from '../src/embedders/types.js';
import { createMemory, type Memory } from '../src/memory/memory.js';
import { createPostgresStore, type PostgresStore } from '../src/stores/postgres.js';
import { createSqliteStore } from '../src/stores/sqlite.js';
import type { MemoryChange, MemoryStore } from '../src/stores/types.js';
import {
  sharedPgliteServer,
  stopSharedPgliteServer,
  storeUrl,
  uniqueSchema,
} from '../test/stores/postgres-support.js';
import { integerFlag, parseArgs } from './support/args.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { round, summarise, timed } from './support/stats.js';
import { createSyntheticCorpus } from './support/synthetic.js';
import { markdownTable } from './support/table.js';

const args = parseArgs(process.argv.slice(2));
const MEMORIES = integerFlag(args, 'memories') ?? 2000;
const QUERIES = integerFlag(args, 'queries') ?? 100;
const DIMENSION = integerFlag(args, 'dimension') ?? 512;
const BATCH = 100;
const NOW = '2026-06-01T00:00:00.000Z';

/** Vectors come from the synthetic corpus; this embedder only carries the identity (queries pass vectors). */
const embedder: Embedder = {
  id: `bench:synthetic-${DIMENSION}`,
  dimension: DIMENSION,
  maxBatchSize: 64,
  async embed() {
    throw new Error('the benchmark passes query vectors; nothing should be embedded');
  },
  async close() {},
};

interface Timings {
  insertMs: number;
  dense: number[];
  keyword: number[];
  hybrid: number[];
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const corpus = createSyntheticCorpus({ dimension: DIMENSION, seed: 7 });
  const records: Array<{ record: MemoryRecord; vector: Float32Array }> = [];
  for (let index = 0; index < MEMORIES; index += 1) {
    const { text, vector } = corpus.memory();
    const at = new Date(Date.parse('2025-06-01T00:00:00.000Z') + index * 3_600_000).toISOString();
    records.push({
      record: {
        id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        memory: text,
        userId: 'bench-user',
        kind: 'user_fact',
        metadata: { index },
        hash: `hash-${index}`,
        createdAt: at,
        updatedAt: at,
        observedAt: at,
      },
      vector,
    });
  }
  const queries = Array.from({ length: QUERIES }, () => corpus.query());

  const directory = mkdtempSync(join(tmpdir(), 'mneme-bench-pg-'));
  const serverStart = await timed(() => sharedPgliteServer());
  const schema = uniqueSchema('mneme_bench');
  const stores: Array<{ label: string; store: MemoryStore }> = [
    {
      label: 'SQLite (better-sqlite3 + sqlite-vec, file)',
      store: createSqliteStore({ path: join(directory, 'bench.db') }),
    },
    {
      label: 'PostgreSQL stand-in (PGlite 0.5 WASM + pgvector, pg driver)',
      store: createPostgresStore({ connectionString: storeUrl(serverStart.value.url, schema) }),
    },
  ];
  const timings: Timings[] = [];
  const results: Array<{
    dense: string[][];
    keyword: Array<Array<[string, number]>>;
    hybrid: SearchResult[][];
  }> = [];
  try {
    for (const { store } of stores) {
      await store.open({ embedder });
      const insert = await timed(async () => {
        for (let start = 0; start < records.length; start += BATCH) {
          const changes: MemoryChange[] = records.slice(start, start + BATCH).map(({ record, vector }) => ({
            type: 'insert',
            record,
            embedding: vector,
            event: { event: 'ADD', newValue: record.memory, actor: 'bench', createdAt: record.createdAt },
          }));
          await store.apply({ changes });
        }
      });
      const memory: Memory = await createMemory({
        store,
        embedder,
        llm: null,
        env: {},
        logLevel: 'silent',
        ingestion: { background: false },
        clock: () => new Date(NOW),
      });
      const timing: Timings = { insertMs: insert.ms, dense: [], keyword: [], hybrid: [] };
      const result: (typeof results)[number] = { dense: [], keyword: [], hybrid: [] };
      const scope = { userId: 'bench-user' };
      for (const query of queries) {
        const dense = await timed(() =>
          store.searchDense({ scope, temporal: { now: NOW }, embedding: query.vector, limit: 10 }),
        );
        const keyword = await timed(() =>
          store.searchKeyword({ scope, temporal: { now: NOW }, terms: keywordTerms(query.text), limit: 10 }),
        );
        const hybrid = await timed(() =>
          memory.search(query.text, { userId: 'bench-user', limit: 10, queryEmbedding: query.vector }),
        );
        timing.dense.push(dense.ms);
        timing.keyword.push(keyword.ms);
        timing.hybrid.push(hybrid.ms);
        result.dense.push(dense.value.map((hit) => hit.record.id));
        result.keyword.push(keyword.value.map((hit) => [hit.record.id, hit.bm25]));
        result.hybrid.push(hybrid.value.results);
      }
      timings.push(timing);
      results.push(result);
    }
    const postgres = stores[1]?.store as PostgresStore;
    const plans = (await postgres.diagnostics()).densePlans;
    // The HNSW path on the same data: a second instance that never scans exactly, recall@10 against exact.
    const approximate = createPostgresStore({
      connectionString: storeUrl(serverStart.value.url, schema),
      exactScanMaxRows: 0,
    });
    let recalled = 0;
    let usesIndex = false;
    let indexRecall = 0;
    try {
      await approximate.open({ embedder });
      // Fresh statistics, so the planner costs the HNSW index against a sort as a production server would.
      await serverStart.value.query(`ANALYZE "${schema}".memories`);
      const plan = await serverStart.value.query(
        `EXPLAIN SELECT id FROM "${schema}".memories m WHERE m.user_id = 'bench-user'
         ORDER BY m.embedding <=> $1::vector LIMIT 10`,
        [`[${Array.from(queries[0]?.vector ?? []).join(',')}]`],
      );
      usesIndex = plan.some((row) => String(row['QUERY PLAN']).includes('memories_embedding'));
      const recall = async () => {
        let found = 0;
        for (const [index, query] of queries.entries()) {
          const hits = await approximate.searchDense({
            scope: { userId: 'bench-user' },
            temporal: { now: NOW },
            embedding: query.vector,
            limit: 10,
          });
          const exact = new Set(results[1]?.dense[index] ?? []);
          found += hits.filter((hit) => exact.has(hit.record.id)).length;
        }
        return found / (QUERIES * 10);
      };
      recalled = await recall();
      // The index itself: PGlite has one backend session, so this reaches the store's connection and makes the
      // planner read ORDER BY <=> LIMIT from the HNSW index (ef_search 40, iterative scan on).
      await serverStart.value.query('SET enable_sort = off');
      indexRecall = await recall();
      await serverStart.value.query('RESET enable_sort');
    } finally {
      await approximate.close();
    }
    const [sqlite, pglite] = results;
    if (!sqlite || !pglite) throw new Error('both stores must have run');
    const same = (left: string[], right: string[]) =>
      left.length === right.length && left.every((id, i) => id === right[i]);
    const agreement = {
      denseTop10Identical: sqlite.dense.filter((ids, i) => same(ids, pglite.dense[i] ?? [])).length,
      keywordTop10Identical: sqlite.keyword.filter((hits, i) =>
        same(
          hits.map(([id]) => id),
          (pglite.keyword[i] ?? []).map(([id]) => id),
        ),
      ).length,
      keywordMaxBm25Difference: Math.max(
        0,
        ...sqlite.keyword.flatMap((hits, i) =>
          hits.map(([, bm25], rank) => Math.abs(bm25 - (pglite.keyword[i]?.[rank]?.[1] ?? Number.NaN))),
        ),
      ),
      hybridTop10Identical: sqlite.hybrid.filter((list, i) =>
        same(
          list.map((hit) => hit.id),
          (pglite.hybrid[i] ?? []).map((hit) => hit.id),
        ),
      ).length,
      hybridMaxScoreDifference: Math.max(
        0,
        ...sqlite.hybrid.flatMap((list, i) =>
          list.map((hit, rank) => Math.abs(hit.score - (pglite.hybrid[i]?.[rank]?.score ?? Number.NaN))),
        ),
      ),
    };
    const rows = stores.map(({ label }, index) => {
      const timing = timings[index] as Timings;
      const dense = summarise(timing.dense);
      const keyword = summarise(timing.keyword);
      const hybrid = summarise(timing.hybrid);
      return [
        label,
        round(timing.insertMs / 1000, 2),
        dense.p50,
        dense.p95,
        keyword.p50,
        keyword.p95,
        hybrid.p50,
        hybrid.p95,
      ];
    });
    const report = {
      machine,
      memories: MEMORIES,
      queries: QUERIES,
      dimension: DIMENSION,
      pgliteStartSeconds: round(serverStart.ms / 1000, 2),
      densePlans: plans,
      hnswRecallAt10: round(recalled, 4),
      hnswIndexRecallAt10: round(indexRecall, 4),
      hnswPlanUsesIndex: usesIndex,
      agreement,
      timings: rows,
    };
    if (args.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(
      `# PostgreSQL (PGlite stand-in) vs SQLite: ${MEMORIES} memories, one user, ${QUERIES} queries`,
    );
    console.log(`Machine: ${describeMachine(machine)}`);
    console.log(
      '\nFUNCTIONAL STAND-IN, NOT A PERFORMANCE FIGURE: PGlite is PostgreSQL in WASM, single-threaded in this ' +
        'process; real PostgreSQL timings differ entirely.\n',
    );
    console.log('## Agreement (same data, same queries)\n');
    console.log(
      markdownTable(
        ['check', 'value'],
        [
          ['dense top-10 identical (ids and order)', `${agreement.denseTop10Identical}/${QUERIES}`],
          ['keyword top-10 identical (ids and order)', `${agreement.keywordTop10Identical}/${QUERIES}`],
          ['keyword max abs BM25 difference', agreement.keywordMaxBm25Difference.toExponential(2)],
          ['hybrid top-10 identical (Memory.search)', `${agreement.hybridTop10Identical}/${QUERIES}`],
          ['hybrid max abs score difference', agreement.hybridMaxScoreDifference.toExponential(2)],
          [
            'PostgreSQL dense plans (exact / HNSW / fallback)',
            `${plans.exact} / ${plans.approximate} / ${plans.fallback}`,
          ],
          [
            'large-scope path recall@10 vs exact (exactScanMaxRows=0)',
            `${report.hnswRecallAt10} (planner ${usesIndex ? 'uses the HNSW index' : 'chose an exact sort'})`,
          ],
          ['HNSW index recall@10 vs exact (index scan forced)', String(report.hnswIndexRecallAt10)],
        ],
      ),
    );
    console.log('\n## Wall-clock (stand-in; PGlite start-up not included)\n');
    console.log(
      markdownTable(
        [
          'store',
          `insert ${MEMORIES} (s)`,
          'dense p50 ms',
          'dense p95',
          'keyword p50',
          'keyword p95',
          'hybrid p50',
          'hybrid p95',
        ],
        rows,
      ),
    );
    console.log(`\nPGlite start-up: ${report.pgliteStartSeconds} s`);
  } finally {
    for (const { store } of stores) await store.close();
    await (await sharedPgliteServer()).dropSchema(schema);
    await stopSharedPgliteServer();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
