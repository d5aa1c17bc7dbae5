import { NotFoundError } from '../../core/errors.js';
import type { DeadLetter, MemoryStore } from '../../stores/types.js';
import { type Command, type CommandContext, optionalInteger, UsageError } from '../command.js';
import { formatScope } from '../format.js';

/** Dead letters `queue list` shows by default. */
const LIST_LIMIT = 100;

/**
 * `mneme queue list [--limit N]`, `mneme queue retry ID... | --all`, `mneme queue drop ID... | --all`: the
 * dead letters, ingestion queue items that failed past `ingestion.maxAttempts` and are kept with their error.
 * `retry` puts them back into the queue as fresh items (the next worker, e.g. `mneme serve`, applies them);
 * `drop` deletes them for good.
 */
export const queueCommand: Command = {
  name: 'queue',
  summary: 'list the dead letters (queue items that failed past their retries), retry or drop them',
  usage:
    'queue list [--limit N] | queue retry ID... | queue retry --all | queue drop ID... | queue drop --all',
  options: { limit: { type: 'string', short: 'n' }, all: { type: 'boolean' } },
  async run(context) {
    const [action, ...ids] = context.positionals;
    if (action === 'list') {
      if (ids.length > 0 || context.values.all) throw new UsageError('queue list takes only --limit N');
      const limit = optionalInteger(context, 'limit') ?? LIST_LIMIT;
      const store = (await context.openMemory()).store;
      const [letters, stats] = await Promise.all([store.listDeadLetters({ limit }), store.stats()]);
      if (context.json) {
        context.out(
          JSON.stringify({ queued: stats.queueItems, deadLetters: stats.deadLetters, items: letters }),
        );
        return 0;
      }
      context.out(
        `${stats.queueItems} item${stats.queueItems === 1 ? '' : 's'} queued; ` +
          `${stats.deadLetters} dead letter${stats.deadLetters === 1 ? '' : 's'}`,
      );
      for (const letter of letters) context.out(formatDeadLetter(letter));
      if (stats.deadLetters > letters.length) context.out(`more: --limit ${stats.deadLetters}`);
      return 0;
    }
    if (action === 'retry' || action === 'drop') {
      const store = (await context.openMemory()).store;
      const targets = await chooseTargets(context, store, ids, action);
      const now = new Date().toISOString();
      const missing: string[] = [];
      let done = 0;
      for (const id of targets) {
        try {
          if (action === 'retry') await store.retryDeadLetter({ id, now });
          else await store.deleteDeadLetter({ id });
          done += 1;
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          missing.push(id);
        }
      }
      const verb = action === 'retry' ? 'requeued' : 'dropped';
      if (context.json) context.out(JSON.stringify({ [verb]: done, notFound: missing }));
      else {
        context.out(`${verb} ${done} dead letter${done === 1 ? '' : 's'}`);
        for (const id of missing) context.err(`mneme: no dead letter ${id} (see \`mneme queue list\`)`);
      }
      return missing.length === 0 ? 0 : 1;
    }
    throw new UsageError(`give an action: ${queueCommand.usage}`);
  },
};

/** The ids named on the command line, or with `--all` every dead letter there is now. */
async function chooseTargets(
  context: CommandContext,
  store: MemoryStore,
  ids: string[],
  action: string,
): Promise<string[]> {
  if (context.values.all) {
    if (ids.length > 0) throw new UsageError(`give either ids or --all to queue ${action}, not both`);
    const total = (await store.stats()).deadLetters;
    return (await store.listDeadLetters({ limit: Math.max(total, 1) })).map((letter) => letter.id);
  }
  if (ids.length === 0)
    throw new UsageError(`give the ids to ${action} (from \`mneme queue list\`), or --all`);
  return ids;
}

/** One line per dead letter: id, when it failed, attempts, scope and error. */
function formatDeadLetter(letter: DeadLetter): string {
  return (
    `${letter.id}  ${letter.failedAt}  ${letter.attempts} attempt${letter.attempts === 1 ? '' : 's'}  ` +
    `[${formatScope(letter.scope)}]  ${letter.error}`
  );
}
