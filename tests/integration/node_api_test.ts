/**
 * The node API end to end through a gate, in one process: every operation a handler can call.
 */
import { assert, assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { startMonolith } from "../_helpers/monolith.ts";
import { connectTcp } from "../../client/mod.ts";
import type { Client } from "../../client/mod.ts";
import app from "../fixtures/api_app.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("the node API works through a gate in one process", async (t) => {
  const m = await startMonolith(app);
  const clients: Client[] = [];
  const connect = async () => {
    const c = await connectTcp({ addr: m.tcpAddr, heartbeatIntervalMs: 0, timeoutMs: 2000 });
    clients.push(c);
    return c;
  };
  const login = async (c: Client, uid: number) => assertEquals(await c.request(10, { uid }), { uid });
  try {
    await t.step("middleware runs before handlers and may answer itself", async () => {
      const c = await connect();
      assertEquals(await c.request(41), { blocked: true });
    });

    await t.step("the default handler answers routes with no handler of their own", async () => {
      const c = await connect();
      assertEquals(await c.request(999), { default: 999 });
    });

    await t.step("a handler that throws is logged and the connection is served on", async () => {
      const c = await connect();
      await c.request(39, undefined, { timeoutMs: 200 }).catch(() => {});
      assertEquals(await c.request(1, { after: "throw" }), { after: "throw" });
      assert(m.roles.node!.stats.handlerErrors >= 1);
    });

    await t.step("internal routes are not reachable from clients", async () => {
      const c = await connect();
      let answered = true;
      await c.request(37, undefined, { timeoutMs: 200 }).catch(() => answered = false);
      assert(!answered, "an internal route answered a client");
      assert(m.roles.gate!.stats.illegal >= 1);
    });

    await t.step("push, multicast, isOnline and stat reach users by uid", async () => {
      const a = await connect();
      const b = await connect();
      await login(a, 1);
      await login(b, 2);
      const got: unknown[] = [];
      b.on(200, (d) => got.push(d));
      assertEquals(await a.request(30, { to: 2, text: "hi b" }), { ok: true });
      await waitFor(() => got.length === 1, "the push");
      assertEquals(got[0], { text: "hi b", from: 1 });
      assertEquals(await a.request(30, { to: 999, text: "nobody" }), {
        ok: false,
        code: "not_found_location",
      });
      const multi: unknown[] = [];
      a.on(201, (d) => multi.push(d));
      b.on(201, (d) => multi.push(d));
      assertEquals(await a.request(31, { uids: [1, 2, 3], text: "all" }), { count: 2 });
      await waitFor(() => multi.length === 2, "the multicast");
      assertEquals(await a.request(33, { uid: 2 }), { online: true });
      assertEquals(await a.request(33, { uid: 3 }), { online: false });
      const stat = await a.request<{ conns: number; users: number }>(34);
      assert(stat.conns >= 2 && stat.users >= 2, JSON.stringify(stat));
    });

    await t.step("broadcast reaches every connection, or only logged-in users with scope user", async () => {
      const anon = await connect();
      const user = await connect();
      await login(user, 5);
      const seen = { anon: 0, user: 0 };
      anon.on(202, () => seen.anon++);
      user.on(202, () => seen.user++);
      const all = await user.request<{ count: number }>(32, { text: "everyone" });
      assertEquals(all.count, clients.filter((c) => c.state === "open").length);
      await waitFor(() => seen.anon === 1 && seen.user === 1, "the broadcast");
      await user.request(32, { text: "users", scope: "user" });
      await waitFor(() => seen.user === 2, "the user broadcast");
      await anon.request(1, {});
      assertEquals(seen.anon, 1);
    });

    await t.step("channels: subscribers get what is published, others do not", async () => {
      const sub = await connect();
      const other = await connect();
      await sub.request(42, { channel: "news" });
      const got: unknown[] = [];
      sub.on(203, (d) => got.push(d));
      let leaked = 0;
      other.on(203, () => leaked++);
      assertEquals(await other.request(42, { channel: "news", text: "extra" }), { count: 1 });
      await waitFor(() => got.length === 1, "the publish");
      assertEquals(leaked, 0);
    });

    await t.step("stateful routes need a node binding and then go to that node", async () => {
      const c = await connect();
      await login(c, 7);
      let answered = true;
      await c.request(20, undefined, { timeoutMs: 200 }).catch(() => answered = false);
      assert(!answered, "a stateful route answered before bindNode");
      const { bound } = await c.request<{ bound: string }>(21);
      assertEquals(bound, m.roles.node!.id);
      assertEquals(await c.request(20), { nid: m.roles.node!.id, uid: 7 });
    });

    await t.step("unbindGate logs out: authorized routes are dropped again", async () => {
      const c = await connect();
      await login(c, 8);
      assertEquals(await c.request(11), { uid: 0 });
      let answered = true;
      await c.request(21, undefined, { timeoutMs: 200 }).catch(() => answered = false);
      assert(!answered, "an authorized route answered after logout");
    });

    await t.step("disconnect by uid closes that user's connection", async () => {
      const victim = await connect();
      const admin = await connect();
      await login(victim, 9);
      assertEquals(await admin.request(35, { uid: 9 }), { ok: true });
      await victim.closed;
    });

    await t.step("events connect, reconnect (login) and disconnect reach the node in order", async () => {
      const c = await connect();
      await login(c, 11);
      const { events } = await c.request<{ events: string[] }>(50);
      assertEquals(events, ["connect:0", "reconnect:11"]);
    });

    await t.step("getIP returns the client's address", async () => {
      const c = await connect();
      assertEquals(await c.request(38), { ip: "127.0.0.1" });
    });

    await t.step("mesh services are called with typed clients; errors come back as rejections", async () => {
      const c = await connect();
      const reply = await c.request<{ sum: number; failure: string }>(36, { a: 2, b: 40 });
      assertEquals(reply.sum, 42);
      assertStringIncludes(reply.failure, "calc failure on purpose");
    });

    await t.step("a service hosted on a node is called like a mesh service", async () => {
      const c = await connect();
      assertEquals(await c.request(51), { now: 1234 });
    });

    await t.step("broadcastNodes delivers to every node of the name", async () => {
      const c = await connect();
      assertEquals(await c.request(52), { sent: 1 });
      const deadline = Date.now() + 2000;
      let refreshed = 0;
      while (refreshed === 0 && Date.now() < deadline) {
        refreshed = (await c.request<{ refreshed: number }>(54)).refreshed;
      }
      assertEquals(refreshed, 1);
    });

    await t.step("node-to-node delivery runs an internal route with ctx.nid set", async () => {
      const c = await connect();
      const got: { from: string }[] = [];
      c.on<{ from: string }>(204, (d) => got.push(d));
      assertEquals(await c.request(43), { delivered: true });
      await waitFor(() => got.length === 1, "the delivered push");
      assertEquals(got[0].from, m.roles.node!.id);
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await m.stop();
  }
});
