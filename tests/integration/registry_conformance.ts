/**
 * The behaviour every registry backend must show: register/services round trip, re-register on a state change,
 * deregister, watches that yield full lists and end on abort or close, and two registries over one backend
 * seeing each other. Backend-specific behaviour (leases, key layout, restarts) is tested per backend.
 *
 * @module
 */
import type { Registry } from "../../adapters/registry/types.ts";
import type { ServiceInstance } from "../../core/cluster.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

/** Options of {@linkcode runRegistryConformance}. */
export interface RegistryConformanceOptions {
  /** Backend name used in test names ("createEtcdRegistry()"). */
  name: string;
  /** A new registry over the backend; registries created with one namespace must share instances. */
  create: (namespace: string) => Promise<Registry>;
  /** Removes whatever a test left under `namespace` (keys, leases). */
  cleanup?: (namespace: string) => Promise<void>;
  /** Skip every test (server down). */
  ignore?: boolean;
  /** Tests this backend cannot pass, with the reason. */
  skip?: { reason: string; tests: string[] }[];
}

/** A port of its own for each instance id (backends such as Nacos key instances by ip:port). */
function samplePort(id: string): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) % 5000;
  return 3000 + hash;
}

/** An instance record with every field set. */
export function sampleInstance(id: string, overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    id,
    name: "node",
    kind: "node",
    alias: "game",
    state: "work",
    events: [1, 3],
    routes: [{ i: 1, s: true, a: true }, { i: 2, n: true }],
    services: ["mail"],
    endpoint: `drpc://127.0.0.1:${samplePort(id)}?is_secure=false`,
    weight: 2,
    metadata: { zone: "eu" },
    ...overrides,
  };
}

const ids = (list: ServiceInstance[]) => list.map((i) => i.id).sort();

/** Reads a watch in the background so a test can wait for the list it expects. */
export class ListWatch {
  /** Every list received, in order. */
  readonly lists: ServiceInstance[][] = [];
  /** Whether the watch ended. */
  ended = false;
  /** Settles when the watch ends. */
  readonly done: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(iterable: AsyncIterable<ServiceInstance[]>) {
    this.done = (async () => {
      for await (const list of iterable) {
        this.lists.push(list);
        this.#wake?.();
      }
      this.ended = true;
      this.#wake?.();
    })();
  }

  /** The newest list. */
  get latest(): ServiceInstance[] | undefined {
    return this.lists.at(-1);
  }

  /** Waits until the newest list satisfies `accept`; fails after `timeoutMs` showing the newest list. */
  async until(
    accept: (list: ServiceInstance[]) => boolean,
    what: string,
    timeoutMs = 5_000,
  ): Promise<ServiceInstance[]> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.latest && accept(this.latest))) {
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) {
        throw new Error(
          `watch never yielded ${what}: newest list ${JSON.stringify(this.latest?.map((i) => i.id))}`,
        );
      }
      await this.#next(left);
    }
    return this.latest!;
  }

  /** Waits until the watch ends; fails after `timeoutMs`. */
  async untilEnded(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("the watch did not end");
      await this.#next(left);
    }
  }

  #next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/** Runs the registry conformance suite. */
