import { formatHistoryLine } from '../format.js';
import { createLookupCommand } from '../lookup-command.js';

/** `mneme history ID` */
export const historyCommand = createLookupCommand({
  name: 'history',
  summary: 'show every recorded change to a memory',
  missingId: 'give the memory id',
  lookup: (memory, id) => memory.history(id),
  toJson: (events, id) => ({ id, history: events }),
  toLines: (events, id) => (events.length === 0 ? [`no history for ${id}`] : events.map(formatHistoryLine)),
});
