/**
 * Bulk loads into a PostgreSQL store without maintaining its search indexes row by row: drop the keyword GIN
 * index (`memories_keyword`) and the HNSW index (`memories_embedding`) before the load, build them once after it.
 * The definitions are read from the catalog before the drop and replayed as they were, so the rebuilt indexes are
 * the migrations' own (`src/stores/postgres/schema.ts`), not a copy of their DDL.
 */
import { nowMs, round } from './stats.js';

/** The part of a `pg` client these helpers use. */
interface SqlClient {
  query<Row extends object>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

/** The store's search indexes as the migrations created them (`CREATE INDEX ...` statements). */
export interface SearchIndexDefinitions {
  keyword: string;
  embedding: string;
}

/** Seconds each build took. */
export interface SearchIndexBuild {
  ginS: number;
  hnswS: number;
  /** The `VACUUM ANALYZE` that follows the builds (fresh planner statistics and visibility map). */
  vacuumAnalyzeS: number;
}

/**
 * Drops the keyword GIN and HNSW indexes of `schema`'s `memories` table.
 * @returns their definitions, for {@link buildSearchIndexes}.
 * @throws Error when either index is missing (a store not opened yet, or a dimension above HNSW's limit).
 */
export async function dropSearchIndexes(client: SqlClient, schema: string): Promise<SearchIndexDefinitions> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
     WHERE schemaname = $1 AND tablename = 'memories' AND indexname IN ('memories_keyword', 'memories_embedding')`,
    [schema],
  );
  const keyword = rows.find((row) => row.name === 'memories_keyword')?.definition;
  const embedding = rows.find((row) => row.name === 'memories_embedding')?.definition;
  if (keyword === undefined || embedding === undefined) {
    throw new Error(`schema "${schema}" lacks memories_keyword or memories_embedding: open the store first`);
  }
  await client.query(`DROP INDEX "${schema}".memories_keyword, "${schema}".memories_embedding`);
  return { keyword, embedding };
}

/**
 * Builds the indexes dropped by {@link dropSearchIndexes} (GIN, then HNSW) with `maintenanceWorkMem` for the
 * builds (the default 64 MB does not hold the HNSW graph of 100k x 512 floats, which makes the build several times
 * slower), then runs `VACUUM ANALYZE` on the table.
 */
export async function buildSearchIndexes(
  client: SqlClient,
  schema: string,
  definitions: SearchIndexDefinitions,
  maintenanceWorkMem = '1GB',
): Promise<SearchIndexBuild> {
  await client.query('SELECT set_config($1, $2, false)', ['maintenance_work_mem', maintenanceWorkMem]);
  const started = nowMs();
  await client.query(definitions.keyword);
  const gin = nowMs();
  await client.query(definitions.embedding);
  const hnsw = nowMs();
  await client.query('RESET maintenance_work_mem');
  await client.query(`VACUUM ANALYZE "${schema}".memories`);
  return {
    ginS: round((gin - started) / 1000, 1),
    hnswS: round((hnsw - gin) / 1000, 1),
    vacuumAnalyzeS: round((nowMs() - hnsw) / 1000, 1),
  };
}
