import { Etcd3 } from "etcd3";
import {
  createEtcdRegistry,
  type EtcdRegistryOptions,
  etcdRegistryOptionsFromConfig,
} from "../../adapters/registry/etcd.ts";
import { REGISTRY_DRIVERS } from "../../adapters/registry/mod.ts";
import type { Registry } from "../../adapters/registry/types.ts";
import { ClosedError, DueError } from "../../core/errors.ts";
import { createLogger, type LogRecord, silentLogger } from "../../core/logger.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../_helpers/assert.ts";
import { freePort, hasCommand, stopChild, waitForPort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { ListWatch, runRegistryConformance, sampleInstance } from "./registry_conformance.ts";

const ignore = await skipUnless("etcd");
const addrs = [serviceAddr("etcd")];
const noEtcdBinary = !(await hasCommand("etcd"));
if (noEtcdBinary) {
  console.log("skipped: etcd restart tests (no etcd binary on PATH to run a throw-away server)");
}

function admin(addr = addrs[0]): Etcd3 {
  return new Etcd3({ hosts: `http://${addr}` });
}

/** Revokes every lease holding a key under the namespace, then deletes the keys. */
async function cleanup(namespace: string, addr = addrs[0]): Promise<void> {
  const client = admin(addr);
  try {
    const res = await client.getAll().prefix(`/${namespace}/`).exec();
    for (const lease of new Set(res.kvs.map((kv) => kv.lease).filter((l) => l !== "0"))) {
      await client.leaseClient.leaseRevoke({ ID: lease }).catch(() => {});
    }
    await client.delete().prefix(`/${namespace}/`).exec();
  } finally {
    client.close();
  }
}

async function withAdmin<T>(addr: string, fn: (client: Etcd3) => Promise<T>): Promise<T> {
  const client = admin(addr);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const uniqueNamespace = () => `duetest-registry-${crypto.randomUUID().slice(0, 8)}`;

function create(namespace: string, options: EtcdRegistryOptions = {}) {
  return createEtcdRegistry({ addrs, namespace, logger: silentLogger, ...options });
}

runRegistryConformance({ name: "createEtcdRegistry()", ignore, create: (ns) => create(ns), cleanup });

/** The registry a test works on: its namespace, the registry, and an admin client of the same etcd. */
interface RegistryTestContext {
  namespace: string;
  registry: Registry;
  client: Etcd3;
}

/** A test over a fresh namespace; the registry, the client and every key and lease are released afterwards. */
function etcdRegistryTest(
  name: string,
  fn: (context: RegistryTestContext) => Promise<void>,
  options: EtcdRegistryOptions = {},
): void {
  Deno.test({
    name,
    ignore,
    async fn() {
      const namespace = uniqueNamespace();
      const registry = await create(namespace, options);
      const client = admin();
      try {
        await fn({ namespace, registry, client });
      } finally {
        client.close();
        await registry.close();
        await cleanup(namespace);
      }
    },
  });
}

etcdRegistryTest(
  "createEtcdRegistry() writes /<namespace>/<name>/<id> = instance JSON under an 11 s lease, as due reads it",
  async ({ namespace, registry, client }) => {
    const instance = sampleInstance("n1");
    await registry.register(instance);
    const res = await client.getAll().prefix(`/${namespace}/`).exec();
    assertEquals(res.kvs.map((kv) => kv.key.toString()), [`/${namespace}/node/n1`]);
    const text = res.kvs[0].value.toString();
    assertEquals(
      Object.keys(JSON.parse(text)),
      [
        "id",
        "name",
        "kind",
        "alias",
        "state",
        "events",
        "routes",
        "services",
        "endpoint",
        "weight",
        "metadata",
      ],
    );
    assertEquals(JSON.parse(text), instance);
    assertStringIncludes(text, `"routes":[{"i":1,"s":true,"a":true},{"i":2,"n":true}]`);
    const lease = res.kvs[0].lease;
    assert(lease !== "0", "the key has no lease");
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: lease });
    assertEquals(ttl.grantedTTL, "11");
    // Every instance of one registry shares its lease.
    await registry.register(sampleInstance("m1", { name: "mesh", kind: "mesh" }));
    assertEquals((await client.get(`/${namespace}/mesh/m1`).exec()).kvs[0].lease, lease);
  },
);

