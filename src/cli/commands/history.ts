import { type Command, UsageError } from '../command.js';
import { formatHistoryLine } from '../format.js';

/** `mneme history ID` */
export const historyCommand: Command = {
  name: 'history',
  summary: 'show every recorded change to a memory',
  usage: 'history ID',
  options: {},
  async run(context) {
    const [id] = context.positionals;
    if (!id) throw new UsageError('give the memory id');
    const memory = await context.openMemory();
    const events = await memory.history(id);
    if (context.json) context.out(JSON.stringify({ id, history: events }));
    else if (events.length === 0) context.out(`no history for ${id}`);
    else for (const event of events) context.out(formatHistoryLine(event));
    return 0;
  },
};
