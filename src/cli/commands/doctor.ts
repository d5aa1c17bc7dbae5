import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { EmbedderMismatchError } from '../../core/errors.js';
import { resolveConfig } from '../../memory/config.js';
import type { EmbedderIdentity, MemoryStore } from '../../stores/types.js';
import { type Command, type CommandContext, optionalString } from '../command.js';

/** The outcome of one check. `fail` makes `mneme doctor` exit 1; `warn` does not. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  /** What to do about it (for `warn` and `fail`). */
  fix?: string;
}

/** `mneme doctor [--store URL] [--json]`: checks the store and says what to do; exit 1 when a check fails. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the store (integrity, row counts, embedder, queue) and say what to do; exit 1 on failure',
  usage: 'doctor [--store URL] [--json]',
  options: {},
  async run(context) {
    const { store, checks } = await diagnose(context);
    const failed = checks.filter((check) => check.status === 'fail').length;
    if (context.json) {
      context.out(JSON.stringify({ ok: failed === 0, store, checks }));
    } else {
      context.out(`mneme doctor: ${store}`);
      const width = Math.max(...checks.map((check) => check.name.length));
      for (const check of checks) {
        const status = check.status === 'fail' ? 'FAIL' : check.status;
        context.out(`  ${status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.message}`);
        if (check.fix) context.out(`        ${''.padEnd(width)}  fix: ${check.fix}`);
      }
      context.out(
        failed === 0
          ? 'All checks passed.'
          : `${failed} check${failed === 1 ? '' : 's'} failed: see "fix" above.`,
      );
    }
    return failed === 0 ? 0 : 1;
  },
};

async function diagnose(context: CommandContext): Promise<{ store: string; checks: DoctorCheck[] }> {
  const storeFlag = optionalString(context, 'store');
  const config = resolveConfig({ env: context.env, ...(storeFlag ? { store: storeFlag } : {}) });
  const { backendFor, redactUrl, sqlitePathFromUrl } = await import('../../stores/registry.js');
  const url = typeof config.store === 'string' ? config.store : `(a ${config.store.name} store instance)`;
  const checks: DoctorCheck[] = [];

  let identity: EmbedderIdentity | undefined;
  try {
    const { createEmbedder } = await import('../../embedders/registry.js');
    const embedder = await createEmbedder(config.embedder, config.embedderOptions);
    identity = { id: embedder.id, dimension: embedder.dimension };
    await embedder.close();
  } catch (error) {
    checks.push({
      name: 'embedder',
      status: 'fail',
      message: `the configured embedder cannot be created: ${errorMessage(error)}`,
      fix: 'check option `embedder` / env MNEME_EMBEDDER and its settings (MNEME_EMBEDDER_BASE_URL, ...)',
    });
  }

  let useSeam = true;
  if (typeof config.store === 'string' && backendFor(config.store).name === 'sqlite') {
    const path = sqlitePathFromUrl(config.store);
    if (path !== ':memory:') {
      const file = await checkSqliteFile(path, identity, checks);
      if (!file.exists) return { store: redactUrl(url), checks };
      // Opening through the seam runs migrations (a write): only on a sound, writable file.
      useSeam = file.sound && file.writable;
    }
  }
  if (useSeam && identity) await checkThroughSeam(config.store, identity, checks);
  return { store: typeof config.store === 'string' ? redactUrl(url) : url, checks };
}

/** Row counts, embedder and queue depth through the MemoryStore seam (every backend). */
async function checkThroughSeam(
  storeOption: string | MemoryStore,
  identity: EmbedderIdentity,
  checks: DoctorCheck[],
): Promise<void> {
  const store =
    typeof storeOption === 'string'
      ? await (await import('../../stores/registry.js')).createStore(storeOption)
      : storeOption;
  try {
    try {
      await store.open({ embedder: identity });
    } catch (error) {
      if (error instanceof EmbedderMismatchError) {
        if (!checks.some((check) => check.name === 'embedder')) {
          checks.push({
            name: 'embedder',
            status: 'fail',
            message: `the store was written by "${error.stored.id}" (${error.stored.dimension} dimensions), the configured embedder is "${identity.id}" (${identity.dimension})`,
            fix: `configure "${error.stored.id}" (option \`embedder\` / env MNEME_EMBEDDER), or move to a new store with \`mneme export\` + \`mneme import\``,
          });
        }
        return;
      }
      checks.push({
        name: 'open',
        status: 'fail',
        message: `the store cannot be opened: ${errorMessage(error)}`,
        fix: 'follow the advice in the message; check option `store` / env MNEME_STORE',
      });
      return;
    }
    if (!checks.some((check) => check.name === 'embedder')) {
      checks.push({
        name: 'embedder',
        status: 'ok',
        message: `"${identity.id}" (${identity.dimension} dimensions) matches the store`,
      });
    }
    const stats = await store.stats();
    const agree = stats.vectors === stats.memories && stats.keywordEntries === stats.memories;
    checks.push({
      name: 'counts',
      status: agree ? 'ok' : 'fail',
      message: `${stats.memories} memories, ${stats.vectors} vectors, ${stats.keywordEntries} keyword entries, ${stats.historyEvents} history events`,
      ...(agree
        ? {}
        : {
            fix:
              'the index disagrees with the rows: export every scope (`mneme export --user U`), then import ' +
              'into a new store (`mneme import --store NEW`) and point MNEME_STORE at it',
          }),
    });
    if (!checks.some((check) => check.name === 'queue')) {
      const depth = await store.queueSize();
      checks.push({
        name: 'queue',
        status: 'ok',
        message: `${depth} item${depth === 1 ? '' : 's'} waiting for ingestion`,
      });
    }
    if (!checks.some((check) => check.name === 'dead letters')) {
      const latest = await store.listDeadLetters({ limit: 3 });
      checks.push(deadLetterCheck(stats.deadLetters, latest));
    }
  } finally {
    await store.close();
  }
}

