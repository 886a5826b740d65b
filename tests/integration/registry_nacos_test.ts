/**
 * The Nacos registry against FakeNacos (no Nacos server can run here; see `tests/_helpers/fake_nacos.ts`), and
 * against a real server when `DUE_TEST_NACOS` names one (`http://127.0.0.1:8848/nacos`; with auth on, set
 * `DUE_TEST_NACOS_USERNAME` and `DUE_TEST_NACOS_PASSWORD`).
 */
import {
  createNacosRegistry,
  type NacosRegistryOptions,
  nacosRegistryOptionsFromConfig,
} from "../../adapters/registry/nacos.ts";
import { REGISTRY_DRIVERS } from "../../adapters/registry/mod.ts";
import type { Registry } from "../../adapters/registry/types.ts";
import { DueError } from "../../core/errors.ts";
import { createLogger, type LogRecord, silentLogger } from "../../core/logger.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { FakeNacos, type FakeNacosOptions } from "../_helpers/fake_nacos.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { ListWatch, runRegistryConformance, sampleInstance, withRegistries } from "./registry_conformance.ts";
import { waitFor } from "../_helpers/wait.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One FakeNacos per conformance test, keyed by the test's namespace. */
const fakes = new Map<string, FakeNacos>();

runRegistryConformance({
  name: "createNacosRegistry() on FakeNacos",
  create: async (namespace) => {
    let fake = fakes.get(namespace);
    if (!fake) fakes.set(namespace, fake = FakeNacos.start());
    return await createNacosRegistry({
      urls: [fake.url],
      groupName: namespace,
      watchIntervalMs: 50,
      logger: silentLogger,
    });
  },
  cleanup: async (namespace) => {
    await fakes.get(namespace)?.close();
    fakes.delete(namespace);
  },
});

const realNacos = serviceAddr("nacos");
const realOptions = (groupName: string): NacosRegistryOptions => ({
  urls: [realNacos],
  groupName,
  username: Deno.env.get("DUE_TEST_NACOS_USERNAME") ?? "",
  password: Deno.env.get("DUE_TEST_NACOS_PASSWORD") ?? "",
  watchIntervalMs: 200,
  logger: silentLogger,
});
runRegistryConformance({
  name: "createNacosRegistry() on a real server",
  ignore: await skipUnless("nacos"),
  create: (namespace) => createNacosRegistry(realOptions(namespace)),
  cleanup: async (namespace) => {
    const registry = await createNacosRegistry(realOptions(namespace));
    try {
      for (const name of ["gate", "node", "mesh"] as const) {
        for (const instance of await registry.services(name)) await registry.deregister(instance);
      }
    } finally {
      await registry.close();
    }
  },
});

/** Runs `fn` with a fresh FakeNacos and a registry factory on it; closes everything afterwards. */
function withFake(
  fakeOptions: FakeNacosOptions,
  options: NacosRegistryOptions,
  fn: (fake: FakeNacos, create: (more?: NacosRegistryOptions) => Promise<Registry>) => Promise<void>,
): Promise<void> {
  const fake = FakeNacos.start(fakeOptions);
  return withRegistries(
    (more: NacosRegistryOptions) =>
      createNacosRegistry({
        urls: [fake.url],
        watchIntervalMs: 50,
        logger: silentLogger,
        ...options,
        ...more,
      }),
    () => fake.close(),
    (create) => fn(fake, create),
  );
}

Deno.test("createNacosRegistry() registers an ephemeral instance at the endpoint's ip:port with the metadata of due's Go registry", async () => {
  await withFake({}, { groupName: "game", clusterName: "east" }, async (fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1", { endpoint: "drpc://10.0.0.7:4100?is_secure=false" }));
    const stored = fake.instances("node", "game").get("10.0.0.7:4100#east");
    assert(stored, `no instance 10.0.0.7:4100#east among ${[...fake.instances("node", "game").keys()]}`);
    assertEquals([stored.weight, stored.healthy, stored.enabled, stored.ephemeral], [2, true, true, true]);
    assertEquals(stored.metadata, {
      id: "n1",
      name: "node",
      kind: "node",
      alias: "game",
      state: "work",
      endpoint: "drpc://10.0.0.7:4100?is_secure=false",
      weight: "2",
      routes: '[{"i":1,"s":true,"a":true},{"i":2,"n":true}]',
      events: "[1,3]",
      services: '["mail"]',
      metadata: '{"zone":"eu"}',
    });
    const register = fake.requests.find((r) => r.startsWith("POST /nacos/v1/ns/instance?"))!;
    const params = new URL(`http://x${register.slice(5)}`).searchParams;
    assertEquals(
      ["serviceName", "groupName", "clusterName", "ip", "port", "ephemeral"].map((k) => params.get(k)),
      ["node", "game", "east", "10.0.0.7", "4100", "true"],
    );
  });
});

