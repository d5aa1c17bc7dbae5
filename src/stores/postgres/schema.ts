/**
 * The PostgreSQL store's schema: qualified names, the ordered migrations, the pgvector check and the embedder
 * binding. Everything lives in one schema (URL `?schema=`, default `mneme`), created if missing.
 *
 * Layout: `memories` (one row per memory; scope in its own indexed columns; `keyword_tokens` holds the text's
 * keyword tokens as mneme tokenizes them and the generated `keyword` tsvector, GIN-indexed, is built from it;
 * `embedding` is a pgvector column added when an embedder is first bound, with an HNSW `vector_cosine_ops`
 * index), `keyword_stats` (per exact scope: its memories and their summed BM25 document length, kept by
 * statement-level triggers on `memories`), `history` (events carrying the scope of their memory), `queue` (the durable ingestion queue),
 * `dead_letters` (queue items that failed past their retries, with their error), `meta`
 * (the embedder that wrote the store) and `schema_migrations` (one row per applied version).
 *
 * Text keys and instants are `COLLATE "C"`, so ordering is by code point (ISO instants and UUIDs sort as in
 * JavaScript) whatever the database's locale. SQL functions give the filter compiler JavaScript's semantics:
 * `mneme_lower` (toLowerCase's special cases for İ and final sigma) and `mneme_compare_text` (UTF-16 order).
 *
 * Migrations run in one transaction holding `pg_advisory_xact_lock`, so app servers starting together apply
 * each version exactly once: the others wait, then find nothing to do.
 */
import { ConfigError, EmbedderMismatchError, StoreError } from '../../core/errors.js';
import type { EmbedderIdentity } from '../types.js';
import type { Queryable } from './pool.js';

/** Valid schema names: an unquoted-style identifier (it is still quoted in SQL). */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Qualified names of the store's objects in one schema. */
export interface SchemaNames {
  /** The schema name as given (validated). */
  schema: string;
  /** `"schema"`. */
  quoted: string;
  memories: string;
  history: string;
  queue: string;
  deadLetters: string;
  meta: string;
  migrations: string;
  keywordStats: string;
  /** A function of the schema, qualified: `"schema".name`. */
  fn(name: string): string;
}

/** Where pgvector lives: its qualified type and cosine distance operator. */
export interface VectorNames {
  /** `"public".vector`. */
  type: string;
  /** `OPERATOR("public".<=>)`. */
  cosineDistance: string;
  /** Installed pgvector version, e.g. `0.8.0`. */
  version: string;
}

/** Builds the qualified names for `schema`. @throws ConfigError for an invalid name. */
export function schemaNames(schema: string): SchemaNames {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigError(
      `invalid PostgreSQL schema name ${JSON.stringify(schema)} (URL parameter \`schema\`): use letters, digits ` +
        'and _, starting with a letter or _, at most 63 characters',
      { code: 'store_url_invalid' },
    );
  }
  const quoted = `"${schema}"`;
  return {
    schema,
    quoted,
    memories: `${quoted}.memories`,
    history: `${quoted}.history`,
    queue: `${quoted}.queue`,
    deadLetters: `${quoted}.dead_letters`,
    meta: `${quoted}.meta`,
    migrations: `${quoted}.schema_migrations`,
    keywordStats: `${quoted}.keyword_stats`,
    fn: (name) => `${quoted}.${name}`,
  };
}

/** One schema step. Versions are consecutive from 1; never edit a released migration, append a new one. */
export interface Migration {
  version: number;
  description: string;
  sql: (names: SchemaNames) => string;
}

const C = 'COLLATE "C"';
const SCOPE_COLUMNS = `user_id text ${C}, agent_id text ${C}, run_id text ${C}, app_id text ${C}`;

function scopeIndexes(
  names: SchemaNames,
  table: 'memories' | 'history' | 'queue' | 'deadLetters',
  tail: string,
): string {
  const prefix = table === 'deadLetters' ? 'dead_letters' : table;
  return ['user_id', 'agent_id', 'run_id', 'app_id']
    .map(
      (column) =>
        `CREATE INDEX ${prefix}_${column.replace('_id', '')} ON ${names[table]} (${column}${tail}) WHERE ${column} IS NOT NULL;`,
    )
    .join('\n');
}

