/**
 * The SQLite store's schema: connection pragmas, the ordered migrations, the `meta` table (schema version and
 * the embedder that wrote the store) and the SQL functions the filter compiler relies on.
 *
 * Layout: `memories` (one row per memory, scope in its own indexed columns, `seq` keys the other tables),
 * `memory_vectors` (float32 BLOBs, ranked with sqlite-vec's `vec_distance_cosine`), `memory_fts` (FTS5,
 * `porter unicode61 remove_diacritics 2`, rowid = `seq`; the text, plus hashed scope tokens and a kind token in
 * a second column that narrow searches to one scope and to the kinds a filter asks for), `history` (events with the scope of their memory, so
 * history stays scoped after a delete and erasable by scope), `queue` (the durable ingestion queue),
 * `dead_letters` (queue items that failed past their retries, with their error) and
 * `vector_blocks` (the binary codes of each user's vectors, see `vector-index.ts`), kept in step with
 * `memory_vectors` by triggers so every write path, present or future, maintains it in the same transaction, and
 * `keyword_changes` (the seq of every `memory_fts` row written, with a growing generation: FTS5 tables take no
 * triggers, so every write to `memory_fts` also calls `noteKeywordChanges` in `writes.ts`).
 */
import type Database from 'better-sqlite3';
import { EmbedderMismatchError, StoreError } from '../../core/errors.js';
import type { EmbedderIdentity } from '../types.js';

/** One schema step. Versions are consecutive from 1; never edit a released migration, append a new one. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Slots per row of `vector_blocks`: 256 codes of 64 bytes (512 dimensions) make a 16 KiB BLOB. */
export const VECTOR_BLOCK_SLOTS = 256;

const SCOPE_COLUMNS = 'user_id TEXT, agent_id TEXT, run_id TEXT, app_id TEXT';

/** One index per scope column of `table` (`<table>_user ON <table> (user_id)`, ...), for scope erasure. */
function scopeIndexes(table: string): string {
  return (['user', 'agent', 'run', 'app'] as const)
    .map((field) => `CREATE INDEX ${table}_${field} ON ${table} (${field}_id);`)
    .join('\n      ');
}

/**
 * Keeps `vector_blocks` in step with `memory_vectors` (layout in `vector-index.ts`). A vector of a memory with a
 * user id gets a slot at the end of that user's last block (a new block once it holds {@link VECTOR_BLOCK_SLOTS});
 * its row records `(block, slot)`. Changing the vector rewrites the slot's code; deleting it (directly or by the
 * cascade from `memories`) zeroes the slot's seq and code, and drops the block once no live slot is left. Each
 * change bumps the block's `version` (block ids are never reused), so a reader's cached copy of a block is
 * current exactly when its (block, version) still exists. Only
 * vectors whose dimension is a multiple of 32 get codes (the search reads codes as 32-bit words); for other
 * dimensions the store searches exactly. `vec_quantize_binary` is sqlite-vec's (bit i = dimension i > 0).
 * `||` yields TEXT even for BLOB operands (same bytes in a UTF-8 database, which mneme's files are), so each
 * spliced value is CAST back to BLOB; `substr` then counts bytes again.
 */
const VECTOR_BLOCK_TRIGGERS = `
  CREATE TRIGGER memory_vectors_code_insert AFTER INSERT ON memory_vectors
  WHEN length(NEW.embedding) % 128 = 0 AND (SELECT user_id FROM memories WHERE seq = NEW.seq) IS NOT NULL
  BEGIN
    INSERT INTO vector_blocks (user_id)
      SELECT m.user_id FROM memories m WHERE m.seq = NEW.seq AND COALESCE((
        SELECT b.used FROM vector_blocks b WHERE b.user_id = m.user_id ORDER BY b.block DESC LIMIT 1
      ), ${VECTOR_BLOCK_SLOTS}) >= ${VECTOR_BLOCK_SLOTS};
    UPDATE memory_vectors SET (block, slot) = (
        SELECT b.block, b.used FROM vector_blocks b
        WHERE b.user_id = (SELECT user_id FROM memories WHERE seq = NEW.seq) ORDER BY b.block DESC LIMIT 1)
      WHERE seq = NEW.seq;
    UPDATE vector_blocks SET used = used + 1, live = live + 1, version = version + 1,
        seqs = CAST(seqs || unhex(printf('%016x', NEW.seq)) AS BLOB),
        codes = CAST(codes || vec_quantize_binary(NEW.embedding) AS BLOB)
      WHERE block = (SELECT block FROM memory_vectors WHERE seq = NEW.seq);
  END;

  CREATE TRIGGER memory_vectors_code_update AFTER UPDATE OF embedding ON memory_vectors
  WHEN OLD.block IS NOT NULL
  BEGIN
    UPDATE vector_blocks SET version = version + 1, codes = CAST(
        substr(codes, 1, OLD.slot * (length(NEW.embedding) / 32)) || vec_quantize_binary(NEW.embedding) ||
        substr(codes, (OLD.slot + 1) * (length(NEW.embedding) / 32) + 1) AS BLOB)
      WHERE block = OLD.block;
  END;

  CREATE TRIGGER memory_vectors_code_delete AFTER DELETE ON memory_vectors
  WHEN OLD.block IS NOT NULL
  BEGIN
    UPDATE vector_blocks SET live = live - 1, version = version + 1,
        seqs = CAST(substr(seqs, 1, OLD.slot * 8) || zeroblob(8) || substr(seqs, OLD.slot * 8 + 9) AS BLOB),
        codes = CAST(substr(codes, 1, OLD.slot * (length(OLD.embedding) / 32)) ||
          zeroblob(length(OLD.embedding) / 32) || substr(codes, (OLD.slot + 1) * (length(OLD.embedding) / 32) + 1)
          AS BLOB)
      WHERE block = OLD.block;
    DELETE FROM vector_blocks WHERE block = OLD.block AND live = 0;
  END;
`;

