import { NotFoundError } from '../../core/errors.js';
import { formatMemoryLine } from '../format.js';
import { createLookupCommand } from '../lookup-command.js';

/** `mneme get ID` */
export const getCommand = createLookupCommand({
  name: 'get',
  summary: 'show one memory by id',
  missingId: 'give the memory id, e.g. mneme get 1b9d6bcd-...',
  async lookup(memory, id) {
    const record = await memory.get(id);
    if (!record) throw new NotFoundError(`memory ${id} not found`);
    return record;
  },
  toJson: (record) => record,
  toLines: (record) => [formatMemoryLine(record)],
});
