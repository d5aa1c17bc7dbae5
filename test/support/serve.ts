/** Spawning `mneme serve` (the built bin) the way users run it, for end-to-end server tests. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { MNEME_BIN } from './cli.js';

/** A running `mneme serve` child process. */
export interface Served {
  child: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything it printed on stderr so far (its JSON-lines log). */
  stderr: () => string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** The JSON line it printed once listening. */
  info: Record<string, unknown>;
}

/**
 * Starts `node bin/mneme.js serve --port 0 --json ...args` (or `console`, which takes the same flags) with `env`
 * over a minimal environment and resolves once it prints its URL. @throws (rejects) when it exits first or does
 * not start within 60 s.
 */
export function serve(
  args: string[],
  env: Record<string, string>,
  command: 'serve' | 'console' = 'serve',
): Promise<Served> {
  const child = spawn(process.execPath, [MNEME_BIN, command, '--port', '0', '--json', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: env.MNEME_HOME ?? tmpdir(), MNEME_LOG_LEVEL: 'info', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s: ${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (line !== undefined && stdout.includes('\n')) {
        clearTimeout(timer);
        const info = JSON.parse(line) as { url: string };
        resolve({ child, url: info.url, stderr: () => stderr, exited, info });
      }
    });
    exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

/** Polls `condition` every 20 ms. @throws (rejects) after `timeoutMs`, naming `what`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
