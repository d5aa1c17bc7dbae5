/**
 * Builds an isolated, offline environment for one real Claude Agent SDK `query()` in a test: a temp directory
 * holding HOME, CLAUDE_CONFIG_DIR, TMPDIR and a project dir (use it as `cwd`), and the complete `env` to pass as
 * `options.env` (which REPLACES process.env, it does not merge), pointing the CLI at a fake Messages API.
 *
 * ```ts
 * const api = await startFakeMessagesApi();
 * const sandbox = await createAgentSdkEnv({ baseURL: api.url });
 * try {
 *   for await (const message of query({ prompt, options: { env: sandbox.env, cwd: sandbox.cwd } })) { ... }
 * } finally {
 *   await sandbox.cleanup();
 *   await api.close();
 * }
 * ```
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AgentSdkEnvOptions {
  /** Base URL of the fake Messages API, e.g. `api.url`. */
  baseURL: string;
  /** Extra variables merged over the defaults (e.g. `CLAUDE_CODE_PROJECT_DIR_NAME`). */
  extraEnv?: Record<string, string>;
  /** Prefix of the temp directory name. @default 'mneme-agent-sdk-' */
  prefix?: string;
}

export interface AgentSdkEnv {
  /** The temp directory; also HOME. */
  dir: string;
  /** `<dir>/.claude`, the CLAUDE_CONFIG_DIR (transcripts land in `<configDir>/projects/...`). */
  configDir: string;
  /** `<dir>/project`, an empty directory to use as the query's `cwd`. */
  cwd: string;
  /** The complete environment for `options.env`. */
  env: Record<string, string>;
  /** Removes the temp directory. */
  cleanup(): Promise<void>;
}

export async function createAgentSdkEnv(options: AgentSdkEnvOptions): Promise<AgentSdkEnv> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'mneme-agent-sdk-'));
  const configDir = join(dir, '.claude');
  const cwd = join(dir, 'project');
  const tempDir = join(dir, 'tmp');
  await Promise.all([mkdir(configDir), mkdir(cwd), mkdir(tempDir)]);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    CLAUDE_CONFIG_DIR: configDir,
    TMPDIR: tempDir,
    ANTHROPIC_BASE_URL: options.baseURL,
    ANTHROPIC_API_KEY: 'test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    ...options.extraEnv,
  };
  return {
    dir,
    configDir,
    cwd,
    env,
    cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
