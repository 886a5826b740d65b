/**
 * The cluster link over real loopback sockets: `createLinkClient()` against `createLinkServer()` serving fake
 * gates, nodes and meshes — every route, the caller's identity, copies of client packets, order per cid and per
 * target across the pooled connections, split frames.
 */
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import {
  connectRaw,
  createFakeGate,
  createFakeMesh,
  createFakeNode,
  hex,
  MISSING,
  ONLINE_UID,
  waitFor,
} from "../_helpers/drpc_fakes.ts";
import { Kind, SessionKind, State } from "../../core/cluster.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import type { Peer } from "../../core/link.ts";
import { createLinkClient } from "../../core/drpc/client.ts";
import type { LinkClient, LinkClientOptions } from "../../core/drpc/client.ts";
import { createLinkServer } from "../../core/drpc/server.ts";
import type { LinkServer, LinkServerOptions } from "../../core/drpc/server.ts";
import {
  encodeDeliver,
  encodeHandshake,
  encodeResponse,
  encodeTrigger,
  Route,
} from "../../core/drpc/frames.ts";

const GATE: Peer = { kind: Kind.Gate, id: "g1" };
const NODE: Peer = { kind: Kind.Node, id: "n9" };
const MESH: Peer = { kind: Kind.Mesh, id: "m1" };
const PACKET = Uint8Array.of(0, 0, 0, 6, 0, 0, 1, 0, 7, 0x2a);

async function link(
  server: Omit<LinkServerOptions, "addr">,
  self: Peer,
  fn: (client: LinkClient, server: LinkServer) => Promise<void>,
  options: LinkClientOptions = {},
): Promise<void> {
  const srv = createLinkServer({ addr: "127.0.0.1:0", ...server });
  const client = createLinkClient(srv.addr, self, { heartbeatIntervalMs: 0, ...options });
  try {
    await fn(client, srv);
  } finally {
    await client.close();
    await srv.close();
  }
}

Deno.test("createLinkClient() calls every gate route 2-13, 16 and 17 through createLinkServer() and gets the gate's answers", async () => {
  const gate = createFakeGate();
  await link({ kind: Kind.Gate, id: "g1", gate }, NODE, async (client) => {
    await client.bind(3, ONLINE_UID);
    const missing = await assertRejects(() => client.bind(MISSING, 1), DueError, "session not found");
    assertEquals((missing as DueError).code, ErrorCode.NotFoundSession);
    await client.unbind(ONLINE_UID);
    assertEquals(await client.getIP(SessionKind.User, ONLINE_UID), "10.1.2.3");
    assertEquals(await client.getIP(SessionKind.User, 5), undefined);
    assertEquals(await client.getIP(SessionKind.Conn, 6), undefined, "an IPv6 address is left out");
    assertEquals(await client.stat(SessionKind.Conn), 42);
    assertEquals(await client.stat(SessionKind.User), 0);
    assertEquals(await client.isOnline(SessionKind.User, ONLINE_UID), true);
    assertEquals(await client.isOnline(SessionKind.User, 5), false);
    await client.disconnect(SessionKind.Conn, 3, true);
    await assertRejects(
      () => client.disconnect(SessionKind.User, MISSING, false),
      DueError,
      "session not found",
    );
    client.push(SessionKind.User, ONLINE_UID, PACKET, { disconnect: true });
    client.push(SessionKind.Conn, 3, PACKET);
    assertEquals(await client.multicast(SessionKind.Conn, [3, 4], PACKET), 2);
    assertEquals(await client.broadcast(SessionKind.User, PACKET, { disconnect: true }), 7);
    assertEquals(await client.publish("room", PACKET), 3);
    await client.subscribe(SessionKind.User, [ONLINE_UID, 7], "room");
    await client.unsubscribe(SessionKind.User, [7], "room");
    assertEquals(await client.getState(), State.Busy);
    await client.setState(State.Hang);
    assertEquals(await client.getState(), State.Hang);
    await waitFor(() => gate.calls.some((c) => c[0] === "push" && c[2] === 3), "the second push");
    const p = hex(PACKET);
    // Pushes are one-way on their own connections; the calls were awaited one by one, so they are in order.
    assertEquals(gate.calls.filter((c) => c[0] === "push"), [
      ["push", 2, ONLINE_UID, p, true],
      ["push", 1, 3, p, false],
    ]);
    assertEquals(gate.calls.filter((c) => c[0] !== "push"), [
      ["bind", 3, ONLINE_UID],
      ["bind", MISSING, 1],
      ["unbind", ONLINE_UID],
      ["getIP", 2, ONLINE_UID],
      ["getIP", 2, 5],
      ["getIP", 1, 6],
      ["stat", 1],
      ["stat", 2],
      ["isOnline", 2, ONLINE_UID],
      ["isOnline", 2, 5],
      ["disconnect", 1, 3, true],
      ["disconnect", 2, MISSING, false],
      ["multicast", 1, 2, 3, p, false],
      ["broadcast", 2, p, true],
      ["publish", "room", p, false],
      ["subscribe", 2, [ONLINE_UID, 7], "room"],
      ["unsubscribe", 2, [7], "room"],
      ["getState"],
      ["setState", State.Hang],
      ["getState"],
    ]);
  });
});

