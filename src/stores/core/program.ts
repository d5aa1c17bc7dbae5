/**
 * Write programs that run unchanged on synchronous and asynchronous engines.
 *
 * A multi-step write (apply a change list, erase, restore) decides what to do next from what the engine answered
 * (a row found or not, an insert that conflicted), so its logic sits between engine calls. better-sqlite3 and the
 * in-memory engine answer synchronously and must finish a transaction in one synchronous call; `pg` answers with
 * promises. A program is therefore written once as a generator that hands each engine answer to a step:
 *
 * ```ts
 * function* program(tx) {
 *   const row = yield* step(engine.findForUpdate(tx, id, scope)); // a value or a promise of one
 *   ...
 * }
 * ```
 *
 * and the engine runs it with {@link runSync} (inside its synchronous transaction; a promise there is a bug and
 * throws) or {@link runAsync} (awaiting each step; a rejected step is thrown into the program at that step).
 * A program must not catch errors to carry on: a throw rolls the caller's transaction back.
 */

/** A value, or a promise of it. */
export type Awaitable<T> = T | PromiseLike<T>;

/** A write program: yields engine answers (values or promises), returns `T`. */
export type Program<T> = Generator<Awaitable<unknown>, T, unknown>;

/** One engine call inside a program: `const value = yield* step(engine.call(...))`. */
export function* step<T>(answer: Awaitable<T>): Generator<Awaitable<T>, T, unknown> {
  return (yield answer) as T;
}

/** A program of one step: runs `operation` inside the transaction and returns its answer. */
export function* singleStep<T>(operation: () => T): Program<T> {
  return yield* step(operation());
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Runs a program whose every step answers synchronously. @throws when a step returns a promise. */
export function runSync<T>(program: Program<T>): T {
  let next = program.next();
  while (next.done !== true) {
    if (isPromiseLike(next.value)) {
      program.return(undefined as T);
      throw new TypeError('a synchronous engine answered a program step with a promise');
    }
    next = program.next(next.value);
  }
  return next.value;
}

/** Runs a program, awaiting each step. */
export async function runAsync<T>(program: Program<T>): Promise<T> {
  let next = program.next();
  while (next.done !== true) {
    let answer: unknown;
    try {
      answer = await next.value;
    } catch (error) {
      next = program.throw(error);
      continue;
    }
    next = program.next(answer);
  }
  return next.value;
}
