/**
 * `due dev` with the example game, as a real child process, driven by real TCP and WebSocket clients.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { FREE_PORTS, runDue, startDue } from "../_helpers/due_process.ts";
import { connectKcp, connectTcp, connectWs } from "../../client/mod.ts";
import type { Client } from "../../client/mod.ts";

interface RoomEvent {
  type: string;
  room: string;
  name: string;
  text?: string;
}

Deno.test("due dev serves the example game over TCP and WebSocket", async (t) => {
  const due = await startDue();
  const clients: Client[] = [];
  const tcp = async () => {
    const c = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 });
    clients.push(c);
    return c;
  };
  try {
    await t.step("route 1 echoes over TCP and WebSocket", async () => {
      const c = await tcp();
      assertEquals(await c.request(1, { message: "hi" }), { message: "hi" });
      const w = await connectWs({ url: `ws://${due.addrs.ws}/`, heartbeatIntervalMs: 0 });
      clients.push(w);
      assertEquals(await w.request(1, { message: "over ws" }), { message: "over ws" });
    });

    await t.step(
      "requests of one connection are answered in order, whatever their handlers' delays",
      async () => {
        const c = await tcp();
        const delays = [80, 0, 40, 5, 60, 0, 20, 1];
        const order: number[] = [];
        await Promise.all(
          delays.map((delayMs, i) =>
            c.request<{ message: number }>(2, { message: i, delayMs }).then((r) => order.push(r.message))
          ),
        );
        assertEquals(
          order,
          delays.map((_, i) => i),
        );
      },
    );

    await t.step("different connections are handled concurrently", async () => {
      const slow = await tcp();
      const fast = await tcp();
      const done: string[] = [];
      const slowReply = slow.request(2, { message: "slow", delayMs: 500 }).then(() => done.push("slow"));
      await fast.request(1, { message: "fast" }).then(() => done.push("fast"));
      await slowReply;
      // Served one after the other, the fast reply would come after the slow one's 500 ms.
      assertEquals(done, ["fast", "slow"], "the fast connection waited for the slow one");
    });

    const login = async (c: Client, uid: number, name: string) => {
      assertEquals(await c.request(10, { uid, name }), { code: 0, uid });
    };

    await t.step(
      "a room message is pushed to every member on TCP and WebSocket, and nobody else",
      async () => {
        const alice = await tcp();
        const bob = await connectWs({ url: `ws://${due.addrs.ws}/`, heartbeatIntervalMs: 0 });
        clients.push(bob);
        const carol = await tcp();
        const outsider = await tcp();
        await login(alice, 101, "alice");
        await login(bob, 102, "bob");
        await login(carol, 103, "carol");
        await login(outsider, 104, "dave");
        const seen = new Map<string, RoomEvent[]>();
        for (
          const [name, c] of [["alice", alice], ["bob", bob], ["carol", carol], ["dave", outsider]] as const
        ) {
          seen.set(name, []);
          c.on<RoomEvent>(100, (e) => seen.get(name)!.push(e));
        }
        await alice.request(11, { room: "lobby" });
        await bob.request(11, { room: "lobby" });
        const joined = await carol.request<{ members: string[] }>(11, { room: "lobby" });
        assertEquals(joined.members.sort(), ["alice", "bob", "carol"]);
        await outsider.request(11, { room: "elsewhere" });
        assertEquals(await bob.request(13, { room: "lobby", text: "hello room" }), { code: 0 });
        await alice.request(1, { message: "sync" });
        await bob.request(1, { message: "sync" });
        await carol.request(1, { message: "sync" });
        const says = (name: string) => seen.get(name)!.filter((e) => e.type === "say");
        assertEquals(says("alice"), [{ type: "say", room: "lobby", name: "bob", text: "hello room" }]);
        assertEquals(says("bob").length, 1);
        assertEquals(says("carol").length, 1);
        assertEquals(seen.get("dave")!.filter((e) => e.room === "lobby"), []);
        // carol leaves by disconnecting: the others hear it
        await carol.close();
        await alice.request(1, { message: "sync" });
        const deadline = Date.now() + 2000;
        while (
          !seen.get("alice")!.some((e) => e.type === "leave" && e.name === "carol") && Date.now() < deadline
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert(
          seen.get("alice")!.some((e) => e.type === "leave" && e.name === "carol"),
          "no leave event for carol",
        );
      },
    );

    await t.step("authorized routes from a connection that has not logged in are dropped", async () => {
      const c = await tcp();
      let failed = false;
      await c.request(11, { room: "lobby" }, { timeoutMs: 300 }).catch(() => failed = true);
      assert(failed, "an unauthenticated join was answered");
      assertEquals(await c.request(1, { message: "still served" }), { message: "still served" });
    });

    await t.step("logging in again with the same uid closes the older connection", async () => {
      const first = await tcp();
      await login(first, 201, "first");
      const second = await tcp();
      await login(second, 201, "second");
      const info = await Promise.race([
        first.closed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000)),
      ]);
      assert(info !== undefined, "the older connection was not closed");
      assertEquals(await second.request(1, { message: "alive" }), { message: "alive" });
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    assertEquals(await due.stop(), 0);
  }
  assert(due.lines.some((l) => l.includes("due stopped")), "no clean stop line");
});

Deno.test("due answers heartbeats, sends its clock when asked, and closes silent connections", async (t) => {
  const due = await startDue({
    args: [
      "dev",
      ...FREE_PORTS,
      "--network.tcp.server.heartbeatInterval=600ms",
      "--packet.heartbeatTime=true",
    ],
  });
  try {
    await t.step("a heartbeat is answered with the server's time in ns", async () => {
      const c = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 200 });
      try {
        const times: (bigint | undefined)[] = [];
        c.onHeartbeat((timeNs) => times.push(timeNs));
        await new Promise((r) => setTimeout(r, 700));
        assert(times.length >= 2, `only ${times.length} heartbeats answered`);
        const skewMs = Math.abs(Number(times[0]! / 1_000_000n) - Date.now());
        assert(skewMs < 2000, `server time is ${skewMs} ms off`);
        // still open after more than 2 × interval, because it kept sending heartbeats
        assertEquals(c.state, "open");
      } finally {
        await c.close();
      }
    });

    await t.step("a connection that sends nothing is closed after about 2 × heartbeatInterval", async () => {
      const c = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 });
      const started = performance.now();
      const info = await Promise.race([
        c.closed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 4000)),
      ]);
      const elapsed = performance.now() - started;
      await c.close();
      assert(info !== undefined, "idle connection was not closed");
      assert(elapsed >= 1000 && elapsed < 3000, `closed after ${elapsed} ms, expected 1.2 s to 1.8 s`);
    });
  } finally {
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due with heartbeatMechanism tick sends heartbeats on its own", async () => {
  const due = await startDue({
    args: [
      "dev",
      ...FREE_PORTS,
      "--network.tcp.server.heartbeatInterval=300ms",
      "--network.tcp.server.heartbeatMechanism=tick",
    ],
  });
  const c = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 });
  try {
    let beats = 0;
    c.onHeartbeat(() => beats++);
    await c.request(1, { message: "keep alive" });
    await new Promise((r) => setTimeout(r, 500));
    await c.request(1, { message: "keep alive" });
    assert(beats >= 1, "no heartbeat from the server in tick mode");
  } finally {
    await c.close();
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due dev serves the example game over KCP too, and due client --kcp talks to it", async () => {
  const due = await startDue();
  try {
    assert(due.addrs.kcp, `no kcp address in the ready line: ${due.lines.join("\n")}`);
    const c = await connectKcp({ addr: due.addrs.kcp, heartbeatIntervalMs: 0 });
    try {
      assertEquals(await c.request(1, { message: "over kcp" }), { message: "over kcp" });
      assertEquals(await c.request(10, { uid: 301, name: "kim" }), { code: 0, uid: 301 });
    } finally {
      await c.close();
    }
    const { code, stdout } = await runDue([
      "client",
      `--kcp=${due.addrs.kcp}`,
      "--route=1",
      '--data={"message":"cli"}',
    ]);
    assertEquals([code, stdout.trim()], [0, '{"message":"cli"}']);
  } finally {
    assertEquals(await due.stop(), 0);
  }
});
