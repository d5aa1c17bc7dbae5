import {
  type Command,
  optionalJson,
  optionalString,
  requireScope,
  SCOPE_OPTIONS,
  UsageError,
} from '../command.js';

/** `mneme add --user U [--agent A] [--run R] [--infer|--no-infer] TEXT` */
export const addCommand: Command = {
  name: 'add',
  summary: 'store a memory for a user (or agent/run/app)',
  usage: 'add --user U [--agent A] [--run R] [--app APP] [--infer|--no-infer] [--observed-at ISO] TEXT',
  options: {
    ...SCOPE_OPTIONS,
    infer: { type: 'boolean' },
    'no-infer': { type: 'boolean' },
    'observed-at': { type: 'string' },
    metadata: { type: 'string' },
  },
  async run(context) {
    const scope = requireScope(context);
    const text = context.positionals.join(' ');
    if (text.trim().length === 0)
      throw new UsageError('give the memory text, e.g. mneme add --user alice "I prefer tabs"');
    if (context.values.infer && context.values['no-infer'])
      throw new UsageError('use either --infer or --no-infer');
    const observedAt = optionalString(context, 'observed-at');
    const metadata = optionalJson(
      context,
      'metadata',
      '--metadata must be a JSON object, e.g. --metadata \'{"repo":"api"}\'',
    );
    const memory = await context.openMemory();
    const result = await memory.add(text, {
      ...scope,
      ...(context.values['no-infer'] ? { infer: false } : context.values.infer ? { infer: true } : {}),
      ...(observedAt ? { observedAt } : {}),
      ...(metadata !== undefined ? { metadata: metadata as Record<string, never> } : {}),
    });
    if (context.json) {
      context.out(JSON.stringify(result));
    } else {
      for (const item of result.results) context.out(`${item.event.padEnd(9)} ${item.id}  ${item.memory}`);
      for (const item of result.skipped)
        context.out(`skipped (${item.reason}): ${JSON.stringify(item.text)}`);
    }
    return 0;
  },
};
