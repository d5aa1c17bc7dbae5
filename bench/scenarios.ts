/**
 * `npm run bench -- scenarios [--quick] [--json] [--mode offline|llm|relevance_only|both|all]`: the memory stories
 * (bench/data/memory-stories.ts) through the real Claude Agent SDK with `withMemory` (bench/scenarios/run-stories.ts),
 * without an LLM and with the scripted planner model (`both`, the default), and with `all` also the baseline of
 * relevance-only injection (no profile). Prints the pass count per theme and every failing story with
 * what was missing or unwanted in the block the model received. `--quick` runs every fourth story.
 */
import { MEMORY_STORIES } from './data/memory-stories.js';
import { runStories, type StoryMode, type StoryOutcome } from './scenarios/run-stories.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { log } from './support/progress.js';
import { markdownTable } from './support/table.js';

export interface ScenariosBenchResult {
  machine: string;
  date: string;
  stories: number;
  modes: Partial<Record<StoryMode, { passed: number; failed: string[] }>>;
}

export async function runScenariosBench(options: {
  quick?: boolean;
  modes?: StoryMode[];
}): Promise<ScenariosBenchResult> {
  const stories = options.quick ? MEMORY_STORIES.filter((_, index) => index % 4 === 0) : MEMORY_STORIES;
  const modes = options.modes ?? ['offline', 'llm'];
  const machine = describeMachine(machineInfo());
  log(`scenarios: ${stories.length} stories x ${modes.join(', ')} (${machine})`);
  const result: ScenariosBenchResult = {
    machine,
    date: new Date().toISOString().slice(0, 10),
    stories: stories.length,
    modes: {},
  };
  const outcomesByMode = new Map<StoryMode, StoryOutcome[]>();
  for (const mode of modes) {
    const outcomes = await runStories(stories, {
      mode,
      onOutcome: (outcome) =>
        log(`  ${mode} ${outcome.id} ${outcome.passed ? 'pass' : 'FAIL'} (${outcome.ms} ms)`),
    });
    outcomesByMode.set(mode, outcomes);
    result.modes[mode] = {
      passed: outcomes.filter((item) => item.passed).length,
      failed: outcomes.filter((item) => !item.passed).map((item) => item.id),
    };
  }
  process.stdout.write(
    `${report(
      stories.map((story) => story.theme),
      outcomesByMode,
    )}\n`,
  );
  return result;
}

function report(themes: string[], outcomesByMode: Map<StoryMode, StoryOutcome[]>): string {
  const modes = [...outcomesByMode.keys()];
  const rows = [...new Set(themes)].map((theme) => [
    theme,
    ...modes.map((mode) => {
      const ofTheme = (outcomesByMode.get(mode) ?? []).filter((item) => item.theme === theme);
      return `${ofTheme.filter((item) => item.passed).length}/${ofTheme.length}`;
    }),
  ]);
  rows.push([
    'all',
    ...modes.map((mode) => {
      const outcomes = outcomesByMode.get(mode) ?? [];
      return `${outcomes.filter((item) => item.passed).length}/${outcomes.length}`;
    }),
  ]);
  const failures = modes.flatMap((mode) =>
    (outcomesByMode.get(mode) ?? [])
      .filter((item) => !item.passed)
      .map(
        (item) =>
          `- ${mode} ${item.id} (${item.theme}): missing ${JSON.stringify(item.missing)}, unwanted ${JSON.stringify(item.unwanted)}${item.problems.length > 0 ? `, problems ${JSON.stringify(item.problems)}` : ''}`,
      ),
  );
  return [
    markdownTable(['theme', ...modes.map((mode) => `passed (${mode})`)], rows),
    '',
    failures.length > 0 ? `failing stories:\n${failures.join('\n')}` : 'every story passed',
  ].join('\n');
}
