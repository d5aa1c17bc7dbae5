/**
 * Progress lines on stderr (stdout is reserved for tables and the final JSON line).
 */
import { nowMs } from './stats.js';

/** Writes one progress line to stderr. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A throttled counter: reports `label done/total (rate/s)` at most every `intervalMs`, and once at the end. */
export function createProgress(
  label: string,
  total: number,
  intervalMs = 5000,
): { tick(count?: number): void; done(): void } {
  const start = nowMs();
  let done = 0;
  let last = start;
  const report = () => {
    const elapsed = (nowMs() - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    log(`  ${label}: ${done}/${total} (${rate.toFixed(1)}/s, ${elapsed.toFixed(0)} s)`);
  };
  return {
    tick(count = 1) {
      done += count;
      const now = nowMs();
      if (now - last >= intervalMs) {
        last = now;
        report();
      }
    },
    done() {
      report();
    },
  };
}
