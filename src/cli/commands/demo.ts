/**
 * `mneme demo`: the main job on the embedded default, offline. Two separate OS processes play Monday and
 * Tuesday for two users against one SQLite file: on Monday each user states preferences; on Tuesday a new
 * process retrieves, for each user, what an agent would be given at session start, and checks that the users'
 * memories never mix.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MnemeError } from '../../core/errors.js';
import type { Memory } from '../../memory/memory.js';
import { buildSessionContext } from '../../memory/session-context.js';
import { type Command, optionalString, UsageError } from '../command.js';

const MONDAY: Record<string, Array<{ role: 'user' | 'assistant'; content: string }>> = {
  alice: [
    { role: 'user', content: 'I prefer function-level docstrings and no inline comments.' },
    { role: 'assistant', content: 'Understood: docstrings on every function, no inline comments.' },
    { role: 'user', content: 'I prefer Python for backend services.' },
    { role: 'user', content: 'Keep code review feedback short and direct, in bullet points.' },
    {
      role: 'user',
      content: 'The payments module wraps Stripe in payments/stripe_client.py. How do I mock it in tests?',
    },
    { role: 'assistant', content: 'You probably deploy with Jenkins, so run the mocks in a Jenkins stage.' },
    { role: 'user', content: 'thanks!' },
  ],
  bob: [
    {
      role: 'user',
      content: 'I prefer tabs over spaces, and I like long, detailed review explanations with examples.',
    },
    { role: 'user', content: 'My favorite language is Rust; our services run on Kubernetes.' },
    { role: 'user', content: 'ok' },
  ],
};
const TUESDAY_PROMPTS: Record<string, string> = {
  alice: 'Review my new payments module and tell me how to document it.',
  bob: 'Review my new payments module and tell me how to document it.',
};
const MONDAY_DATE = '2026-11-23T09:00:00.000Z';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Monday/Tuesday demo: two users, two processes, one offline SQLite store',
  usage: 'demo [--store URL]',
  options: { day: { type: 'string' } },
  async run(context) {
    const day = optionalString(context, 'day');
    if (day === 'monday') return monday(context);
    if (day === 'tuesday') return tuesday(context);
    if (day !== undefined) throw new UsageError('--day is internal: monday or tuesday');
    return orchestrate(context);
  },
};

type Context = Parameters<Command['run']>[0];

async function orchestrate(context: Context): Promise<number> {
  const store =
    optionalString(context, 'store') ??
    `sqlite://${join(mkdtempSync(join(tmpdir(), 'mneme-demo-')), 'demo.db')}`;
  const say = (text: string) => {
    if (!context.json) context.out(text);
  };
  say(`mneme demo: two users, two processes, one store (${store})\n`);
  const started = Date.now();
  const mondayOutput = await runChild(['--day', 'monday', '--store', store, '--json'], context.env);
  const tuesdayOutput = await runChild(['--day', 'tuesday', '--store', store, '--json'], context.env);
  const mondayReport = JSON.parse(mondayOutput) as MondayReport;
  const tuesdayReport = JSON.parse(tuesdayOutput) as TuesdayReport;
  if (context.json) {
    context.out(
      JSON.stringify({ store, monday: mondayReport, tuesday: tuesdayReport, ms: Date.now() - started }),
    );
    return tuesdayReport.isolated ? 0 : 1;
  }
  say(`── Monday (process ${mondayReport.pid}) ──`);
  for (const [user, outcome] of Object.entries(mondayReport.users)) {
    say(
      `${user} says ${outcome.messages} things: ${outcome.stored} remembered, ${outcome.skipped.length} skipped`,
    );
    for (const skipped of outcome.skipped)
      say(`   skipped (${skipped.reason}): ${JSON.stringify(skipped.text)}`);
  }
  say(`\n── Tuesday (process ${tuesdayReport.pid}, a new session) ──`);
  for (const [user, outcome] of Object.entries(tuesdayReport.users)) {
    say(`${user} asks: ${JSON.stringify(outcome.prompt)}`);
    say('the agent is given, before it starts:');
    say(indent(outcome.context));
    say('');
  }
  say(`Tuesday afternoon alice says: ${JSON.stringify(tuesdayReport.change.said)}`);
  say(
    `-> ${tuesdayReport.change.event}: ${JSON.stringify(tuesdayReport.change.previous)} is no longer current`,
  );
  say("   alice's profile now (given at the start of every session):");
  for (const line of tuesdayReport.change.profile) say(`   - ${line}`);
  say('');
  say(
    tuesdayReport.isolated
      ? `✓ isolation: ${tuesdayReport.checks} cross-user lookups returned none of the other user's memories`
      : '✗ isolation FAILED: a memory crossed users',
  );
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s, offline (no servers, no API keys)`);
  return tuesdayReport.isolated ? 0 : 1;
}

interface MondayReport {
  pid: number;
  users: Record<
    string,
    { messages: number; stored: number; skipped: Array<{ reason: string; text: string }> }
  >;
}

type AddResult = Awaited<ReturnType<Memory['add']>>;

/** Monday's conversations of the demo users, stored as the demo stores them (`mneme console` seeds with it). */
export async function addMondayConversations(memory: Memory): Promise<Record<string, AddResult>> {
  const results: Record<string, AddResult> = {};
  for (const [user, messages] of Object.entries(MONDAY)) {
    results[user] = await memory.add(messages, { userId: user, runId: 'monday', observedAt: MONDAY_DATE });
  }
  return results;
}