/**
 * SQLite-specific checks on the file itself, read-only: presence, write access, `PRAGMA integrity_check`, the
 * FTS5 index's own integrity check (needs write access, rolled back), schema version, recorded embedder, row
 * agreement (orphans, vector sizes) and the ingestion queue.
 */
async function checkSqliteFile(
  path: string,
  identity: EmbedderIdentity | undefined,
  checks: DoctorCheck[],
): Promise<{ exists: boolean; sound: boolean; writable: boolean }> {
  if (!existsSync(path)) {
    checks.push({
      name: 'file',
      status: 'warn',
      message: `no database at ${path} yet: it is created on the first write`,
      fix: 'if you expected data here, check option `store` / env MNEME_STORE (and MNEME_HOME)',
    });
    return { exists: false, sound: false, writable: false };
  }
  const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
  checks.push({
    name: 'file',
    status: 'ok',
    message: `${path} (${formatBytes(statSync(path).size)}, WAL ${formatBytes(wal)})`,
  });
  const writable = checkWritable(path, checks);

  const { default: SqliteDatabase } = await import('better-sqlite3');
  let db: Database.Database;
  try {
    db = new SqliteDatabase(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    checks.push(
      isAccessError(error)
        ? unreadable(path, error)
        : corrupt(path, `the file cannot be opened as a SQLite database: ${errorMessage(error)}`),
    );
    return { exists: true, sound: false, writable };
  }
  try {
    const problems = (db.pragma('integrity_check(10)') as Array<{ integrity_check: string }>).map(
      (row) => row.integrity_check,
    );
    if (problems.length !== 1 || problems[0] !== 'ok') {
      checks.push(corrupt(path, `PRAGMA integrity_check: ${problems.slice(0, 3).join('; ')}`));
      return { exists: true, sound: false, writable };
    }
    const schema = checkSchema(db, checks);
    if (!schema) return { exists: true, sound: false, writable };
    const keywordIndex = writable
      ? checkKeywordIndex(SqliteDatabase, path)
      : { ok: undefined, detail: 'not checked (needs write access)' };
    if (keywordIndex.ok === false) {
      checks.push(corrupt(path, `the keyword index (FTS5) is damaged: ${keywordIndex.detail}`));
      return { exists: true, sound: false, writable };
    }
    checks.push({
      name: 'integrity',
      status: 'ok',
      message: `PRAGMA integrity_check: ok; keyword index: ${keywordIndex.detail}`,
    });
    checkRecordedEmbedder(db, identity, checks);
    checkRows(db, checks);
    checkQueue(db, checks);
    checkSqliteDeadLetters(db, checks);
    return { exists: true, sound: true, writable };
  } catch (error) {
    checks.push(
      isAccessError(error)
        ? unreadable(path, error)
        : corrupt(path, `reading the file failed: ${errorMessage(error)}`),
    );
    return { exists: true, sound: false, writable };
  } finally {
    db.close();
  }
}

function checkWritable(path: string, checks: DoctorCheck[]): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch (error) {
    checks.push({
      name: 'writable',
      status: 'fail',
      message: `this user cannot write to ${path} or its directory (${errorMessage(error)}): adds and imports will fail`,
      fix:
        'give this user write access to the file and its directory (SQLite writes the -wal and -shm files next ' +
        'to it), or point option `store` / env MNEME_STORE at a writable path',
    });
    return false;
  }
}

