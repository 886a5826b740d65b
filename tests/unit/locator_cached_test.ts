import { createCachedLocator } from "../../adapters/locator/cached.ts";
import {
  type LocateEvent,
  LocateEventType,
  type LocateWatchOptions,
  type Locator,
} from "../../adapters/locator/types.ts";
import { silentLogger } from "../../core/logger.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

/**
 * A backend whose events and `onReady` calls the test sends by hand, and whose lookups can be held after they
 * read (to race them with events). Writes change the maps without events, as if the events were still on the way.
 */
class FakeBackend implements Locator {
  readonly name = "fake";
  readonly gates = new Map<number, string>();
  readonly nodes = new Map<number, Record<string, string>>();
  readonly reads = { gate: 0, nodes: 0 };
  /** Calls of `close()`. */
  closes = 0;
  /** When set, a lookup reads at once but answers only after this settles. */
  hold: Promise<void> | undefined;
  readonly #watchers = new Set<{ push: (e: LocateEvent) => void; onReady?: () => void; end: () => void }>();

  /** Delivers an event to every watch. */
  emit(event: LocateEvent): void {
    for (const w of this.#watchers) w.push(event);
  }
  /** Tells every watch it is live (again). */
  ready(): void {
    for (const w of this.#watchers) w.onReady?.();
  }
  bindGate(uid: number, gid: string) {
    this.gates.set(uid, gid);
    return Promise.resolve();
  }
  unbindGate(uid: number, gid: string) {
    if (this.gates.get(uid) === gid) this.gates.delete(uid);
    return Promise.resolve();
  }
  bindNode(uid: number, name: string, nid: string) {
    this.nodes.set(uid, { ...this.nodes.get(uid), [name]: nid });
    return Promise.resolve();
  }
  unbindNode(uid: number, name: string, nid: string) {
    const record = this.nodes.get(uid);
    if (record?.[name] === nid) delete record[name];
    return Promise.resolve();
  }
  async locateGate(uid: number) {
    this.reads.gate++;
    const gid = this.gates.get(uid);
    await this.hold;
    return gid;
  }
  async locateNode(uid: number, name: string) {
    return (await this.locateNodes(uid))[name];
  }
  async locateNodes(uid: number) {
    this.reads.nodes++;
    const record = { ...this.nodes.get(uid) };
    await this.hold;
    return record;
  }
  watch(_kinds: ("gate" | "node")[], options: LocateWatchOptions = {}): AsyncIterable<LocateEvent> {
    const queue: LocateEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const w = {
      push: (e: LocateEvent) => {
        queue.push(e);
        wake?.();
      },
      onReady: options.onReady,
      end: () => {
        done = true;
        wake?.();
      },
    };
    this.#watchers.add(w);
    options.signal?.addEventListener("abort", w.end);
    const watchers = this.#watchers;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (true) {
            while (queue.length > 0) yield queue.shift()!;
            if (done) return;
            await new Promise<void>((resolve) => wake = resolve);
          }
        } finally {
          watchers.delete(w);
        }
      },
    };
  }
  /** Ends every watch, as a backend that lost its subscription for good. */
  endWatches(): void {
    for (const w of this.#watchers) w.end();
  }
  close() {
    this.closes++;
    this.endWatches();
    return Promise.resolve();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function withCache(
  fn: (cache: ReturnType<typeof createCachedLocator>, backend: FakeBackend) => Promise<void>,
  maxEntries = 100,
  live = true,
) {
  const backend = new FakeBackend();
  const cache = createCachedLocator(backend, { maxEntries, logger: silentLogger });
  try {
    await tick(); // the cache's watch starts
    if (live) backend.ready();
    await fn(cache, backend);
  } finally {
    await cache.close();
  }
}

Deno.test("createCachedLocator() answers repeated lookups from memory", async () => {
  await withCache(async (cache, backend) => {
    await backend.bindGate(1, "g1");
    await backend.bindNode(1, "game", "n1");
    await backend.bindNode(1, "chat", "c1");
    for (let i = 0; i < 10; i++) {
      assertEquals(await cache.locateGate(1), "g1");
      assertEquals(await cache.locateNode(1, "game"), "n1");
      assertEquals(await cache.locateNode(1, "chat"), "c1");
      assertEquals(await cache.locateNodes(1), { game: "n1", chat: "c1" });
      assertEquals(await cache.locateGate(2), undefined); // absent users are cached too
    }
    assertEquals(backend.reads, { gate: 2, nodes: 1 });
    assertEquals(cache.stats.hits, 47);
    assertEquals(cache.stats.misses, 3);
  });
});

Deno.test("createCachedLocator() applies bind and unbind events to cached uids only", async () => {
  await withCache(async (cache, backend) => {
    await backend.bindGate(1, "g1");
    await backend.bindNode(1, "game", "n1");
    assertEquals(await cache.locateGate(1), "g1");
    assertEquals(await cache.locateNodes(1), { game: "n1" });
    const gate = (type: LocateEventType, uid: number, gid: string) =>
      backend.emit({ uid, type, insID: gid, insKind: "gate", insName: "gate" });
    const node = (type: LocateEventType, uid: number, name: string, nid: string) =>
      backend.emit({ uid, type, insID: nid, insKind: "node", insName: name });
    gate(LocateEventType.BindGate, 1, "g2");
    node(LocateEventType.BindNode, 1, "chat", "c1");
    gate(LocateEventType.UnbindGate, 1, "g1"); // an older gate cleaning up: the newer binding stays
    node(LocateEventType.UnbindNode, 1, "game", "n0"); // not the cached node: stays
    gate(LocateEventType.BindGate, 9, "g9"); // not cached: not added
    await tick();
    assertEquals(await cache.locateGate(1), "g2");
    assertEquals(await cache.locateNodes(1), { game: "n1", chat: "c1" });
    node(LocateEventType.UnbindNode, 1, "game", "n1");
    gate(LocateEventType.UnbindGate, 1, "g2");
    await tick();
    assertEquals(await cache.locateGate(1), undefined);
    assertEquals(await cache.locateNodes(1), { chat: "c1" });
    assertEquals(backend.reads, { gate: 1, nodes: 1 }, "an event sent a lookup to the backend");
    assertEquals(cache.stats.gates, 1);
  });
});

Deno.test("createCachedLocator() caches nothing until its watch is live", async () => {
  await withCache(
    async (cache, backend) => {
      await backend.bindGate(1, "g1");
      assertEquals(cache.live, false);
      assertEquals(await cache.locateGate(1), "g1");
      assertEquals(await cache.locateGate(1), "g1");
      assertEquals(backend.reads.gate, 2);
      backend.ready();
      assertEquals(cache.live, true);
      await cache.locateGate(1);
      await cache.locateGate(1);
      assertEquals(backend.reads.gate, 3);
    },
    100,
    false,
  );
});

Deno.test("createCachedLocator() drops every entry when its watch is live again after a reconnect", async () => {
  await withCache(async (cache, backend) => {
    await backend.bindGate(1, "g1");
    await backend.bindNode(1, "game", "n1");
    await cache.locateGate(1);
    await cache.locateNodes(1);
    // Events lost while the backend reconnected:
    await backend.bindGate(1, "g2");
    await backend.bindNode(1, "game", "n2");
    assertEquals(await cache.locateGate(1), "g1");
    backend.ready();
    assertEquals([cache.stats.gates, cache.stats.nodes], [0, 0]);
    assertEquals(await cache.locateGate(1), "g2");
    assertEquals(await cache.locateNode(1, "game"), "n2");
    assertEquals(cache.stats.resets, 2);
  });
});

Deno.test("createCachedLocator() does not cache a lookup that raced with an event for its uid", async () => {
  await withCache(async (cache, backend) => {
    await backend.bindGate(1, "g1");
    let release!: () => void;
    backend.hold = new Promise((r) => release = r);
    const racing = cache.locateGate(1); // reads g1, answers later
    await backend.bindGate(1, "g2");
    backend.emit({ uid: 1, type: LocateEventType.BindGate, insID: "g2", insKind: "gate", insName: "gate" });
    await tick();
    release();
    backend.hold = undefined;
    assertEquals(await racing, "g1");
    assertEquals(await cache.locateGate(1), "g2");
    assertEquals(await cache.locateGate(1), "g2");
    assertEquals(backend.reads.gate, 2);
  });
});

Deno.test("createCachedLocator() reads its own write before the write's event comes back", async () => {
  await withCache(async (cache, backend) => {
    await cache.bindGate(1, "g1");
    assertEquals(await cache.locateGate(1), "g1");
    await cache.bindGate(1, "g2"); // the fake sends no event
    assertEquals(await cache.locateGate(1), "g2");
    await cache.bindNode(1, "game", "n1");
    assertEquals(await cache.locateNode(1, "game"), "n1");
    await cache.unbindNode(1, "game", "n1");
    assertEquals(await cache.locateNodes(1), {});
    await cache.unbindGate(1, "g2");
    assertEquals(await cache.locateGate(1), undefined);
    assertEquals(backend.reads, { gate: 3, nodes: 2 });
  });
});

Deno.test("createCachedLocator() keeps at most maxEntries uids, the least recently used going first", async () => {
  await withCache(async (cache, backend) => {
    for (const uid of [1, 2, 3]) await backend.bindGate(uid, `g${uid}`);
    await cache.locateGate(1);
    await cache.locateGate(2);
    await cache.locateGate(1); // 1 is now the most recently used
    await cache.locateGate(3); // evicts 2
    assertEquals(cache.stats.gates, 2);
    const before = backend.reads.gate;
    await cache.locateGate(1);
    await cache.locateGate(3);
    assertEquals(backend.reads.gate, before);
    await cache.locateGate(2);
    assertEquals(backend.reads.gate, before + 1);
  }, 2);
});

Deno.test("createCachedLocator() stops caching when the backend's watch ends, and close() closes the backend", async () => {
  const backend = new FakeBackend();
  const cache = createCachedLocator(backend, { logger: silentLogger });
  await tick();
  backend.ready();
  assertEquals(cache.live, true);
  await backend.bindGate(1, "g1");
  await cache.locateGate(1);
  backend.endWatches();
  await tick();
  assertEquals(cache.live, false);
  assertEquals(cache.stats.gates, 0, "the cache was not dropped");
  await cache.locateGate(1);
  await cache.locateGate(1);
  assertEquals(backend.reads.gate, 3, "lookups were cached without a live watch");
  assertEquals(backend.closes, 0);
  await cache.close();
  assertEquals(backend.closes, 1);
});

Deno.test("createCachedLocator() rejects a maxEntries below 1", () => {
  assertThrows(() => createCachedLocator(new FakeBackend(), { maxEntries: 0 }), RangeError, "'maxEntries'");
});
