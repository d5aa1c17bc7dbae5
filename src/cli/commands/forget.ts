import { type Command, requirePositional, requireScope, SCOPE_OPTIONS, UsageError } from '../command.js';

/**
 * `mneme forget ID` erases one memory (no text stays behind, history included; an ERASE tombstone remains),
 * `mneme forget ID --soft` deletes it keeping its last text in a DELETE history event, and
 * `mneme forget --user U --all` erases a whole scope.
 */
export const forgetCommand: Command = {
  name: 'forget',
  summary: 'erase one memory (--soft: delete, keeping its history text), or a whole scope with --all',
  usage: 'forget ID [--soft] | forget --user U --all',
  options: { ...SCOPE_OPTIONS, all: { type: 'boolean' }, soft: { type: 'boolean' } },
  async run(context) {
    if (context.values.all) {
      if (context.positionals.length > 0)
        throw new UsageError('give either an id or --all with a scope, not both');
      if (context.values.soft) throw new UsageError('--all always erases: --soft applies to one id only');
      const scope = requireScope(context);
      const memory = await context.openMemory();
      const { deleted } = await memory.deleteAll(scope);
      context.out(context.json ? JSON.stringify({ deleted }) : `erased ${deleted} memories`);
      return 0;
    }
    const id = requirePositional(context, 'give a memory id, or --user U --all to erase a user');
    const memory = await context.openMemory();
    const soft = context.values.soft === true;
    await (soft ? memory.delete(id) : memory.erase(id));
    context.out(
      context.json
        ? JSON.stringify({ id, deleted: true, erased: !soft })
        : `${soft ? 'deleted' : 'erased'} ${id}`,
    );
    return 0;
  },
};
