/**
 * The write-program runner of the store core (`src/stores/core/program.ts`): one program runs on a synchronous
 * engine (SQLite, in-memory: every step answers at once, inside one synchronous transaction) and on an
 * asynchronous one (PostgreSQL: every step is awaited). The conformance suite covers the programs themselves;
 * this checks the runner's contract at its edges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Program, runAsync, runSync, step } from '../../src/stores/core/program.js';

function* addTwice(answer: (value: number) => number | Promise<number>): Program<number> {
  const first = yield* step(answer(1));
  const second = yield* step(answer(first + 1));
  return first + second;
}

test('a program gets each step answer back, synchronously or awaited, and returns the same result', async () => {
  assert.equal(runSync(addTwice((value) => value * 10)), 10 + 110);
  assert.equal(await runAsync(addTwice(async (value) => value * 10)), 10 + 110);
  // An asynchronous runner also accepts steps that answer at once.
  assert.equal(await runAsync(addTwice((value) => value * 10)), 10 + 110);
});

test('a synchronous runner refuses a step that answers with a promise, and the program does not go on', () => {
  let reachedSecondStep = false;
  function* program(): Program<void> {
    yield* step(Promise.resolve(1));
    reachedSecondStep = true;
  }
  assert.throws(() => runSync(program()), /synchronous engine answered a program step with a promise/);
  assert.equal(reachedSecondStep, false);
});

test('a rejected step is thrown into the program at that step (its finally runs) and out of runAsync', async () => {
  const seen: string[] = [];
  function* program(): Program<number> {
    try {
      yield* step(Promise.reject(new Error('statement failed')));
      seen.push('after the failed step');
      return 1;
    } finally {
      seen.push('finally');
    }
  }
  await assert.rejects(runAsync(program()), /statement failed/);
  assert.deepEqual(seen, ['finally']);
});

test('a step that throws synchronously aborts the program on both runners', async () => {
  function* program(): Program<number> {
    yield* step(
      (() => {
        throw new Error('constraint violated');
      })(),
    );
    return 1;
  }
  assert.throws(() => runSync(program()), /constraint violated/);
  await assert.rejects(runAsync(program()), /constraint violated/);
});
