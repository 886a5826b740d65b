/**
 * Gate and node processes of the real CLI finding each other through the Nacos registry (on FakeNacos, as no Nacos
 * server can run here) and locating users through real Redis.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { createTestCluster } from "../_helpers/cluster.ts";
import { FakeNacos } from "../_helpers/fake_nacos.ts";
import { skipUnless } from "../_helpers/services.ts";
import { connectTcp } from "../../client/mod.ts";
import { waitFor } from "../_helpers/wait.ts";

const ignore = await skipUnless("redis");

Deno.test({
  name:
    "gate and nodes on the Nacos registry: dispatch, a SIGKILLed node turning unhealthy without heartbeats, deregistration",
  ignore,
  fn: async () => {
    // The processes learn the 300 ms heartbeat interval from the server's first answer.
    const fake = FakeNacos.start({
      clientBeatIntervalMs: 300,
      heartbeatTimeoutMs: 1_500,
      deleteTimeoutMs: 60_000,
    });
    const cluster = await createTestCluster();
    const group = cluster.namespace.replace(/[^A-Za-z0-9_.:-]/g, "-");
    const flags = [
      "--registry.driver=nacos",
      `--registry.nacos.urls=${fake.url}`,
      `--registry.nacos.groupName=${group}`,
    ];
    const client = { current: undefined as Awaited<ReturnType<typeof connectTcp>> | undefined };
    const ids = (name: string) => [...fake.instances(name, group).values()].map((i) => i.metadata.id).sort();
    try {
      await Promise.all([cluster.node("n1", flags), cluster.node("n2", flags)]);
      const g1 = await cluster.gate("g1", flags);
      assertEquals([ids("gate"), ids("node")], [["g1"], ["n1", "n2"]]);
      // Watches poll Nacos every second, so the nodes may not have seen the new gate yet: they look it up in the
      // registry when its first requests arrive, and every request gets its reply.
      const c = client.current = await connectTcp({ addr: g1.addrs.tcp, heartbeatIntervalMs: 0 });
      const seen = new Set<string>();
      const deadline = Date.now() + 5_000;
      while (seen.size < 2 && Date.now() < deadline) {
        seen.add((await c.request<{ nid: string }>(1, { i: seen.size })).nid);
      }
      assertEquals([...seen].sort(), ["n1", "n2"]);

      assertEquals(await cluster.stop("n2", "SIGKILL"), 137);
      for (let i = 0; i < 20; i++) assertEquals((await c.request<{ nid: string }>(1, { i })).nid, "n1");
      const n2 = [...fake.instances("node", group).values()].find((i) => i.metadata.id === "n2");
      assert(n2, "FakeNacos forgot n2 before its heartbeats lapsed");
      await waitFor(() => !n2.healthy, "n2 turning unhealthy without heartbeats");

      assertEquals(await cluster.stop("n1"), 0);
      await waitFor(() => !ids("node").includes("n1"), "n1 deregistering on SIGTERM");
    } finally {
      await client.current?.close();
      await cluster.close();
      await fake.close();
    }
  },
});
