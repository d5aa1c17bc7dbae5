/**
 * The binary index's Hamming kernels (`sqlite/hamming-kernel.ts`): the WebAssembly kernel and the scalar one
 * return, for every code of every run, the distance a bit-by-bit count gives, and read nothing past `used`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CodeRun,
  createHammingKernel,
  type HammingKernel,
  scalarHammingKernel,
} from '../../src/stores/sqlite/hamming-kernel.js';
import { seededRandom } from '../support/vectors.js';

function randomWords(count: number, random: () => number): Uint32Array {
  return Uint32Array.from({ length: count }, () => Math.floor(random() * 2 ** 32) >>> 0);
}

/** Distances counted one bit at a time: the definition the kernels must meet. */
function referenceDistances(runs: readonly CodeRun[], query: Uint32Array): number[] {
  const distances: number[] = [];
  for (const { codes, used } of runs) {
    for (let index = 0; index < used; index += 1) {
      let distance = 0;
      for (let word = 0; word < query.length; word += 1) {
        const differing = ((codes[index * query.length + word] ?? 0) ^ (query[word] ?? 0)) >>> 0;
        for (let bit = 0; bit < 32; bit += 1) distance += (differing >>> bit) & 1;
      }
      distances.push(distance);
    }
  }
  return distances;
}

/** Runs of 256-code blocks, partly used; the unused tail holds random words that must be ignored. */
function randomRuns(width: number, useds: number[], random: () => number): CodeRun[] {
  return useds.map((used) => ({ codes: randomWords(256 * width, random), used }));
}

function check(kernel: HammingKernel, width: number, useds: number[], seed: number): void {
  const random = seededRandom(seed);
  const runs = randomRuns(width, useds, random);
  const query = randomWords(width, random);
  const total = useds.reduce((sum, used) => sum + used, 0);
  // One spare entry past the end: a kernel must not write it.
  const out = new Uint16Array(total + 1).fill(0xffff);
  kernel.distances(runs, query, out);
  assert.deepEqual(Array.from(out.subarray(0, total)), referenceDistances(runs, query), `width ${width}`);
  assert.equal(out[total], 0xffff, 'wrote past the codes given');
}

describe('Hamming kernels', () => {
  test('the WebAssembly kernel is what a store gets on Node', () => {
    assert.notEqual(createHammingKernel(), scalarHammingKernel);
  });

  for (const [name, make] of [
    ['WebAssembly', createHammingKernel],
    ['scalar', () => scalarHammingKernel],
  ] as const) {
    test(`${name}: matches a bit-by-bit count for even and odd code widths, full and partial blocks`, () => {
      const kernel = make();
      for (const width of [1, 2, 3, 8, 12, 15, 16, 24, 32, 48]) {
        check(kernel, width, [256, 17, 0, 256, 1], width);
      }
    });

    test(`${name}: one kernel through growing and shrinking searches, and after clear()`, () => {
      const kernel = make();
      // 4,000 blocks of 512-bit codes need 16 MB: the memory grows several times; later smaller calls must not
      // see the larger call's codes.
      check(kernel, 16, [3], 1);
      check(
        kernel,
        16,
        Array.from({ length: 4000 }, () => 256),
        2,
      );
      check(kernel, 16, [256, 40], 3);
      kernel.clear();
      check(kernel, 16, [200, 256, 7], 4);
      check(kernel, 2, [], 5);
    });
  }

  test('WebAssembly: a repeated search reuses its copy only for the very same runs', () => {
    const kernel = createHammingKernel();
    const random = seededRandom(9);
    const width = 16;
    const runs = randomRuns(width, [256, 256, 30], random);
    const distancesFor = (given: readonly CodeRun[], query: Uint32Array) => {
      const total = given.reduce((sum, run) => sum + run.used, 0);
      const out = new Uint16Array(total);
      kernel.distances(given, query, out);
      assert.deepEqual(Array.from(out), referenceDistances(given, query));
    };
    const query = randomWords(width, random);
    distancesFor(runs, query);
    // The same runs with another query: the codes held are right, the query is new.
    distancesFor(runs, randomWords(width, random));
    // Each change right after a call with `runs`: one more code used in the last block, other arrays of the same
    // sizes, one block swapped, the blocks reordered.
    const changed: CodeRun[][] = [
      [runs[0] as CodeRun, runs[1] as CodeRun, { codes: (runs[2] as CodeRun).codes, used: 31 }],
      randomRuns(width, [256, 256, 30], random),
      [runs[0] as CodeRun, randomRuns(width, [256], random)[0] as CodeRun, runs[2] as CodeRun],
      [runs[1] as CodeRun, runs[0] as CodeRun, runs[2] as CodeRun],
    ];
    for (const other of changed) {
      distancesFor(other, query);
      distancesFor(runs, query);
    }
    // After clear(), the same arrays again are copied in again (the memory was zeroed).
    kernel.clear();
    distancesFor(runs, query);
  });

  test('identical codes are at distance 0, complementary ones at the full width', () => {
    const kernel = createHammingKernel();
    const query = Uint32Array.from([0x12345678, 0xffffffff, 0, 0x80000001]);
    const complement = query.map((word) => ~word >>> 0);
    const out = new Uint16Array(2);
    kernel.distances([{ codes: Uint32Array.from([...query, ...complement]), used: 2 }], query, out);
    assert.deepEqual(Array.from(out), [0, 128]);
  });
});
