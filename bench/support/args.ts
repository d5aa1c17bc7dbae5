/**
 * Command-line flags of `npm run bench -- <suite> [--quick] [--json] [--name value]`.
 */

/** A mistake on the command line: reported as a message (no stack) with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parsed flags: booleans for bare flags, strings for `--name value` / `--name=value`. */
export interface BenchArgs {
  suite: string | undefined;
  quick: boolean;
  json: boolean;
  flags: Map<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(['quick', 'json', 'help', 'no-mem0', 'full']);

/** Parses argv (without node and the script path). */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const flags = new Map<string, string | true>();
  let suite: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    if (argument.startsWith('--')) {
      const body = argument.slice(2);
      const equals = body.indexOf('=');
      if (equals >= 0) {
        flags.set(body.slice(0, equals), body.slice(equals + 1));
      } else if (BOOLEAN_FLAGS.has(body)) {
        flags.set(body, true);
      } else {
        const value = argv[index + 1];
        if (value === undefined || value.startsWith('--'))
          throw new UsageError(`flag --${body} needs a value`);
        flags.set(body, value);
        index += 1;
      }
    } else if (suite === undefined) {
      suite = argument;
    } else {
      throw new UsageError(`unexpected argument "${argument}"`);
    }
  }
  return { suite, quick: flags.get('quick') === true, json: flags.get('json') === true, flags };
}

/** A string flag, or `fallback`. */
export function stringFlag(args: BenchArgs, name: string, fallback: string): string;
export function stringFlag(args: BenchArgs, name: string): string | undefined;
export function stringFlag(args: BenchArgs, name: string, fallback?: string): string | undefined {
  const value = args.flags.get(name);
  if (value === true) throw new UsageError(`flag --${name} needs a value`);
  return value ?? fallback;
}

/** A positive integer flag (accepts `10k`, `1m`, `100_000`), or `fallback`. */
export function integerFlag(args: BenchArgs, name: string): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(raw.replaceAll('_', '').replaceAll(',', ''));
  const scale = match?.[2]?.toLowerCase() === 'k' ? 1e3 : match?.[2]?.toLowerCase() === 'm' ? 1e6 : 1;
  const value = match?.[1] ? Math.round(Number(match[1]) * scale) : Number.NaN;
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`flag --${name} must be a positive integer, got "${raw}"`);
  return value;
}
