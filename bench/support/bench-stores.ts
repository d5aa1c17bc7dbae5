/**
 * Where a latency run keeps its memories: a fresh SQLite file (the default), or a fresh schema on a PostgreSQL
 * server (`--store postgres://...`, which needs pgvector), dropped afterwards. Both give stores opened the same
 * way, a bulk load bracketed by {@link BenchStore.beforeBulkLoad} / {@link BenchStore.afterBulkLoad}, and a size
 * on disk.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStore, type PostgresStore } from '../../src/stores/postgres.js';
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.js';
import {
  buildSearchIndexes,
  dropSearchIndexes,
  type SearchIndexBuild,
  type SearchIndexDefinitions,
} from './postgres-indexes.js';
import { round } from './stats.js';

/** One run's storage. */
export interface BenchStore {
  kind: 'sqlite' | 'postgres';
  /** A new store on the run's data; `exact` forces exact dense scans (no index). */
  create(options?: { exact?: boolean }): SqliteStore | PostgresStore;
  /** Bytes on disk (SQLite: the file and its WAL; PostgreSQL: tables, indexes and TOAST of the schema), MiB. */
  sizeMb(): Promise<number>;
  /**
   * Call once the first store is open, before the bulk load. PostgreSQL: drops the keyword GIN and HNSW indexes,
   * so the load does not maintain them row by row. SQLite: nothing (its indexes are written with the rows).
   */
  beforeBulkLoad(): Promise<void>;
  /**
   * Call after the bulk load, before any search. PostgreSQL: builds the dropped indexes from scratch over the
   * loaded rows (1 GB `maintenance_work_mem`), then `VACUUM ANALYZE`; returns the build times. SQLite: undefined.
   */
  afterBulkLoad(): Promise<SearchIndexBuild | undefined>;
  cleanup(): Promise<void>;
}

/** A store for one run: `url` a `postgres://` URL, or undefined for a temporary SQLite file. */
export async function createBenchStore(url: string | undefined): Promise<BenchStore> {
  if (url === undefined) return sqliteBenchStore();
  return postgresBenchStore(url);
}

function sqliteBenchStore(): BenchStore {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-latency-'));
  const path = join(directory, 'mneme.db');
  return {
    kind: 'sqlite',
    create: (options = {}) =>
      createSqliteStore({ path, ...(options.exact ? { exactScanMaxRows: Number.POSITIVE_INFINITY } : {}) }),
    async sizeMb() {
      let bytes = 0;
      for (const file of [path, `${path}-wal`]) {
        try {
          bytes += statSync(file).size;
        } catch {
          // Absent (no WAL after a clean close).
        }
      }
      return round(bytes / 2 ** 20, 1);
    },
    // The binary index lives beside the vectors and is written with them; there is no separate build step.
    beforeBulkLoad: async () => {},
    afterBulkLoad: async () => undefined,
    async cleanup() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function postgresBenchStore(base: string): Promise<BenchStore> {
  const pg = (await import('pg')).default;
  const schema = `mneme_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  let dropped: SearchIndexDefinitions | undefined;
  return {
    kind: 'postgres',
    create: (options = {}) =>
      createPostgresStore({
        connectionString: url.toString(),
        ...(options.exact ? { exactScanMaxRows: Number.MAX_SAFE_INTEGER } : {}),
      }),
    async sizeMb() {
      const { rows } = await admin.query<{ bytes: string }>(
        `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      return round(Number(rows[0]?.bytes) / 2 ** 20, 1);
    },
    async beforeBulkLoad() {
      dropped = await dropSearchIndexes(admin, schema);
    },
    async afterBulkLoad() {
      if (dropped === undefined) throw new Error('afterBulkLoad without beforeBulkLoad');
      const built = await buildSearchIndexes(admin, schema, dropped);
      dropped = undefined;
      return built;
    },
    async cleanup() {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}
