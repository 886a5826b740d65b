/**
 * A real cluster — 2 gates, 3 nodes and a mesh as separate processes of the real CLI — on real etcd and Redis.
 */
import { Etcd3 } from "etcd3";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { createTestCluster } from "../_helpers/cluster.ts";
import type { TestCluster } from "../_helpers/cluster.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { connectTcp } from "../../client/mod.ts";
import type { Client } from "../../client/mod.ts";

interface Sample {
  sentAt: number;
  ok: boolean;
  nid?: string;
  error?: string;
}

/** Keeps `conns` clients each sending route 1 back to back until stopped. */
function startLoad(addr: string, conns: number, timeoutMs: number) {
  const samples: Sample[] = [];
  let running = true;
  const clients: Client[] = [];
  const loops = Array.from({ length: conns }, async (_, i) => {
    const client = await connectTcp({ addr, heartbeatIntervalMs: 0, timeoutMs });
    clients.push(client);
    let n = 0;
    while (running) {
      const sample: Sample = { sentAt: performance.now(), ok: false };
      try {
        const reply = await client.request<{ nid: string }>(1, { c: i, n: n++ });
        sample.ok = true;
        sample.nid = reply.nid;
      } catch (err) {
        sample.error = (err as Error).message;
      }
      samples.push(sample);
    }
  });
  return {
    samples,
    async stop(): Promise<Sample[]> {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.close()));
      return samples;
    },
  };
}

const count = (nids: string[]) =>
  nids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

async function client(addr: string): Promise<Client> {
  return await connectTcp({ addr, heartbeatIntervalMs: 0, timeoutMs: 3000 });
}

const ignore = (await skipUnless("etcd")) || (await skipUnless("redis"));

