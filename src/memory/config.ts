/**
 * Configuration: one pure function, {@link resolveConfig}, turns explicit options, environment variables and an
 * optional JSON config file into a complete {@link ResolvedConfig}. Nothing else in mneme reads `process.env`.
 *
 * Precedence: explicit options (and CLI flags) > environment (`MNEME_*`) > config file > defaults.
 *
 * | option | env | default |
 * |---|---|---|
 * | `store` | `MNEME_STORE` | `sqlite://<data dir>/mneme.db` (see {@link defaultDataDir}) |
 * | `embedder` | `MNEME_EMBEDDER` | `local` (Universal Sentence Encoder Lite, offline) |
 * | `embedderOptions.baseURL` | `MNEME_EMBEDDER_BASE_URL` | `https://api.openai.com/v1` (for `openai-compatible:*`; needs a key there) |
 * | `embedderOptions.apiKey` | `MNEME_EMBEDDER_API_KEY`, then `OPENAI_API_KEY` | none |
 * | `embedderOptions.dimension` | `MNEME_EMBEDDER_DIMENSION` | discovered |
 * | `llm` | `MNEME_LLM` (`none` = no LLM) | `anthropic:claude-haiku-4-5` when `ANTHROPIC_API_KEY` is set, else none |
 * | `llmOptions.apiKey` | `ANTHROPIC_API_KEY` (anthropic) / `MNEME_LLM_API_KEY` | none |
 * | `llmOptions.baseURL` | `ANTHROPIC_BASE_URL` (anthropic) / `MNEME_LLM_BASE_URL` | provider default |
 * | `logLevel` | `MNEME_LOG_LEVEL` | `warn` |
 * | `ingestion.leaseMs` | `MNEME_INGESTION_LEASE_MS` | `120000` |
 * | `ingestion.pollMs` | `MNEME_INGESTION_POLL_MS` | `30000` |
 * | config file | `MNEME_CONFIG` | `./mneme.config.json` when it exists |
 *
 * {@link resolveAgentScope} resolves, by the same precedence, whom the agent-facing commands (`mneme mcp`,
 * `mneme hook`) work for: `MNEME_USER` / `MNEME_AGENT` / `MNEME_APP`, config file fields `user` / `agent` / `app`,
 * and for the user, the operating-system account name as the last resort.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Logger, LogLevel } from '../core/logger.js';
import type { RankingOptions } from '../core/ranking.js';
import type { Scope } from '../core/types.js';
import type { Embedder } from '../embedders/types.js';
import type { LanguageModel } from '../llm/types.js';
import type { MemoryStore } from '../stores/types.js';

/** Options of `createMemory`. Every field is optional. */
export interface MemoryOptions {
  /** Store URL (`sqlite://./data/mneme.db`, `memory://`, `postgres://...`) or a store instance. Env `MNEME_STORE`. */
  store?: string | MemoryStore;
  /** Embedder spec (`local`, `openai-compatible:<model>`) or an instance. Env `MNEME_EMBEDDER`. @default 'local' */
  embedder?: string | Embedder;
  /** Settings for remote embedders. */
  embedderOptions?: { baseURL?: string; apiKey?: string; dimension?: number; timeoutMs?: number };
  /**
   * LLM spec (`anthropic:<model>`, `openai-compatible:<model>`), an instance, or `null` to force the no-LLM path.
   * Env `MNEME_LLM`. @default `anthropic:claude-haiku-4-5` when ANTHROPIC_API_KEY is set, else null
   */
  llm?: string | LanguageModel | null;
  /** Settings for the LLM provider. */
  llmOptions?: {
    baseURL?: string;
    apiKey?: string;
    timeoutMs?: number;
    maxRetries?: number;
    retryDelayMs?: number;
  };
  /** Ranking weights and candidate pool sizes; see ranking.ts. */
  ranking?: Partial<RankingOptions>;
  /** Env `MNEME_LOG_LEVEL`. @default 'warn' */
  logLevel?: LogLevel;
  /** A logger to use instead of the default JSON-lines-on-stderr one. */
  logger?: Logger;
  /** Background ingestion worker for `enqueue` (the Agent SDK integration uses it). */
  ingestion?: {
    /** Drain the durable queue in the background in this process. @default true */
    background?: boolean;
    /** Attempts before an item is dead-lettered. @default 8 */
    maxAttempts?: number;
    /**
     * Lease on a claimed item, after which another process may take it (a crashed replica's items wait this
     * long). Env `MNEME_INGESTION_LEASE_MS`. @default 120000
     */
    leaseMs?: number;
    /**
     * After {@link Memory.resumeIngestion} (what `mneme serve` calls), how often the queue is polled for items
     * this process did not enqueue: left by a replica that died (once their lease ended) or by an earlier process.
     * 0 disables polling. Env `MNEME_INGESTION_POLL_MS`. @default 30000
     */
    pollMs?: number;
    /**
     * How long `close()` may spend ingesting the items this instance enqueued (other processes' items are
     * left to the worker). @default 10000
     */
    closeTimeoutMs?: number;
  };
  /**
   * Secret redaction before anything is stored (see ingest/redact.ts). `false` disables it; `patterns` adds
   * to the built-in list. @default enabled with the built-in patterns
   */
  redaction?: false | { patterns?: Array<{ kind: string; pattern: RegExp; group?: number }> };
  /** The clock, for tests. @default () => new Date() */
  clock?: () => Date;
  /** Environment to read instead of `process.env` (tests). */
  env?: Record<string, string | undefined>;
  /** Config file path. Env `MNEME_CONFIG`. @default './mneme.config.json' when present */
  configFile?: string;
}