etcdRegistryTest(
  "createEtcdRegistry() revokes its lease when the last instance deregisters",
  async ({ namespace, registry, client }) => {
    await registry.register(sampleInstance("n1"));
    await registry.register(sampleInstance("n2"));
    const lease = (await client.get(`/${namespace}/node/n1`).exec()).kvs[0].lease;
    await registry.deregister(sampleInstance("n1"));
    assertEquals((await client.leaseClient.leaseTimeToLive({ ID: lease })).TTL !== "-1", true);
    await registry.deregister(sampleInstance("n2"));
    assertEquals((await client.leaseClient.leaseTimeToLive({ ID: lease })).TTL, "-1");
    assertEquals(await client.getAll().prefix(`/${namespace}/`).count(), 0);
    // Registering again grants a new lease.
    await registry.register(sampleInstance("n3"));
    const next = (await client.get(`/${namespace}/node/n3`).exec()).kvs[0].lease;
    assert(next !== "0" && next !== lease, "no new lease after the old one was revoked");
  },
);

etcdRegistryTest(
  "createEtcdRegistry() keeps the lease alive well past its TTL",
  async ({ namespace, registry, client }) => {
    await registry.register(sampleInstance("n1"));
    const lease = (await client.get(`/${namespace}/node/n1`).exec()).kvs[0].lease;
    assertEquals((await client.leaseClient.leaseTimeToLive({ ID: lease })).grantedTTL, "2");
    await new Promise((r) => setTimeout(r, 5_000));
    const kvs = (await client.get(`/${namespace}/node/n1`).exec()).kvs;
    assertEquals(kvs.length, 1, "the record expired although its registry was alive");
    assertEquals(kvs[0].lease, lease);
  },
  { retryIntervalMs: 1_000 },
);

etcdRegistryTest(
  "createEtcdRegistry() loses a record within its TTL when the registering process is killed",
  async ({ namespace, registry }) => {
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./_registry_process.ts", import.meta.url).pathname,
        JSON.stringify({ addrs, namespace, retryIntervalMs: 1_000, id: "doomed" }),
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      assertEquals((await reader.read()).value?.trim(), "registered");
      await reader.cancel();
      await watch.until((l) => l.map((i) => i.id).join() === "doomed", "the child's instance");
      // It stays while the child lives (its TTL is 2 s).
      await new Promise((r) => setTimeout(r, 3_000));
      assertEquals(watch.latest?.map((i) => i.id), ["doomed"]);
      await stopChild(child, "SIGKILL");
      const killedAt = Date.now();
      await watch.until((l) => l.length === 0, "an empty list after the child died", 10_000);
      const gone = Date.now() - killedAt;
      assert(gone <= 4_000, `the record outlived its 2 s lease by far: ${gone} ms`);
    } finally {
      await stopChild(child, "SIGKILL");
      controller.abort();
      await watch.done;
    }
  },
);

const malformedWarnings: LogRecord[] = [];
etcdRegistryTest(
  "createEtcdRegistry() skips a malformed record with a warning and keeps watching",
  async ({ namespace, registry, client }) => {
    const records = malformedWarnings;
    const controller = new AbortController();
    const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
    try {
      await client.put(`/${namespace}/node/bad1`).value("{not json").exec();
      await registry.register(sampleInstance("n1"));
      await watch.until((l) => l.map((i) => i.id).join() === "n1", "n1 alone");
      await client.put(`/${namespace}/node/bad2`).value(JSON.stringify({ id: "bad2", kind: "toaster" }))
        .exec();
      await registry.register(sampleInstance("n2"));
      await watch.until((l) => l.map((i) => i.id).join() === "n1,n2", "n1,n2");
      assertEquals((await registry.services("node")).map((i) => i.id), ["n1", "n2"]);
      const keys = records.filter((r) => r.msg === "etcd registry skipped a malformed record").map((r) =>
        r.attrs.key
      );
      assert(keys.includes(`/${namespace}/node/bad1`), `no warning for bad1: ${JSON.stringify(records)}`);
      assert(keys.includes(`/${namespace}/node/bad2`), `no warning for bad2: ${JSON.stringify(records)}`);
      // A valid record overwritten by garbage disappears from the list.
      await client.put(`/${namespace}/node/n1`).value("garbage").exec();
      await watch.until((l) => l.map((i) => i.id).join() === "n2", "n2 alone");
      assertEquals(watch.ended, false);
    } finally {
      controller.abort();
      await watch.done;
    }
  },
  { logger: createLogger({ level: "warn", sinks: [{ write: (r) => malformedWarnings.push(r) }] }) },
);