/** BM25's document length of a `memories` row (see `reads.ts`): text tokens, one per scope field, one for the kind. */
export function documentLength(alias: string): string {
  return `(${alias}.keyword_length + num_nonnulls(${alias}.user_id, ${alias}.agent_id, ${alias}.run_id, ${alias}.app_id) + 1)`;
}

/** The `keyword_stats` key of a row's exact scope: distinguishes a missing field from any string. */
function scopeKey(alias: string): string {
  return `json_build_array(${alias}.user_id, ${alias}.agent_id, ${alias}.run_id, ${alias}.app_id)::text`;
}

/**
 * A statement-level trigger function adding the rows of transition tables to `keyword_stats`: `sources` pairs a
 * transition table with the sign its rows count with (+1 new rows, -1 old rows). Scopes whose net change is nil
 * are not touched (an update that changes neither length nor scope takes no lock); upserts go in key order, so two
 * statements touching several scopes lock them in the same order; a scope left with no memories loses its row
 * (erasing a user leaves no trace of it here).
 */
function keywordStatsTrigger(
  names: SchemaNames,
  name: string,
  sources: ReadonlyArray<{ table: string; sign: 1 | -1 }>,
): string {
  const rows = sources
    .map(
      ({ table, sign }) =>
        `SELECT t.user_id, t.agent_id, t.run_id, t.app_id, ${sign}::bigint AS documents,
           ${sign}::bigint * ${documentLength('t')} AS tokens FROM ${table} t`,
    )
    .join(' UNION ALL ');
  return `
      CREATE FUNCTION ${names.fn(name)}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        emptied text[];
      BEGIN
        WITH changed AS (
          INSERT INTO ${names.keywordStats} AS s (scope_key, user_id, agent_id, run_id, app_id, documents, tokens)
          SELECT ${scopeKey('d')}, d.user_id, d.agent_id, d.run_id, d.app_id, sum(d.documents), sum(d.tokens)
          FROM (${rows}) d
          GROUP BY d.user_id, d.agent_id, d.run_id, d.app_id
          HAVING sum(d.documents) <> 0 OR sum(d.tokens) <> 0
          ORDER BY 1
          ON CONFLICT (scope_key) DO UPDATE
            SET documents = s.documents + excluded.documents, tokens = s.tokens + excluded.tokens
          RETURNING s.scope_key, s.documents)
        SELECT array_agg(changed.scope_key) INTO emptied FROM changed WHERE changed.documents = 0;
        IF emptied IS NOT NULL THEN
          DELETE FROM ${names.keywordStats} s WHERE s.scope_key = ANY (emptied) AND s.documents = 0;
        END IF;
        RETURN NULL;
      END
      $fn$;`;
}

