/**
 * The behaviour every locator must show: bind/locate/unbind with compare-and-delete, events in order per uid
 * with due's fields, watches that end on abort or close, and two locators over one backend sharing bindings
 * (possibly after a moment, for caching locators). Key layout and reconnects are tested per backend.
 *
 * @module
 */
import { type LocateEvent, LocateEventType, type Locator } from "../../adapters/locator/types.ts";
import { assertEquals } from "../_helpers/assert.ts";

/** Options of {@linkcode runLocatorConformance}. */
export interface LocatorConformanceOptions {
  /** Backend name used in test names ("createRedisLocator()"). */
  name: string;
  /** A new locator; locators created with one prefix must share bindings and events. */
  create: (prefix: string) => Promise<Locator>;
  /** Removes whatever a test left under `prefix`. */
  cleanup?: (prefix: string) => Promise<void>;
  /** Skip every test (server down). */
  ignore?: boolean;
  /** Tests this backend cannot pass, with the reason. */
  skip?: { reason: string; tests: string[] }[];
}

/** Reads a locator watch in the background. */
export class EventWatch {
  /** Events received, in order. */
  readonly events: LocateEvent[] = [];
  /** Times `onReady` was called. */
  readyCount = 0;
  /** Whether the watch ended. */
  ended = false;
  /** Settles when the watch ends. */
  readonly done: Promise<void>;
  readonly #controller = new AbortController();
  #wake: (() => void) | undefined;

  constructor(locator: Locator, kinds: ("gate" | "node")[], signal?: AbortSignal) {
    const iterable = locator.watch(kinds, {
      signal: signal ?? this.#controller.signal,
      onReady: () => {
        this.readyCount++;
        this.#wake?.();
      },
    });
    this.done = (async () => {
      for await (const event of iterable) {
        this.events.push(event);
        this.#wake?.();
      }
      this.ended = true;
      this.#wake?.();
    })();
  }

