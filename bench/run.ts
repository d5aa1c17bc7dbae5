/**
 * `npm run bench -- <suite> [--quick] [--json] [suite flags]`: the one entry point for every benchmark.
 *
 * Suites: locomo, latency, hooks, sessions, http, soak, supersession, scenarios. Progress goes to stderr; tables to stdout; with `--json` the LAST
 * stdout line is one JSON object (see BENCHMARKS.md for each suite's fields).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchArgs, integerFlag, parseArgs, stringFlag, UsageError } from './support/args.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');

const USAGE = `usage: npm run bench -- <suite> [--quick] [--json] [flags]

suites:
  locomo    retrieval quality on LoCoMo-format data: mneme (hybrid), bm25, dense, mem0
            --data PATH       default ../shared/data/locomo/locomo-dev.json (relative to the repository)
            --audit PATH      evidence corrections, default ../shared/data/locomo/locomo-dev-audit-errors.json;
                              --audit none to use the evidence as published
            --conversations N only the first N conversations (--quick: 1)
            --systems LIST    comma-separated subset of mneme,bm25,dense,mem0
            --embedder SPEC   default local
            --embedding-cache FILE  keep vectors across runs in FILE
            --dump FILE       one JSON line per system and question: evidence, ranked dia_ids, metrics
  latency   search latency, add throughput, RSS and DB size on synthetic memories, mneme and mem0
            --memories N --users N  one size (default: the full grid; --quick: a small one)
            --sizes LIST      several sizes, e.g. 10k,100k (default 10k,100k,1m)
            --queries N       searches timed per run
            --no-mem0         skip Mem0
            --store URL       also run mneme on this PostgreSQL (postgres://..., with pgvector), beside SQLite
  hooks     Claude Agent SDK hook overhead per prompt (bench/hooks.ts)
  sessions  SessionStore append/load throughput (bench/sessions.ts)
  http      HTTP server search load test (bench/http.ts)
  soak      the real \`mneme serve\` under mixed search/add/delete load, per-minute errors, latency, RSS, fds (bench/soak.ts)
            --minutes N       minutes of load (default 10; --quick: 1)
  supersession  no-LLM supersession precision / recall on the labelled statement pairs (bench/supersession.ts)
            --split dev|heldout|all  which half of the pairs (default all, reported per half)
  scenarios multi-session memory stories through the real Agent SDK with withMemory (bench/scenarios.ts)
            --mode offline|llm|relevance_only|both|all  default both (all adds the relevance-only baseline)

flags for every suite:
  --quick   a small version that finishes in under a minute
  --json    print one JSON object as the last stdout line`;

type SuiteResult = { result: object; text: string };

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.flags.has('help') || args.suite === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return args.suite === undefined && !args.flags.has('help') ? 2 : 0;
  }
  let outcome: SuiteResult | undefined;
  switch (args.suite) {
    case 'locomo':
      outcome = await runLocomo(args);
      break;
    case 'latency': {
      const { runLatencyBench } = await import('./latency.js');
      const memories = integerFlag(args, 'memories');
      const users = integerFlag(args, 'users');
      const queries = integerFlag(args, 'queries');
      const store = stringFlag(args, 'store');
      if (store !== undefined && !/^postgres(ql)?:\/\//.test(store)) {
        throw new Error(`--store must be a postgres:// URL (SQLite runs anyway), got "${store}"`);
      }
      const sizes = stringFlag(args, 'sizes')
        ?.split(',')
        .map((size) => integerFlag({ ...args, flags: new Map([['size', size.trim()]]) }, 'size') ?? 0);
      outcome = await runLatencyBench({
        quick: args.quick,
        mem0: !args.flags.has('no-mem0'),
        ...(memories !== undefined ? { memories } : {}),
        ...(users !== undefined ? { users } : {}),
        ...(queries !== undefined ? { queries } : {}),
        ...(sizes ? { sizes } : {}),
        ...(store !== undefined ? { store } : {}),
      });
      break;
    }
    case 'hooks':
      outcome = await runExternal(args, 'hooks.ts', 'runHooksBench', 'hooks');
      break;
    case 'sessions':
      outcome = await runExternal(args, 'sessions.ts', 'runSessionsBench', 'sessions');
      break;
    case 'http':
      outcome = await runExternal(args, 'http.ts', 'runHttpBench', 'http');
      break;
    case 'soak': {
      const minutes = integerFlag(args, 'minutes');
      outcome = await runExternal(
        args,
        'soak.ts',
        'runSoakBench',
        'soak',
        minutes !== undefined ? { minutes } : {},
      );
      break;
    }
    case 'supersession': {
      const { runSupersessionBench } = await import('./supersession.js');
      const split = stringFlag(args, 'split', 'all');
      if (split !== 'dev' && split !== 'heldout' && split !== 'all') {
        throw new UsageError(`--split must be dev, heldout or all, not "${split}"`);
      }
      outcome = { result: { suite: 'supersession', ...(await runSupersessionBench({ split })) }, text: '' };
      break;
    }
    case 'scenarios': {
      const { runScenariosBench } = await import('./scenarios.js');
      const mode = stringFlag(args, 'mode', 'both');
      const named: Record<string, Array<'offline' | 'llm' | 'relevance_only'>> = {
        offline: ['offline'],
        llm: ['llm'],
        relevance_only: ['relevance_only'],
        both: ['offline', 'llm'],
        all: ['relevance_only', 'offline', 'llm'],
      };
      const modes = named[mode];
      if (!modes) {
        throw new UsageError(`--mode must be offline, llm, relevance_only, both or all, not "${mode}"`);
      }
      outcome = {
        result: {
          suite: 'scenarios',
          ...(await runScenariosBench({ quick: args.quick, modes: [...modes] })),
        },
        text: '',
      };
      break;
    }
    default:
      process.stderr.write(`unknown suite "${args.suite}"\n\n${USAGE}\n`);
      return 2;
  }
  if (outcome === undefined) return 1;
  if (outcome.text) process.stdout.write(`${outcome.text}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
  return 0;
}

async function runLocomo(args: BenchArgs): Promise<SuiteResult> {
  const { runLocomoBench, SYSTEM_NAMES } = await import('./locomo/suite.js');
  const dataPath = resolve(REPO, stringFlag(args, 'data', '../shared/data/locomo/locomo-dev.json'));
  const auditFlag = stringFlag(args, 'audit', '../shared/data/locomo/locomo-dev-audit-errors.json');
  const auditPath = auditFlag === 'none' ? undefined : resolve(REPO, auditFlag);
  if (!existsSync(dataPath)) {
    throw new UsageError(
      `LoCoMo data not found at ${dataPath}: pass --data PATH (a LoCoMo-format JSON file)`,
    );
  }
  if (auditPath && !existsSync(auditPath)) {
    throw new UsageError(`audit file not found at ${auditPath}: pass --audit PATH, or --audit none`);
  }
  const systemsFlag = stringFlag(args, 'systems');
  const systems = systemsFlag?.split(',').map((name) => name.trim());
  for (const name of systems ?? []) {
    if (!(SYSTEM_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`unknown system "${name}" in --systems: use ${SYSTEM_NAMES.join(', ')}`);
    }
  }
  const conversations = integerFlag(args, 'conversations');
  const embedder = stringFlag(args, 'embedder');
  const embeddingCache = stringFlag(args, 'embedding-cache');
  const dumpPath = stringFlag(args, 'dump');
  return runLocomoBench({
    dataPath,
    quick: args.quick,
    ...(auditPath ? { auditPath } : {}),
    ...(conversations !== undefined ? { conversations } : {}),
    ...(systems ? { systems: systems as (typeof SYSTEM_NAMES)[number][] } : {}),
    ...(embedder ? { embedder } : {}),
    ...(embeddingCache ? { embeddingCache: resolve(embeddingCache) } : {}),
    ...(dumpPath ? { dumpPath: resolve(dumpPath) } : {}),
  });
}

/** Runs a suite written by another module: `export async function <name>({ quick, json })`. */
async function runExternal(
  args: BenchArgs,
  file: string,
  exportName: string,
  suite: string,
  /** Suite flags passed on to the run function beside `quick` and `json`. */
  extra: object = {},
): Promise<SuiteResult | undefined> {
  const path = join(HERE, file);
  if (!existsSync(path)) {
    process.stderr.write(
      `the ${suite} suite is not available yet: bench/${file} (export ${exportName}) does not exist in this checkout.\n`,
    );
    return undefined;
  }
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const run = module[exportName];
  if (typeof run !== 'function') {
    process.stderr.write(
      `the ${suite} suite is not available yet: bench/${file} does not export ${exportName}().\n`,
    );
    return undefined;
  }
  const returned: unknown = await run({ ...extra, quick: args.quick, json: args.json });
  const result = {
    suite,
    ...(typeof returned === 'object' && returned !== null ? returned : { result: returned }),
  };
  // These suites print their own tables; the dispatcher only adds the JSON line.
  return { result, text: '' };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