/** The migrations, applied in order inside one advisory-locked transaction. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'memories, keyword index, history, queue, meta and the SQL functions',
    sql: (names) => `
      CREATE TABLE ${names.meta} (key text ${C} PRIMARY KEY, value text NOT NULL);

      -- The keyword tsvector, built from mneme's own tokens (space-separated) without PostgreSQL's parser, so
      -- the index holds exactly the tokens SQLite's FTS5 table holds. Positions start at 1.
      CREATE FUNCTION ${names.fn('mneme_keyword_vector')}(tokens text) RETURNS tsvector
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
        SELECT COALESCE(string_agg(
          '''' || replace(replace(t.token, '\\', '\\\\'), '''', '''''') || ''':' || least(t.position, 16383),
          ' '), '')::tsvector
        FROM unnest(string_to_array(tokens, ' ')) WITH ORDINALITY AS t(token, position)
        WHERE t.token <> '' AND octet_length(t.token) <= 2046
      $fn$;

      -- How often \`phrase\` occurs as consecutive elements of \`document\` (a memory's tokens, in order).
      CREATE FUNCTION ${names.fn('mneme_phrase_frequency')}(document text[], phrase text[]) RETURNS integer
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
        SELECT count(*)::integer
        FROM unnest(array_positions(document, phrase[1])) AS start(position)
        WHERE document[start.position : start.position + cardinality(phrase) - 1] = phrase
      $fn$;

      -- JavaScript's toLowerCase: lower() plus its two context rules (İ keeps its dot as U+0307; a capital
      -- sigma ending a word becomes ς).
      CREATE FUNCTION ${names.fn('mneme_lower')}(value text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
        SELECT lower(regexp_replace(replace(value, U&'\\0130', U&'i\\0307'),
          U&'(?<=[[:alpha:]])\\03A3(?![[:alpha:]])', U&'\\03C2', 'g'))
      $fn$;

      -- JavaScript's string order (UTF-16 code units): -1, 0 or 1. It differs from code point order only when
      -- the first differing characters are one at or above U+10000 and one in U+E000..U+FFFF.
      CREATE FUNCTION ${names.fn('mneme_compare_text')}(a text, b text) RETURNS integer
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
      DECLARE
        left_chars text[];
        right_chars text[];
        left_code integer;
        right_code integer;
      BEGIN
        IF a = b THEN RETURN 0; END IF;
        IF a !~ U&'[\\E000-\\+10FFFF]' OR b !~ U&'[\\E000-\\+10FFFF]' THEN
          RETURN CASE WHEN a COLLATE "C" < b COLLATE "C" THEN -1 ELSE 1 END;
        END IF;
        left_chars := string_to_array(a, NULL);
        right_chars := string_to_array(b, NULL);
        FOR i IN 1 .. least(cardinality(left_chars), cardinality(right_chars)) LOOP
          IF left_chars[i] <> right_chars[i] THEN
            left_code := ascii(left_chars[i]);
            right_code := ascii(right_chars[i]);
            -- UTF-16 sort keys: supplementary characters (surrogate pairs) sort below U+E000..U+FFFF.
            left_code := CASE WHEN left_code < 57344 THEN left_code
              WHEN left_code < 65536 THEN left_code + 1048576 ELSE 55296 + left_code - 65536 END;
            right_code := CASE WHEN right_code < 57344 THEN right_code
              WHEN right_code < 65536 THEN right_code + 1048576 ELSE 55296 + right_code - 65536 END;
            RETURN CASE WHEN left_code < right_code THEN -1 ELSE 1 END;
          END IF;
        END LOOP;
        RETURN CASE WHEN cardinality(left_chars) < cardinality(right_chars) THEN -1 ELSE 1 END;
      END
      $fn$;

      CREATE TABLE ${names.memories} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text ${C} NOT NULL UNIQUE,
        memory text NOT NULL,
        ${SCOPE_COLUMNS},
        role text ${C},
        speaker text ${C},
        kind text ${C} NOT NULL,
        topic text ${C},
        metadata jsonb NOT NULL DEFAULT '{}',
        hash text ${C} NOT NULL,
        created_at text ${C} NOT NULL,
        updated_at text ${C} NOT NULL,
        observed_at text ${C} NOT NULL,
        valid_from text ${C},
        valid_to text ${C},
        superseded_by text ${C},
        expires_at text ${C},
        keyword_tokens text NOT NULL DEFAULT '',
        keyword_length integer NOT NULL DEFAULT 0,
        keyword tsvector GENERATED ALWAYS AS (${names.fn('mneme_keyword_vector')}(keyword_tokens)) STORED
      );
      ${scopeIndexes(names, 'memories', ', created_at, id')}
      CREATE INDEX memories_hash ON ${names.memories} (hash);
      CREATE INDEX memories_topic ON ${names.memories} (topic) WHERE topic IS NOT NULL;
      CREATE INDEX memories_keyword ON ${names.memories} USING gin (keyword);

      CREATE TABLE ${names.history} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text ${C} NOT NULL UNIQUE,
        memory_id text ${C} NOT NULL,
        ${SCOPE_COLUMNS},
        event text ${C} NOT NULL,
        previous_value text,
        new_value text,
        reason text,
        actor text NOT NULL,
        related_id text ${C},
        created_at text ${C} NOT NULL
      );
      CREATE INDEX history_memory ON ${names.history} (memory_id, seq);
      ${scopeIndexes(names, 'history', '')}

      CREATE TABLE ${names.queue} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text ${C} NOT NULL UNIQUE,
        ${SCOPE_COLUMNS},
        payload text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        enqueued_at text ${C} NOT NULL,
        available_at text ${C} NOT NULL,
        leased_until text ${C}
      );
      CREATE INDEX queue_available ON ${names.queue} (available_at, seq);
      ${scopeIndexes(names, 'queue', '')}
    `,
  },
  {
    version: 2,
    description: 'dead letters: queue items that failed past their retries, kept with their error',
    sql: (names) => `
      CREATE TABLE ${names.deadLetters} (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text ${C} NOT NULL UNIQUE,
        ${SCOPE_COLUMNS},
        payload text NOT NULL,
        attempts integer NOT NULL,
        error text NOT NULL,
        enqueued_at text ${C} NOT NULL,
        failed_at text ${C} NOT NULL
      );
      CREATE INDEX dead_letters_failed ON ${names.deadLetters} (failed_at, seq);
      ${scopeIndexes(names, 'deadLetters', '')}
    `,
  },
  {
    version: 3,
    description: 'keyword_stats: memories and summed BM25 document length per scope, kept by triggers',
    // The triggers exist before the backfill runs: creating them locks out writers until this transaction
    // commits, so no write falls between the backfill's count and the first counted statement.
    sql: (names) => `
      CREATE TABLE ${names.keywordStats} (
        scope_key text ${C} PRIMARY KEY,
        ${SCOPE_COLUMNS},
        documents bigint NOT NULL,
        tokens bigint NOT NULL
      );
      ${['user_id', 'agent_id', 'run_id', 'app_id']
        .map(
          (column) =>
            `CREATE INDEX keyword_stats_${column.replace('_id', '')} ON ${names.keywordStats} (${column}) WHERE ${column} IS NOT NULL;`,
        )
        .join('\n')}
      ${keywordStatsTrigger(names, 'mneme_keyword_stats_insert', [{ table: 'new_rows', sign: 1 }])}
      ${keywordStatsTrigger(names, 'mneme_keyword_stats_update', [
        { table: 'old_rows', sign: -1 },
        { table: 'new_rows', sign: 1 },
      ])}
      ${keywordStatsTrigger(names, 'mneme_keyword_stats_delete', [{ table: 'old_rows', sign: -1 }])}
      CREATE TRIGGER keyword_stats_insert AFTER INSERT ON ${names.memories}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${names.fn('mneme_keyword_stats_insert')}();
      CREATE TRIGGER keyword_stats_update AFTER UPDATE ON ${names.memories}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${names.fn('mneme_keyword_stats_update')}();
      CREATE TRIGGER keyword_stats_delete AFTER DELETE ON ${names.memories}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${names.fn('mneme_keyword_stats_delete')}();
      INSERT INTO ${names.keywordStats} (scope_key, user_id, agent_id, run_id, app_id, documents, tokens)
      SELECT ${scopeKey('m')}, m.user_id, m.agent_id, m.run_id, m.app_id, count(*), sum(${documentLength('m')})
      FROM ${names.memories} m GROUP BY m.user_id, m.agent_id, m.run_id, m.app_id;
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** pgvector's HNSW index takes `vector` columns of at most this many dimensions. */
export const HNSW_MAX_DIMENSION = 2000;

