/**
 * The behaviour every event bus backend must show. Each backend's test file calls
 * {@linkcode runEventBusConformance} with a factory; a backend that cannot pass a test lists it in `skip` with a
 * reason.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import type { Event, EventBus } from "../../adapters/eventbus/types.ts";
import { ClosedError } from "../../core/errors.ts";

const UUID_REGEXP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Options of {@linkcode runEventBusConformance}. */
export interface EventBusConformanceOptions {
  /** Backend name used in test names ("createRedisEventBus()"). */
  name: string;
  /** A new bus; buses made by one run share a namespace (prefix) so they see each other's events. */
  create: (namespace: string) => Promise<EventBus>;
  /** Skip every test (server down). */
  ignore?: boolean;
  /** Whether two buses of one namespace are connected (false for the in-process bus). */
  shared?: boolean;
  /** Tests this backend cannot pass, with the reason. */
  skip?: { reason: string; tests: string[] }[];
  /** How long to wait for a delivery. @default 5000 */
  timeoutMs?: number;
}

/** Collects the events of one topic and lets a test wait for the n-th. */
export class Inbox {
  events: Event[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];
  readonly handler = (event: Event): void => {
    this.events.push(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.events.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  /** Resolves once `n` events arrived; rejects after `timeoutMs`. */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    if (this.events.length >= n) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arrived = new Promise<void>((resolve) => this.#waiters.push({ n, resolve }));
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Expected ${n} events within ${timeoutMs} ms, got ${this.events.length}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([arrived, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The payloads received so far. */
  payloads(): string[] {
    return this.events.map((e) => e.payload);
  }
}

/** Runs the event bus conformance suite. */
export function runEventBusConformance(options: EventBusConformanceOptions): void {
  const { name, create, ignore = false, shared = true, skip = [], timeoutMs = 5_000 } = options;
  const skipped = new Map<string, string>();
  for (const { reason, tests } of skip) for (const test of tests) skipped.set(test, reason);
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let seq = 0;
  const namespace = () => `duetest-${run}-${++seq}`;

  function test(title: string, fn: () => Promise<void>): void {
    const reason = skipped.get(title);
    if (reason) console.log(`skipped: ${name} ${title} (${reason})`);
    Deno.test({ name: `${name} ${title}`, ignore: ignore || reason !== undefined, fn });
  }

  test("delivers a string payload in the due envelope", async () => {
    const bus = await create(namespace());
    try {
      const inbox = new Inbox();
      await bus.subscribe("greet", inbox.handler);
      const before = Date.now() * 1e6;
      await bus.publish("greet", "hello");
      await inbox.waitFor(1, timeoutMs);
      const [event] = inbox.events;
      assertEquals(event.topic, "greet");
      assertEquals(event.payload, "hello");
      assert(UUID_REGEXP.test(event.id), event.id);
      assert(
        event.timestamp >= before - 1e6 && event.timestamp <= Date.now() * 1e6 + 1e6,
        `${event.timestamp}`,
      );
      assert(Number.isInteger(event.timestamp));
    } finally {
      await bus.close();
    }
  });

  test("serialises a non-string payload to its JSON text", async () => {
    const bus = await create(namespace());
    try {
      const inbox = new Inbox();
      await bus.subscribe("reward", inbox.handler);
      await bus.publish("reward", { uid: 1001, gold: [1, 2] });
      await bus.publish("reward", 42);
      await bus.publish("reward", new TextEncoder().encode("bytes"));
      await inbox.waitFor(3, timeoutMs);
      assertEquals(inbox.payloads(), ['{"uid":1001,"gold":[1,2]}', "42", "bytes"]);
    } finally {
      await bus.close();
    }
  });

  test("delivers only the topics subscribed to", async () => {
    const bus = await create(namespace());
    try {
      const a = new Inbox();
      const b = new Inbox();
      await bus.subscribe("a", a.handler);
      await bus.subscribe("b", b.handler);
      await bus.publish("a", "1");
      await bus.publish("b", "2");
      await bus.publish("a", "3");
      await Promise.all([a.waitFor(2, timeoutMs), b.waitFor(1, timeoutMs)]);
      assertEquals(a.payloads(), ["1", "3"]);
      assertEquals(b.payloads(), ["2"]);
    } finally {
      await bus.close();
    }
  });

  test("delivers an event once to a handler subscribed twice", async () => {
    const bus = await create(namespace());
    try {
      const inbox = new Inbox();
      const sentinel = new Inbox();
      await bus.subscribe("twice", inbox.handler);
      await bus.subscribe("twice", inbox.handler);
      await bus.subscribe("twice", sentinel.handler);
      await bus.publish("twice", "x");
      await bus.publish("twice", "end");
      await sentinel.waitFor(2, timeoutMs);
      assertEquals(inbox.payloads(), ["x", "end"]);
    } finally {
      await bus.close();
    }
  });

  test("unsubscribe() with a handler keeps the other handlers of the topic", async () => {
    const bus = await create(namespace());
    try {
      const gone = new Inbox();
      const kept = new Inbox();
      await bus.subscribe("t", gone.handler);
      await bus.subscribe("t", kept.handler);
      await bus.publish("t", "before");
      await Promise.all([gone.waitFor(1, timeoutMs), kept.waitFor(1, timeoutMs)]);
      await bus.unsubscribe("t", gone.handler);
      await bus.publish("t", "after");
      await kept.waitFor(2, timeoutMs);
      assertEquals(gone.payloads(), ["before"]);
      assertEquals(kept.payloads(), ["before", "after"]);
    } finally {
      await bus.close();
    }
  });

  test("unsubscribe() without a handler removes every handler of the topic", async () => {
    const bus = await create(namespace());
    try {
      const first = new Inbox();
      const second = new Inbox();
      await bus.subscribe("t", first.handler);
      await bus.subscribe("t", second.handler);
      await bus.unsubscribe("t");
      await bus.publish("t", "lost");
      const later = new Inbox();
      await bus.subscribe("t", later.handler);
      await bus.publish("t", "seen");
      await later.waitFor(1, timeoutMs);
      assertEquals(first.events.length + second.events.length, 0);
      // "lost" was published while the topic had no subscription: nobody gets it, not even a later handler.
      assertEquals(later.payloads(), ["seen"]);
    } finally {
      await bus.close();
    }
  });

  test("keeps delivering to other handlers when one throws", async () => {
    const bus = await create(namespace());
    try {
      const inbox = new Inbox();
      let calls = 0;
      await bus.subscribe("boom", () => {
        calls++;
        throw new Error("handler failure (expected by the test)");
      });
      await bus.subscribe("boom", () => Promise.reject(new Error("async failure (expected by the test)")));
      await bus.subscribe("boom", inbox.handler);
      await bus.publish("boom", "1");
      await bus.publish("boom", "2");
      await inbox.waitFor(2, timeoutMs);
      assertEquals(calls, 2);
      assertEquals(inbox.payloads(), ["1", "2"]);
    } finally {
      await bus.close();
    }
  });

  if (shared) {
    test("delivers an event published by another bus of the same namespace", async () => {
      const ns = namespace();
      const a = await create(ns);
      const b = await create(ns);
      try {
        const onA = new Inbox();
        const onB = new Inbox();
        await a.subscribe("cross", onA.handler);
        await b.subscribe("cross", onB.handler);
        await a.publish("cross", "from a");
        await Promise.all([onA.waitFor(1, timeoutMs), onB.waitFor(1, timeoutMs)]);
        assertEquals(onB.events[0].payload, "from a");
        assertEquals(onB.events[0].id, onA.events[0].id);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test("keeps namespaces apart", async () => {
      const a = await create(namespace());
      const b = await create(namespace());
      try {
        const onA = new Inbox();
        const onB = new Inbox();
        await a.subscribe("same", onA.handler);
        await b.subscribe("same", onB.handler);
        await a.publish("same", "only a");
        await b.publish("same", "only b");
        await Promise.all([onA.waitFor(1, timeoutMs), onB.waitFor(1, timeoutMs)]);
        assertEquals(onA.payloads(), ["only a"]);
        assertEquals(onB.payloads(), ["only b"]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  test("rejects an empty topic with a TypeError", async () => {
    const bus = await create(namespace());
    try {
      await assertRejects(() => bus.publish("", "x"), TypeError, "'topic' must be a non-empty string");
      await assertRejects(() => bus.subscribe("", () => {}), TypeError, "'topic'");
    } finally {
      await bus.close();
    }
  });

  test("rejects publish() after close() with a ClosedError", async () => {
    const bus = await create(namespace());
    await bus.close();
    await bus.close();
    await assertRejects(() => bus.publish("t", "x"), ClosedError);
    await assertRejects(() => bus.subscribe("t", () => {}), ClosedError);
  });
}
