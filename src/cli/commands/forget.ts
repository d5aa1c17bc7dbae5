import { type Command, requireScope, SCOPE_OPTIONS, UsageError } from '../command.js';

/** `mneme forget ID` or `mneme forget --user U --all` */
export const forgetCommand: Command = {
  name: 'forget',
  summary: 'delete one memory, or erase a whole scope with --all',
  usage: 'forget ID | forget --user U --all',
  options: { ...SCOPE_OPTIONS, all: { type: 'boolean' } },
  async run(context) {
    if (context.values.all) {
      if (context.positionals.length > 0)
        throw new UsageError('give either an id or --all with a scope, not both');
      const scope = requireScope(context);
      const memory = await context.openMemory();
      const { deleted } = await memory.deleteAll(scope);
      context.out(context.json ? JSON.stringify({ deleted }) : `erased ${deleted} memories`);
      return 0;
    }
    const [id] = context.positionals;
    if (!id) throw new UsageError('give a memory id, or --user U --all to erase a user');
    const memory = await context.openMemory();
    await memory.delete(id);
    context.out(context.json ? JSON.stringify({ id, deleted: true }) : `deleted ${id}`);
    return 0;
  },
};