/**
 * Runs FTS5's 'integrity-check' command on a separate read-write connection (the command is an INSERT, which a
 * read-only connection refuses), inside a transaction that is rolled back. Undefined `ok` means it could not run.
 */
function checkKeywordIndex(
  SqliteDatabase: typeof Database,
  path: string,
): { ok: boolean | undefined; detail: string } {
  let db: Database.Database | undefined;
  try {
    db = new SqliteDatabase(path, { fileMustExist: true, timeout: 5000 });
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    db?.close();
    return { ok: undefined, detail: `not checked (${errorMessage(error)})` };
  }
  try {
    db.prepare("INSERT INTO memory_fts (memory_fts, rank) VALUES ('integrity-check', 1)").run();
    return { ok: true, detail: 'ok' };
  } catch (error) {
    return { ok: false, detail: errorMessage(error) };
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }
}

function checkSchema(db: Database.Database, checks: DoctorCheck[]): boolean {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) {
    checks.push({
      name: 'schema',
      status: 'fail',
      message: 'the file is a SQLite database but not a mneme store (no meta table)',
      fix: 'point option `store` / env MNEME_STORE at a mneme database, or at a new file',
    });
    return false;
  }
  return true;
}

function checkRecordedEmbedder(
  db: Database.Database,
  identity: EmbedderIdentity | undefined,
  checks: DoctorCheck[],
): void {
  const meta = new Map(
    (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((row) => [
      row.key,
      row.value,
    ]),
  );
  const storedId = meta.get('embedder_id');
  const storedDimension = Number(meta.get('embedder_dimension'));
  if (storedId === undefined || !identity) return;
  if (storedId === identity.id && storedDimension === identity.dimension) {
    checks.push({
      name: 'embedder',
      status: 'ok',
      message: `"${identity.id}" (${identity.dimension} dimensions) matches the store`,
    });
    return;
  }
  checks.push({
    name: 'embedder',
    status: 'fail',
    message: `the store was written by "${storedId}" (${storedDimension} dimensions), the configured embedder is "${identity.id}" (${identity.dimension})`,
    fix: `configure "${storedId}" (option \`embedder\` / env MNEME_EMBEDDER), or move to a new store with \`mneme export\` + \`mneme import\``,
  });
}

/** Every memory has one vector of the recorded size and one keyword entry, and nothing else is left over. */
function checkRows(db: Database.Database, checks: DoctorCheck[]): void {
  const count = (sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;
  const dimension = Number(
    (
      db.prepare("SELECT value FROM meta WHERE key = 'embedder_dimension'").get() as
        | { value: string }
        | undefined
    )?.value ?? 0,
  );
  const problems = [
    [
      count(
        'SELECT COUNT(*) AS n FROM memories m WHERE NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.seq = m.seq)',
      ),
      'memories without a vector',
    ],
    [
      count('SELECT COUNT(*) AS n FROM memories m WHERE m.seq NOT IN (SELECT rowid FROM memory_fts)'),
      'memories without a keyword entry',
    ],
    [
      count('SELECT COUNT(*) AS n FROM memory_vectors v WHERE v.seq NOT IN (SELECT seq FROM memories)'),
      'vectors without a memory',
    ],
    [
      count('SELECT COUNT(*) AS n FROM memory_fts f WHERE f.rowid NOT IN (SELECT seq FROM memories)'),
      'keyword entries without a memory',
    ],
    [
      dimension > 0
        ? count('SELECT COUNT(*) AS n FROM memory_vectors WHERE length(embedding) <> ?', dimension * 4)
        : 0,
      `vectors whose size is not ${dimension} dimensions`,
    ],
  ] as const;
  const found = problems.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  if (found.length === 0) {
    const memories = count('SELECT COUNT(*) AS n FROM memories');
    checks.push({
      name: 'rows',
      status: 'ok',
      message: `each of the ${memories} memories has one vector and one keyword entry; nothing is orphaned`,
    });
  } else {
    checks.push({
      name: 'rows',
      status: 'fail',
      message: found.join(', '),
      fix:
        'export every scope (`mneme export --user U`), import into a new store (`mneme import --store NEW`) and ' +
        'point MNEME_STORE at it',
    });
  }
}

function checkQueue(db: Database.Database, checks: DoctorCheck[]): void {
  const now = new Date().toISOString();
  const row = db
    .prepare(
      `SELECT COUNT(*) AS depth,
         COALESCE(SUM(attempts > 0), 0) AS failing,
         COALESCE(SUM(leased_until IS NOT NULL AND leased_until > ?), 0) AS leased,
         COALESCE(SUM(available_at > ?), 0) AS waiting
       FROM queue`,
    )
    .get(now, now) as { depth: number; failing: number; leased: number; waiting: number };
  const message =
    `${row.depth} item${row.depth === 1 ? '' : 's'} waiting for ingestion` +
    (row.depth > 0 ? ` (${row.leased} being processed, ${row.waiting} waiting for a retry)` : '');
  if (row.failing === 0) {
    checks.push({ name: 'queue', status: 'ok', message });
    return;
  }
  const errors = db
    .prepare('SELECT attempts, last_error FROM queue WHERE attempts > 0 ORDER BY attempts DESC, seq LIMIT 3')
    .all() as Array<{ attempts: number; last_error: string | null }>;
  checks.push({
    name: 'queue',
    status: 'warn',
    message: `${message}; ${row.failing} failed before, latest errors: ${errors
      .map((item) => `${item.attempts}x ${JSON.stringify(item.last_error ?? '')}`)
      .join('; ')}`,
    fix:
      'fix what the errors name (embedder or LLM settings, API keys, network); failing items are retried with ' +
      'back-off and kept as dead letters after `ingestion.maxAttempts` (default 8) attempts (`mneme queue list`)',
  });
}

/** Dead letters in a SQLite file read directly (a file from before schema version 3 has none). */
function checkSqliteDeadLetters(db: Database.Database, checks: DoctorCheck[]): void {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dead_letters'")
    .get();
  if (!table) return;
  const { n } = db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number };
  const latest = db
    .prepare('SELECT attempts, error FROM dead_letters ORDER BY failed_at DESC, seq DESC LIMIT 3')
    .all() as Array<{ attempts: number; error: string }>;
  checks.push(deadLetterCheck(n, latest));
}

/** The `dead letters` check: ok when none, else a warning naming the latest errors and `mneme queue`. */
function deadLetterCheck(count: number, latest: Array<{ attempts: number; error: string }>): DoctorCheck {
  if (count === 0) return { name: 'dead letters', status: 'ok', message: 'no dead letters' };
  return {
    name: 'dead letters',
    status: 'warn',
    message:
      `${count} item${count === 1 ? '' : 's'} failed past ${count === 1 ? 'its' : 'their'} retries and ` +
      `${count === 1 ? 'is' : 'are'} kept as dead letters; errors: ${latest
        .map((item) => `${item.attempts}x ${JSON.stringify(item.error)}`)
        .join('; ')}`,
    fix:
      'see them with `mneme queue list`; fix what the errors name, then `mneme queue retry --all` ' +
      '(or `mneme queue drop ID` for items that should never be applied)',
  };
}

function unreadable(path: string, error: unknown): DoctorCheck {
  return failedCheck(
    'readable',
    `SQLite cannot read ${path}: ${errorMessage(error)}`,
    'SQLite reads a WAL database only where it can create the -shm file next to it: give this user write ' +
      'access to the directory (and read access to the file), or copy the file somewhere writable',
  );
}

function corrupt(path: string, message: string): DoctorCheck {
  const fix =
    `stop every process using ${path}, keep a copy of it (with its -wal file), then restore a backup or ` +
    'salvage with `sqlite3 BROKEN.db .recover | sqlite3 NEW.db` and point option `store` / env MNEME_STORE ' +
    'at the new file; `mneme export` may still read undamaged scopes';
  return failedCheck('integrity', message, fix);
}

function failedCheck(name: string, message: string, fix: string): DoctorCheck {
  return { name, status: 'fail', message, fix };
}

/** SQLITE_READONLY*, SQLITE_CANTOPEN*, SQLITE_PERM: the file could not be reached, which is not corruption. */
function isAccessError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM')
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
