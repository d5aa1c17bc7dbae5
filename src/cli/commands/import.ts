import { readFile } from 'node:fs/promises';
import { ValidationError } from '../../core/errors.js';
import type { ExportedMemory } from '../../memory/memory.js';
import {
  type Command,
  type CommandContext,
  optionalString,
  requirePositional,
  UsageError,
} from '../command.js';
import { createProgress } from '../progress.js';
import { importMem0 } from './import-mem0.js';

const BATCH = 64;

/**
 * `mneme import FILE`: reads `mneme export` JSONL (or `-` for stdin), with a progress bar on a TTY.
 * `mneme import --from mem0 FILE|URL`: imports a Mem0 OSS store or platform export (import-mem0.ts).
 */
export const importCommand: Command = {
  name: 'import',
  summary: 'import memories from `mneme export` JSONL, or from Mem0 with --from mem0 (idempotent)',
  usage: [
    'import FILE   (FILE may be - for stdin)',
    '       mneme import --from mem0 [--history memory.db] [--app APP] [--dry-run] FILE|URL',
    '         FILE: a Mem0 OSS vector store (default ~/.mem0/vector_store.db) or its directory, or a Mem0',
    '         platform export (JSON array, {"results": [...]} or JSON Lines); URL: an http(s) link to an export',
  ].join('\n'),
  options: {
    from: { type: 'string' },
    history: { type: 'string' },
    app: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  async run(context) {
    const from = optionalString(context, 'from');
    if (from === 'mem0') return importMem0(context);
    if (from !== undefined && from !== 'mneme') {
      throw new UsageError(
        `--from ${from} is not a source mneme imports from: use --from mem0, or leave --from out for \`mneme export\` JSONL`,
      );
    }
    for (const flag of ['history', 'app', 'dry-run']) {
      if (context.values[flag] !== undefined) {
        throw new UsageError(
          `--${flag} applies to --from mem0 only; drop it to import \`mneme export\` JSONL`,
        );
      }
    }
    return importExported(context);
  },
};

async function importExported(context: CommandContext): Promise<number> {
  const file = requirePositional(context, 'give the JSONL file written by `mneme export`');
  const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  const items: ExportedMemory[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim().length === 0) return;
    try {
      items.push(JSON.parse(line) as ExportedMemory);
    } catch {
      throw new ValidationError(
        `line ${index + 1}`,
        'is not valid JSON; expected one exported memory per line',
      );
    }
  });
  const memory = await context.openMemory();
  const progress = context.json ? undefined : createProgress(context, { label: 'import' });
  let imported = 0;
  let skipped = 0;
  for (let start = 0; start < items.length; start += BATCH) {
    const result = await memory.importMemories(items.slice(start, start + BATCH));
    imported += result.imported;
    skipped += result.skipped;
    progress?.update(Math.min(items.length, start + BATCH), items.length);
  }
  progress?.finish();
  const summary = { imported, skipped, total: items.length };
  context.out(
    context.json ? JSON.stringify(summary) : `imported ${imported}, skipped ${skipped} already present`,
  );
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