Deno.test("a multicast to more than 65535 targets goes out as several frames whose totals are added", async () => {
  const gate = createFakeGate();
  await link({ kind: Kind.Gate, id: "g1", gate }, NODE, async (client) => {
    const targets = Array.from({ length: 70_000 }, (_, i) => i + 1);
    assertEquals(await client.multicast(SessionKind.Conn, targets, PACKET), 70_000);
    const frames = gate.calls.filter((c) => c[0] === "multicast").map((c) => [c[2], c[3]]).sort((a, b) =>
      (a[1] as number) - (b[1] as number)
    );
    assertEquals(frames, [[65_535, 1], [4_465, 65_536]]);
  });
});

Deno.test("a node link delivers and triggers one-way and the node is told which gate called", async () => {
  const node = createFakeNode();
  await link({ kind: Kind.Node, id: "n1", node }, GATE, async (client) => {
    client.trigger(1, 3, 0);
    client.deliver(3, ONLINE_UID, PACKET);
    client.trigger(2, 3, ONLINE_UID);
    await waitFor(
      () => node.triggered.length === 2 && node.delivered.length === 1,
      "two triggers and a deliver",
    );
    assertEquals(node.triggered, [
      { from: GATE, event: 1, cid: 3, uid: 0 },
      { from: GATE, event: 2, cid: 3, uid: ONLINE_UID },
    ]);
    const [d] = node.delivered;
    assertEquals([d.from, d.cid, d.uid, hex(d.packet)], [GATE, 3, ONLINE_UID, hex(PACKET)]);
    assertEquals(await client.getState(), State.Work);
    await client.setState(State.Busy);
    assertEquals(node.states, [State.Busy]);
    assertEquals(await client.getState(), State.Busy);
    assertEquals(client.stats.sent, 3);
  });
});

Deno.test("the link server refuses Trigger from a node but takes Deliver from a node and from a mesh", async () => {
  const node = createFakeNode();
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node });
  const fromNode = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 0 });
  const fromMesh = createLinkClient(server.addr, MESH, { heartbeatIntervalMs: 0 });
  try {
    fromNode.trigger(1, 5, 0);
    fromNode.deliver(0, 7, PACKET);
    fromMesh.deliver(0, 8, PACKET);
    await waitFor(
      () => node.delivered.length === 2 && server.stats.refused === 1,
      "two delivers and a refusal",
    );
    assertEquals(node.triggered, []);
    assertEquals(node.delivered.map((d) => [d.from.kind, d.from.id, d.uid]).sort(), [[2, "n9", 7], [
      3,
      "m1",
      8,
    ]]);
  } finally {
    await fromNode.close();
    await fromMesh.close();
    await server.close();
  }
});

Deno.test("a mesh call returns the service's result bytes and rejects with the service's error code", async () => {
  const mesh = createFakeMesh();
  await link({ kind: Kind.Mesh, id: "m1", mesh }, NODE, async (client) => {
    const result = await client.call("rank", "top", new TextEncoder().encode("[3]"), "json");
    assertEquals(new TextDecoder().decode(result), "[1,2,3]");
    const err = await assertRejects(
      () => client.call("shop", "buy", new TextEncoder().encode("[]"), "json"),
      DueError,
      "Cannot call mesh service shop.buy: no such service",
    );
    assertEquals((err as DueError).code, ErrorCode.RouteNotFound);
    const plain = await assertRejects(
      () => client.call("rank", "top", new TextEncoder().encode("[-1]"), "json"),
      DueError,
      "negative count",
    );
    assertEquals((plain as DueError).code, ErrorCode.Internal);
    assertEquals(mesh.calls, ["rank.top:json", "shop.buy:json", "rank.top:json"]);
  });
});

Deno.test("a route the server does not serve is answered InternalError and counted as refused", async () => {
  const node = createFakeNode();
  await link({ kind: Kind.Node, id: "n1", node }, GATE, async (client, server) => {
    const err = await assertRejects(() => client.bind(1, 2), DueError, "the peer answered InternalError");
    assertEquals((err as DueError).code, ErrorCode.Internal);
    await assertRejects(
      () => client.call("rank", "top", new Uint8Array(), "json"),
      DueError,
      "InternalError",
    );
    assertEquals(server.stats.refused, 2);
  });
});

