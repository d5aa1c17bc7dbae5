import { readFile } from 'node:fs/promises';
import { ValidationError } from '../../core/errors.js';
import type { ExportedMemory } from '../../memory/memory.js';
import { type Command, requirePositional } from '../command.js';

const BATCH = 64;

/** `mneme import FILE`: reads `mneme export` JSONL (or `-` for stdin), with a progress bar on a TTY. */
export const importCommand: Command = {
  name: 'import',
  summary: 'import memories from `mneme export` JSONL (idempotent)',
  usage: 'import FILE   (FILE may be - for stdin)',
  options: {},
  async run(context) {
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
    let imported = 0;
    let skipped = 0;
    for (let start = 0; start < items.length; start += BATCH) {
      const result = await memory.importMemories(items.slice(start, start + BATCH));
      imported += result.imported;
      skipped += result.skipped;
      if (context.isTTY && !context.json) drawProgress(Math.min(items.length, start + BATCH), items.length);
    }
    if (context.isTTY && !context.json) context.err('');
    const summary = { imported, skipped, total: items.length };
    context.out(
      context.json ? JSON.stringify(summary) : `imported ${imported}, skipped ${skipped} already present`,
    );
    return 0;
  },
};

// Redraws one stderr line in place; only on a TTY.
function drawProgress(done: number, total: number): void {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
