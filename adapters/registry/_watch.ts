/**
 * Private to the registry backends: the `watch()` wrapper they share. A backend supplies the loop that lists and
 * follows one service name; this file ends it on the caller's signal, on the registry's close or when the reading
 * loop breaks, drops a list equal to the one before (a poll or a re-put that changed nothing), and hands lists over
 * a latest-value channel (a slow reader gets only the newest list).
 *
 * @module
 */
import type { ServiceInstance } from "../../core/cluster.ts";
import { createLatestChannel } from "../../core/latest.ts";

/** Lists and follows one service name, calling `push` with each full list (repeats are fine), until `stop` aborts. */
export type WatchLoop = (push: (list: ServiceInstance[]) => void, stop: AbortSignal) => Promise<void>;

/**
 * Runs `loop` as a watch.
 *
 * @param loop the backend's loop
 * @param signal the caller's signal (`WatchOptions.signal`)
 * @param closing aborts when the registry closes (a watch of a closed registry ends at once)
 * @param track receives the loop's task, so that `close()` can wait for it
 */
export function runWatch(
  loop: WatchLoop,
  signal: AbortSignal | undefined,
  closing: AbortSignal,
  track: (task: Promise<void>) => void,
): AsyncIterable<ServiceInstance[]> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (closing.aborted || signal?.aborted) stop.abort();
  else {
    signal?.addEventListener("abort", onAbort, { once: true });
    closing.addEventListener("abort", onAbort, { once: true });
  }
  const ch = createLatestChannel<ServiceInstance[]>(stop.signal);
  let last: string | undefined;
  const push = (list: ServiceInstance[]) => {
    const text = JSON.stringify(list);
    if (text === last) return;
    last = text;
    ch.push(list);
  };
  if (!stop.signal.aborted) {
    track(
      loop(push, stop.signal).finally(() => {
        signal?.removeEventListener("abort", onAbort);
        closing.removeEventListener("abort", onAbort);
        ch.close();
      }),
    );
  }
  return {
    [Symbol.asyncIterator]() {
      const iterator = ch[Symbol.asyncIterator]();
      return {
        next: () => iterator.next(),
        return: () => {
          stop.abort();
          return iterator.return!();
        },
      };
    },
  };
}