/** The fully resolved configuration. */
export interface ResolvedConfig {
  store: string | MemoryStore;
  embedder: string | Embedder;
  embedderOptions: { baseURL?: string; apiKey?: string; dimension?: number; timeoutMs?: number };
  llm: string | LanguageModel | null;
  llmOptions: {
    baseURL?: string;
    apiKey?: string;
    timeoutMs?: number;
    maxRetries?: number;
    retryDelayMs?: number;
  };
  ranking: Partial<RankingOptions>;
  logLevel: LogLevel;
  ingestion: IngestionSettings;
}

/** The resolved background-ingestion settings (see `MemoryOptions.ingestion` for each one's default and env var). */
export interface IngestionSettings {
  background: boolean;
  maxAttempts: number;
  leaseMs: number;
  pollMs: number;
  closeTimeoutMs: number;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * The per-user data directory holding the default store: `$MNEME_HOME`, else `$XDG_DATA_HOME/mneme`,
 * else `~/.local/share/mneme` (Linux), `~/Library/Application Support/mneme` (macOS), `%APPDATA%\mneme` (Windows).
 */
export function defaultDataDir(env: Record<string, string | undefined>, platform = process.platform): string {
  if (env.MNEME_HOME) return resolve(env.MNEME_HOME);
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'mneme');
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'mneme');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'mneme');
  return join(home, '.local', 'share', 'mneme');
}

/** Resolves options + env + config file + defaults. Pure apart from reading the config file. */
export function resolveConfig(options: MemoryOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const file = readConfigFile(options.configFile ?? env.MNEME_CONFIG);
  const pick = <T>(
    explicit: T | undefined,
    fromEnv: T | undefined,
    fromFile: T | undefined,
  ): T | undefined => (explicit !== undefined ? explicit : fromEnv !== undefined ? fromEnv : fromFile);

  const store =
    pick<string | MemoryStore>(options.store, nonEmpty(env.MNEME_STORE), stringField(file, 'store')) ??
    `sqlite://${join(defaultDataDir(env), 'mneme.db')}`;
  const embedder =
    pick<string | Embedder>(options.embedder, nonEmpty(env.MNEME_EMBEDDER), stringField(file, 'embedder')) ??
    'local';

  const llmFromEnv = nonEmpty(env.MNEME_LLM);
  let llm: string | LanguageModel | null;
  if (options.llm !== undefined) llm = options.llm;
  else if (llmFromEnv !== undefined) llm = llmFromEnv === 'none' ? null : llmFromEnv;
  else if (file && 'llm' in file) llm = file.llm === null ? null : (stringField(file, 'llm') ?? null);
  else llm = nonEmpty(env.ANTHROPIC_API_KEY) ? 'anthropic:claude-haiku-4-5' : null;

  const isAnthropic = typeof llm === 'string' && llm.startsWith('anthropic:');
  const llmOptions = compact({
    baseURL:
      options.llmOptions?.baseURL ??
      (isAnthropic ? nonEmpty(env.ANTHROPIC_BASE_URL) : undefined) ??
      nonEmpty(env.MNEME_LLM_BASE_URL),
    apiKey:
      options.llmOptions?.apiKey ??
      (isAnthropic ? nonEmpty(env.ANTHROPIC_API_KEY) : undefined) ??
      nonEmpty(env.MNEME_LLM_API_KEY),
    timeoutMs: options.llmOptions?.timeoutMs,
    maxRetries: options.llmOptions?.maxRetries,
    retryDelayMs: options.llmOptions?.retryDelayMs,
  });
  const dimensionText = nonEmpty(env.MNEME_EMBEDDER_DIMENSION);
  const dimension = options.embedderOptions?.dimension ?? (dimensionText ? Number(dimensionText) : undefined);
  if (dimension !== undefined && (!Number.isInteger(dimension) || dimension <= 0)) {
    throw new ConfigError(
      'embedderOptions.dimension (env MNEME_EMBEDDER_DIMENSION) must be a positive integer, such as 1536',
    );
  }
  const embedderOptions = compact({
    baseURL: options.embedderOptions?.baseURL ?? nonEmpty(env.MNEME_EMBEDDER_BASE_URL),
    apiKey:
      options.embedderOptions?.apiKey ?? nonEmpty(env.MNEME_EMBEDDER_API_KEY) ?? nonEmpty(env.OPENAI_API_KEY),
    dimension,
    timeoutMs: options.embedderOptions?.timeoutMs,
  });

  const logLevel =
    pick<string>(options.logLevel, nonEmpty(env.MNEME_LOG_LEVEL), stringField(file, 'logLevel')) ?? 'warn';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(
      `logLevel (env MNEME_LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}; got "${logLevel}"`,
    );
  }
  const maxAttempts = options.ingestion?.maxAttempts ?? 8;
  const leaseMs =
    options.ingestion?.leaseMs ??
    integerFromEnv(env.MNEME_INGESTION_LEASE_MS, 'MNEME_INGESTION_LEASE_MS') ??
    120_000;
  const pollMs =
    options.ingestion?.pollMs ??
    integerFromEnv(env.MNEME_INGESTION_POLL_MS, 'MNEME_INGESTION_POLL_MS') ??
    30_000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ConfigError('ingestion.maxAttempts must be an integer >= 1');
  }
  if (!Number.isInteger(leaseMs) || leaseMs < 1000)
    throw new ConfigError('ingestion.leaseMs (env MNEME_INGESTION_LEASE_MS) must be an integer >= 1000');
  if (!Number.isInteger(pollMs) || pollMs < 0)
    throw new ConfigError(
      'ingestion.pollMs (env MNEME_INGESTION_POLL_MS) must be an integer >= 0 (0: no polling)',
    );
  const closeTimeoutMs = options.ingestion?.closeTimeoutMs ?? 10_000;
  if (!Number.isInteger(closeTimeoutMs) || closeTimeoutMs < 0) {
    throw new ConfigError('ingestion.closeTimeoutMs must be an integer >= 0 (milliseconds)');
  }
  return {
    store,
    embedder,
    embedderOptions,
    llm,
    llmOptions,
    ranking: options.ranking ?? {},
    logLevel: logLevel as LogLevel,
    ingestion: {
      background: options.ingestion?.background ?? true,
      maxAttempts,
      leaseMs,
      pollMs,
      closeTimeoutMs,
    },
  };
}

