/**
 * The `hooks` suite: what mneme's Claude Agent SDK hooks add to each prompt. It calls the real hook callbacks of
 * `withMemory` directly (no CLI, no model) on a SQLite store holding N memories of the user, with the real local
 * embedder, through a simulated conversation whose transcript is written in the CLI's JSONL format:
 *
 * - UserPromptSubmit: read the transcript on first contact, embed the prompt, hybrid search, format the block.
 * - Stop: read the new transcript lines, queue the exchange (one durable store write). Ingestion itself runs
 *   later in the background worker; it is drained between prompts, outside the timed region, as the model's own
 *   latency would let it.
 * - The Claude Code plugin's command hooks (`mneme hook <event>`, plugin/hooks/hooks.json), each timed from spawn
 *   to exit as Claude Code runs them: a new Node process per call that opens the same SQLite file, reads the hook
 *   JSON on stdin, and (UserPromptSubmit) loads the embedding model to search. Stop's detached `mneme hook ingest`
 *   is waited for between prompts, outside the timed region. Needs `npm run build` (the hooks run bin/mneme.js).
 *
 *   node --import tsx bench/hooks.ts [--quick] [--json]      (or: npm run bench -- hooks [--quick])
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HookCallback, HookEvent, HookJSONOutput, Options } from '@anthropic-ai/claude-agent-sdk';
import type { Logger } from '../src/core/logger.js';
import { withMemory } from '../src/integrations/claude-agent-sdk.js';
import { createMemory } from '../src/memory/memory.js';
import { processOutput } from '../test/support/process.js';
import { describeMachine, type MachineInfo, machineInfo, peakRssMb } from './support/machine.js';
import { createProgress, log } from './support/progress.js';
import { type LatencySummary, nowMs, round, summarise } from './support/stats.js';
import { createSyntheticCorpus } from './support/synthetic.js';
import { markdownTable } from './support/table.js';

/** Options of {@link runHooksBench}. */
export interface HooksBenchOptions {
  /** A small run (200 memories, 20 prompts) that finishes in well under a minute. */
  quick: boolean;
  json?: boolean;
  /** Memories of the user in the store. @default 1000 (quick: 200) */
  memories?: number;
  /** Prompts timed (each followed by a Stop). @default 100 (quick: 20) */
  prompts?: number;
  /** Prompts timed through the plugin's command hooks (one process per hook). @default 30 (quick: 6) */
  pluginPrompts?: number;
}

/** Per-hook timings in milliseconds. */
export interface HookTiming extends LatencySummary {
  mean: number;
  max: number;
}

/** The suite's JSON. */
export interface HooksBenchResult {
  suite: 'hooks';
  store: 'sqlite';
  embedder: string;
  memories: number;
  prompts: number;
  /** Prompts per simulated session (a new session id and transcript after that many). */
  promptsPerSession: number;
  userPromptSubmit: HookTiming;
  stop: HookTiming;
  /** The first UserPromptSubmit of a process: it loads the embedding model (not in the figures above). */
  coldFirstPromptMs: number;
  /** Mean memories injected per prompt, and mean size of the injected block in characters. */
  injectedPerPrompt: number;
  injectedChars: number;
  /** The plugin's command hooks, spawn to exit, one process each (`mneme hook <event>`). */
  plugin: {
    prompts: number;
    sessionStart: HookTiming;
    userPromptSubmit: HookTiming;
    stop: HookTiming;
    sessionEnd: HookTiming;
    /** Calls that exited non-zero or logged a warning (should be 0). */
    failures: number;
    /** Mean memories injected per prompt by the plugin's UserPromptSubmit. */
    injectedPerPrompt: number;
  };
  /** Hook failures logged (should be 0). */
  failures: number;
  seedSeconds: number;
  peakRssMb: number;
  machine: MachineInfo;
  elapsed_s: number;
}

const PROMPTS_PER_SESSION = 10;
const USER = 'bench-user';

