/**
 * A node whose registry watch has not shown a peer yet (a polling registry such as Nacos shows a new one up to a
 * poll late) asks the registry: it answers a gate it has not seen, and calls a mesh service it has not seen.
 */
import { createJsonCodec } from "../../adapters/codec/json.ts";
import { createMemoryLocator } from "../../adapters/locator/memory.ts";
import { createTcpServer } from "../../adapters/network/tcp.ts";
import { createMemoryRegistry } from "../../adapters/registry/memory.ts";
import type { Registry } from "../../adapters/registry/types.ts";
import { connectTcp } from "../../client/mod.ts";
import { createInprocLinks } from "../../core/inproc_links.ts";
import { InprocHub } from "../../core/link.ts";
import { createPacketFormat } from "../../core/packet.ts";
import game from "../../examples/game/mod.ts";
import clusterApp from "../fixtures/cluster_app.ts";
import { startRoles } from "../../runtime/roles.ts";
import { assertEquals } from "../_helpers/assert.ts";

/** The memory registry, except that watches of `kind` show only the instances there were when they started. */
function staleWatches(registry: Registry, kind: "gate" | "mesh"): Registry {
  return {
    name: registry.name,
    register: (instance) => registry.register(instance),
    deregister: (instance) => registry.deregister(instance),
    services: (name) => registry.services(name),
    watch: (name, options = {}) => {
      if (name !== kind) return registry.watch(name, options);
      return {
        async *[Symbol.asyncIterator]() {
          yield await registry.services(kind);
          const { signal } = options;
          if (signal && !signal.aborted) {
            await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
          }
        },
      };
    },
    close: () => registry.close(),
  };
}

Deno.test("a node answers a gate its registry watch has not shown yet, after one registry lookup", async () => {
  const format = createPacketFormat();
  const memory = createMemoryRegistry();
  const locator = createMemoryLocator();
  const hub = new InprocHub();
  let next = 0;
  const tcp = createTcpServer({ addr: "127.0.0.1:0", format, nextId: () => ++next });
  const codec = createJsonCodec();
  // The node starts before the gate: its watch of gates shows none, and never shows more.
  const roles = await startRoles({
    roles: ["node", "gate"],
    app: game,
    format,
    registry: staleWatches(memory, "gate"),
    locator,
    links: createInprocLinks(hub),
    hub,
    gate: { servers: [tcp] },
    node: { codec, drainQuietMs: 0 },
  });
  const client = await connectTcp({ addr: tcp.addr, heartbeatIntervalMs: 0, timeoutMs: 3_000 });
  try {
    // Route 2 answers after delayMs: the first waits longest, yet one connection's requests finish in order.
    const done: number[] = [];
    await Promise.all(
      Array.from(
        { length: 5 },
        (_, i) => client.request(2, { message: i, delayMs: 40 - 10 * i }).then(() => done.push(i)),
      ),
    );
    assertEquals(done, [0, 1, 2, 3, 4]);
    assertEquals(roles.node!.stats.gateLookups, 1);
    assertEquals(roles.node!.stats.unroutableReplies, 0);
    assertEquals((await client.request<{ message: string }>(1, { message: "again" })).message, "again");
    assertEquals(roles.node!.stats.gateLookups, 1);
    // A second new gate right after gets a lookup of its own: the pause is only for a gate a lookup missed.
    const tcp2 = createTcpServer({ addr: "127.0.0.1:0", format, nextId: () => ++next });
    const gate2 = await startRoles({
      roles: ["gate"],
      app: game,
      format,
      registry: staleWatches(memory, "gate"),
      locator,
      links: createInprocLinks(hub),
      hub,
      gate: { servers: [tcp2] },
    });
    const client2 = await connectTcp({ addr: tcp2.addr, heartbeatIntervalMs: 0, timeoutMs: 3_000 });
    try {
      assertEquals((await client2.request<{ message: string }>(1, { message: "g2" })).message, "g2");
      assertEquals(roles.node!.stats.gateLookups, 2);
    } finally {
      await client2.close();
      await gate2.stop(500);
    }
  } finally {
    await client.close();
    await roles.stop(500);
    await memory.close();
    await locator.close();
  }
});

Deno.test("a node calls a mesh service its registry watch has not shown yet, after one registry lookup", async () => {
  const format = createPacketFormat();
  const memory = createMemoryRegistry();
  const registry = staleWatches(memory, "mesh");
  const locator = createMemoryLocator();
  const hub = new InprocHub();
  let next = 0;
  const tcp = createTcpServer({ addr: "127.0.0.1:0", format, nextId: () => ++next });
  const codec = createJsonCodec();
  const common = { app: clusterApp, format, registry, locator, links: createInprocLinks(hub), hub };
  const roles = await startRoles({
    ...common,
    roles: ["node", "gate"],
    gate: { servers: [tcp] },
    node: { codec },
  });
  // The mesh starts after the node, whose watch of meshes showed none and never shows more.
  const mesh = await startRoles({ ...common, roles: ["mesh"], mesh: { codecs: [codec] } });
  const client = await connectTcp({ addr: tcp.addr, heartbeatIntervalMs: 0, timeoutMs: 3_000 });
  try {
    const sums = await Promise.all([client.request(76, {}), client.request(76, {})]);
    assertEquals(sums, [{ sum: 5 }, { sum: 5 }]);
    assertEquals(roles.node!.stats.meshLookups, 1);
    assertEquals(await client.request(76, {}), { sum: 5 });
    assertEquals(roles.node!.stats.meshLookups, 1);
  } finally {
    await client.close();
    await roles.stop(500);
    await mesh.stop(500);
    await memory.close();
    await locator.close();
  }
});