// One lock for every mneme schema in the database: migrations are rare and quick, and CREATE EXTENSION is
// database-wide. The key is an arbitrary constant ("mneme" in ASCII).
const MIGRATION_LOCK_KEY = '469853054565';

/** Takes the migration lock until the end of the current transaction (waits for another holder). */
export async function lockMigrations(client: Queryable): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
}

/** The versions applied so far (0 when the schema has no migrations table yet). */
export async function currentVersion(client: Queryable, names: SchemaNames): Promise<number> {
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
    `${names.quoted}.schema_migrations`,
  ]);
  if (rows[0]?.exists !== true) return 0;
  const version = await client.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${names.migrations}`,
  );
  return version.rows[0]?.version ?? 0;
}

/** What {@link migrate} did. */
export interface MigrationResult {
  /** The schema version after migrating. */
  schemaVersion: number;
  /** Versions applied by this call (empty when already up to date). */
  applied: number[];
}

/**
 * Creates the schema if missing and applies the pending migrations, inside the caller's transaction, which
 * must hold {@link lockMigrations}.
 * @throws StoreError when the schema is newer than this code.
 */
export async function migrate(
  client: Queryable,
  names: SchemaNames,
  where: string,
): Promise<MigrationResult> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${names.quoted}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${names.migrations} (
       version integer PRIMARY KEY,
       description text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const current = await currentVersion(client, names);
  if (current > SCHEMA_VERSION) {
    throw new StoreError(
      `PostgreSQL store ${where} has schema version ${current}, newer than this mneme understands ` +
        `(${SCHEMA_VERSION}). Upgrade mneme on every server, or use another schema (URL parameter \`schema\`).`,
      { code: 'store_schema_newer' },
    );
  }
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    await client.query(migration.sql(names));
    await client.query(`INSERT INTO ${names.migrations} (version, description) VALUES ($1, $2)`, [
      migration.version,
      migration.description,
    ]);
    applied.push(migration.version);
  }
  return { schemaVersion: Math.max(current, ...applied), applied };
}

