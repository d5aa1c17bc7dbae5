/**
 * `mneme import --from mem0 FILE|URL`: the CLI shell of `importFromMem0` (import/mem0.ts). Progress and every
 * row not imported go to stderr; the summary to stdout (one JSON document with --json). Exit code 1 when any
 * row was bad (the good rows are imported; fix the rest and rerun: the import is idempotent).
 */
import {
  importFromMem0,
  type Mem0ImportOptions,
  type Mem0ImportReport,
  planMem0Import,
} from '../../import/mem0.js';
import { type CommandContext, optionalString, requirePositional, UsageError } from '../command.js';
import { createProgress } from '../progress.js';

/** Runs the Mem0 import for `context` (flags --history, --app, --dry-run; one positional FILE|URL). */
export async function importMem0(context: CommandContext): Promise<number> {
  const source = requirePositional(
    context,
    'give the Mem0 source: `mneme import --from mem0 ~/.mem0/vector_store.db --history ./memory.db`, ' +
      'or a platform export file or URL',
  );
  if (context.positionals.length > 1) {
    throw new UsageError(
      `give one Mem0 source, got ${context.positionals.length}; pass the history DB with --history FILE`,
    );
  }
  const history = optionalString(context, 'history');
  const appId = optionalString(context, 'app');
  if (history === '') throw new UsageError("--history needs a file: Mem0's history DB (memory.db)");
  if (appId === '') throw new UsageError('--app needs an app id, e.g. --app myapp');
  const options: Mem0ImportOptions = {
    ...(history !== undefined ? { history } : {}),
    ...(appId !== undefined ? { appId } : {}),
  };
  const dryRun = context.values['dry-run'] === true;
  let report: Mem0ImportReport;
  if (dryRun) {
    // A dry run never opens the store, so not even an empty store file is created.
    report = (await planMem0Import(source, { ...options, dryRun: true })).report;
  } else {
    const memory = await context.openMemory();
    const progress = createProgress(context, { label: 'import', lines: true });
    report = await importFromMem0(memory, source, {
      ...options,
      onProgress: ({ done, total }) => progress.update(done, total),
    });
    progress.finish();
  }
  for (const row of report.bad) context.err(`mneme: not imported: ${row.at}: ${row.reason}`);
  if (report.deleted.length > 0) {
    context.err(
      `mneme: not imported: ${report.deleted.length} memories deleted in Mem0 (${report.deleted.join(', ')}): ` +
        'Mem0 keeps only their history, without a user, agent or run to scope them',
    );
  }
  context.out(context.json ? JSON.stringify(report) : summarise(report));
  if (report.bad.length > 0) {
    context.err(
      `mneme: ${report.bad.length} bad rows (listed above) were not imported; fix them in the source and rerun ` +
        '(memories already imported are skipped)',
    );
    return 1;
  }
  return 0;
}

function summarise(report: Mem0ImportReport): string {
  const found =
    `${report.memories} memories of ${report.users} users (${report.agents} agents, ${report.runs} runs) ` +
    `with ${report.historyEvents} history events from ${report.source}` +
    (report.history ? ` and ${report.history}` : '');
  const rest = `${report.bad.length} bad rows, ${report.deleted.length} deleted in Mem0`;
  if (report.dryRun) return `dry run, nothing written: would import ${found}; ${rest}`;
  return `imported ${report.imported} of ${found}, ${report.alreadyPresent} already present; ${rest}`;
}