/** Tuesday's change of mind: alice's new statement, which supersedes a Monday preference. */
export const TUESDAY_CHANGE = 'I switched from Python to TypeScript for backend services.';

async function monday(context: Context): Promise<number> {
  const memory = await context.openMemory({ llm: null });
  const report: MondayReport = { pid: process.pid, users: {} };
  for (const [user, result] of Object.entries(await addMondayConversations(memory))) {
    const messages = MONDAY[user] ?? [];
    report.users[user] = {
      messages: messages.length,
      stored: result.results.filter((item) => item.event !== 'NOOP').length,
      skipped: result.skipped.map((item) => ({ reason: item.reason, text: item.text })),
    };
  }
  context.out(JSON.stringify(report));
  return 0;
}

interface TuesdayReport {
  pid: number;
  users: Record<string, { prompt: string; context: string; ids: string[] }>;
  change: { said: string; event: string; previous: string; profile: string[] };
  checks: number;
  isolated: boolean;
}

async function tuesday(context: Context): Promise<number> {
  const memory = await context.openMemory({ llm: null });
  const report: TuesdayReport = {
    pid: process.pid,
    users: {},
    change: { said: '', event: '', previous: '', profile: [] },
    checks: 0,
    isolated: true,
  };
  const owner = new Map<string, string>();
  for (const user of Object.keys(MONDAY)) {
    const listed = await memory.list({ userId: user, limit: 100 });
    for (const record of listed.results) owner.set(record.id, user);
  }
  for (const [user, prompt] of Object.entries(TUESDAY_PROMPTS)) {
    // Exactly what withMemory injects at a session's first prompt: the profile, then what the prompt needs.
    const block = await buildSessionContext(memory, { scope: { userId: user }, prompt, limit: 5 });
    report.users[user] = { prompt, context: block.text, ids: block.includedIds };
  }
  // Every user's own prompts and every other user's stated texts, searched in each scope: nothing may cross.
  for (const user of Object.keys(MONDAY)) {
    const probes = Object.values(MONDAY).flatMap((messages) => messages.map((message) => message.content));
    for (const probe of probes) {
      const { results } = await memory.search(probe, { userId: user, limit: 20 });
      report.checks += 1;
      if (results.some((result) => result.userId !== user || owner.get(result.id) !== user))
        report.isolated = false;
    }
  }
  const said = TUESDAY_CHANGE;
  const change = await memory.add(said, { userId: 'alice', runId: 'tuesday' });
  const first = change.results[0];
  if (!first) throw new MnemeError('the demo statement was not stored', { code: 'demo_failed' });
  const profile = await memory.profile({ userId: 'alice' });
  report.change = {
    said,
    event: first.event,
    previous: first.previous?.memory ?? '(none)',
    profile: profile.items.map((item) => `${item.kind}: ${item.memory}`),
  };
  context.out(JSON.stringify(report));
  return 0;
}

function runChild(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const bin = fileURLToPath(new URL('../../../bin/mneme.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'demo', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout.trim().split('\n').at(-1) ?? '');
      else
        reject(
          new MnemeError(`demo step ${args[1]} failed (exit ${code}): ${stderr.trim()}`, {
            code: 'demo_failed',
          }),
        );
    });
  });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}
