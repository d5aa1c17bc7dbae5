/**
 * Percentiles and timing helpers shared by the benchmark suites.
 */

/** p50 / p95 / p99 of a set of durations in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The `p`-th percentile (0..100) of `values` by linear interpolation between closest ranks (numpy's default).
 * @throws {RangeError} for an empty list or `p` outside 0..100.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const position = ((sorted.length - 1) * p) / 100;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? 0;
  const high = sorted[upper] ?? low;
  return low + (high - low) * (position - lower);
}

/** p50 / p95 / p99 of `values`, rounded to microseconds. */
export function summarise(values: readonly number[]): LatencySummary {
  return {
    p50: round(percentile(values, 50), 3),
    p95: round(percentile(values, 95), 3),
    p99: round(percentile(values, 99), 3),
  };
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Milliseconds since an arbitrary origin, sub-millisecond precision. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs `task` and returns its result with the elapsed milliseconds. */
export async function timed<T>(task: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = nowMs();
  const value = await task();
  return { value, ms: nowMs() - start };
}