Deno.test("serve() attaches the gate after the server started, as a gate built after its link server needs", async () => {
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Gate, id: "g1" });
  const client = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 0 });
  try {
    await assertRejects(() => client.stat(SessionKind.Conn), DueError, "InternalError");
    server.serve({ gate: createFakeGate() });
    assertEquals(await client.stat(SessionKind.Conn), 42);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the node may keep each client packet: it stays intact after later reads reuse the read buffer", async () => {
  const node = createFakeNode();
  await link({ kind: Kind.Node, id: "n1", node }, GATE, async (client) => {
    const packet = (i: number) => Uint8Array.of(0, 0, 0, 6, 0, 0, 1, 0, i, i);
    for (let i = 0; i < 50; i++) client.deliver(1, 0, packet(i));
    await waitFor(() => node.delivered.length === 50, "the first batch");
    for (let i = 50; i < 100; i++) client.deliver(1, 0, packet(i));
    await waitFor(() => node.delivered.length === 100, "the second batch");
    assertEquals(
      node.delivered.map((d) => hex(d.packet)),
      Array.from({ length: 100 }, (_, i) => hex(packet(i))),
    );
  }, { connNum: 1 });
});

Deno.test("Deliver keeps the order of each cid and Push the order of each target across 5 connections", async () => {
  const node = createFakeNode();
  const gate = createFakeGate();
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node, gate });
  const client = createLinkClient(server.addr, GATE, { heartbeatIntervalMs: 0, connNum: 5 });
  try {
    const rounds = 400;
    const cids = 12;
    for (let i = 0; i < rounds; i++) {
      for (let cid = 0; cid < cids; cid++) {
        const p = Uint8Array.of(0, 0, 0, 7, 0, 0, 1, 0, i >> 8, i & 0xff, cid);
        client.deliver(cid, 0, p);
        client.push(SessionKind.Conn, cid, p);
      }
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 0)); // let several writes interleave
    }
    await waitFor(
      () => node.delivered.length === rounds * cids && gate.calls.length === rounds * cids,
      "every frame",
    );
    assertEquals(server.stats.accepted, 5);
    const seq = (bytes: Uint8Array) => (bytes[8] << 8) | bytes[9];
    for (let cid = 0; cid < cids; cid++) {
      const delivered = node.delivered.filter((d) => d.cid === cid).map((d) => seq(d.packet));
      assertEquals(delivered, Array.from({ length: rounds }, (_, i) => i), `deliver order of cid ${cid}`);
      const pushed = gate.calls.filter((c) => c[2] === cid).map((c) => {
        const bytes = (c[3] as string).split(" ").map((x) => parseInt(x, 16));
        return (bytes[8] << 8) | bytes[9];
      });
      assertEquals(pushed, Array.from({ length: rounds }, (_, i) => i), `push order of target ${cid}`);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("frames written one byte at a time are reassembled, and the handshake is answered byte for byte", async () => {
  const node = createFakeNode();
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node });
  const raw = await connectRaw(server.addr);
  try {
    const stream = [
      ...encodeHandshake(1, Kind.Gate, "g1"),
      ...encodeDeliver(0, 3, 10001, PACKET),
      ...encodeTrigger(0, 3, 3, 10001),
      ...encodeDeliver(0, 4, 0, PACKET),
    ];
    for (const byte of stream) await raw.write(Uint8Array.of(byte));
    assertEquals(hex(await raw.read(16)), hex(encodeResponse(Route.Handshake, 1, 0)));
    await waitFor(
      () => node.delivered.length === 2 && node.triggered.length === 1,
      "both delivers and the trigger",
    );
    assertEquals(node.delivered.map((d) => [d.cid, d.uid, hex(d.packet)]), [
      [3, 10001, hex(PACKET)],
      [4, 0, hex(PACKET)],
    ]);
    assertEquals(node.triggered[0].event, 3);
  } finally {
    raw.close();
    await server.close();
  }
});

Deno.test("createLinkServer() advertises drpc://host:port?is_secure=false with the bound port", async () => {
  const local = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Gate, id: "g1" });
  const wild = createLinkServer({ addr: ":0", kind: Kind.Gate, id: "g2" });
  try {
    const port = Number(local.addr.split(":")[1]);
    assert(port > 0, local.addr);
    assertEquals(local.endpoint, `drpc://127.0.0.1:${port}?is_secure=false`);
    const match = /^drpc:\/\/([\d.]+):(\d+)\?is_secure=false$/.exec(wild.endpoint);
    assert(match, wild.endpoint);
    assert(match[1] !== "0.0.0.0", `a wildcard listener advertises a real address: ${wild.endpoint}`);
    assertEquals(Number(match[2]), Number(wild.addr.split(":").pop()));
  } finally {
    await local.close();
    await wild.close();
  }
});