Deno.test("createNacosRegistry() reads instances registered by due's Go registry (JSON routes, events, metadata)", async () => {
  await withFake({}, {}, async (fake, create) => {
    const registry = await create();
    const metadata = {
      id: "go1",
      name: "node",
      kind: "node",
      alias: "game",
      state: "busy",
      endpoint: "drpc://10.0.0.9:4200",
      weight: "3",
      routes: '[{"i":1,"s":true,"n":false,"a":true},{"i":2,"s":false,"n":true,"a":false}]',
      events: "[1,2]",
      services: '["mail"]',
      metadata: '{"zone":"eu"}',
    };
    const query = new URLSearchParams({
      serviceName: "node",
      ip: "10.0.0.9",
      port: "4200",
      metadata: JSON.stringify(metadata),
    });
    await fetch(`${fake.url}/v1/ns/instance?${query}`, { method: "POST" }).then((r) => r.body?.cancel());
    assertEquals(await registry.services("node"), [{
      id: "go1",
      name: "node",
      kind: "node",
      alias: "game",
      state: "busy",
      events: [1, 2],
      routes: [{ i: 1, s: true, a: true }, { i: 2, n: true }],
      services: ["mail"],
      endpoint: "drpc://10.0.0.9:4200",
      weight: 3,
      metadata: { zone: "eu" },
    }]);
  });
});

Deno.test("createNacosRegistry() keeps an instance healthy with heartbeats, and a dead holder's drops out", async () => {
  // Timeouts of ten beats: a busy spell of this process (FakeNacos runs in it) must not pass for a dead holder.
  const fakeOptions = { clientBeatIntervalMs: 100, heartbeatTimeoutMs: 1_000, deleteTimeoutMs: 2_000 };
  await withFake(fakeOptions, {}, async (fake, create) => {
    const holder = await create();
    const reader = await create();
    await holder.register(sampleInstance("n1"));
    await sleep(2_300); // more than the delete timeout
    assertEquals((await reader.services("node")).map((i) => i.id), ["n1"]);
    const beats = fake.requests.filter((r) => r.startsWith("PUT /nacos/v1/ns/instance/beat"));
    assert(beats.length >= 10, `only ${beats.length} heartbeats in 2.3 s at the server's 100 ms interval`);
    assert(beats[0].includes("beat="), "the first heartbeat did not carry the instance");
    assert(!beats.at(-1)!.includes("beat="), "heartbeats stayed heavy although the server allows light ones");
    const controller = new AbortController();
    const watch = new ListWatch(reader.watch("node", { signal: controller.signal }));
    try {
      await watch.until((l) => l.length === 1, "n1");
      await holder.close(); // stops beating, as a crashed process would
      const closedAt = Date.now();
      await watch.until((l) => l.length === 0, "n1 gone", 4_000);
      assert(Date.now() - closedAt >= 900, "dropped before its heartbeat timeout could lapse");
      await waitFor(() => fake.instances("node").size === 0, "the server removing n1");
    } finally {
      controller.abort();
      await watch.done;
    }
  });
});

Deno.test("createNacosRegistry() registers again what a restarted server forgot (heartbeat code 20404)", async () => {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sinks: [{ write: (r) => records.push(r) }] });
  await withFake({ clientBeatIntervalMs: 100 }, { logger }, async (fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1", { endpoint: "drpc://127.0.0.1:4001" }));
    await registry.register(sampleInstance("n2", { endpoint: "drpc://127.0.0.1:4002" }));
    await waitFor(
      () => fake.requests.filter((r) => r.startsWith("PUT") && !r.includes("beat=")).length >= 2,
      "light heartbeats",
    );
    fake.restart();
    assertEquals(fake.instances("node").size, 0);
    await waitFor(() => fake.instances("node").size === 2, "both instances registered again");
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1", "n2"]);
    assertEquals(fake.instances("node").get("127.0.0.1:4001#DEFAULT")?.metadata.id, "n1");
    assert(records.some((r) => r.msg.includes("registering it again")), "the re-registration was not logged");
  });
});

Deno.test("createNacosRegistry() fails over to the next url when a server refuses connections or answers 5xx", async () => {
  const dead = `http://127.0.0.1:${freePort()}/nacos`;
  const sick = FakeNacos.start();
  const good = FakeNacos.start();
  sick.failWith = 503;
  const registry = await createNacosRegistry({
    urls: [dead, sick.url, good.url],
    timeoutMs: 1_000,
    logger: silentLogger,
  });
  try {
    await registry.register(sampleInstance("n1"));
    assertEquals(good.instances("node").size, 1);
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
    await waitFor(() => good.requests.some((r) => r.startsWith("PUT")), "the first heartbeat");
    // The server that answered is asked first from then on.
    const sickRequests = sick.requests.length;
    await registry.services("node");
    assertEquals(sick.requests.length, sickRequests);
    // It fails in turn: back to the top of the list, the sick one recovered meanwhile.
    sick.failWith = 0;
    good.failWith = 500;
    await registry.register(sampleInstance("n2", { endpoint: "drpc://127.0.0.1:4002" }));
    assertEquals([...sick.instances("node").values()].map((i) => i.metadata.id), ["n2"]);
  } finally {
    await registry.close();
    await sick.close();
    await good.close();
  }
});

