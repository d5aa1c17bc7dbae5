/**
 * One user's memories for the profile tests of every surface: standing memories of each profile kind, a
 * preference that a later statement supersedes, and a plain message; added through the real no-LLM pipeline, one
 * second apart on the memory's clock, so "newest first" is well defined.
 */
import assert from 'node:assert/strict';
import type { MemoryKind, Scope } from '../../src/core/types.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';

export interface ProfileSeed {
  /** The profile's items as `[kind, text]`, in the order the profile must give them. */
  expected: Array<[MemoryKind, string]>;
  /** The superseded preference (never in the profile). */
  superseded: string;
  /** A plain `message`-kind memory (never in the profile). */
  message: string;
}

const SUPERSEDED = 'I prefer tabs over spaces in Go code';
const MESSAGE = 'The build broke yesterday afternoon';
const ADDED: Array<[MemoryKind, string]> = [
  ['preference', SUPERSEDED],
  ['instruction', 'Always write commit messages in English'],
  ['user_fact', 'I live in Lisbon'],
  ['message', MESSAGE],
  ['preference', 'I switched from tabs to spaces in Go code'],
  ['instruction', 'Never use inline comments'],
  ['user_fact', 'I am a vegetarian'],
];

/** Adds the seed memories to `scope`, calling `advance(1000)` before each one. */
export async function seedProfile(
  memory: Memory,
  scope: Scope,
  advance: (ms: number) => void,
): Promise<ProfileSeed> {
  for (const [kind, text] of ADDED) {
    advance(1000);
    const { results } = await memory.add(text, { ...scope, infer: false });
    const id = results[0]?.id;
    assert.ok(id, `seed "${text}" was stored`);
    assert.equal((await memory.get(id))?.kind, kind, `seed "${text}" is a ${kind}`);
  }
  const current = await memory.list({ ...scope, limit: 100 });
  assert.ok(
    !current.results.some((record) => record.memory === SUPERSEDED),
    'the old preference is superseded',
  );
  return {
    // Grouped instruction, preference, user_fact; newest first within each.
    expected: [
      ['instruction', 'Never use inline comments'],
      ['instruction', 'Always write commit messages in English'],
      ['preference', 'I switched from tabs to spaces in Go code'],
      ['user_fact', 'I am a vegetarian'],
      ['user_fact', 'I live in Lisbon'],
    ],
    superseded: SUPERSEDED,
    message: MESSAGE,
  };
}

/**
 * Seeds the SQLite file at `url` from this process with the default embedder and no LLM (what the CLI uses), on
 * a clock an hour in the past, then closes it so another process can open the file.
 */
export async function seedProfileFile(url: string, scope: Scope): Promise<ProfileSeed> {
  let now = Date.now() - 3_600_000;
  const memory = await createMemory({ store: url, llm: null, env: {}, clock: () => new Date(now) });
  try {
    return await seedProfile(memory, scope, (ms) => {
      now += ms;
    });
  } finally {
    await memory.close();
  }
}
