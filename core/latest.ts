/**
 * A single-consumer async iterable that keeps only the newest value: the shape of registry watches, whose every
 * value is a full list, so a slow consumer skips stale lists instead of queueing them.
 *
 * @module
 */

/** The producing side of {@linkcode createLatestChannel}. */
export interface LatestChannel<T> extends AsyncIterable<T> {
  /** Offers a value; replaces one not yet taken. No-op after close. */
  push(value: T): void;
  /** Ends the iteration; a pending `next()` resolves done. */
  close(): void;
  /** Whether {@linkcode LatestChannel.close} was called. */
  readonly closed: boolean;
}

/**
 * Creates a channel; `signal` closes it.
 *
 * @example
 * ```ts
 * import { createLatestChannel } from "./latest.ts";
 * const ch = createLatestChannel<number>();
 * ch.push(1);
 * ch.push(2);
 * ch.close();
 * const seen: number[] = [];
 * for await (const v of ch) seen.push(v);
 * console.assert(seen.join() === "2");
 * ```
 */
export function createLatestChannel<T>(signal?: AbortSignal): LatestChannel<T> {
  let has = false;
  let value: T | undefined;
  let closed = false;
  let waiter: ((result: IteratorResult<T>) => void) | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener("abort", close);
    const w = waiter;
    waiter = undefined;
    if (w && !has) w({ value: undefined, done: true });
  };
  if (signal?.aborted) closed = true;
  else signal?.addEventListener("abort", close);
  return {
    get closed() {
      return closed;
    },
    push(v: T): void {
      if (closed) return;
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w({ value: v, done: false });
        return;
      }
      value = v;
      has = true;
    },
    close,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        next(): Promise<IteratorResult<T>> {
          if (has) {
            has = false;
            const v = value as T;
            value = undefined;
            return Promise.resolve({ value: v, done: false });
          }
          if (closed) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => waiter = resolve);
        },
        return(): Promise<IteratorResult<T>> {
          close();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
