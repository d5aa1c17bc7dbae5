/**
 * API keys for `mneme serve`. A key is bound to one app (the tenant): every request made with it is confined to
 * that app's memories. An admin key manages keys (`/admin/keys`); it reaches memories only when it is bound to an
 * app too.
 *
 * Keys look like `mneme_<id>_<secret>`: a public 16-hex-digit id (shown by `mneme keys list`, used to revoke) and
 * 256 random bits of secret. Only the SHA-256 of the whole key is stored (a fast hash is enough for a
 * high-entropy random key; there is nothing to brute-force) and it is compared in constant time. The plain key is
 * shown once, when it is created.
 *
 * Storage: a small JSON file (mode 0600), by default `<data dir>/keys.json` (option `--keys PATH` / env
 * `MNEME_KEYS_FILE`), written atomically (temp file, fsync, rename, fsync of the directory) under a lock file,
 * so `mneme keys create` in one process and a running server's `/admin/keys` never lose each other's writes.
 * A running server notices changes made by other processes (new and revoked keys) on the next request: it
 * compares the file's size, mtime and inode before verifying a key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, NotFoundError, ValidationError } from '../core/errors.js';
import { validateIdentifier } from '../core/validate.js';
import { defaultDataDir } from '../memory/config.js';

/** A stored key, without its secret. */
export interface ApiKeyInfo {
  /** Public id (16 hex digits), part of the key itself. */
  id: string;
  /** The app (tenant) the key is confined to; absent for an admin key without an app. */
  appId?: string;
  /** May manage keys. */
  admin: boolean;
  createdAt: string;
  /** Set when revoked; a revoked key authenticates nothing. */
  revokedAt?: string;
}

interface StoredKey extends ApiKeyInfo {
  /** Hex SHA-256 of the whole key string. */
  hash: string;
}

interface KeyFile {
  version: 1;
  keys: StoredKey[];
}

/** Who a verified key belongs to. */
export interface Principal {
  keyId: string;
  appId?: string;
  admin: boolean;
  /**
   * Reaches every app's memories (and those written without an app), as the library itself does. Only the local
   * console's login session has it (`mneme console`, src/console/sessions.ts); a key from the keys file never does.
   */
  allApps?: boolean;
}

/** The key-store seam the server depends on (the file store implements it). */
export interface KeyStore {
  /** The principal of a valid, unrevoked key; null for anything else (malformed, unknown, revoked). */
  verify(key: string): Promise<Principal | null>;
  /** Creates a key. The returned `key` is the only time the secret exists outside its holder. */
  create(options: { appId?: string; admin?: boolean }): Promise<{ key: string; info: ApiKeyInfo }>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKeyInfo[]>;
  /** Revokes a key by id. @throws NotFoundError for an unknown id. */
  revoke(id: string): Promise<ApiKeyInfo>;
}

const KEY_PATTERN = /^mneme_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/**
 * The keys file path: `--keys PATH` > env `MNEME_KEYS_FILE` > `<data dir>/keys.json` (see `defaultDataDir`).
 * Pure: the caller passes its environment.
 */
export function resolveKeysFile(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
): string {
  if (explicit !== undefined && explicit.trim() !== '') return resolve(explicit);
  const fromEnv = env.MNEME_KEYS_FILE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(defaultDataDir(env), 'keys.json');
}

/** Options of {@link createFileKeyStore}. */
export interface FileKeyStoreOptions {
  /** Path of the JSON keys file; created on the first write. */
  path: string;
  /** @default () => new Date() */
  clock?: () => Date;
}

/** A {@link KeyStore} backed by one JSON file. */
export function createFileKeyStore(options: FileKeyStoreOptions): KeyStore {
  return new FileKeyStore(options.path, options.clock ?? (() => new Date()));
}

class FileKeyStore implements KeyStore {
  private cache: { signature: string; byId: Map<string, StoredKey> } | undefined;

  constructor(
    private readonly path: string,
    private readonly clock: () => Date,
  ) {}

  async verify(key: string): Promise<Principal | null> {
    if (typeof key !== 'string') return null;
    const match = KEY_PATTERN.exec(key);
    const byId = await this.current();
    const stored = match?.[1] === undefined ? undefined : byId.get(match[1]);
    // Hash and compare even for unknown ids so timing does not reveal which ids exist.
    const expected = Buffer.from(stored?.hash ?? '0'.repeat(64), 'hex');
    const actual = createHash('sha256').update(key).digest();
    const equal = timingSafeEqual(expected, actual);
    if (!stored || !equal || stored.revokedAt !== undefined) return null;
    return {
      keyId: stored.id,
      admin: stored.admin,
      ...(stored.appId !== undefined ? { appId: stored.appId } : {}),
    };
  }

