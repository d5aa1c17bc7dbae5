/**
 * The house drawing of docs/architecture.md, checked: every relative import in src/ goes from a room to itself
 * or to a room below it (the ALLOWED table, the same as the doc's), and no chain of imports between files comes
 * back to where it started. A change that adds an arrow running back up, or a circle, fails here with the file
 * and the import named.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Room -> the rooms it may import (besides itself). `index` is src/index.ts, the package's front door. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  embedders: ['core'],
  llm: ['core'],
  stores: ['core'],
  sessions: ['core'],
  ingest: ['core', 'embedders', 'llm', 'stores'],
  memory: ['core', 'embedders', 'ingest', 'llm', 'stores'],
  integrations: ['core', 'memory'],
  mcp: ['core', 'memory'],
  server: ['core', 'memory', 'stores'],
  import: ['core', 'memory'],
  console: ['core', 'server'],
  cli: ['console', 'core', 'embedders', 'import', 'integrations', 'mcp', 'memory', 'server', 'stores'],
  index: ['core', 'embedders', 'import', 'ingest', 'llm', 'memory', 'stores'],
};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function roomOf(file: string): string {
  const [first, second] = relative(SRC, file).split('/');
  return second === undefined ? (first ?? '').replace(/\.ts$/, '') : (first ?? '');
}

/** Relative imports of a file (static `from '...'` and dynamic `import('...')`), resolved to .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map(
    (match) => match[1] ?? '',
  );
  return specifiers.map((specifier) => normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

test('every room imports only itself and the rooms below it', () => {
  const wrong: string[] = [];
  for (const [file, imports] of graph) {
    const room = roomOf(file);
    const allowed = ALLOWED[room];
    assert.ok(
      allowed,
      `src/${relative(SRC, file)} is in a room the drawing does not know: add it to ALLOWED`,
    );
    for (const target of imports) {
      const targetRoom = roomOf(target);
      if (targetRoom !== room && !allowed.includes(targetRoom)) {
        wrong.push(
          `src/${relative(SRC, file)} imports src/${relative(SRC, target)} (${room} -> ${targetRoom})`,
        );
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import chain between files comes back to where it started', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((step) => relative(SRC, step)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('the checker sees the imports it judges (a known arrow is found)', () => {
  const memory = join(SRC, 'memory', 'memory.ts');
  assert.ok(
    graph.get(memory)?.includes(join(SRC, 'stores', 'types.ts')),
    'memory.ts imports stores/types.ts',
  );
  assert.equal(roomOf(join(SRC, 'index.ts')), 'index');
});
