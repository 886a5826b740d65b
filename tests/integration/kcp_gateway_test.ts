/**
 * The KCP gateway end to end: the example game (echo on route 1, chat on routes 10–13 with pushes on 100) over
 * real UDP, directly and through a lossy relay; heartbeats and idle close; bounds on floods of new convs; and
 * hostile datagrams that must neither crash the server nor disturb other sessions.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { startMonolith, type TestMonolith } from "../_helpers/monolith.ts";
import { startLossyUdpRelay } from "../_helpers/lossy_udp_relay.ts";
import { waitFor } from "../_helpers/packet_server.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { openerDatagram, pendingOpenerDatagram, pushDatagram, RawKcpPeer } from "../_helpers/raw_kcp.ts";
import { createRandom } from "../_helpers/kcp.ts";
import { encodeSegmentHeader, KCP_OVERHEAD, KcpCmd } from "../../adapters/network/kcp/mod.ts";
import { type Client, connectKcp, type ConnectKcpOptions, type Message } from "../../client/mod.ts";
import game from "../../examples/game/mod.ts";
import { ChatRoute } from "../../examples/game/chat.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function connect(addr: string, options: Partial<ConnectKcpOptions> = {}): Promise<Client> {
  return connectKcp({ addr, heartbeatIntervalMs: 0, timeoutMs: 5000, ...options });
}

/**
 * Opens one UDP socket per address and sends `perHost` datagrams from each, pausing every 32 so that the gate's
 * socket buffer (the kernel default, ~208 KiB: Deno cannot raise it) does not overflow and drop what we count on.
 */
async function flood(
  target: string,
  hosts: string[],
  perHost: number,
  datagram: (conv: number) => Uint8Array,
): Promise<void> {
  const [hostname, port] = [
    target.slice(0, target.lastIndexOf(":")),
    Number(target.slice(target.lastIndexOf(":") + 1)),
  ];
  let conv = 0x1000;
  for (const host of hosts) {
    const socket = Deno.listenDatagram({ transport: "udp", hostname: host, port: 0 });
    try {
      for (let i = 0; i < perHost; i++) {
        await socket.send(datagram(conv++), { transport: "udp", hostname, port });
        if (i % 32 === 31) await delay(2);
      }
    } finally {
      socket.close();
    }
  }
}

/** Logs in, joins `room`, and records the room events pushed on route 100. */
async function chatter(client: Client, uid: number, name: string, room: string): Promise<unknown[]> {
  const events: unknown[] = [];
  client.on(ChatRoute.RoomEvent, (event) => events.push(event));
  assertEquals(await client.request(ChatRoute.Login, { uid, name }), { code: 0, uid });
  const joined = await client.request<{ code: number; members: string[] }>(ChatRoute.Join, { room });
  assertEquals(joined.code, 0);
  return events;
}

async function runChat(a: Client, b: Client, room: string): Promise<void> {
  const aliceEvents = await chatter(a, 1001, "alice", room);
  const bobEvents = await chatter(b, 1002, "bob", room);
  assertEquals(await a.request(ChatRoute.Say, { room, text: "hello bob" }), { code: 0 });
  assertEquals(await b.request(ChatRoute.Say, { room, text: "hi alice" }), { code: 0 });
  assertEquals(await b.request(ChatRoute.Leave, { room }), { code: 0 });
  await waitFor(() => aliceEvents.length >= 5 && bobEvents.length >= 3, "the room events", 10_000);
  assertEquals(aliceEvents, [
    { type: "join", room, name: "alice" },
    { type: "join", room, name: "bob" },
    { type: "say", room, name: "alice", text: "hello bob" },
    { type: "say", room, name: "bob", text: "hi alice" },
    { type: "leave", room, name: "bob" },
  ]);
  assertEquals(bobEvents, [
    { type: "join", room, name: "bob" },
    { type: "say", room, name: "alice", text: "hello bob" },
    { type: "say", room, name: "bob", text: "hi alice" },
  ]);
}

async function echoMany(client: Client, count: number, parallel: number): Promise<void> {
  for (let i = 0; i < count; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + parallel); j++) {
      batch.push(client.request<{ message: string }>(1, { message: `m${j}-${"x".repeat(j % 300)}` }));
    }
    const replies = await Promise.all(batch);
    replies.forEach((reply, k) => assertEquals(reply.message, `m${i + k}-${"x".repeat((i + k) % 300)}`));
  }
}

