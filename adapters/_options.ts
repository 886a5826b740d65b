/**
 * Private checks of the options several adapters share (`addrs`, `prefix`, durations), each with one std-style message, so
 * "redis cache", "memcache lock" and "kafka event bus" refuse a bad value in the same words.
 *
 * @module
 */

/**
 * Throws unless `addrs` is a non-empty array of non-empty strings; `what` names the component ("redis cache").
 *
 * @throws {TypeError} naming the component and the value
 */
export function checkAddrs(addrs: unknown, what: string): asserts addrs is readonly string[] {
  if (!Array.isArray(addrs) || addrs.length === 0 || addrs.some((a) => typeof a !== "string" || a === "")) {
    throw new TypeError(
      `Cannot create ${what} as 'addrs' must be a non-empty array of host:port strings: current value is ${
        JSON.stringify(addrs)
      }`,
    );
  }
}

/**
 * Throws unless `prefix` is a string (empty allowed); `what` names the component ("redis event bus").
 *
 * @throws {TypeError} naming the component and the value
 */
export function checkPrefix(prefix: unknown, what: string): asserts prefix is string {
  if (typeof prefix !== "string") {
    throw new TypeError(`Cannot create ${what} as 'prefix' must be a string: current value is ${prefix}`);
  }
}

/**
 * Throws unless `value` is a finite number > 0 (a duration, an interval); `what` names the component.
 *
 * @throws {RangeError} naming the component, the key and the value
 */
export function checkPositive(value: number, key: string, what: string): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`Cannot create ${what} as '${key}' must be > 0: current value is ${value}`);
  }
}
