/**
 * Background consumption of a watch (registry lists, locator events): every value to a handler until the signal
 * aborts; a failure that is not the abort is logged, never thrown into nowhere.
 *
 * @module
 */

import { errorMessage } from "./errors.ts";
import type { Logger } from "./logger.ts";

/**
 * Feeds each value of `source` to `apply` until `signal` aborts or the source ends.
 *
 * @example
 * ```ts ignore
 * background.push(consume(registry.watch("node", { signal }), (list) => dispatcher.replace(list), signal, log, "node watch"));
 * ```
 */
export async function consume<T>(
  source: AsyncIterable<T>,
  apply: (value: T) => void,
  signal: AbortSignal,
  log: Logger,
  what: string,
): Promise<void> {
  try {
    for await (const value of source) apply(value);
  } catch (err) {
    if (!signal.aborted) log.error(`${what} ended`, { error: errorMessage(err) });
  }
}