async function withMonolith(
  options: Parameters<typeof startMonolith>[1],
  fn: (m: TestMonolith) => Promise<void>,
): Promise<void> {
  const m = await startMonolith(game, { ...options, kcp: options?.kcp ?? true });
  try {
    await fn(m);
  } finally {
    await m.stop();
  }
}

Deno.test("the KCP gateway serves the example echo next to TCP on the same gate", async () => {
  await withMonolith({}, async (m) => {
    const kcp = await connect(m.kcpAddr);
    const tcp = await RawClient.connect(m.tcpAddr);
    try {
      assertEquals(await kcp.request(1, { message: "over kcp" }), { message: "over kcp" });
      const raw = await kcp.requestRaw(1, { message: "raw" });
      assertEquals([raw.route, raw.seq], [1, 2]);
      await tcp.send(1, 7, { message: "over tcp" });
      await tcp.until((p) => p.length >= 1);
      assertEquals(tcp.data(), [{ route: 1, seq: 7, body: { message: "over tcp" } }]);
      await echoMany(kcp, 200, 20);
      assertEquals(m.kcp!.connCount, 1);
      assertEquals(m.kcp!.network, "kcp");
      assert(m.kcp!.stats.packetsIn >= 202, `packetsIn ${m.kcp!.stats.packetsIn}`);
    } finally {
      await kcp.close();
      await tcp.close();
    }
  });
});