  async create(options: { appId?: string; admin?: boolean }): Promise<{ key: string; info: ApiKeyInfo }> {
    const admin = options.admin === true;
    const appId = options.appId === undefined ? undefined : validateIdentifier(options.appId, 'appId');
    if (appId === undefined && !admin) {
      throw new ValidationError(
        'appId',
        'a key needs an app: `--app APP` on the command line, "appId" over HTTP (or make it an admin key)',
      );
    }
    const id = randomBytes(8).toString('hex');
    const key = `mneme_${id}_${randomBytes(32).toString('base64url')}`;
    const stored: StoredKey = {
      id,
      admin,
      createdAt: this.clock().toISOString(),
      hash: createHash('sha256').update(key).digest('hex'),
      ...(appId !== undefined ? { appId } : {}),
    };
    await this.mutate((file) => {
      file.keys.push(stored);
    });
    return { key, info: publicInfo(stored) };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const file = await this.readFile();
    return file.keys.map(publicInfo);
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    let revoked: StoredKey | undefined;
    await this.mutate((file) => {
      revoked = file.keys.find((candidate) => candidate.id === id);
      if (revoked && revoked.revokedAt === undefined) revoked.revokedAt = this.clock().toISOString();
    });
    if (!revoked) throw new NotFoundError(`no API key with id "${id}"; list them with \`mneme keys list\``);
    return publicInfo(revoked);
  }

  /** The keys by id, re-read when the file changed since the last read. */
  private async current(): Promise<Map<string, StoredKey>> {
    const signature = await this.signature();
    if (this.cache && this.cache.signature === signature) return this.cache.byId;
    const file = await this.readFile();
    const byId = new Map(file.keys.map((stored) => [stored.id, stored]));
    this.cache = { signature, byId };
    return byId;
  }

  private async signature(): Promise<string> {
    try {
      // Synchronous on purpose: a stat of a small local file takes microseconds, far less than a thread-pool hop.
      const info = statSync(this.path, { bigint: true });
      return `${info.ino}:${info.size}:${info.mtimeNs}`;
    } catch (error) {
      if (isMissing(error)) return 'missing';
      throw keysFileError(this.path, 'cannot read', error);
    }
  }

  private async readFile(): Promise<KeyFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return { version: 1, keys: [] };
      throw keysFileError(this.path, 'cannot read', error);
    }
    return parseKeyFile(text, this.path);
  }

  private async mutate(change: (file: KeyFile) => void): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const release = await acquireLock(`${this.path}.lock`);
    try {
      const file = await this.readFile();
      change(file);
      await writeAtomically(this.path, `${JSON.stringify(file, null, 2)}\n`);
      this.cache = undefined;
    } finally {
      await release();
    }
  }
}

function publicInfo(stored: StoredKey): ApiKeyInfo {
  return {
    id: stored.id,
    admin: stored.admin,
    createdAt: stored.createdAt,
    ...(stored.appId !== undefined ? { appId: stored.appId } : {}),
    ...(stored.revokedAt !== undefined ? { revokedAt: stored.revokedAt } : {}),
  };
}

function parseKeyFile(text: string, path: string): KeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw keysFileError(path, 'is not valid JSON', error);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(keys)) {
    throw keysFileError(path, 'must hold { "version": 1, "keys": [...] }');
  }
  for (const [index, item] of keys.entries()) {
    const value = item as Partial<StoredKey> | null;
    if (
      typeof value !== 'object' ||
      value === null ||
      typeof value.id !== 'string' ||
      typeof value.hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(value.hash) ||
      typeof value.admin !== 'boolean' ||
      typeof value.createdAt !== 'string' ||
      (value.appId !== undefined && typeof value.appId !== 'string') ||
      (value.revokedAt !== undefined && typeof value.revokedAt !== 'string')
    ) {
      throw keysFileError(path, `has a malformed entry at keys[${index}]`);
    }
  }
  return { version: 1, keys: keys as StoredKey[] };
}

function keysFileError(path: string, problem: string, cause?: unknown): ConfigError {
  return new ConfigError(
    `the API keys file ${path} ${problem}; fix or remove it (option --keys / env MNEME_KEYS_FILE), then ` +
      'create keys with `mneme keys create --app APP`',
    { cause },
  );
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw keysFileError(path, 'cannot be written', error);
  }
  // fsync the directory so the rename itself survives a crash (not supported on every platform).
  const directory = await open(dirname(path), 'r').catch(() => undefined);
  if (directory) {
    await directory.sync().catch(() => undefined);
    await directory.close();
  }
}

async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST')
        throw keysFileError(lockPath, 'cannot be created', error);
    }
    // A lock older than LOCK_STALE_MS belongs to a process that died mid-write.
    const info = await stat(lockPath).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > LOCK_STALE_MS) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ConfigError(
        `the API keys file is locked by another process (${lockPath}); if no mneme process is writing keys, ` +
          'delete the lock file',
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 15));
  }
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}