Deno.test({
  name:
    "a cluster of 2 gates, 3 nodes and a mesh on etcd and Redis routes, pushes, broadcasts and survives failures",
  ignore,
  fn: async (t) => {
    const cluster: TestCluster = await createTestCluster();
    const open: Client[] = [];
    const connect = async (addr: string) => {
      const c = await client(addr);
      open.push(c);
      return c;
    };
    try {
      await cluster.mesh("m1");
      await Promise.all([
        cluster.node("n1", ["--cluster.node.weight=1"]),
        cluster.node("n2", ["--cluster.node.weight=2"]),
        cluster.node("n3", ["--cluster.node.weight=3"]),
      ]);
      const g1 = await cluster.gate("g1", ["--cluster.gate.dispatch=rr"]);
      const g2 = await cluster.gate("g2", ["--cluster.gate.dispatch=wrr"]);
      const a1 = g1.addrs.tcp;
      const a2 = g2.addrs.tcp;

      await t.step("round-robin spreads stateless requests evenly over the nodes", async () => {
        const c = await connect(a1);
        const replies = await Promise.all(
          Array.from({ length: 300 }, (_, i) => c.request<{ nid: string }>(1, { i })),
        );
        assertEquals(Object.fromEntries(count(replies.map((r) => r.nid))), { n1: 100, n2: 100, n3: 100 });
      });

      await t.step("weighted round-robin honours node weights 1:2:3 within 10 %", async () => {
        const c = await connect(a2);
        const replies = await Promise.all(
          Array.from({ length: 600 }, (_, i) => c.request<{ nid: string }>(1, { i })),
        );
        const counts = count(replies.map((r) => r.nid));
        for (const [nid, want] of [["n1", 100], ["n2", 200], ["n3", 300]] as const) {
          const got = counts.get(nid) ?? 0;
          assert(Math.abs(got - want) <= want * 0.1, `${nid}: ${got} requests, expected ${want} ± 10 %`);
        }
      });

      await t.step("stateful routes follow bindNode, through either gate", async () => {
        const c = await connect(a1);
        await c.request(71, { uid: 1001 });
        const { bound } = await c.request<{ bound: string }>(72);
        for (let i = 0; i < 10; i++) assertEquals(await c.request(73), { nid: bound });
        const again = await connect(a2); // logging in on g2 kicks the g1 connection
        await again.request(71, { uid: 1001 });
        for (let i = 0; i < 10; i++) assertEquals(await again.request(73), { nid: bound });
        await c.closed;
      });

      await t.step("a push reaches a user on the other gate", async () => {
        const alice = await connect(a1);
        const bob = await connect(a2);
        await alice.request(71, { uid: 2001 });
        await bob.request(71, { uid: 2002 });
        const pushed = new Promise((resolve) => bob.on(300, resolve));
        assertEquals(await alice.request(74, { to: 2002, text: "across gates" }), { ok: true });
        assertEquals(await pushed, { text: "across gates", from: 2001 });
        assertEquals(await alice.request(77, { uid: 2002 }), { online: true, users: 3 });
      });

      await t.step("a broadcast reaches every client on every gate exactly once", async () => {
        await Promise.all(open.splice(0).map((c) => c.close()));
        const clients = await Promise.all([a1, a1, a1, a2, a2, a2].map((addr) => connect(addr)));
        const got = clients.map(() => 0);
        clients.forEach((c, i) => c.on<{ id: string }>(301, (d) => d.id === "b1" && got[i]++));
        assertEquals(await clients[0].request(75, { id: "b1" }), { count: 6 });
        await Promise.all(clients.map((c) => c.request(1, { sync: true })));
        assertEquals(got, [1, 1, 1, 1, 1, 1]);
      });

      await t.step(
        "nodes call the mesh through the cluster, by discovery or at a direct address",
        async () => {
          const c = await connect(a1);
          assertEquals(await c.request(76), { sum: 5 });
          const listening = await cluster.procs.get("m1")!.waitForLine(/link server listening/);
          const addr = /\baddr=(\S+)/.exec(listening)![1];
          assertEquals(await c.request(78, { target: `direct://${addr}` }), { sum: 42 });
        },
      );

      await t.step(
        "registry records are readable by a plain etcd client in the documented format",
        async () => {
          const etcd = new Etcd3({ hosts: serviceAddr("etcd") });
          try {
            const nodes = await etcd.getAll().prefix(`/${cluster.namespace}/node/`).strings();
            const n2 = JSON.parse(nodes[`/${cluster.namespace}/node/n2`]);
            assertEquals([n2.id, n2.name, n2.kind, n2.alias, n2.state, n2.weight], [
              "n2",
              "node",
              "node",
              "node",
              "work",
              2,
            ]);
            assert(/^drpc:\/\/127\.0\.0\.1:\d+\?is_secure=false$/.test(n2.endpoint), n2.endpoint);
            assert(
              n2.routes.some((r: { i: number; s?: boolean }) => r.i === 73 && r.s === true),
              JSON.stringify(n2.routes),
            );
            const gates = await etcd.getAll().prefix(`/${cluster.namespace}/gate/`).strings();
            assertEquals(Object.keys(gates).sort(), [
              `/${cluster.namespace}/gate/g1`,
              `/${cluster.namespace}/gate/g2`,
            ]);
            const mesh = JSON.parse((await etcd.get(`/${cluster.namespace}/mesh/m1`).string())!);
            assertEquals(mesh.services, ["calc"]);
          } finally {
            etcd.close();
          }
        },
      );

      await t.step(
        "a node killed with SIGKILL under load: within a second its traffic moves to the others",
        async () => {
          const load = startLoad(a1, 4, 1000);
          await new Promise((r) => setTimeout(r, 500));
          const killedAt = performance.now();
          await cluster.stop("n3", "SIGKILL");
          await new Promise((r) => setTimeout(r, 2500));
          const samples = await load.stop();
          const after = samples.filter((s) => s.sentAt > killedAt + 1000);
          assert(after.length > 50, `only ${after.length} requests after the kill`);
          const failed = after.filter((s) => !s.ok);
          assertEquals(failed.length, 0, `failed after the first second: ${failed[0]?.error}`);
          assert(after.every((s) => s.nid !== "n3"), "a request reached the killed node");
          const c = await connect(a2);
          assert(
            (await c.request<{ nid: string }>(1, {})).nid !== "n3",
            "g2 still routes to the killed node",
          );
        },
      );

      await t.step("a graceful rolling restart of the nodes under load loses no request", async () => {
        const loads = [startLoad(a1, 3, 5000), startLoad(a2, 3, 5000)];
        await cluster.node("n3", ["--cluster.node.weight=3"]);
        for (const name of ["n1", "n2", "n3"]) {
          await new Promise((r) => setTimeout(r, 300));
          assertEquals(await cluster.stop(name), 0, `${name} did not stop cleanly`);
          await cluster.node(name, [`--cluster.node.weight=${name.slice(1)}`]);
        }
        await new Promise((r) => setTimeout(r, 500));
        const samples = (await Promise.all(loads.map((l) => l.stop()))).flat();
        const failed = samples.filter((s) => !s.ok);
        assert(samples.length > 200, `only ${samples.length} requests`);
        assertEquals(failed.length, 0, `${failed.length} of ${samples.length} lost: ${failed[0]?.error}`);
        const last = samples.slice(-60).map((s) => s.nid);
        for (const nid of ["n1", "n2", "n3"]) {
          assert(last.includes(nid), `${nid} got no traffic after its restart`);
        }
      });

      await t.step("gates kept running through it all and stop cleanly", async () => {
        await Promise.all(open.splice(0).map((c) => c.close()));
        assertEquals(await cluster.stop("g1"), 0);
        assertEquals(await cluster.stop("g2"), 0);
      });
    } finally {
      await Promise.all(open.map((c) => c.close()));
      await cluster.close();
    }
  },
});

Deno.test({
  name: "with transport.driver nats, nodes reach mesh services over NATS without registry discovery",
  ignore: ignore || (await skipUnless("nats")),
  fn: async () => {
    const cluster = await createTestCluster();
    const nats = [`--transport.driver=nats`, `--transport.nats.url=nats://${serviceAddr("nats")}`];
    try {
      // The mesh registers in another namespace: the node can only find it through NATS.
      await cluster.mesh("m1", [...nats, `--registry.etcd.namespace=${cluster.namespace}-elsewhere`]);
      await cluster.node("n1", nats);
      const g1 = await cluster.gate("g1");
      const c = await client(g1.addrs.tcp);
      try {
        assertEquals(await c.request(76), { sum: 5 });
      } finally {
        await c.close();
      }
    } finally {
      await cluster.close();
    }
  },
});
