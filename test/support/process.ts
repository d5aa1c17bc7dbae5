/** Collecting what a spawned test process prints. */
import type { ChildProcess } from 'node:child_process';

/** How a process ended and everything it printed. */
export interface ProcessOutput {
  /** Exit code; null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Gathers `child`'s stdout and stderr (spawned with both piped) until it closes.
 * @throws (rejects) when the process cannot be spawned.
 */
export function processOutput(child: ChildProcess): Promise<ProcessOutput> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
