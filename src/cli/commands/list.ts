import { type Command, optionalInteger, optionalString, requireScope, scopeReadOptions } from '../command.js';
import { formatMemoryLine } from '../format.js';

/** `mneme list --user U [--limit N] [--cursor C]` */
export const listCommand: Command = {
  name: 'list',
  summary: "list a scope's memories, newest first",
  usage: 'list --user U [--limit N] [--cursor C] [--include-superseded]',
  options: scopeReadOptions({ cursor: { type: 'string' } }),
  async run(context) {
    const scope = requireScope(context);
    const limit = optionalInteger(context, 'limit');
    const cursor = optionalString(context, 'cursor');
    const memory = await context.openMemory();
    const page = await memory.list({
      ...scope,
      ...(limit ? { limit } : {}),
      ...(cursor ? { cursor } : {}),
      ...(context.values['include-superseded'] ? { includeSuperseded: true } : {}),
    });
    if (context.json) context.out(JSON.stringify(page));
    else {
      for (const record of page.results) context.out(formatMemoryLine(record));
      if (page.results.length === 0) context.out('no memories');
      if (page.nextCursor) context.out(`more: --cursor ${page.nextCursor}`);
    }
    return 0;
  },
};