/** The message of the error raised when the server has no pgvector. */
export const PGVECTOR_MISSING =
  'extension vector is not available: install pgvector on the server (https://github.com/pgvector/pgvector, ' +
  'e.g. the postgresql-<version>-pgvector package) or use a managed PostgreSQL that offers it';

/**
 * Finds pgvector, creating the extension when the server has it but the database does not.
 * @throws StoreError (code `store_pgvector_missing`) when the server lacks pgvector or the user may not enable it.
 */
export async function ensureVector(client: Queryable, where: string): Promise<VectorNames> {
  const installed = async () =>
    (
      await client.query<{ version: string; schema: string }>(
        `SELECT e.extversion AS version, n.nspname AS schema FROM pg_extension e
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'`,
      )
    ).rows[0];
  let found = await installed();
  if (!found) {
    const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
    if (available.rows.length === 0) {
      throw new StoreError(`${PGVECTOR_MISSING} (PostgreSQL store ${where}).`, {
        code: 'store_pgvector_missing',
      });
    }
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === '42501') {
        throw new StoreError(
          `pgvector is installed on the server but not enabled in this database, and this user may not enable ` +
            `it (PostgreSQL store ${where}): ask an administrator to run \`CREATE EXTENSION vector;\` in it.`,
          { cause: error, code: 'store_pgvector_missing' },
        );
      }
      throw error;
    }
    found = await installed();
  }
  if (!found) throw new StoreError(`${PGVECTOR_MISSING} (PostgreSQL store ${where}).`);
  const schema = `"${found.schema.replaceAll('"', '""')}"`;
  return {
    type: `${schema}.vector`,
    cosineDistance: `OPERATOR(${schema}.<=>)`,
    version: found.version,
  };
}

/** True when pgvector `version` supports iterative index scans (`hnsw.iterative_scan`, 0.8.0 and later). */
export function supportsIterativeScan(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return major > 0 || minor >= 8;
}

async function readMeta(client: Queryable, names: SchemaNames, key: string): Promise<string | undefined> {
  const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${names.meta} WHERE key = $1`, [
    key,
  ]);
  return rows[0]?.value;
}

async function writeMeta(client: Queryable, names: SchemaNames, key: string, value: string): Promise<void> {
  await client.query(
    `INSERT INTO ${names.meta} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [key, value],
  );
}

/**
 * Records the embedder on first use, adding the `embedding vector(dimension)` column and its HNSW index
 * (when the dimension allows one); afterwards checks it. Runs inside the migration transaction.
 * @returns whether the HNSW index exists.
 * @throws EmbedderMismatchError when the store was written by another embedder id or dimension.
 */
export async function bindEmbedder(
  client: Queryable,
  names: SchemaNames,
  vector: VectorNames,
  embedder: EmbedderIdentity,
): Promise<{ hnsw: boolean }> {
  const storedId = await readMeta(client, names, 'embedder_id');
  const storedDimension = await readMeta(client, names, 'embedder_dimension');
  if (storedId === undefined || storedDimension === undefined) {
    const dimension = Math.floor(embedder.dimension);
    await client.query(
      `ALTER TABLE ${names.memories} ADD COLUMN embedding ${vector.type}(${dimension}) NOT NULL`,
    );
    if (dimension <= HNSW_MAX_DIMENSION) {
      const operatorClass = vector.type.replace(/vector$/, 'vector_cosine_ops');
      await client.query(
        `CREATE INDEX memories_embedding ON ${names.memories} USING hnsw (embedding ${operatorClass})`,
      );
    }
    await writeMeta(client, names, 'embedder_id', embedder.id);
    await writeMeta(client, names, 'embedder_dimension', String(dimension));
  } else {
    const stored = { id: storedId, dimension: Number(storedDimension) };
    if (stored.id !== embedder.id || stored.dimension !== embedder.dimension) {
      throw new EmbedderMismatchError(stored, embedder);
    }
  }
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
    `${names.quoted}.memories_embedding`,
  ]);
  return { hnsw: rows[0]?.exists === true };
}
