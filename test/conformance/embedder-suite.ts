/**
 * The shared conformance suite for the Embedder seam (src/embedders/types.ts). Every backend runs it from a
 * three-line test file:
 *
 * ```ts
 * embedderSuite({ name: 'LocalEmbedder', make: () => new LocalEmbedder(), semantic: true });
 * ```
 *
 * It checks the contract: metadata, one unit-length vector of `dimension` finite numbers per text, input order,
 * determinism (across calls and within a batch), empty input, batches larger than `maxBatchSize`, awkward text
 * (empty, whitespace, emoji, other scripts, very long), both purposes, an aborted signal, idempotent close, and,
 * only for backends that declare `semantic: true`, that related sentences score higher than unrelated ones.
 *
 * One embedder serves the whole suite (created in `before`, closed in `after`), so a model loads once; the
 * close test makes its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EmbedderError } from '../../src/core/errors.js';
import type { Embedder } from '../../src/embedders/types.js';

/** Options for {@link embedderSuite}. */
export interface EmbedderSuiteOptions {
  /** Shown in test names. */
  name: string;
  /** Creates a fresh, unused embedder. */
  make: () => Embedder | Promise<Embedder>;
  /** True when vectors carry meaning (a real model); enables the semantic checks. @default false */
  semantic?: boolean;
  /** Expected `dimension`, when the runner knows it. */
  dimension?: number;
  /** Skip the whole suite with this printed reason (e.g. a missing server URL). */
  skip?: string;
}

/** Cosine similarity of two unit vectors (their dot product). */
export function cosine(left: Float32Array, right: Float32Array): number {
  assert.equal(left.length, right.length, 'vectors of different lengths');
  let sum = 0;
  for (let index = 0; index < left.length; index += 1) sum += (left[index] ?? 0) * (right[index] ?? 0);
  return sum;
}

function norm(vector: Float32Array): number {
  return Math.sqrt(cosine(vector, vector));
}

/** Asserts two vectors are the same up to float noise (batching may reorder float sums). */
function assertSameVector(
  actual: Float32Array | undefined,
  expected: Float32Array | undefined,
  what: string,
): void {
  assert.ok(actual !== undefined && expected !== undefined, `${what}: missing vector`);
  assert.ok(cosine(actual, expected) > 0.9999, `${what}: cosine ${cosine(actual, expected)} is not ~1`);
}

function assertVectors(embedder: Embedder, vectors: Float32Array[], count: number): void {
  assert.equal(vectors.length, count, 'one vector per input text');
  vectors.forEach((vector, index) => {
    assert.ok(vector instanceof Float32Array, `vector ${index} is a Float32Array`);
    assert.equal(vector.length, embedder.dimension, `vector ${index} has length dimension`);
    assert.ok(
      vector.every((value) => Number.isFinite(value)),
      `vector ${index} has only finite values`,
    );
    assert.ok(Math.abs(norm(vector) - 1) < 1e-4, `vector ${index} is L2-normalised (norm ${norm(vector)})`);
  });
}

const SENTENCES = [
  'The user prefers dark roast coffee in the morning.',
  'Our quarterly tax report is due at the end of March.',
  'My daughter plays the violin in the school orchestra.',
  'Deploy the billing service with the blue-green strategy.',
  'I am allergic to peanuts and shellfish.',
];