etcdRegistryTest(
  "createEtcdRegistry() close() leaves records in place and later calls fail with a closed error",
  async ({ namespace, registry, client }) => {
    await registry.register(sampleInstance("n1"));
    await registry.close();
    assertEquals(await client.getAll().prefix(`/${namespace}/`).keys(), [`/${namespace}/node/n1`]);
    await assertRejects(() => registry.register(sampleInstance("n2")), ClosedError);
    await assertRejects(() => registry.services("node"), ClosedError);
    const ended = new ListWatch(registry.watch("node"));
    await ended.untilEnded();
  },
);

etcdRegistryTest(
  "createEtcdRegistry() rejects an instance that is not a valid record",
  async ({ registry }) => {
    await assertRejects(() => registry.register(sampleInstance("")), TypeError, "'id'");
    await assertRejects(() => registry.register(sampleInstance("a/b")), TypeError, "'/'");
    assertEquals(await registry.services("node"), []);
  },
);

Deno.test("createEtcdRegistry() fails with an unavailable error naming the server when etcd is down", async () => {
  const err = await assertRejects(
    () => createEtcdRegistry({ addrs: ["127.0.0.1:1"], dialTimeoutMs: 2_000, logger: silentLogger }),
    DueError,
    "127.0.0.1:1",
  ) as DueError;
  assertEquals(err.code, "unavailable");
  assertEquals(err.context.addr, "127.0.0.1:1");
});

Deno.test("createEtcdRegistry() rejects bad options with std-style messages", async () => {
  await assertRejects(
    () => createEtcdRegistry({ addrs: [] }),
    TypeError,
    "'addrs' must be a non-empty array",
  );
  await assertRejects(() => createEtcdRegistry({ namespace: "/" }), TypeError, "'namespace'");
  await assertRejects(() => createEtcdRegistry({ timeoutMs: 0 }), RangeError, "'timeoutMs' must be > 0");
  await assertRejects(() => createEtcdRegistry({ dialTimeoutMs: -1 }), RangeError, "'dialTimeoutMs'");
  await assertRejects(() => createEtcdRegistry({ retryTimes: 1.5 }), RangeError, "'retryTimes'");
  await assertRejects(() => createEtcdRegistry({ retryIntervalMs: -1 }), RangeError, "current value is -1");
});

Deno.test("etcdRegistryOptionsFromConfig() maps the registry.etcd section with due's key names to options in ms", () => {
  const { config } = resolveConfig({
    registry: {
      etcd: { dialTimeout: "2s", timeout: "500ms", retryInterval: "4s", username: "", namespace: "game" },
    },
  });
  assertEquals(etcdRegistryOptionsFromConfig(config.registry.etcd), {
    addrs: ["127.0.0.1:2379"],
    dialTimeoutMs: 2_000,
    namespace: "game",
    username: undefined,
    password: undefined,
    timeoutMs: 500,
    retryTimes: 3,
    retryIntervalMs: 4_000,
  });
});

