/**
 * Seeds a store with `count` synthetic memories spread over `users` users (`user-0` ... `user-{users-1}`, app
 * `bench`) through the store seam (`store.restore`), so seeding takes seconds instead of minutes of embedding.
 *
 * Each memory is one of {@link SEED_TEMPLATES} plus `(note <index>)`; its vector is that template's real embedding
 * (from `memory.embedder`) plus uniform noise (±0.025 per component, a fixed-seed generator), renormalised. The same
 * inputs give the same texts and vectors; ids are random. Used by the `http` and `soak` suites.
 */
import { normaliseVector } from '../../src/embedders/types.js';
import type { createMemory } from '../../src/memory/memory.js';
import { messageRecord } from './message-record.js';

/** The sentences seeded memories are made of. */
export const SEED_TEMPLATES: readonly string[] = [
  'I prefer tabs over spaces in Go code',
  'My favourite database is PostgreSQL with pgvector',
  'Deploys happen every Tuesday after the standup',
  'I am allergic to peanuts and shellfish',
  'Our billing service is written in Rust',
  'I like long, detailed code review comments with examples',
  'The staging cluster runs on Kubernetes in eu-west-1',
  'I drink green tea in the morning, never coffee',
];

/** Writes the memories in batches of 1,000. */
export async function seedTemplateMemories(
  memory: Awaited<ReturnType<typeof createMemory>>,
  count: number,
  users: number,
): Promise<void> {
  const vectors = await memory.embedder.embed({ texts: [...SEED_TEMPLATES], purpose: 'document' });
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let state = 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let offset = 0; offset < count; offset += 1000) {
    const items = [];
    for (let index = offset; index < Math.min(count, offset + 1000); index += 1) {
      const template = index % SEED_TEMPLATES.length;
      const base = vectors[template] ?? new Float32Array(memory.embedder.dimension);
      const embedding = normaliseVector(Float32Array.from(base, (value) => value + (random() - 0.5) * 0.05));
      const text = `${SEED_TEMPLATES[template]} (note ${index})`;
      const at = new Date(start + index * 60_000).toISOString();
      const record = messageRecord(text, `user-${index % users}`, at, { appId: 'bench' });
      items.push({ record, embedding, history: [] });
    }
    await memory.store.restore({ items });
  }
}