/** The explicit part of {@link resolveAgentScope}'s input (CLI flags). */
export interface AgentScopeOptions {
  userId?: string | undefined;
  agentId?: string | undefined;
  appId?: string | undefined;
  /** Environment to read instead of `process.env` (tests). */
  env?: Record<string, string | undefined>;
  /** Config file path. Env `MNEME_CONFIG`. @default './mneme.config.json' when present */
  configFile?: string;
  /** The account name used when no user is configured. @default the operating system's (`os.userInfo()`) */
  accountName?: () => string;
}

/**
 * Whom an agent session works for: flags > env (`MNEME_USER`, `MNEME_AGENT`, `MNEME_APP`) > config file (`user`,
 * `agent`, `app`) > for the user only, the operating-system account name (one person's machine, one person's
 * memories). Pure apart from reading the config file and the account name.
 * @throws {ConfigError} when no user is configured and the account name cannot be read
 */
export function resolveAgentScope(options: AgentScopeOptions = {}): Scope & { userId: string } {
  const env = options.env ?? process.env;
  const file = readConfigFile(options.configFile ?? env.MNEME_CONFIG);
  const choose = (explicit: string | undefined, fromEnv: string | undefined, key: string) =>
    nonEmpty(explicit) ?? nonEmpty(fromEnv) ?? nonEmpty(stringField(file, key));
  let userId = choose(options.userId, env.MNEME_USER, 'user');
  if (userId === undefined) {
    try {
      userId = nonEmpty((options.accountName ?? (() => userInfo().username))());
    } catch {
      // No account name (a container without a passwd entry): said below.
    }
  }
  if (userId === undefined) {
    throw new ConfigError(
      'no user: pass --user U, or set env MNEME_USER (or "user" in the config file, env MNEME_CONFIG)',
    );
  }
  const agentId = choose(options.agentId, env.MNEME_AGENT, 'agent');
  const appId = choose(options.appId, env.MNEME_APP, 'app');
  return { userId, ...(agentId ? { agentId } : {}), ...(appId ? { appId } : {}) };
}

/** An integer environment variable, or undefined when unset. @throws ConfigError when it is not an integer. */
function integerFromEnv(text: string | undefined, name: string): number | undefined {
  const value = nonEmpty(text);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw new ConfigError(`${name} must be a whole number of milliseconds, got "${value}"`);
  return Number(value);
}

function readConfigFile(path: string | undefined): Record<string, unknown> | undefined {
  const candidate = path ?? (existsSync('mneme.config.json') ? 'mneme.config.json' : undefined);
  if (!candidate) return undefined;
  let text: string;
  try {
    text = readFileSync(candidate, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${candidate} (option configFile / env MNEME_CONFIG)`, {
      cause: error,
    });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      `config file ${candidate} must hold a JSON object such as {"store": "sqlite://./m.db"}`,
      {
        cause: error,
      },
    );
  }
}

function stringField(file: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = file?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ConfigError(`config file field "${key}" must be a string`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Drops undefined fields (exactOptionalPropertyTypes). */
function compact<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
