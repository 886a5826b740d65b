/**
 * Resources released in the reverse order they were acquired: what start-up code keeps so that a failure half way,
 * or a stop, closes exactly what was opened.
 *
 * @module
 */

import { errorMessage } from "./errors.ts";
import type { Logger } from "./logger.ts";

/**
 * A stack of close functions. {@linkcode CloseStack.close} runs them last first, once each, logging failures
 * instead of stopping at the first one.
 *
 * @example
 * ```ts
 * import { CloseStack } from "./close_stack.ts";
 * import { silentLogger } from "./logger.ts";
 * const order: string[] = [];
 * const stack = new CloseStack(silentLogger);
 * stack.push(async () => void order.push("registry"));
 * stack.push(async () => void order.push("server"));
 * await stack.close();
 * console.assert(order.join() === "server,registry");
 * ```
 */
export class CloseStack {
  readonly #closers: (() => Promise<void>)[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds a close function, to run before every one added earlier. */
  push(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** Runs and forgets every close function, last added first. */
  async close(): Promise<void> {
    for (let close = this.#closers.pop(); close; close = this.#closers.pop()) {
      await close().catch((err) => this.#log.warn("close failed", { error: errorMessage(err) }));
    }
  }
}
