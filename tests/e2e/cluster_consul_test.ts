/**
 * Gate and node processes of the real CLI finding each other through the Consul registry (on FakeConsul, as no
 * Consul agent can run here) and locating users through real Redis.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { createTestCluster } from "../_helpers/cluster.ts";
import { FakeConsul } from "../_helpers/fake_consul.ts";
import { skipUnless } from "../_helpers/services.ts";
import { connectTcp } from "../../client/mod.ts";
import { waitFor } from "../_helpers/wait.ts";

const ignore = await skipUnless("redis");

Deno.test({
  name:
    "gate and nodes on the Consul registry: dispatch, a SIGKILLed node's check turning critical, deregistration",
  ignore,
  fn: async () => {
    const fake = FakeConsul.start();
    const cluster = await createTestCluster();
    const namespace = cluster.namespace.replace(/[^A-Za-z0-9_-]/g, "-");
    const flags = [
      "--registry.driver=consul",
      `--registry.consul.addr=${fake.addr}`,
      `--registry.consul.namespace=${namespace}`,
      "--registry.consul.heartbeatCheckInterval=1",
    ];
    const client = { current: undefined as Awaited<ReturnType<typeof connectTcp>> | undefined };
    try {
      await Promise.all([cluster.node("n1", flags), cluster.node("n2", flags)]);
      const g1 = await cluster.gate("g1", flags);
      assertEquals([...fake.services.values()].map((s) => `${s.Service}/${s.ID}`).sort(), [
        `${namespace}-gate/gate-g1`,
        `${namespace}-node/node-n1`,
        `${namespace}-node/node-n2`,
      ]);

      const c = client.current = await connectTcp({ addr: g1.addrs.tcp, heartbeatIntervalMs: 0 });
      const seen = new Set<string>();
      const deadline = Date.now() + 5_000;
      while (seen.size < 2 && Date.now() < deadline) {
        seen.add((await c.request<{ nid: string }>(1, { i: seen.size })).nid);
      }
      assertEquals([...seen].sort(), ["n1", "n2"]);

      assertEquals(await cluster.stop("n2", "SIGKILL"), 137);
      for (let i = 0; i < 20; i++) assertEquals((await c.request<{ nid: string }>(1, { i })).nid, "n1");
      const n2 = fake.services.get("node-n2");
      assert(n2, "FakeConsul forgot n2 before its checks lapsed");
      await waitFor(
        () => [...n2.checks.values()].some((check) => check.status === "critical"),
        "n2's heartbeat check turning critical",
      );

      assertEquals(await cluster.stop("n1"), 0);
      await waitFor(() => !fake.services.has("node-n1"), "n1 deregistering on SIGTERM");
    } finally {
      await client.current?.close();
      await cluster.close();
      await fake.close();
    }
  },
});