/** Runs the suite; prints progress on stderr and a table on stdout. */
export async function runHooksBench(options: HooksBenchOptions): Promise<HooksBenchResult> {
  const started = nowMs();
  const machine = machineInfo();
  const memories = options.memories ?? (options.quick ? 200 : 1000);
  const prompts = options.prompts ?? (options.quick ? 20 : 100);
  const dir = await mkdtemp(join(tmpdir(), 'mneme-bench-hooks-'));
  let failures = 0;
  const silent = (): void => undefined;
  const hookLogger: Logger = {
    debug: silent,
    info: silent,
    warn: (message, fields) => {
      failures += 1;
      log(`  hook warning: ${message} ${JSON.stringify(fields)}`);
    },
    error: (message, fields) => {
      failures += 1;
      log(`  hook error: ${message} ${JSON.stringify(fields)}`);
    },
  };
  const open = () =>
    createMemory({
      store: `sqlite://${join(dir, 'hooks.db')}`,
      embedder: 'local',
      llm: null,
      env: {},
      logger: hookLogger,
    });
  let memory = await open();
  try {
    log(`hooks: seeding ${memories} memories with the local embedder (${describeMachine(machine)})`);
    const corpus = createSyntheticCorpus({ dimension: 8, seed: 7 });
    const seedStart = nowMs();
    const progress = createProgress('seeded', memories);
    for (let done = 0; done < memories; done += 50) {
      const batch = Array.from({ length: Math.min(50, memories - done) }, () => ({
        role: 'user' as const,
        content: corpus.memory().text,
      }));
      await memory.add(batch, { userId: USER, infer: false });
      progress.tick(batch.length);
    }
    progress.done();
    const seedSeconds = (nowMs() - seedStart) / 1000;
    // Reopen, so that the first prompt pays what a new process pays: loading the embedding model.
    await memory.close();
    memory = await open();

    let agentOptions = withMemory(memory, { userId: USER, logger: hookLogger });
    let session = await newSession(dir);
    // Cold start: the first search of the process loads the embedding model.
    const cold = nowMs();
    await callHook(agentOptions, 'UserPromptSubmit', promptInput(session, corpus.query().text, randomUUID()));
    const coldFirstPromptMs = nowMs() - cold;
    session = await newSession(dir);
    agentOptions = withMemory(memory, { userId: USER, logger: hookLogger });

    const submitTimes: number[] = [];
    const stopTimes: number[] = [];
    let injected = 0;
    let injectedChars = 0;
    const timing = createProgress('prompts', prompts);
    for (let index = 0; index < prompts; index += 1) {
      if (index > 0 && index % PROMPTS_PER_SESSION === 0) {
        session = await newSession(dir);
        // A new process per session, as with one query() per request in a server.
        agentOptions = withMemory(memory, { userId: USER, logger: hookLogger });
      }
      const prompt = corpus.query().text;
      const promptId = randomUUID();
      let start = nowMs();
      const output = await callHook(agentOptions, 'UserPromptSubmit', promptInput(session, prompt, promptId));
      submitTimes.push(nowMs() - start);
      const context =
        'hookSpecificOutput' in output && output.hookSpecificOutput?.hookEventName === 'UserPromptSubmit'
          ? (output.hookSpecificOutput.additionalContext ?? '')
          : '';
      injected += (context.match(/^- \[/gm) ?? []).length;
      injectedChars += context.length;

      const reply = `Here is what I found: ${corpus.memory().text}`;
      await appendExchange(session, { prompt, promptId, context, reply });
      start = nowMs();
      await callHook(agentOptions, 'Stop', {
        hook_event_name: 'Stop',
        session_id: session.id,
        transcript_path: session.path,
        cwd: dir,
        prompt_id: promptId,
        stop_hook_active: false,
        last_assistant_message: reply,
      });
      stopTimes.push(nowMs() - start);
      timing.tick();
      // The model's reply time in a real session: the background worker ingests the exchange meanwhile.
      await memory.flush();
    }
    timing.done();
    await memory.close();
    const plugin = await runPluginHooks({
      dir,
      storeUrl: `sqlite://${join(dir, 'hooks.db')}`,
      prompts: options.pluginPrompts ?? (options.quick ? 6 : 30),
      prompt: () => corpus.query().text,
      reply: () => `Here is what I found: ${corpus.memory().text}`,
    });
    memory = await open();

    const result: HooksBenchResult = {
      suite: 'hooks',
      store: 'sqlite',
      embedder: memory.embedder.id,
      memories,
      prompts,
      promptsPerSession: PROMPTS_PER_SESSION,
      userPromptSubmit: timingOf(submitTimes),
      stop: timingOf(stopTimes),
      coldFirstPromptMs: round(coldFirstPromptMs, 1),
      injectedPerPrompt: round(injected / prompts, 2),
      injectedChars: Math.round(injectedChars / prompts),
      plugin,
      failures,
      seedSeconds: round(seedSeconds, 1),
      peakRssMb: peakRssMb(),
      machine,
      elapsed_s: round((nowMs() - started) / 1000, 1),
    };
    process.stdout.write(`${report(result)}\n`);
    return result;
  } finally {
    await memory.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function timingOf(values: number[]): HookTiming {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return { ...summarise(values), mean: round(mean, 3), max: round(Math.max(...values), 3) };
}

function report(result: HooksBenchResult): string {
  const row = (name: string, timing: HookTiming) => [
    name,
    timing.p50,
    timing.p95,
    timing.p99,
    timing.mean,
    timing.max,
  ];
  return [
    `## Claude Agent SDK hook overhead per prompt (${result.memories} memories of one user, SQLite, ${result.embedder})`,
    '',
    markdownTable(
      ['hook', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms'],
      [
        row('UserPromptSubmit (search + inject)', result.userPromptSubmit),
        row('Stop (capture, queue)', result.stop),
      ],
    ),
    '',
    `${result.prompts} prompts in sessions of ${result.promptsPerSession}; ${result.injectedPerPrompt} memories ` +
      `(${result.injectedChars} characters) injected per prompt on average; first prompt of the process ` +
      `(loads the model): ${result.coldFirstPromptMs} ms; hook failures: ${result.failures}; peak RSS ` +
      `${result.peakRssMb} MB; seeding took ${result.seedSeconds} s.`,
    '',
    `## Claude Code plugin command hooks (\`mneme hook <event>\`, spawn to exit, one process per call, same store)`,
    '',
    markdownTable(
      ['hook', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms'],
      [
        row('SessionStart (profile)', result.plugin.sessionStart),
        row('UserPromptSubmit (model load + search + inject)', result.plugin.userPromptSubmit),
        row('Stop (capture, queue, start ingestion)', result.plugin.stop),
        row('SessionEnd (capture, forget state)', result.plugin.sessionEnd),
      ],
    ),
    '',
    `${result.plugin.prompts} prompts in sessions of ${PROMPTS_PER_SESSION}; ${result.plugin.injectedPerPrompt} memories ` +
      `injected per prompt on average; failed calls: ${result.plugin.failures}.`,
    `${describeMachine(result.machine)}, load average ${result.machine.loadAverage}.`,
  ].join('\n');
}

const MNEME_BIN = fileURLToPath(new URL('../bin/mneme.js', import.meta.url));

/** Times the plugin's command hooks: sessions of {@link PROMPTS_PER_SESSION} prompts, each hook a new process. */
async function runPluginHooks(options: {
  dir: string;
  storeUrl: string;
  prompts: number;
  prompt: () => string;
  reply: () => string;
}): Promise<HooksBenchResult['plugin']> {
  if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
    throw new Error('the plugin hooks run the built CLI: run `npm run build` first');
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.dir,
    MNEME_STORE: options.storeUrl,
    MNEME_USER: USER,
    MNEME_LLM: 'none',
    MNEME_LOG_LEVEL: 'warn',
  };
  const stateDir = join(options.dir, 'plugin-state');
  const times = {
    sessionStart: [] as number[],
    userPromptSubmit: [] as number[],
    stop: [] as number[],
    sessionEnd: [] as number[],
  };
  let failures = 0;
  let injected = 0;
  const hook = async (event: string, input: Record<string, unknown>, into: number[]): Promise<string> => {
    const start = nowMs();
    const child = spawn(process.execPath, [MNEME_BIN, 'hook', event, '--state-dir', stateDir], { env });
    const output = processOutput(child);
    child.stdin.end(JSON.stringify(input));
    const { code, stdout, stderr } = await output;
    into.push(nowMs() - start);
    if (code !== 0 || stderr.trim() !== '') {
      failures += 1;
      log(`  plugin hook ${event}: exit ${code} ${stderr.trim()}`);
    }
    return stdout;
  };
  const drained = async (): Promise<void> => {
    const memory = await createMemory({
      store: options.storeUrl,
      llm: null,
      env: {},
      ingestion: { background: false },
    });
    try {
      for (let attempt = 0; attempt < 600 && (await memory.store.queueSize()) > 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await memory.close();
    }
  };
  const progress = createProgress('plugin prompts', options.prompts);
  let session: BenchSession | undefined;
  const end = async (current: BenchSession): Promise<void> => {
    const base = { session_id: current.id, transcript_path: current.path, cwd: options.dir };
    await hook('session-end', { ...base, hook_event_name: 'SessionEnd', reason: 'other' }, times.sessionEnd);
  };
  for (let index = 0; index < options.prompts; index += 1) {
    if (index % PROMPTS_PER_SESSION === 0) {
      if (session) await end(session);
      session = await newSession(options.dir);
      await hook(
        'session-start',
        {
          session_id: session.id,
          transcript_path: session.path,
          cwd: options.dir,
          hook_event_name: 'SessionStart',
          source: 'startup',
        },
        times.sessionStart,
      );
    }
    if (!session) throw new Error('no session');
    const prompt = options.prompt();
    const promptId = randomUUID();
    const output = await hook(
      'user-prompt-submit',
      promptInput(session, prompt, promptId),
      times.userPromptSubmit,
    );
    const context =
      output.trim() === ''
        ? ''
        : String(
            (JSON.parse(output) as { hookSpecificOutput?: { additionalContext?: string } }).hookSpecificOutput
              ?.additionalContext ?? '',
          );
    injected += (context.match(/^- \[/gm) ?? []).length;
    const reply = options.reply();
    await appendExchange(session, { prompt, promptId, context, reply });
    await hook(
      'stop',
      {
        hook_event_name: 'Stop',
        session_id: session.id,
        transcript_path: session.path,
        cwd: options.dir,
        prompt_id: promptId,
        stop_hook_active: false,
        last_assistant_message: reply,
      },
      times.stop,
    );
    progress.tick();
    // The model's reply time in a real session: the detached ingestion runs meanwhile.
    await drained();
  }
  if (session) await end(session);
  progress.done();
  return {
    prompts: options.prompts,
    sessionStart: timingOf(times.sessionStart),
    userPromptSubmit: timingOf(times.userPromptSubmit),
    stop: timingOf(times.stop),
    sessionEnd: timingOf(times.sessionEnd),
    failures,
    injectedPerPrompt: round(injected / options.prompts, 2),
  };
}

interface BenchSession {
  id: string;
  path: string;
  append(...entries: Array<Record<string, unknown>>): Promise<void>;
}

/** Writes one exchange as the CLI does: the prompt, the injected block (if any), the reply. */
function appendExchange(
  session: BenchSession,
  exchange: { prompt: string; promptId: string; context: string; reply: string },
): Promise<void> {
  const { prompt, promptId, context, reply } = exchange;
  return session.append(
    {
      type: 'user',
      promptId,
      uuid: randomUUID(),
      isSidechain: false,
      message: { role: 'user', content: [{ type: 'text', text: prompt }] },
    },
    ...(context
      ? [
          {
            type: 'attachment',
            uuid: randomUUID(),
            attachment: { type: 'hook_additional_context', content: [context] },
          },
        ]
      : []),
    {
      type: 'assistant',
      uuid: randomUUID(),
      isSidechain: false,
      message: { role: 'assistant', content: [{ type: 'text', text: reply }] },
    },
  );
}

async function newSession(dir: string): Promise<BenchSession> {
  const id = randomUUID();
  const folder = join(dir, 'projects', 'bench');
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${id}.jsonl`);
  return {
    id,
    path,
    append: (...entries) =>
      appendFile(path, entries.map((entry) => `${JSON.stringify({ sessionId: id, ...entry })}\n`).join('')),
  };
}

function promptInput(session: BenchSession, prompt: string, promptId: string): Record<string, unknown> {
  return {
    hook_event_name: 'UserPromptSubmit',
    session_id: session.id,
    transcript_path: session.path,
    cwd: '/tmp',
    prompt_id: promptId,
    prompt,
  };
}

function callHook(
  options: Options,
  event: HookEvent,
  input: Record<string, unknown>,
): Promise<HookJSONOutput> {
  const hook: HookCallback | undefined = options.hooks?.[event]?.at(-1)?.hooks[0];
  if (!hook) throw new Error(`withMemory returned no ${event} hook`);
  return hook(input as never, undefined, { signal: new AbortController().signal });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  runHooksBench({ quick: argv.includes('--quick'), json: argv.includes('--json') }).then(
    (result) => {
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(
        `hooks bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
