/**
 * The frame of a command `mneme NAME ID` that looks one memory's record or history up and prints it: the id is
 * required (a usage error otherwise), the memory is opened only once the id is there, and the result is printed
 * as one JSON document with --json, else as lines.
 */
import type { Memory } from '../memory/memory.js';
import { type Command, type CommandContext, requirePositional } from './command.js';

/** What a lookup command does with the id; the frame does the rest. */
export interface LookupCommandOptions<Found> {
  name: string;
  summary: string;
  /** The usage error when no id is given. */
  missingId: string;
  /** Reads what the command shows; throws NotFoundError (exit 1) when there is nothing to show. */
  lookup: (memory: Memory, id: string) => Promise<Found>;
  /** The JSON document printed with --json. */
  toJson: (found: Found, id: string) => unknown;
  /** The lines printed without --json. */
  toLines: (found: Found, id: string) => string[];
}

/** Builds a `NAME ID` command from what it looks up and how it prints it. */
export function createLookupCommand<Found>(options: LookupCommandOptions<Found>): Command {
  return {
    name: options.name,
    summary: options.summary,
    usage: `${options.name} ID`,
    options: {},
    async run(context: CommandContext) {
      const id = requirePositional(context, options.missingId);
      const memory = await context.openMemory();
      const found = await options.lookup(memory, id);
      if (context.json) context.out(JSON.stringify(options.toJson(found, id)));
      else for (const line of options.toLines(found, id)) context.out(line);
      return 0;
    },
  };
}
