/**
 * The Consul registry against FakeConsul (no Consul agent can run here; see `tests/_helpers/fake_consul.ts`), and
 * against a real agent when `DUE_TEST_CONSUL` names one.
 */
import {
  type ConsulRegistryOptions,
  consulRegistryOptionsFromConfig,
  createConsulRegistry,
} from "../../adapters/registry/consul.ts";
import { REGISTRY_DRIVERS } from "../../adapters/registry/mod.ts";
import { DueError } from "../../core/errors.ts";
import { createLogger, type LogRecord, silentLogger } from "../../core/logger.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { FakeConsul } from "../_helpers/fake_consul.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { ListWatch, runRegistryConformance, sampleInstance, withRegistries } from "./registry_conformance.ts";
import { waitFor } from "../_helpers/wait.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One FakeConsul per conformance test, keyed by the test's namespace. */
const fakes = new Map<string, FakeConsul>();

runRegistryConformance({
  name: "createConsulRegistry() on FakeConsul",
  create: (namespace) => {
    let fake = fakes.get(namespace);
    if (!fake) fakes.set(namespace, fake = FakeConsul.start());
    return createConsulRegistry({ addr: fake.addr, namespace, logger: silentLogger });
  },
  cleanup: async (namespace) => {
    await fakes.get(namespace)?.close();
    fakes.delete(namespace);
  },
});

const realConsul = serviceAddr("consul");
runRegistryConformance({
  name: "createConsulRegistry() on a real agent",
  ignore: await skipUnless("consul"),
  // Real agents run the TCP check of the sample endpoints, where nothing listens: leave it out.
  create: (namespace) =>
    createConsulRegistry({ addr: realConsul, namespace, healthCheck: false, logger: silentLogger }),
  cleanup: async (namespace) => {
    const registry = await createConsulRegistry({ addr: realConsul, namespace, logger: silentLogger });
    try {
      for (const name of ["gate", "node", "mesh"] as const) {
        for (const instance of await registry.services(name)) await registry.deregister(instance);
      }
    } finally {
      await registry.close();
    }
  },
});

/** Runs `fn` with a fresh FakeConsul and a factory of registries on it; closes everything afterwards. */
function withFake(
  options: ConsulRegistryOptions,
  fn: (
    fake: FakeConsul,
    create: (o?: ConsulRegistryOptions) => ReturnType<typeof createConsulRegistry>,
  ) => Promise<void>,
): Promise<void> {
  const fake = FakeConsul.start();
  return withRegistries(
    (more: ConsulRegistryOptions) =>
      createConsulRegistry({ addr: fake.addr, logger: silentLogger, ...options, ...more }),
    () => fake.close(),
    (create) => fn(fake, create),
  );
}

Deno.test("createConsulRegistry() registers due's service layout: id, address, meta chunks and both checks", async () => {
  await withFake({}, async (fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1", { endpoint: "drpc://10.0.0.7:4100?is_secure=false" }));
    const stored = fake.services.get("node-n1");
    assert(stored, `no service node-n1 among ${[...fake.services.keys()]}`);
    assertEquals(stored.Service, "node");
    assertEquals([stored.Address, stored.Port], ["10.0.0.7", 4100]);
    assertEquals(stored.TaggedAddresses, { drpc: { Address: "10.0.0.7", Port: 4100 } });
    assertEquals(stored.Meta, {
      id: "n1",
      kind: "node",
      alias: "game",
      state: "work",
      endpoint: "drpc://10.0.0.7:4100?is_secure=false",
      weight: "2",
      "events-0": "[1,3]",
      "services-0": '["mail"]',
      "routes-0": "1-6,2-1",
      _zone: "eu",
    });
    const checks = [...stored.checks.values()];
    assertEquals(checks.map((c) => [c.tcp, c.ttlMs, c.intervalMs, c.deregisterAfterMs, c.status]), [
      ["10.0.0.7:4100", undefined, 10_000, 30_000, "passing"],
      [undefined, 10_000, undefined, 30_000, "passing"],
    ]);
    assertEquals(checks[1].id, "service:node-n1");
  });
});

Deno.test("createConsulRegistry() keeps an instance listed by passing its TTL check, and a dead holder's drops out", async () => {
  await withFake({ healthCheck: false, heartbeatCheckIntervalMs: 300 }, async (_fake, create) => {
    const holder = await create();
    const reader = await create();
    await holder.register(sampleInstance("n1"));
    await sleep(1_000); // more than three TTLs
    assertEquals((await reader.services("node")).map((i) => i.id), ["n1"]);
    const controller = new AbortController();
    const watch = new ListWatch(reader.watch("node", { signal: controller.signal }));
    try {
      await watch.until((l) => l.length === 1, "n1");
      await holder.close(); // stops passing the check, as a crashed process would
      const closedAt = Date.now();
      await watch.until((l) => l.length === 0, "n1 gone", 3_000);
      const took = Date.now() - closedAt;
      assert(took >= 100, `dropped after ${took} ms, before its TTL could lapse`);
    } finally {
      controller.abort();
      await watch.done;
    }
  });
});

Deno.test("createConsulRegistry() lists an instance whose endpoint answers and drops one whose endpoint is dead", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  try {
    await withFake({ heartbeatCheck: false, healthCheckIntervalMs: 100 }, async (_fake, create) => {
      const registry = await create();
      await registry.register(sampleInstance("live", { endpoint: `drpc://127.0.0.1:${listener.addr.port}` }));
      await registry.register(sampleInstance("dead", { endpoint: `drpc://127.0.0.1:${freePort()}` }));
      const controller = new AbortController();
      const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
      try {
        await watch.until((l) => l.map((i) => i.id).join() === "live", "only the live instance");
      } finally {
        controller.abort();
        await watch.done;
      }
    });
  } finally {
    listener.close();
    await accepting;
  }
});