Deno.test({
  name: "REGISTRY_DRIVERS.etcd builds a registry from the registry.etcd config section",
  ignore,
  fn: async () => {
    const namespace = uniqueNamespace();
    const { config } = resolveConfig({ registry: { etcd: { addrs, namespace } } });
    const registry = await REGISTRY_DRIVERS.etcd(config.registry.etcd as unknown as Record<string, unknown>);
    try {
      assertEquals(registry.name, "etcd");
      await registry.register(sampleInstance("n1"));
      assertEquals((await registry.services("node")).map((i) => i.id), ["n1"]);
    } finally {
      await registry.close();
      await cleanup(namespace);
    }
  },
});

/** A throw-away etcd on its own ports, to be killed and restarted. */
async function startEtcd(port: number, peerPort: number, dataDir: string): Promise<Deno.ChildProcess> {
  const name = `duetest${port}`;
  const child = new Deno.Command("etcd", {
    args: [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${port}`,
      `--advertise-client-urls=http://127.0.0.1:${port}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=${name}=http://127.0.0.1:${peerPort}`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPort(port);
  return child;
}

const restarts = [
  { wiped: false, outageMs: 1_000, title: "keeps its instances and its watch across an etcd restart" },
  {
    wiped: true,
    outageMs: 1_000,
    title: "puts its instances again and keeps watching when etcd comes back empty",
  },
  {
    wiped: false,
    outageMs: 4_000,
    title: "registers again with a new lease after an etcd outage longer than the TTL",
  },
];
for (const { wiped, outageMs, title } of restarts) {
  Deno.test({
    name: `createEtcdRegistry() ${title}`,
    ignore: noEtcdBinary,
    fn: async () => {
      const port = freePort();
      const peerPort = freePort();
      const dirs = [await Deno.makeTempDir({ prefix: "due-etcd-" })];
      let server = await startEtcd(port, peerPort, dirs[0]);
      const addr = `127.0.0.1:${port}`;
      const namespace = uniqueNamespace();
      const options = {
        addrs: [addr],
        namespace,
        retryIntervalMs: 1_000,
        // DUE_TEST_VERBOSE=1 shows the lease and watch recovery as it happens.
        logger: Deno.env.get("DUE_TEST_VERBOSE") ? createLogger({ level: "debug" }) : silentLogger,
      };
      const registry = await createEtcdRegistry(options);
      const controller = new AbortController();
      const watch = new ListWatch(registry.watch("node", { signal: controller.signal }));
      let other: Awaited<ReturnType<typeof createEtcdRegistry>> | undefined;
      try {
        await registry.register(sampleInstance("n1"));
        await watch.until((l) => l.map((i) => i.id).join() === "n1", "n1");
        const leaseOf = async (client: Etcd3) =>
          (await client.get(`/${namespace}/node/n1`).exec()).kvs[0]?.lease;
        const before = await withAdmin(addr, leaseOf);
        // Past the 2 s TTL, or with the data gone, the registry must have granted a new lease.
        const newLease = wiped || outageMs > 2_000;
        await stopChild(server, "SIGKILL");
        await new Promise((r) => setTimeout(r, outageMs));
        if (wiped) dirs.push(await Deno.makeTempDir({ prefix: "due-etcd-" }));
        server = await startEtcd(port, peerPort, dirs.at(-1)!);
        await withAdmin(addr, async (client) => {
          const deadline = Date.now() + 15_000;
          while (true) {
            const lease = await leaseOf(client).catch(() => undefined);
            if (lease !== undefined && (!newLease || lease !== before)) break;
            assert(Date.now() < deadline, `n1 was not put again 15 s after the restart (lease ${lease})`);
            await new Promise((r) => setTimeout(r, 200));
          }
        });
        other = await createEtcdRegistry(options);
        await other.register(sampleInstance("n2"));
        await watch.until((l) => l.map((i) => i.id).join() === "n1,n2", "n1,n2 after the restart", 15_000);
        await registry.register(sampleInstance("n1", { state: "busy" }));
        await watch.until((l) => l.find((i) => i.id === "n1")?.state === "busy", "n1 busy", 5_000);
      } finally {
        controller.abort();
        await watch.done;
        await other?.close();
        await registry.close();
        await stopChild(server, "SIGKILL");
        for (const dir of dirs) await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