Deno.test("createNacosRegistry() names every server it tried when none answers", async () => {
  const a = `http://127.0.0.1:${freePort()}/nacos`;
  const sick = FakeNacos.start();
  sick.failWith = 500;
  try {
    const err = await assertRejects(
      () => createNacosRegistry({ urls: [a, sick.url], timeoutMs: 500, logger: silentLogger }),
      DueError,
    ) as DueError;
    assertEquals(err.code, "unavailable");
    assert(err.message.includes(a) && err.message.includes(sick.url), err.message);
    assert(err.message.includes("HTTP 500"), err.message);
    assertEquals(err.context.addr, `${a},${sick.url}`);
  } finally {
    await sick.close();
  }
});

Deno.test("createNacosRegistry() logs in, sends the token with every request, refreshes it before expiry and after a 403", async () => {
  const auth = { username: "due", password: "secret", tokenTtlS: 1 };
  await withFake({ auth }, { username: "due", password: "secret" }, async (fake, create) => {
    const registry = await create();
    assertEquals(fake.logins, 1);
    await registry.register(sampleInstance("n1"));
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
    const calls = fake.requests.filter((r) => !r.includes("/v1/auth/login"));
    assert(calls.length >= 3 && calls.every((r) => /[?&]accessToken=[\w-]+/.test(r)), calls.join("\n"));
    // A tenth of the token's life left: logged in again before the next request.
    await sleep(950);
    await registry.services("node");
    assertEquals(fake.logins, 2);
    // The server no longer takes the token (it expired early): one 403, a login, the request again.
    fake.expireTokens();
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
    assertEquals(fake.logins, 3);
  });
});

Deno.test("createNacosRegistry() refuses to start with credentials the server rejects, naming the server", async () => {
  await withFake({ auth: { username: "due", password: "secret" } }, {}, async (fake, create) => {
    const err = await assertRejects(
      () => create({ username: "due", password: "wrong" }),
      DueError,
    ) as DueError;
    assert(err.message.includes(fake.url) && err.message.includes("unknown user"), err.message);
    await assertRejects(() => create(), DueError, "HTTP 403");
  });
});

Deno.test("createNacosRegistry() refuses a record whose metadata Nacos (>= 2.3) cannot hold, naming the fields", async () => {
  await withFake({}, {}, async (fake, create) => {
    const registry = await create();
    const routes = Array.from({ length: 250 }, (_, i) => ({ i: 1000 + i, s: true }));
    await assertRejects(() => registry.register(sampleInstance("n1", { routes })), RangeError, "'routes'");
    await assertRejects(
      () => registry.register(sampleInstance("n1", { metadata: { blob: "x".repeat(1_000) } })),
      RangeError,
      "'metadata'",
    );
    assertEquals(fake.instances("node").size, 0);
    // Without the check here, the server refuses it with its own message.
    const unchecked = await create({ maxMetadataLength: 0 });
    await assertRejects(
      () => unchecked.register(sampleInstance("n1", { routes })),
      DueError,
      "Param 'Metadata' is illegal",
    );
    // In due's JSON layout, 35 stateful routes of four-digit ids fit.
    await registry.register(sampleInstance("n1", { routes: routes.slice(0, 35) }));
    assertEquals((await registry.services("node"))[0].routes.length, 35);
  });
});

Deno.test("createNacosRegistry() refuses a second id at an endpoint it registered, as Nacos would merge them", async () => {
  await withFake({}, {}, async (_fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1", { endpoint: "drpc://127.0.0.1:4001" }));
    const err = await assertRejects(
      () => registry.register(sampleInstance("n2", { endpoint: "drpc://127.0.0.1:4001" })),
      DueError,
    ) as DueError;
    assertEquals(err.code, "illegal_request");
    assert(err.message.includes("n1") && err.message.includes("127.0.0.1:4001"), err.message);
    // The same id moving to another endpoint replaces its old instance.
    await registry.register(sampleInstance("n1", { endpoint: "drpc://127.0.0.1:4009" }));
    assertEquals((await registry.services("node")).map((i) => i.endpoint), ["drpc://127.0.0.1:4009"]);
    await assertRejects(
      () => registry.register(sampleInstance("n3", { endpoint: "inproc://n3" })),
      TypeError,
      "host:port",
    );
  });
});

