/** Progress of a long command on stderr: a bar redrawn in place on a terminal, else (when asked) plain lines. */
import type { CommandContext } from './command.js';

/** Reports `done` of `total`; `finish()` ends the bar's line. */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

/**
 * A progress reporter for `context`. On a TTY it redraws one `[####....] done/total` line; elsewhere it writes
 * `mneme: <label>: done/total` lines when `lines` is true (logs of scripted runs) and nothing otherwise.
 */
export function createProgress(
  context: CommandContext,
  options: { label: string; lines?: boolean },
): Progress {
  let drawn = false;
  return {
    update(done, total) {
      if (context.isTTY) {
        const width = 30;
        const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
        drawn = true;
      } else if (options.lines) {
        context.err(`mneme: ${options.label}: ${done}/${total}`);
      }
    },
    finish() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}
