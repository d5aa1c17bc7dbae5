import type { ExportedMemory } from '../../memory/memory.js';
import { type Command, requireScope, SCOPE_OPTIONS } from '../command.js';

/** `mneme export --user U`: JSONL on stdout, one memory with its history per line. */
export const exportCommand: Command = {
  name: 'export',
  summary: "write a scope's memories with history as JSONL to stdout",
  usage: 'export --user U [--agent A] [--run R] [--app APP] > memories.jsonl',
  options: { ...SCOPE_OPTIONS },
  async run(context) {
    const scope = requireScope(context);
    const memory = await context.openMemory();
    const all: ExportedMemory[] = [];
    for await (const item of memory.exportMemories(scope)) {
      if (context.json) all.push(item);
      else context.out(JSON.stringify(item));
    }
    if (context.json) context.out(JSON.stringify({ memories: all }));
    return 0;
  },
};
