/**
 * Assertions for the tests: `node:assert/strict` under the names Deno's std uses (JSR is unreachable here).
 *
 * @module
 */
import assert from "node:assert/strict";

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message as string);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  assert.notDeepStrictEqual(actual, expected, message as string);
}

/** Asserts a truthy value. */
export function assert_(value: unknown, message?: string): asserts value {
  assert.ok(value, message as string);
}
export { assert_ as assert };

/** Asserts that `fn` throws an instance of `ErrorClass` whose message includes `includes`. */
export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => Error = Error,
  includes?: string,
): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  return checkThrown(thrown, ErrorClass, includes);
}

/** Asserts that `fn` rejects with an instance of `ErrorClass` whose message includes `includes`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => Error = Error,
  includes?: string,
): Promise<Error> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  return checkThrown(thrown, ErrorClass, includes);
}

// deno-lint-ignore no-explicit-any
function checkThrown(thrown: unknown, ErrorClass: new (...args: any[]) => Error, includes?: string): Error {
  if (thrown === undefined) {
    throw new assert.AssertionError({ message: `Expected ${ErrorClass.name} to be thrown` });
  }
  if (!(thrown instanceof ErrorClass)) {
    throw new assert.AssertionError({
      message: `Expected ${ErrorClass.name}, got ${(thrown as Error)?.constructor?.name}: ${
        (thrown as Error)?.message
      }`,
    });
  }
  if (includes !== undefined && !thrown.message.includes(includes)) {
    throw new assert.AssertionError({
      message: `Expected message to include "${includes}": got "${thrown.message}"`,
    });
  }
  return thrown;
}

/** Asserts that `actual` includes `expected`. */
export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new assert.AssertionError({ message: message ?? `Expected "${actual}" to include "${expected}"` });
  }
}

/** Asserts `actual` is within `[min, max]`. */
export function assertBetween(actual: number, min: number, max: number, message?: string): void {
  if (!(actual >= min && actual <= max)) {
    throw new assert.AssertionError({
      message: message ?? `Expected ${actual} to be within [${min}, ${max}]`,
    });
  }
}