export function runRegistryConformance(options: RegistryConformanceOptions): void {
  const { name, create, cleanup, ignore = false, skip = [] } = options;
  const skipped = new Map<string, string>();
  for (const { reason, tests } of skip) for (const test of tests) skipped.set(test, reason);
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let seq = 0;

  function test(title: string, fn: (registry: Registry, namespace: string) => Promise<void>) {
    const reason = skipped.get(title);
    if (reason) console.log(`skipped: ${name} ${title} (${reason})`);
    Deno.test({
      name: `${name} ${title}`,
      ignore: ignore || reason !== undefined,
      fn: async () => {
        const namespace = `duetest-registry-${run}-${++seq}`;
        const registry = await create(namespace);
        try {
          await fn(registry, namespace);
        } finally {
          await registry.close();
          await cleanup?.(namespace);
        }
      },
    });
  }

  test("services() lists a registered instance with every field", async (registry) => {
    assertEquals(await registry.services("node"), []);
    const instance = sampleInstance("n1");
    await registry.register(instance);
    assertEquals(await registry.services("node"), [instance]);
  });

  test("services() lists only the instances of the name asked for", async (registry) => {
    await registry.register(sampleInstance("n1"));
    await registry.register(sampleInstance("g1", { name: "gate", kind: "gate", alias: "gate", routes: [] }));
    assertEquals(ids(await registry.services("node")), ["n1"]);
    assertEquals(ids(await registry.services("gate")), ["g1"]);
    assertEquals(await registry.services("mesh"), []);
  });

  test("register() of a registered id replaces its record, as a state change does", async (registry) => {
    await registry.register(sampleInstance("n1"));
    await registry.register(sampleInstance("n2"));
    await registry.register(sampleInstance("n1", { state: "hang", weight: 5 }));
    const list = await registry.services("node");
    assertEquals(ids(list), ["n1", "n2"]);
    const n1 = list.find((i) => i.id === "n1")!;
    assertEquals([n1.state, n1.weight], ["hang", 5]);
  });

  test("deregister() removes the instance and ignores an unknown one", async (registry) => {
    await registry.register(sampleInstance("n1"));
    await registry.register(sampleInstance("n2"));
    await registry.deregister(sampleInstance("n1"));
    assertEquals(ids(await registry.services("node")), ["n2"]);
    await registry.deregister(sampleInstance("nobody"));
    await registry.deregister(sampleInstance("n2"));
    assertEquals(await registry.services("node"), []);
  });

  test("watch() yields the current list first, then the full list after every change", async (registry) => {
    await registry.register(sampleInstance("n1"));
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
    try {
      const first = await watch.until(() => true, "a first list");
      assertEquals(first, [sampleInstance("n1")]);
      await registry.register(sampleInstance("n2"));
      await watch.until((l) => ids(l).join() === "n1,n2", "n1,n2");
      await registry.register(sampleInstance("n2", { state: "busy" }));
      const busy = await watch.until((l) => l.find((i) => i.id === "n2")?.state === "busy", "n2 busy");
      assertEquals(ids(busy), ["n1", "n2"]);
      await registry.deregister(sampleInstance("n1"));
      await watch.until((l) => ids(l).join() === "n2", "n2 alone");
      await registry.deregister(sampleInstance("n2"));
      await watch.until((l) => l.length === 0, "an empty list");
      for (const list of watch.lists) {
        assert(list.every((i) => i.name === "node"), "a list mixed in other names");
      }
    } finally {
      controller.abort();
      await watch.done;
    }
  });

  test("watch() of one name does not yield changes of another name", async (registry) => {
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("gate", { signal: controller.signal }));
    try {
      await watch.until((l) => l.length === 0, "an empty first list");
      await registry.register(sampleInstance("n1"));
      await registry.register(sampleInstance("g1", { name: "gate", kind: "gate" }));
      await watch.until((l) => ids(l).join() === "g1", "g1");
      assert(watch.lists.every((l) => l.every((i) => i.name === "gate")), "a gate watch yielded a node");
    } finally {
      controller.abort();
      await watch.done;
    }
  });

  test("watch() ends when its signal aborts", async (registry) => {
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
    await watch.until(() => true, "a first list");
    controller.abort();
    await watch.untilEnded();
    const aborted = new ListWatch(registry.watch("node", { signal: AbortSignal.abort() }));
    await aborted.untilEnded();
    assertEquals(aborted.lists, []);
  });

  test("watch() ends when the loop reading it breaks", async (registry) => {
    let seen = 0;
    for await (const list of registry.watch("node")) {
      seen++;
      assertEquals(list, []);
      break;
    }
    assertEquals(seen, 1);
    // The registry still works and a new watch starts with the current list.
    await registry.register(sampleInstance("n1"));
    const controller = new AbortController();
    const again = new ListWatch(registry.watch("node", { signal: controller.signal }));
    try {
      await again.until((l) => l.map((i) => i.id).join() === "n1", "n1 in a new watch");
    } finally {
      controller.abort();
      await again.done;
    }
  });

  test("watch() ends when the registry closes", async (registry) => {
    const watch = new ListWatch(registry.watch("node"));
    await watch.until(() => true, "a first list");
    await registry.close();
    await watch.untilEnded();
  });

  test("two registries over one backend see each other's instances", async (registry, namespace) => {
    const other = await create(namespace);
    const controller = new AbortController();
    const watch = new ListWatch(other.watch("node", { signal: controller.signal }));
    try {
      await registry.register(sampleInstance("n1"));
      await other.register(sampleInstance("n2"));
      assertEquals(ids(await registry.services("node")), ["n1", "n2"]);
      await watch.until((l) => ids(l).join() === "n1,n2", "both instances");
      await registry.deregister(sampleInstance("n1"));
      await watch.until((l) => ids(l).join() === "n2", "n2 alone");
    } finally {
      controller.abort();
      await watch.done;
      await other.close();
    }
  });
}

/**
 * Runs `fn` with `make` as a factory of registries and closes every registry it made afterwards, then runs
 * `release` (a fake server's `close`): the frame of each backend's own tests.
 */
export async function withRegistries<O, R extends Registry>(
  make: (more: O) => Promise<R>,
  release: () => Promise<void>,
  fn: (create: (more?: O) => Promise<R>) => Promise<void>,
): Promise<void> {
  const made: R[] = [];
  try {
    await fn(async (more = {} as O) => {
      const registry = await make(more);
      made.push(registry);
      return registry;
    });
  } finally {
    for (const registry of made) await registry.close();
    await release();
  }
}