Deno.test("the example chat works over KCP: joins, says and leaves reach every member of the room", async () => {
  await withMonolith({}, async (m) => {
    const alice = await connect(m.kcpAddr);
    const bob = await connect(m.kcpAddr);
    try {
      await runChat(alice, bob, "lobby");
      assertEquals(m.kcp!.connCount, 2);
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});

Deno.test("echo and chat work over KCP through a relay with 10 % loss, duplicates, reordering and 20 ms jitter", async () => {
  await withMonolith({}, async (m) => {
    const relay = await startLossyUdpRelay({
      target: m.kcpAddr,
      seed: 42,
      loss: 0.1,
      duplicate: 0.05,
      reorder: 0.1,
      jitterMs: 20,
    });
    const options = { connectTimeoutMs: 5000, timeoutMs: 10_000 };
    let alice: Client | undefined;
    let bob: Client | undefined;
    try {
      alice = await connect(relay.addr, options);
      bob = await connect(relay.addr, options);
      await echoMany(alice, 150, 10);
      await runChat(alice, bob, "lossy");
      const { dropped, duplicated, reordered, received } = relay.stats;
      assert(dropped >= 0.05 * received, `dropped ${dropped} of ${received}`);
      assert(duplicated > 0, "the relay duplicated datagrams");
      assert(reordered > 0, "the relay reordered datagrams");
      assertEquals(m.kcp!.kcpStats.deadLinks, 0);
    } finally {
      await alice?.close();
      await bob?.close();
      await relay.close();
    }
  });
});

Deno.test("a KCP session that sends no heartbeat is closed as idle while one that beats stays open", async () => {
  await withMonolith({ server: { heartbeatIntervalMs: 100 } }, async (m) => {
    const beating = await connect(m.kcpAddr, { heartbeatIntervalMs: 50 });
    const silent = await connect(m.kcpAddr, { heartbeatIntervalMs: 0 });
    try {
      assertEquals(m.kcp!.connCount, 2);
      await waitFor(() => m.kcp!.stats.closed.idle === 1, "the idle close", 2000);
      await delay(300);
      assertEquals(m.kcp!.connCount, 1);
      assertEquals(m.kcp!.stats.closed.idle, 1);
      assertEquals(await beating.request(1, { message: "alive" }), { message: "alive" });
      assert(beating.stats.heartbeatsReceived >= 5, `heartbeats ${beating.stats.heartbeatsReceived}`);
      // The reaped session's key is quarantined, and the silent client's next packet (sn 1, no opener) is dropped
      // when it arrives, opening nothing.
      assertEquals(m.kcp!.quarantineCount, 1);
      const stats = m.kcp!.kcpStats;
      const dropped = stats.droppedUnknown + stats.droppedQuarantined;
      silent.send(1, { message: "late" });
      await waitFor(
        () => stats.droppedUnknown + stats.droppedQuarantined > dropped,
        "the late packet's drop",
      );
      assertEquals(m.kcp!.sessionCount, 1);
      assertEquals(m.kcp!.kcpStats.sessionsOpened, 2);
    } finally {
      await beating.close();
      await silent.close();
    }
  });
});

Deno.test("datagrams that deliver no packet (segments held behind a lost one) keep a KCP session from idling", async () => {
  await withMonolith({ server: { heartbeatIntervalMs: 100 } }, async (m) => {
    const peer = RawKcpPeer.open(m.kcpAddr);
    try {
      await waitFor(() => m.kcp!.connCount === 1, "the session");
      // sn 1..49 never come, so this heartbeat (sn 50) waits in the receive buffer and no packet is delivered.
      const heldBack = pushDatagram(peer.conv, 50, new Uint8Array([0, 0, 0, 1, 0x80]), 1);
      for (let i = 0; i < 12; i++) { // 480 ms: more than twice the 200 ms the idle close allows
        peer.inject(heldBack);
        await delay(40);
      }
      assertEquals(m.kcp!.connCount, 1);
      assertEquals(m.kcp!.stats.closed.idle, 0);
      await waitFor(() => m.kcp!.stats.closed.idle === 1, "the idle close once the datagrams stop", 2000);
    } finally {
      await peer.close();
    }
  });
});

Deno.test("a busy spell of the gate's process longer than idleTimeoutMs reaps no KCP session that kept sending", async () => {
  await withMonolith({ kcp: { idleTimeoutMs: 200 } }, async (m) => {
    const client = await connect(m.kcpAddr, { heartbeatIntervalMs: 50 });
    try {
      assertEquals(await client.request(1, { message: "before" }), { message: "before" });
      const until = performance.now() + 500; // gate and client alike: this is one process
      while (performance.now() < until) { /* busy */ }
      await delay(300);
      assertEquals(m.kcp!.kcpStats.idleReaped, 0);
      assertEquals(await client.request(1, { message: "after" }), { message: "after" });
    } finally {
      await client.close();
    }
  });
});

Deno.test("a KCP client notices a gate that went away and closes with a timeout", async () => {
  const m = await startMonolith(game, { kcp: true });
  const client = await connect(m.kcpAddr, { heartbeatIntervalMs: 50 });
  try {
    assertEquals(await client.request(1, { message: "up" }), { message: "up" });
    await m.stop();
    const info = await client.closed;
    assert(info.reason.includes("no packet"), info.reason);
    assertEquals(client.state, "closed");
  } finally {
    await client.close();
  }
});

Deno.test("a late opener of a reaped session is dropped during quarantine and opens a new session after it", async () => {
  await withMonolith({ server: { heartbeatIntervalMs: 50 }, kcp: { quarantineMs: 400 } }, async (m) => {
    const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const target: Deno.NetAddr = {
      transport: "udp",
      hostname: "127.0.0.1",
      port: Number(m.kcpAddr.split(":")[1]),
    };
    try {
      await socket.send(openerDatagram(77), target);
      await waitFor(() => m.kcp!.connCount === 1, "the session");
      await waitFor(() => m.kcp!.stats.closed.idle === 1, "the idle close");
      assertEquals(m.kcp!.quarantineCount, 1);
      await socket.send(openerDatagram(77), target);
      await waitFor(() => m.kcp!.kcpStats.droppedQuarantined === 1, "the quarantined drop");
      assertEquals(m.kcp!.sessionCount, 0);
      await waitFor(() => m.kcp!.quarantineCount === 0, "the end of the quarantine", 2000);
      await socket.send(openerDatagram(77), target);
      await waitFor(() => m.kcp!.connCount === 1, "a new session");
      assertEquals(m.kcp!.kcpStats.sessionsOpened, 2);
    } finally {
      socket.close();
    }
  });
});

Deno.test("a flood of new convs from one address is bounded by maxSessionsPerIp; other addresses still connect", async () => {
  await withMonolith({ kcp: { maxSessionsPerIp: 20 } }, async (m) => {
    await flood(m.kcpAddr, ["127.0.0.2"], 300, openerDatagram);
    await waitFor(() => m.kcp!.kcpStats.datagramsIn >= 300, "the flood", 5000).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(m.kcp!.kcpStats)}`);
    });
    assertEquals(m.kcp!.connCount, 20);
    assertEquals(m.kcp!.sessionCount, 20);
    assertEquals(m.kcp!.kcpStats.refusedPerIp, 280);
    const client = await connect(m.kcpAddr);
    try {
      assertEquals(await client.request(1, { message: "still here" }), { message: "still here" });
    } finally {
      await client.close();
    }
  });
});

Deno.test("a flood of pending convs from many addresses is bounded by maxPendingSessions and expires", async () => {
  await withMonolith({ kcp: { maxPendingSessions: 16, pendingTimeoutMs: 300 } }, async (m) => {
    const hosts = Array.from({ length: 10 }, (_, i) => `127.0.1.${i + 1}`);
    await flood(m.kcpAddr, hosts, 40, (conv) => pendingOpenerDatagram(conv));
    await waitFor(() => m.kcp!.kcpStats.datagramsIn >= 400, "the flood", 5000);
    assert(m.kcp!.pendingCount <= 16, `pending ${m.kcp!.pendingCount}`);
    assertEquals(m.kcp!.connCount, 0);
    assert(m.kcp!.kcpStats.refusedPending >= 384, `refused ${m.kcp!.kcpStats.refusedPending}`);
    const client = await connect(m.kcpAddr);
    try {
      assertEquals(await client.request(1, { message: "not pending" }), { message: "not pending" });
      await waitFor(() => m.kcp!.pendingCount === 0, "the pending sessions to expire", 2000);
      assertEquals(m.kcp!.kcpStats.expiredPending, 16);
      assertEquals(m.kcp!.sessionCount, 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("a flood of valid openers from many addresses stops at maxConnNum", async () => {
  await withMonolith({ server: { maxConnNum: 30 } }, async (m) => {
    const hosts = Array.from({ length: 10 }, (_, i) => `127.0.2.${i + 1}`);
    await flood(m.kcpAddr, hosts, 10, openerDatagram);
    await waitFor(() => m.kcp!.kcpStats.datagramsIn >= 100, "the flood", 5000);
    assertEquals(m.kcp!.connCount, 30);
    assertEquals(m.kcp!.sessionCount, 30);
    assertEquals(m.kcp!.stats.refused, 70);
  });
});

Deno.test("garbage, truncated headers, wrong convs, a huge len and duplicates leave the server and other sessions working", async () => {
  await withMonolith({}, async (m) => {
    const bystander = await connect(m.kcpAddr);
    const peer = RawKcpPeer.open(m.kcpAddr, { conv: 0x5eed, duplicate: true });
    const attacker = RawKcpPeer.open(m.kcpAddr, { conv: 0xbad });
    const random = createRandom(7);
    try {
      await waitFor(() => m.kcp!.connCount === 3, "three sessions");
      // 1. Random datagrams of every length, from an address with a session and from one without.
      for (let i = 0; i < 3000; i++) {
        const bytes = new Uint8Array(Math.floor(random() * 1500));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
        (i % 2 === 0 ? attacker : peer).inject(bytes);
        if (i % 64 === 63) await delay(2); // let the gate drain its socket buffer (see flood())
      }
      // 2. Truncated headers.
      for (let len = 0; len < KCP_OVERHEAD; len++) peer.inject(openerDatagram(0x5eed).subarray(0, len));
      // 3. Wrong conv from the peer's address: not a session, not an opener.
      peer.inject(pushDatagram(0x5eee, 3, new Uint8Array(8)));
      // 4. A second segment with another conv behind a valid one.
      const mixed = new Uint8Array(2 * KCP_OVERHEAD);
      encodeSegmentHeader(mixed, 0, 0x5eed, KcpCmd.WindowAsk, 0, 256, 0, 0, 0, 0);
      encodeSegmentHeader(mixed, KCP_OVERHEAD, 0x5eec, KcpCmd.Push, 0, 256, 0, 1, 0, 0);
      peer.inject(mixed);
      // 5. A huge len, on the peer's session.
      const huge = new Uint8Array(KCP_OVERHEAD + 8);
      encodeSegmentHeader(huge, 0, 0x5eed, KcpCmd.Push, 0, 256, 0, 1, 0, 0xffffffff);
      peer.inject(huge);
      // 6. Duplicates: every datagram of the peer goes out twice.
      for (let seq = 1; seq <= 50; seq++) peer.request(1, seq, { message: `dup ${seq}` });
      await waitFor(() => peer.data().length >= 50, "the peer's 50 echoes", 5000);
      await delay(50);
      assertEquals(
        peer.data().map((d) => d.seq).sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assertEquals(await bystander.request(1, { message: "unharmed" }), { message: "unharmed" });
      const stats = m.kcp!.kcpStats;
      assert(stats.droppedShort >= KCP_OVERHEAD, `short ${stats.droppedShort}`);
      assert(stats.droppedUnknown >= 1, `unknown ${stats.droppedUnknown}`);
      assert(stats.invalidDatagrams >= 2, `invalid ${stats.invalidDatagrams}`);
      // Memory stays bounded: no session was opened by any of it.
      assertEquals(stats.sessionsOpened, 3);
      assertEquals(m.kcp!.sessionCount, 3);
      assertEquals(m.kcp!.pendingCount, 0);
      // 7. A client packet declaring a size above the limit closes that session only.
      const tooLarge = new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0]);
      attacker.write(tooLarge);
      await waitFor(() => m.kcp!.stats.closed.too_large === 1, "the too-large close");
      assertEquals(m.kcp!.connCount, 2);
      assertEquals(await bystander.request(1, { message: "still unharmed" }), { message: "still unharmed" });
      peer.request(1, 51, { message: "after" });
      await waitFor(() => peer.data().length >= 51, "the peer's echo after the attack");
    } finally {
      await bystander.close();
      await peer.close();
      await attacker.close();
    }
  });
});

Deno.test("random datagrams carrying a session's conv either leave it working or close it, never the server", async () => {
  await withMonolith({}, async (m) => {
    const bystander = await connect(m.kcpAddr);
    const peer = RawKcpPeer.open(m.kcpAddr, { conv: 0xf00d });
    const random = createRandom(99);
    try {
      await waitFor(() => m.kcp!.connCount === 2, "two sessions");
      for (let i = 0; i < 2000; i++) {
        const bytes = new Uint8Array(KCP_OVERHEAD + Math.floor(random() * 200));
        for (let j = 4; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
        bytes.set([0x0d, 0xf0, 0, 0], 0);
        if (i % 3 === 0) bytes[4] = KcpCmd.Push;
        peer.inject(bytes);
      }
      await delay(200);
      assert(m.kcp!.sessionCount <= 2, `sessions ${m.kcp!.sessionCount}`);
      assertEquals(await bystander.request(1, { message: "fine" }), { message: "fine" });
    } finally {
      await bystander.close();
      await peer.close();
    }
  });
});

Deno.test("stop() waits at most graceMs for a peer that never acknowledges, then releases everything", async () => {
  const m = await startMonolith(game, { kcp: true });
  const peer = RawKcpPeer.open(m.kcpAddr, { conv: 0xacc });
  try {
    await waitFor(() => m.kcp!.connCount === 1, "the session");
    await waitFor(() => peer.kcp.waitSnd() === 0, "the opener's ACK");
    peer.acking = false;
    peer.request(1, 1, { message: "x".repeat(3000) });
    await waitFor(() => m.kcp!.stats.packetsOut >= 1, "the reply to be sent");
    const before = peer.datagramsIn;
    const started = performance.now();
    await m.stop(); // graceMs 500
    const took = performance.now() - started;
    assert(took < 2000, `stop took ${took} ms`);
    assertEquals(m.kcp!.sessionCount, 0);
    assertEquals(m.kcp!.connCount, 0);
    assert(peer.datagramsIn > before, "the gate retransmitted while lingering");
  } finally {
    await peer.close();
  }
});

Deno.test("requestRaw() over KCP carries payloads larger than one segment intact", async () => {
  await withMonolith({ packet: { bufferBytes: 100_000 } }, async (m) => {
    const client = await connect(m.kcpAddr, { bufferBytes: 100_000 });
    try {
      const message = Array.from({ length: 60_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
      const reply: Message = await client.requestRaw(1, { message });
      assertEquals(JSON.parse(new TextDecoder().decode(reply.payload)), { message });
    } finally {
      await client.close();
    }
  });
});
