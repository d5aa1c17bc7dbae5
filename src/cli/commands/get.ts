import { NotFoundError } from '../../core/errors.js';
import { type Command, UsageError } from '../command.js';
import { formatMemoryLine } from '../format.js';

/** `mneme get ID` */
export const getCommand: Command = {
  name: 'get',
  summary: 'show one memory by id',
  usage: 'get ID',
  options: {},
  async run(context) {
    const [id] = context.positionals;
    if (!id) throw new UsageError('give the memory id, e.g. mneme get 1b9d6bcd-...');
    const memory = await context.openMemory();
    const record = await memory.get(id);
    if (!record) throw new NotFoundError(`memory ${id} not found`);
    context.out(context.json ? JSON.stringify(record) : formatMemoryLine(record));
    return 0;
  },
};
