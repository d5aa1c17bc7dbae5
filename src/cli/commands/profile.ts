import { type Command, optionalInteger, requireString, scopeFrom } from '../command.js';
import { formatProfileLine } from '../format.js';

/** `mneme profile --user U [--agent A] [--app APP] [--max-tokens N]` */
export const profileCommand: Command = {
  name: 'profile',
  summary: "show a user's standing instructions, preferences and facts (what an agent gets at session start)",
  usage: 'profile --user U [--agent A] [--app APP] [--max-tokens N]',
  options: {
    user: { type: 'string', short: 'u' },
    agent: { type: 'string' },
    app: { type: 'string' },
    'max-tokens': { type: 'string' },
  },
  async run(context) {
    const user = requireString(context, 'user', 'whose profile to show, e.g. mneme profile --user alice');
    const maxTokens = optionalInteger(context, 'max-tokens');
    // The options have no --run: a profile is the user's across sessions.
    const scope = scopeFrom(context);
    const memory = await context.openMemory();
    const profile = await memory.profile(scope, maxTokens === undefined ? {} : { maxTokens });
    if (context.json) {
      context.out(JSON.stringify(profile));
      return 0;
    }
    if (profile.items.length === 0 && profile.omitted === 0) {
      context.out(`no profile for ${user}: no instructions, preferences or facts about the user are stored`);
      return 0;
    }
    context.out(`profile of ${user} (${profile.items.length} items, ${profile.tokens} tokens):`);
    for (const item of profile.items) context.out(formatProfileLine(item));
    if (profile.omitted > 0) {
      context.out(`${profile.omitted} more left out by the budget (raise --max-tokens to see them)`);
    }
    return 0;
  },
};
