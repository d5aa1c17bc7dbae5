import {
  type Command,
  optionalInteger,
  optionalJson,
  optionalString,
  requireScope,
  scopeReadOptions,
  UsageError,
} from '../command.js';
import { formatSearchLine } from '../format.js';

/** `mneme search --user U [--limit N] QUERY` */
export const searchCommand: Command = {
  name: 'search',
  summary: 'hybrid search of a scope, with per-signal scores',
  usage: 'search --user U [--limit N] [--threshold X] [--filters JSON] [--as-of ISO] QUERY',
  options: scopeReadOptions({
    threshold: { type: 'string' },
    filters: { type: 'string' },
    'as-of': { type: 'string' },
  }),
  async run(context) {
    const scope = requireScope(context);
    const query = context.positionals.join(' ');
    if (query.trim().length === 0)
      throw new UsageError('give a query, e.g. mneme search --user alice "code style"');
    const limit = optionalInteger(context, 'limit');
    const thresholdText = optionalString(context, 'threshold');
    const threshold = thresholdText === undefined ? undefined : Number(thresholdText);
    if (threshold !== undefined && Number.isNaN(threshold))
      throw new UsageError('--threshold must be a number from 0 to 1');
    const filters = optionalJson(
      context,
      'filters',
      '--filters must be JSON, e.g. --filters \'{"metadata.repo":"api"}\'',
    );
    const asOf = optionalString(context, 'as-of');
    const memory = await context.openMemory();
    const { results } = await memory.search(query, {
      ...scope,
      ...(limit ? { limit } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(filters !== undefined ? { filters } : {}),
      ...(asOf ? { asOf } : {}),
      ...(context.values['include-superseded'] ? { includeSuperseded: true } : {}),
    });
    if (context.json) context.out(JSON.stringify({ results }));
    else if (results.length === 0) context.out('no memories found');
    else for (const result of results) context.out(formatSearchLine(result));
    return 0;
  },
};
