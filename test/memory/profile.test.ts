/**
 * The user profile (src/memory/profile.ts) and the session block built from it (src/memory/session-context.ts),
 * through the real Memory service on the in-memory store: what is in the profile, in which order, within which
 * budget, and that the block never gives one memory twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROFILE_HEADING, RELEVANT_HEADING } from '../../src/core/context.js';
import { normaliseText } from '../../src/core/text.js';
import type { MemoryRecord } from '../../src/core/types.js';
import { assembleProfile, PINNED_KEY } from '../../src/memory/profile.js';
import { buildSessionContext } from '../../src/memory/session-context.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

const alice = { userId: 'alice' };

function record(
  id: string,
  kind: MemoryRecord['kind'],
  memory: string,
  updatedAt: string,
  extra: Partial<MemoryRecord> = {},
): MemoryRecord {
  return {
    id,
    memory,
    kind,
    hash: id,
    role: 'user',
    metadata: {},
    createdAt: updatedAt,
    updatedAt,
    observedAt: updatedAt,
    userId: 'alice',
    ...extra,
  } as MemoryRecord;
}

describe('assembleProfile', () => {
  test('pinned first, then kinds in turn (instruction, preference, user_fact), newest first in each', () => {
    const profile = assembleProfile(
      [
        record('p1', 'preference', 'I prefer tabs.', '2026-01-01T00:00:00Z'),
        record('p2', 'preference', 'I like dark mode.', '2026-01-03T00:00:00Z'),
        record('i1', 'instruction', 'Always answer in English.', '2026-01-02T00:00:00Z'),
        record('f1', 'user_fact', 'I live in Lisbon.', '2026-01-04T00:00:00Z'),
        record('x1', 'message', 'A pinned note about the billing parser.', '2026-01-01T00:00:00Z', {
          metadata: { [PINNED_KEY]: true },
        }),
      ],
      400,
    );
    assert.deepEqual(
      profile.items.map((item) => item.id),
      ['x1', 'i1', 'p2', 'p1', 'f1'],
    );
    assert.equal(profile.items[0]?.pinned, true);
    assert.equal(profile.omitted, 0);
    assert.ok(profile.tokens > 0);
  });

  test('duplicates (same text, or the same words in another order) keep only the newest', () => {
    const profile = assembleProfile(
      [
        record('old', 'preference', 'I prefer tabs for indentation.', '2026-01-01T00:00:00Z'),
        record('new', 'preference', 'i prefer TABS for indentation', '2026-01-05T00:00:00Z'),
        record('shuffled', 'preference', 'For indentation I prefer tabs.', '2026-01-02T00:00:00Z'),
      ],
      400,
    );
    assert.deepEqual(
      profile.items.map((item) => item.id),
      ['new'],
    );
  });

  test('the budget is shared fairly: one long kind cannot crowd out the others; omitted counts what was cut', () => {
    const tools =
      'ant bazel cargo dune esbuild fastlane gradle hatch ivy jake kbuild lerna maven nx ocamlbuild pants quasar rake scons tup uv vite waf xmake yarn zig bun deno mise pnpm'.split(
        ' ',
      );
    const preferences = tools.map((tool, index) =>
      record(
        `p${index}`,
        'preference',
        `I prefer ${tool} for the build tooling of my side projects.`,
        `2026-01-${String(index + 1).padStart(2, '0')}T00:00:00Z`,
      ),
    );
    const profile = assembleProfile(
      [...preferences, record('f1', 'user_fact', 'I live in Lisbon.', '2025-01-01T00:00:00Z')],
      120,
    );
    assert.ok(
      profile.items.some((item) => item.id === 'f1'),
      'the only fact was crowded out',
    );
    assert.ok(profile.tokens <= 120, `tokens ${profile.tokens}`);
    assert.equal(profile.omitted, 31 - profile.items.length);
    assert.ok(profile.omitted > 0);
    // Newest preference first.
    assert.equal(profile.items.find((item) => item.kind === 'preference')?.id, 'p29');
  });
});

describe('memory.profile and buildSessionContext', () => {
  test('standing memories only, superseded ones left out; the block has the profile first and never repeats it', async () => {
    const { memory, advance } = await createMemoryFixture();
    await memory.add('I prefer tabs for indentation in every project.', alice);
    advance(60_000);
    await memory.add('The billing parser reads CSV exports from the bank.', alice);
    advance(60_000);
    await memory.add('I switched from tabs to spaces for indentation.', alice);
    advance(60_000);
    await memory.add('Always write commit messages in the imperative mood.', alice);
    await memory.add('I prefer dark roast coffee.', { userId: 'bob' });

    const profile = await memory.profile(alice);
    const texts = profile.items.map((item) => item.memory);
    assert.deepEqual(texts, [
      'Always write commit messages in the imperative mood.',
      'I switched from tabs to spaces for indentation.',
    ]);
    assert.deepEqual(
      profile.items.map((item) => item.kind),
      ['instruction', 'preference'],
    );

    const context = await buildSessionContext(memory, {
      scope: alice,
      prompt: 'Fix the billing parser CSV bug.',
    });
    const profileAt = context.text.indexOf(PROFILE_HEADING);
    const relevantAt = context.text.indexOf(RELEVANT_HEADING);
    assert.ok(profileAt > 0 && relevantAt > profileAt, context.text);
    assert.ok(context.text.slice(relevantAt).includes('billing parser reads CSV'));
    assert.ok(
      !context.text.includes('prefer tabs for indentation in every project'),
      'superseded memory given',
    );
    assert.ok(!context.text.includes('coffee'), "bob's memory reached alice");
    assert.equal(new Set(context.includedIds).size, context.includedIds.length, 'one memory given twice');

    // The second prompt of the session: no profile, and nothing already given comes again.
    const already = new Set(context.includedTexts.map((text) => normaliseText(text)));
    const next = await buildSessionContext(memory, {
      scope: alice,
      prompt: 'Now the billing parser again, and the indentation of the CSV module.',
      includeProfile: false,
      alreadyInjected: already,
      explain: true,
    });
    assert.ok(!next.text.includes(PROFILE_HEADING));
    for (const text of context.includedTexts)
      assert.ok(!next.text.includes(JSON.stringify(text)), `${text} given twice`);
    assert.ok(next.relevant.some((entry) => entry.reason === 'already_injected'));
  });

  test('explain reports why candidates were left out; budgets are validated by name', async () => {
    const { memory, advance } = await createMemoryFixture();
    for (let index = 0; index < 12; index += 1) {
      await memory.add(`The billing parser step ${index} normalises the bank CSV column ${index}.`, alice);
      advance(1000);
    }
    const context = await buildSessionContext(memory, {
      scope: alice,
      prompt: 'billing parser bank CSV column',
      limit: 3,
      explain: true,
    });
    assert.equal(context.relevant.filter((entry) => entry.included).length, 3);
    assert.ok(context.relevant.some((entry) => entry.reason === 'limit'));
    await assert.rejects(
      buildSessionContext(memory, { scope: alice, prompt: 'x', profileTokens: 0 }),
      (error: Error) => /profileTokens/.test(error.message),
    );
    await assert.rejects(
      buildSessionContext(memory, { scope: alice, prompt: 'x', threshold: 2 }),
      (error: Error) => /threshold/.test(error.message),
    );
  });
});