/** Runs the Embedder conformance suite as a `describe` block. */
export function embedderSuite(options: EmbedderSuiteOptions): void {
  const describeOptions = options.skip === undefined ? {} : { skip: options.skip };
  describe(`Embedder conformance: ${options.name}`, describeOptions, () => {
    let shared: Embedder | undefined;
    const embedder = (): Embedder => {
      assert.ok(shared !== undefined, 'the embedder was not created');
      return shared;
    };
    const embed = (texts: string[], purpose: 'document' | 'query' = 'document'): Promise<Float32Array[]> =>
      embedder().embed({ texts, purpose });

    before(async () => {
      shared = await options.make();
    });
    after(async () => {
      await shared?.close();
    });

    test('declares a non-empty id, a positive dimension and a positive maxBatchSize', () => {
      const { id, dimension, maxBatchSize } = embedder();
      assert.equal(typeof id, 'string');
      assert.match(id, /^\S+$/, 'id is non-empty without spaces');
      assert.ok(Number.isInteger(dimension) && dimension > 0, `dimension ${dimension}`);
      assert.ok(Number.isInteger(maxBatchSize) && maxBatchSize > 0, `maxBatchSize ${maxBatchSize}`);
      if (options.dimension !== undefined) assert.equal(dimension, options.dimension);
    });

    test('returns one unit-length vector of `dimension` finite numbers per text', async () => {
      assertVectors(embedder(), await embed(SENTENCES), SENTENCES.length);
    });

    test('an empty texts array returns an empty array', async () => {
      assert.deepEqual(await embed([]), []);
    });

    test('preserves input order (a batch equals the texts embedded one by one)', async () => {
      const batch = await embed(SENTENCES);
      const reversed = await embed([...SENTENCES].reverse());
      for (const [index, text] of SENTENCES.entries()) {
        const [alone] = await embed([text]);
        assertSameVector(batch[index], alone, `text ${index} in a batch vs alone`);
        assertSameVector(reversed[SENTENCES.length - 1 - index], alone, `text ${index} in a reversed batch`);
      }
    });

    test('distinct texts get distinct vectors', async () => {
      const vectors = await embed(SENTENCES);
      for (let left = 0; left < vectors.length; left += 1) {
        for (let right = left + 1; right < vectors.length; right += 1) {
          const similarity = cosine(
            vectors[left] ?? new Float32Array(),
            vectors[right] ?? new Float32Array(),
          );
          assert.ok(similarity < 0.99, `texts ${left} and ${right} embed alike (cosine ${similarity})`);
        }
      }
    });

    test('is deterministic across calls and for duplicates within a batch', async () => {
      const text = 'Remember that the staging database moved to a new host.';
      const [first] = await embed([text]);
      const [second] = await embed([text]);
      assertSameVector(first, second, 'same text, two calls');
      const [left, , right] = await embed([text, 'something else entirely', text]);
      assertSameVector(left, right, 'duplicates in one batch');
      assertSameVector(left, first, 'batch vs alone');
    });

    test('embeds a batch larger than maxBatchSize, in order', async () => {
      const count = embedder().maxBatchSize * 2 + 3;
      const texts = Array.from(
        { length: count },
        (_, index) => `note number ${index}: ${SENTENCES[index % 5]}`,
      );
      const vectors = await embed(texts);
      assertVectors(embedder(), vectors, count);
      for (const index of [0, embedder().maxBatchSize, count - 1]) {
        const [alone] = await embed([texts[index] ?? '']);
        assertSameVector(vectors[index], alone, `text ${index} of ${count}`);
      }
    });

    test('handles empty, whitespace, emoji, other scripts and very long text without failing', async () => {
      const texts = [
        '',
        '   \n\t ',
        '🎉🔥👍🏽',
        'Café naïve — “quotes” and ß',
        '日本語のテキストです',
        'مرحبا بالعالم',
        'x'.repeat(50_000),
        `${'The user lives in Lisbon and works remotely. '.repeat(2_000)}`,
        'a\u0000b\uFFFDc \uD83D',
      ];
      assertVectors(embedder(), await embed(texts), texts.length);
    });

    test('accepts both purposes', async () => {
      const [document] = await embed([SENTENCES[0] ?? ''], 'document');
      const [query] = await embed([SENTENCES[0] ?? ''], 'query');
      assertVectors(embedder(), [document ?? new Float32Array(), query ?? new Float32Array()], 2);
    });

    test('rejects with EmbedderError when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      await assert.rejects(
        embedder().embed({ texts: ['hello'], purpose: 'document', signal: controller.signal }),
        EmbedderError,
      );
    });

    test('close is idempotent', async () => {
      const own = await options.make();
      await own.embed({ texts: ['warm up'], purpose: 'document' });
      await own.close();
      await own.close();
    });

    const semanticSkip =
      options.semantic === true ? {} : { skip: 'backend does not declare semantic vectors' };

    test('related sentences score higher than unrelated ones', semanticSkip, async () => {
      const triples: Array<[string, string, string]> = [
        [
          'I love drinking coffee in the morning.',
          'Every morning I enjoy a cup of coffee.',
          'The car needs new tires before winter.',
        ],
        [
          'My dog loves to play fetch in the park.',
          'Our puppy enjoys chasing balls outside.',
          'Interest rates rose again.',
        ],
        [
          'The meeting was moved to Thursday afternoon.',
          'We rescheduled the meeting for Thursday.',
          'She is allergic to cats.',
        ],
        [
          'I am vegetarian and do not eat meat.',
          'The user follows a plant-based diet.',
          'The server runs on Linux.',
        ],
      ];
      for (const [anchor, related, unrelated] of triples) {
        const [a, b, c] = await embed([anchor, related, unrelated]);
        assert.ok(a && b && c);
        const near = cosine(a, b);
        const far = cosine(a, c);
        assert.ok(near > far + 0.1, `"${anchor}": related ${near.toFixed(3)} vs unrelated ${far.toFixed(3)}`);
      }
    });

    test('a query finds its matching memory among distractors', semanticSkip, async () => {
      const memories = [
        'The user is allergic to peanuts.',
        'The user works as a nurse in Boston.',
        'The user drives a blue Toyota.',
        'The user has two cats named Miso and Tofu.',
      ];
      const queries: Array<[string, number]> = [
        ['what food allergies does the user have?', 0],
        ['what is their job?', 1],
        ['what car do they own?', 2],
        ['does the user have any pets?', 3],
      ];
      const documents = await embed(memories, 'document');
      for (const [query, expected] of queries) {
        const [vector] = await embed([query], 'query');
        assert.ok(vector);
        const scores = documents.map((document) => cosine(vector, document));
        const best = scores.indexOf(Math.max(...scores));
        assert.equal(
          best,
          expected,
          `"${query}" ranked "${memories[best]}" first (scores ${scores.join(', ')})`,
        );
      }
    });
  });
}