Deno.test("createNacosRegistry() watches survive a server answering errors and catch up afterwards", async () => {
  await withFake({}, {}, async (fake, create) => {
    const registry = await create();
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
    try {
      await watch.until((l) => l.length === 0, "the first, empty list");
      fake.failWith = 500;
      await sleep(300);
      await assertRejects(() => registry.services("node"), DueError, fake.url);
      assertEquals(watch.lists.length, 1, "a failed poll yielded a list");
      fake.failWith = 0;
      await registry.register(sampleInstance("n1"));
      await watch.until((l) => l.map((i) => i.id).join() === "n1", "n1 after the outage", 8_000);
    } finally {
      controller.abort();
      await watch.done;
    }
  });
});

Deno.test("createNacosRegistry() skips a malformed instance with a warning and lists the others", async () => {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "debug", sinks: [{ write: (r) => records.push(r) }] });
  await withFake({}, { logger }, async (fake, create) => {
    const registry = await create();
    await registry.register(sampleInstance("n1"));
    const query = new URLSearchParams({
      serviceName: "node",
      ip: "10.9.9.9",
      port: "1",
      metadata: '{"kind":"toaster"}',
    });
    await fetch(`${fake.url}/v1/ns/instance?${query}`, { method: "POST" }).then((r) => r.body?.cancel());
    assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
    assert(records.some((r) => r.msg.includes("malformed") && r.attrs.host === "10.9.9.9:1"));
  });
});

Deno.test("createNacosRegistry() refuses bad options naming the key", async () => {
  await assertRejects(() => createNacosRegistry({ urls: [] }), TypeError, "'urls'");
  await assertRejects(() => createNacosRegistry({ urls: ["ftp://x"] }), TypeError, "'urls'");
  await assertRejects(() => createNacosRegistry({ groupName: "a b" }), TypeError, "'groupName'");
  await assertRejects(
    () => createNacosRegistry({ heartbeatIntervalMs: 0 }),
    RangeError,
    "heartbeatIntervalMs",
  );
  await assertRejects(() => createNacosRegistry({ timeoutMs: -1 }), RangeError, "timeoutMs");
});

Deno.test("REGISTRY_DRIVERS.nacos builds a registry from the registry.nacos section", async () => {
  const fake = FakeNacos.start();
  try {
    const { config } = resolveConfig({
      registry: {
        nacos: {
          urls: [fake.url],
          groupName: "cfg",
          clusterName: "c1",
          timeout: "2s",
          maxMetadataLength: 4096,
        },
      },
    });
    const options = nacosRegistryOptionsFromConfig(config.registry.nacos);
    assertEquals(
      [options.timeoutMs, options.groupName, options.clusterName, options.maxMetadataLength],
      [2_000, "cfg", "c1", 4096],
    );
    assertEquals(resolveConfig({}).config.registry.nacos.maxMetadataLength, 1024);
    const registry = await REGISTRY_DRIVERS.nacos(
      config.registry.nacos as unknown as Record<string, unknown>,
    );
    try {
      assertEquals(registry.name, "nacos");
      await registry.register(sampleInstance("n1"));
      assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
      assertEquals([...fake.instances("node", "cfg").keys()], [
        `${new URL(sampleInstance("n1").endpoint).host}#c1`,
      ]);
    } finally {
      await registry.close();
    }
  } finally {
    await fake.close();
  }
});

Deno.test("nacosRegistryOptionsFromConfig() refuses the Go SDK's keys it cannot honour, naming the key", async () => {
  const defaults = resolveConfig({}).config.registry.nacos;
  nacosRegistryOptionsFromConfig(defaults); // due's defaults are accepted
  nacosRegistryOptionsFromConfig({ ...defaults, cacheDir: "./run/nacos/config/cache", logDir: "" });
  const refused: [string, unknown][] = [
    ["endpoint", "acm.aliyun.com:8080"],
    ["regionId", "cn-hangzhou"],
    ["accessKey", "ak"],
    ["secretKey", "sk"],
    ["openKMS", true],
    ["cacheDir", "/var/cache/nacos"],
    ["logDir", "/var/log/nacos"],
  ];
  for (const [key, value] of refused) {
    assertThrows(
      () => nacosRegistryOptionsFromConfig({ ...defaults, [key]: value }),
      TypeError,
      `registry.nacos.${key} = ${JSON.stringify(value)}`,
    );
  }
  await assertRejects(
    () => REGISTRY_DRIVERS.nacos({ ...defaults, accessKey: "ak" }),
    TypeError,
    "registry.nacos.accessKey",
  );
  // logLevel is honoured: it is the level of the registry's own log lines.
  assert(
    nacosRegistryOptionsFromConfig({ ...defaults, logLevel: "error" }).logger?.enabled("warn") === false,
  );
});
