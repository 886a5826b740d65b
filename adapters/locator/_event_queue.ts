/**
 * Private to `adapters/locator/`: the bounded event queue of one watch, shared by the memory and Redis locators.
 * Events are pushed as they happen and pulled by the watch's async iterator, which sleeps while the queue is
 * empty.
 *
 * @module
 */
import type { LocateEvent } from "./types.ts";

/** The events waiting for one watch. */
export interface EventQueue {
  /** Events not yet pulled, oldest first. */
  queue: LocateEvent[];
  /** Wakes the iterator sleeping on an empty queue. */
  wake: (() => void) | undefined;
  /** No event will come any more: the iterator ends once the queue is empty. */
  done: boolean;
}

/** Queues `event`, dropping the oldest first when `max` are waiting; `false` when an event was dropped. */
export function pushEvent(w: EventQueue, event: LocateEvent, max: number): boolean {
  let kept = true;
  if (w.queue.length >= max) {
    w.queue.shift();
    kept = false;
  }
  w.queue.push(event);
  w.wake?.();
  return kept;
}

/** Yields the events of `w` as they come until it is done; calls `end` once the consumer stops or it ends. */
export function iterateEvents(w: EventQueue, end: () => void): AsyncIterable<LocateEvent> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        while (true) {
          while (w.queue.length > 0) yield w.queue.shift()!;
          if (w.done) return;
          await new Promise<void>((resolve) => w.wake = resolve);
          w.wake = undefined;
        }
      } finally {
        end();
      }
    },
  };
}