  /** Waits until `check` holds; fails after `timeoutMs` with `what`. */
  async until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: events ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 50));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
    }
  }

  /** Waits for the first `onReady`. */
  ready(timeoutMs?: number): Promise<void> {
    return this.until(() => this.readyCount > 0, "the watch to be live", timeoutMs);
  }

  /** Ends the watch (when no signal was given) and waits for it. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.done;
  }
}

/** Waits until `read()` returns `expected` (deep equality); fails after `timeoutMs` with the last value. */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  while (true) {
    last = await read();
    try {
      assertEquals(last, expected);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const gateEvent = (uid: number, type: LocateEventType, gid: string): LocateEvent => ({
  uid,
  type,
  insID: gid,
  insKind: "gate",
  insName: "gate",
});
const nodeEvent = (uid: number, type: LocateEventType, name: string, nid: string): LocateEvent => ({
  uid,
  type,
  insID: nid,
  insKind: "node",
  insName: name,
});

/** Runs the locator conformance suite. */
export function runLocatorConformance(options: LocatorConformanceOptions): void {
  const { name, create, cleanup, ignore = false, skip = [] } = options;
  const skipped = new Map<string, string>();
  for (const { reason, tests } of skip) for (const test of tests) skipped.set(test, reason);
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let seq = 0;

  function test(title: string, fn: (locator: Locator, prefix: string) => Promise<void>) {
    const reason = skipped.get(title);
    if (reason) console.log(`skipped: ${name} ${title} (${reason})`);
    Deno.test({
      name: `${name} ${title}`,
      ignore: ignore || reason !== undefined,
      fn: async () => {
        const prefix = `duetest:locate:${run}:${++seq}`;
        const locator = await create(prefix);
        try {
          await fn(locator, prefix);
        } finally {
          await locator.close();
          await cleanup?.(prefix);
        }
      },
    });
  }

  test("locateGate() finds the gate bindGate() recorded and nothing for an unbound uid", async (locator) => {
    assertEquals(await locator.locateGate(1001), undefined);
    await locator.bindGate(1001, "g1");
    assertEquals(await locator.locateGate(1001), "g1");
    assertEquals(await locator.locateGate(1002), undefined);
    await locator.bindGate(1001, "g2");
    assertEquals(await locator.locateGate(1001), "g2");
  });

  test("unbindGate() removes the binding only while it still names that gate", async (locator) => {
    await locator.bindGate(1001, "g1");
    await locator.bindGate(1001, "g2"); // the user reconnected through g2
    await locator.unbindGate(1001, "g1"); // g1 cleans up late
    assertEquals(await locator.locateGate(1001), "g2");
    await locator.unbindGate(1001, "g2");
    assertEquals(await locator.locateGate(1001), undefined);
    await locator.unbindGate(1001, "g2");
    assertEquals(await locator.locateGate(1001), undefined);
  });

  test("bindNode() records one node per node name and locateNodes() lists them", async (locator) => {
    assertEquals(await locator.locateNodes(1001), {});
    assertEquals(await locator.locateNode(1001, "game"), undefined);
    await locator.bindNode(1001, "game", "n1");
    await locator.bindNode(1001, "chat", "c1");
    await locator.bindNode(1001, "game", "n2");
    assertEquals(await locator.locateNode(1001, "game"), "n2");
    assertEquals(await locator.locateNode(1001, "chat"), "c1");
    assertEquals(await locator.locateNode(1001, "mail"), undefined);
    assertEquals(await locator.locateNode(1001, "toString"), undefined);
    assertEquals(await locator.locateNodes(1001), { game: "n2", chat: "c1" });
    assertEquals(await locator.locateNodes(1002), {});
  });

  test("unbindNode() removes the binding only while it still names that node", async (locator) => {
    await locator.bindNode(1001, "game", "n1");
    await locator.bindNode(1001, "game", "n2");
    await locator.bindNode(1001, "chat", "c1");
    await locator.unbindNode(1001, "game", "n1");
    assertEquals(await locator.locateNodes(1001), { game: "n2", chat: "c1" });
    await locator.unbindNode(1001, "chat", "n2"); // right nid, wrong name
    assertEquals(await locator.locateNode(1001, "chat"), "c1");
    await locator.unbindNode(1001, "game", "n2");
    await locator.unbindNode(1001, "chat", "c1");
    assertEquals(await locator.locateNodes(1001), {});
  });

  test("concurrent lookups of one uid all get the same answer", async (locator) => {
    await locator.bindGate(7, "g7");
    await locator.bindNode(7, "game", "n7");
    const gates = await Promise.all(Array.from({ length: 20 }, () => locator.locateGate(7)));
    const nodes = await Promise.all(Array.from({ length: 20 }, () => locator.locateNodes(7)));
    assertEquals(new Set(gates), new Set(["g7"]));
    for (const record of nodes) assertEquals(record, { game: "n7" });
    nodes[0].game = "changed by a caller";
    assertEquals(await locator.locateNodes(7), { game: "n7" });
  });

  test("watch() yields each change of the kinds asked for, in order, with due's fields", async (locator) => {
    const all = new EventWatch(locator, ["gate", "node"]);
    const gatesOnly = new EventWatch(locator, ["gate"]);
    const nodesOnly = new EventWatch(locator, ["node"]);
    try {
      await Promise.all([all.ready(), gatesOnly.ready(), nodesOnly.ready()]);
      await locator.bindGate(1001, "g1");
      await locator.bindNode(1001, "game", "n1");
      await locator.bindGate(1001, "g2");
      await locator.unbindGate(1001, "g1"); // no change, no event
      await locator.unbindNode(1001, "game", "n0"); // no change, no event
      await locator.unbindGate(1001, "g2");
      await locator.unbindNode(1001, "game", "n1");
      await locator.bindGate(1002, "g1");
      const expected = [
        gateEvent(1001, LocateEventType.BindGate, "g1"),
        nodeEvent(1001, LocateEventType.BindNode, "game", "n1"),
        gateEvent(1001, LocateEventType.BindGate, "g2"),
        gateEvent(1001, LocateEventType.UnbindGate, "g2"),
        nodeEvent(1001, LocateEventType.UnbindNode, "game", "n1"),
        gateEvent(1002, LocateEventType.BindGate, "g1"),
      ];
      await all.until(() => all.events.length >= expected.length, `${expected.length} events`);
      await gatesOnly.until(() => gatesOnly.events.length >= 4, "4 gate events");
      await nodesOnly.until(() => nodesOnly.events.length >= 2, "2 node events");
      assertEquals(all.events, expected);
      assertEquals(gatesOnly.events, expected.filter((e) => e.insKind === "gate"));
      assertEquals(nodesOnly.events, expected.filter((e) => e.insKind === "node"));
      assertEquals([all.readyCount, gatesOnly.readyCount, nodesOnly.readyCount], [1, 1, 1]);
    } finally {
      await Promise.all([all.stop(), gatesOnly.stop(), nodesOnly.stop()]);
    }
  });

  test("watch() ends when its signal aborts, and at once for an aborted signal", async (locator) => {
    const controller = new AbortController();
    const watch = new EventWatch(locator, ["gate"], controller.signal);
    await watch.ready();
    controller.abort();
    await watch.done;
    assertEquals(watch.ended, true);
    const aborted = new EventWatch(locator, ["gate"], AbortSignal.abort());
    await aborted.done;
    assertEquals([aborted.ended, aborted.events.length, aborted.readyCount], [true, 0, 0]);
    await locator.bindGate(1, "g1"); // the locator still works
    assertEquals(await locator.locateGate(1), "g1");
  });

  test("watch() ends when the locator closes", async (locator) => {
    const watch = new EventWatch(locator, ["gate", "node"]);
    await watch.ready();
    await locator.close();
    await watch.done;
    assertEquals(watch.ended, true);
  });

  test("two locators over one backend share bindings and events", async (locator, prefix) => {
    const other = await create(prefix);
    const watch = new EventWatch(other, ["gate", "node"]);
    try {
      await watch.ready();
      await locator.bindGate(1001, "g1");
      await eventually(() => other.locateGate(1001), "g1");
      await locator.bindNode(1001, "game", "n1");
      await eventually(() => other.locateNodes(1001), { game: "n1" });
      await locator.bindGate(1001, "g2");
      await eventually(() => other.locateGate(1001), "g2");
      await other.unbindNode(1001, "game", "n1");
      await eventually(() => locator.locateNode(1001, "game"), undefined);
      await watch.until(() => watch.events.length >= 4, "4 events");
      assertEquals(watch.events.map((e) => e.type), [1, 2, 1, 4]);
    } finally {
      await watch.stop();
      await other.close();
    }
  });
}
