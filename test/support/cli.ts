/** Runs the built `mneme` bin as a separate process (the way users run it). Requires `npm run build`. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ProcessOutput, processOutput } from './process.js';

export const MNEME_BIN = fileURLToPath(new URL('../../bin/mneme.js', import.meta.url));

export type CliRun = ProcessOutput;

/** Spawns `node bin/mneme.js ...args` with `env` merged over a minimal environment. */
export function runMneme(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  const child = spawn(process.execPath, [MNEME_BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      MNEME_LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = processOutput(child);
  child.stdin.end(input ?? '');
  return output;
}