/** The migrations, applied in order inside one `BEGIN IMMEDIATE` transaction on open. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'memories, vectors, keyword index, history, queue',
    sql: `
      CREATE TABLE memories (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        memory TEXT NOT NULL,
        ${SCOPE_COLUMNS},
        role TEXT,
        speaker TEXT,
        kind TEXT NOT NULL,
        topic TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        superseded_by TEXT,
        expires_at TEXT
      );
      CREATE INDEX memories_user ON memories (user_id, created_at);
      CREATE INDEX memories_agent ON memories (agent_id, created_at);
      CREATE INDEX memories_run ON memories (run_id, created_at);
      CREATE INDEX memories_app ON memories (app_id, created_at);
      CREATE INDEX memories_hash ON memories (hash);
      CREATE INDEX memories_topic ON memories (topic) WHERE topic IS NOT NULL;

      CREATE TABLE memory_vectors (
        seq INTEGER PRIMARY KEY REFERENCES memories (seq) ON DELETE CASCADE,
        embedding BLOB NOT NULL
      );

      CREATE VIRTUAL TABLE memory_fts USING fts5 (
        memory, scope, tokenize = 'porter unicode61 remove_diacritics 2'
      );
      INSERT INTO memory_fts (memory_fts, rank) VALUES ('secure-delete', 1);

      CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        memory_id TEXT NOT NULL,
        ${SCOPE_COLUMNS},
        event TEXT NOT NULL,
        previous_value TEXT,
        new_value TEXT,
        reason TEXT,
        actor TEXT NOT NULL,
        related_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX history_memory ON history (memory_id, seq);
      ${scopeIndexes('history')}

      CREATE TABLE queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        ${SCOPE_COLUMNS},
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        enqueued_at TEXT NOT NULL,
        available_at TEXT NOT NULL,
        leased_until TEXT
      );
      CREATE INDEX queue_available ON queue (available_at, seq);
      ${scopeIndexes('queue')}
    `,
  },
  {
    version: 2,
    description: 'binary codes of the vectors in per-user blocks (approximate dense search)',
    sql: `
      ALTER TABLE memory_vectors ADD COLUMN block INTEGER;
      ALTER TABLE memory_vectors ADD COLUMN slot INTEGER;
      CREATE TABLE vector_blocks (
        block INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        live INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 0,
        seqs BLOB NOT NULL DEFAULT x'',
        codes BLOB NOT NULL DEFAULT x''
      );
      CREATE INDEX vector_blocks_user ON vector_blocks (user_id, block);
      ${VECTOR_BLOCK_TRIGGERS}
      -- Backfill: re-inserting the vectors runs the insert trigger for each (users grouped, oldest first).
      CREATE TEMP TABLE vectors_backfill AS SELECT v.seq, v.embedding FROM memory_vectors v
        JOIN memories m ON m.seq = v.seq WHERE m.user_id IS NOT NULL ORDER BY m.user_id, v.seq;
      DELETE FROM memory_vectors WHERE seq IN (SELECT seq FROM vectors_backfill);
      INSERT INTO memory_vectors (seq, embedding) SELECT seq, embedding FROM vectors_backfill ORDER BY rowid;
      DROP TABLE vectors_backfill;
    `,
  },
  {
    version: 3,
    description: 'dead letters: queue items that failed past their retries, kept with their error',
    sql: `
      CREATE TABLE dead_letters (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        ${SCOPE_COLUMNS},
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        enqueued_at TEXT NOT NULL,
        failed_at TEXT NOT NULL
      );
      CREATE INDEX dead_letters_failed ON dead_letters (failed_at, seq);
      ${scopeIndexes('dead_letters')}
    `,
  },
  {
    version: 4,
    description:
      "memories by user and kind: a search or read for a few kinds of a user's memories (ingestion's look-up of " +
      'standing memories, the profile) walks only those rows, not every memory of the user',
    sql: `
      CREATE INDEX memories_user_kind ON memories (user_id, kind, created_at);
    `,
  },
  {
    version: 5,
    description:
      "keyword index: each memory's kind token beside its scope tokens (rows.ts kindToken), so a keyword search " +
      'filtered to a few kinds reads only their postings',
    sql: `
      UPDATE memory_fts SET scope = trim(COALESCE(scope, '') || ' k' ||
        lower(hex((SELECT m.kind FROM memories m WHERE m.seq = memory_fts.rowid))));
    `,
  },
  {
    version: 6,
    description:
      'keyword change log: the seq of every memory_fts row written, with a generation that grows with each ' +
      'write, so a process holding the keyword index in memory (sqlite/keyword-mirror.ts) reads only what changed',
    sql: `
      CREATE TABLE keyword_changes (seq INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
      CREATE INDEX keyword_changes_generation ON keyword_changes (generation);
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Per-connection settings. WAL lets readers run beside one writer; `synchronous = FULL` syncs the WAL on every
 * commit, so an acknowledged write survives power loss (NORMAL could lose the last commits); `secure_delete`
 * zeroes freed content so erased text does not linger in the file; `mmap_size` (2 GiB, SQLite's ceiling) lets
 * reads use the OS page cache directly instead of copying pages (measured: per-user dense search at 100k
 * memories over 100 users 7.5 -> 2.95 ms p50 against 256 MiB); it maps address space, not memory;
 * `journal_size_limit = 0` shrinks the WAL to nothing after each checkpoint that resets it.
 */