Deno.test("createConsulRegistry() registers again what a restarted agent forgot", async () => {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sinks: [{ write: (r) => records.push(r) }] });
  await withFake({ healthCheck: false, heartbeatCheckIntervalMs: 300, logger }, async (fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1"));
    await registry.register(sampleInstance("n2"));
    fake.restart();
    assertEquals(fake.services.size, 0);
    const deadline = Date.now() + 3_000;
    while (fake.services.size < 2 && Date.now() < deadline) await sleep(20);
    assertEquals([...fake.services.keys()].sort(), ["node-n1", "node-n2"]);
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1", "n2"]);
    assert(records.some((r) => r.msg.includes("registering it again")), "the re-registration was not logged");
  });
});

for (const abrupt of [false, true]) {
  Deno.test(
    `createConsulRegistry() watches keep following an agent whose index went back after a restart${
      abrupt ? " that cut their blocking query" : ""
    }`,
    async () => {
      await withFake({ healthCheck: false, heartbeatCheck: false }, async (fake, create) => {
        const registry = await create();
        for (const id of ["n1", "n2", "n3", "n4"]) await registry.register(sampleInstance(id));
        const controller = new AbortController();
        const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
        try {
          await watch.until((l) => l.length === 4, "n1 to n4");
          // A query sent after the restart with the old index would wait out its 60 s, with Consul as here.
          await waitFor(() => fake.blocked > 0, "a blocking query");
          const before = fake.index;
          fake.restart({ abrupt });
          await registry.register(sampleInstance("n9"));
          assert(fake.index < before, `the agent's index ${fake.index} did not go back from ${before}`);
          await watch.until((l) => l.map((i) => i.id).join() === "n9", "n9 alone after the restart");
          await registry.register(sampleInstance("n8"));
          await watch.until((l) => l.map((i) => i.id).join() === "n8,n9", "n8 and n9");
        } finally {
          controller.abort();
          await watch.done;
        }
      });
    },
  );
}

Deno.test("createConsulRegistry() watches survive an agent answering errors and catch up afterwards", async () => {
  await withFake({ healthCheck: false, heartbeatCheck: false, watchWaitS: 1 }, async (fake, create) => {
    const registry = await create();
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
    try {
      await watch.until((l) => l.length === 0, "the first, empty list");
      fake.failWith = 500;
      await sleep(1_500);
      await assertRejects(() => registry.services("node"), DueError, fake.addr);
      fake.failWith = 0;
      await registry.register(sampleInstance("n1"));
      await watch.until((l) => l.map((i) => i.id).join() === "n1", "n1 after the outage", 8_000);
    } finally {
      controller.abort();
      await watch.done;
    }
  });
});

Deno.test("createConsulRegistry() refuses records Consul cannot hold, naming what does not fit", async () => {
  await withFake({}, async (_fake, create) => {
    const registry = await create();
    await assertRejects(
      () => registry.register(sampleInstance("n1", { metadata: { "bad key": "x" } })),
      TypeError,
      '"bad key"',
    );
    const metadata = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, "v"]));
    await assertRejects(
      () => registry.register(sampleInstance("n1", { metadata })),
      RangeError,
      "at most 64",
    );
    assertEquals(await registry.services("node"), []);
  });
});

Deno.test("createConsulRegistry() skips a malformed service with a warning and lists the others", async () => {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sinks: [{ write: (r) => records.push(r) }] });
  await withFake({ logger, healthCheck: false, heartbeatCheck: false }, async (fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1"));
    await fetch(`http://${fake.addr}/v1/agent/service/register`, {
      method: "PUT",
      body: JSON.stringify({ ID: "node-junk", Name: "node", Meta: { kind: "toaster" } }),
    }).then((r) => r.body?.cancel());
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
    assert(records.some((r) => r.msg.includes("malformed") && r.attrs.service === "node-junk"));
  });
});

Deno.test("createConsulRegistry() fails with an unavailable error naming the agent when nothing answers", async () => {
  const addr = `127.0.0.1:${freePort()}`;
  const err = await assertRejects(
    () => createConsulRegistry({ addr, timeoutMs: 500, logger: silentLogger }),
    DueError,
    addr,
  ) as DueError;
  assertEquals(err.code, "unavailable");
  assertEquals(err.context.addr, addr);
});

Deno.test("createConsulRegistry() refuses bad options naming the key", async () => {
  await assertRejects(() => createConsulRegistry({ namespace: "a/b" }), TypeError, "'namespace'");
  await assertRejects(
    () => createConsulRegistry({ heartbeatCheckIntervalMs: 0 }),
    RangeError,
    "heartbeatCheckIntervalMs",
  );
  await assertRejects(() => createConsulRegistry({ addr: "" }), TypeError, "'addr'");
});

Deno.test("REGISTRY_DRIVERS.consul builds a registry from the registry.consul section, whose intervals are seconds", async () => {
  const fake = FakeConsul.start();
  try {
    const { config } = resolveConfig({
      registry: { consul: { addr: fake.addr, namespace: "cfg", heartbeatCheckInterval: 4 } },
    });
    assertEquals(consulRegistryOptionsFromConfig(config.registry.consul).heartbeatCheckIntervalMs, 4_000);
    const registry = await REGISTRY_DRIVERS.consul(
      config.registry.consul as unknown as Record<string, unknown>,
    );
    try {
      assertEquals(registry.name, "consul");
      await registry.register(sampleInstance("n1"));
      assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
      assertEquals(fake.services.get("node-n1")?.Service, "cfg-node");
    } finally {
      await registry.close();
    }
  } finally {
    await fake.close();
  }
});
