/**
 * The in-memory locator: the embedded default of `--role=all`. Bindings live in this process only.
 *
 * @module
 */

import { type EventQueue, iterateEvents, pushEvent } from "./_event_queue.ts";
import { LocateEventType } from "./types.ts";
import type { LocateEvent, LocateWatchOptions, Locator } from "./types.ts";

interface Watcher extends EventQueue {
  kinds: Set<string>;
}

/** Events a slow watcher may hold before the oldest are dropped (and counted). */
export const MEMORY_LOCATOR_WATCH_QUEUE = 10_000;

/**
 * Creates an in-memory locator.
 *
 * @example
 * ```ts
 * import { createMemoryLocator } from "./memory.ts";
 * const locator = createMemoryLocator();
 * await locator.bindGate(1001, "g1");
 * console.assert(await locator.locateGate(1001) === "g1");
 * await locator.close();
 * ```
 */
export function createMemoryLocator(): Locator & { readonly droppedEvents: number } {
  const gates = new Map<number, string>();
  const nodes = new Map<number, Map<string, string>>();
  const watchers = new Set<Watcher>();
  let droppedEvents = 0;

  const publish = (event: LocateEvent) => {
    for (const w of watchers) {
      if (!w.kinds.has(event.insKind)) continue;
      if (!pushEvent(w, event, MEMORY_LOCATOR_WATCH_QUEUE)) droppedEvents++;
    }
  };

  return {
    name: "memory",
    get droppedEvents() {
      return droppedEvents;
    },
    bindGate(uid, gid) {
      gates.set(uid, gid);
      publish({ uid, type: LocateEventType.BindGate, insID: gid, insKind: "gate", insName: "gate" });
      return Promise.resolve();
    },
    unbindGate(uid, gid) {
      if (gates.get(uid) === gid) {
        gates.delete(uid);
        publish({ uid, type: LocateEventType.UnbindGate, insID: gid, insKind: "gate", insName: "gate" });
      }
      return Promise.resolve();
    },
    locateGate(uid) {
      return Promise.resolve(gates.get(uid));
    },
    bindNode(uid, name, nid) {
      let byName = nodes.get(uid);
      if (!byName) nodes.set(uid, byName = new Map());
      byName.set(name, nid);
      publish({ uid, type: LocateEventType.BindNode, insID: nid, insKind: "node", insName: name });
      return Promise.resolve();
    },
    unbindNode(uid, name, nid) {
      const byName = nodes.get(uid);
      if (byName?.get(name) === nid) {
        byName.delete(name);
        if (byName.size === 0) nodes.delete(uid);
        publish({ uid, type: LocateEventType.UnbindNode, insID: nid, insKind: "node", insName: name });
      }
      return Promise.resolve();
    },
    locateNode(uid, name) {
      return Promise.resolve(nodes.get(uid)?.get(name));
    },
    locateNodes(uid) {
      return Promise.resolve(Object.fromEntries(nodes.get(uid) ?? []));
    },
    watch(kinds, options: LocateWatchOptions = {}): AsyncIterable<LocateEvent> {
      const w: Watcher = { kinds: new Set(kinds), queue: [], wake: undefined, done: false };
      const end = () => {
        w.done = true;
        watchers.delete(w);
        options.signal?.removeEventListener("abort", end);
        w.wake?.();
      };
      if (options.signal?.aborted) w.done = true;
      else {
        watchers.add(w);
        options.signal?.addEventListener("abort", end);
        options.onReady?.();
      }
      return iterateEvents(w, end);
    },
    close() {
      for (const w of [...watchers]) {
        w.done = true;
        watchers.delete(w);
        w.wake?.();
      }
      return Promise.resolve();
    },
  };
}