export function configureConnection(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  db.pragma('synchronous = FULL');
  db.pragma('mmap_size = 2147418112');
  // Truncate the WAL whenever a checkpoint resets it, so old frames (erased text among them) do not linger.
  db.pragma('journal_size_limit = 0');
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal' && mode !== 'memory') {
    throw new StoreError(`could not switch the database to WAL mode (journal_mode is ${String(mode)})`);
  }
  registerFunctions(db);
}

/**
 * SQL functions the filter compiler uses so SQLite agrees with JavaScript exactly: Unicode case folding for
 * `contains` and UTF-16 code unit order for string comparisons (SQLite's own `lower()` is ASCII-only and its
 * BINARY collation orders by UTF-8 bytes).
 */
function registerFunctions(db: Database.Database): void {
  db.function('mneme_contains', { deterministic: true }, (haystack: unknown, needle: unknown) =>
    typeof haystack === 'string' && typeof needle === 'string'
      ? Number(haystack.toLowerCase().includes(needle.toLowerCase()))
      : null,
  );
  db.function('mneme_compare_text', { deterministic: true }, (left: unknown, right: unknown) => {
    if (typeof left !== 'string' || typeof right !== 'string') return null;
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

function readMeta(db: Database.Database, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

function writeMeta(db: Database.Database, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

/**
 * Brings the schema up to {@link SCHEMA_VERSION} and records or checks the embedder, in one immediate
 * transaction (safe when several processes open the same file at once: the second waits, then sees the
 * migrated schema and does nothing).
 * @throws EmbedderMismatchError when the store was written by another embedder id or dimension.
 */
export function migrate(db: Database.Database, embedder: EmbedderIdentity, path: string): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const current = Number(readMeta(db, 'schema_version') ?? 0);
    if (current > SCHEMA_VERSION) {
      throw new StoreError(
        `SQLite store ${path} has schema version ${current}, newer than this mneme understands ` +
          `(${SCHEMA_VERSION}). Upgrade mneme, or use another file (option \`store\` / env MNEME_STORE).`,
        { code: 'store_schema_newer' },
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      writeMeta(db, 'schema_version', String(migration.version));
    }
    const storedId = readMeta(db, 'embedder_id');
    const storedDimension = readMeta(db, 'embedder_dimension');
    if (storedId === undefined || storedDimension === undefined) {
      writeMeta(db, 'embedder_id', embedder.id);
      writeMeta(db, 'embedder_dimension', String(embedder.dimension));
      return;
    }
    const stored = { id: storedId, dimension: Number(storedDimension) };
    if (stored.id !== embedder.id || stored.dimension !== embedder.dimension) {
      throw new EmbedderMismatchError(stored, embedder);
    }
  }).immediate();
}
