/**
 * The cluster link when things go wrong, over real loopback sockets: protocol violations close only the
 * offending link, silent links are closed, calls time out and clean up, dials are retried, a dead peer is
 * reported down at once and up again when it returns, queues are bounded.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { connectRaw, createFakeGate, createFakeNode, delay, hex, waitFor } from "../_helpers/drpc_fakes.ts";
import { freePort } from "../_helpers/processes.ts";
import { Kind, SessionKind, State } from "../../core/cluster.ts";
import { ClosedError, DueError, ErrorCode, TimeoutError } from "../../core/errors.ts";
import type { Peer } from "../../core/link.ts";
import { createLinkClient } from "../../core/drpc/client.ts";
import { createLinkServer } from "../../core/drpc/server.ts";
import {
  encodeDeliver,
  encodeGetState,
  encodeHandshake,
  encodeResponse,
  HEARTBEAT_FRAME,
  Route,
} from "../../core/drpc/frames.ts";

const GATE: Peer = { kind: Kind.Gate, id: "g1" };
const NODE: Peer = { kind: Kind.Node, id: "n9" };
const PACKET = Uint8Array.of(0, 0, 0, 6, 0, 0, 1, 0, 7, 0x2a);
const HANDSHAKE_OK = hex(encodeResponse(Route.Handshake, 1, 0));

Deno.test("a link whose first frame is not a Handshake is closed and nothing reaches the node", async () => {
  const node = createFakeNode();
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node });
  const first = [encodeDeliver(0, 1, 2, PACKET), HEARTBEAT_FRAME, encodeHandshake(1, 9, "x")];
  try {
    for (const frame of first) {
      const raw = await connectRaw(server.addr);
      await raw.write(frame);
      assert(await raw.closedWithin(1000), `closed after ${hex(frame.subarray(0, 6))}`);
      raw.close();
    }
    assertEquals(node.delivered, []);
    assertEquals(server.stats.rejected, 3);
  } finally {
    await server.close();
  }
});

for (
  const [what, bytes] of [
    ["a frame of size 0", Uint8Array.of(0, 0, 0, 0)],
    ["a frame above the limit", Uint8Array.of(0, 0, 4, 1, 0, 0x0f)],
    ["a data frame shorter than its head", Uint8Array.of(0, 0, 0, 2, 0, 0x10)],
  ] as const
) {
  Deno.test(`${what} closes that link only: the other links keep working`, async () => {
    const gate = createFakeGate();
    const server = createLinkServer({
      addr: "127.0.0.1:0",
      kind: Kind.Gate,
      id: "g1",
      gate,
      frameLimitBytes: 1024,
    });
    const client = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 0, frameLimitBytes: 1024 });
    const raw = await connectRaw(server.addr);
    try {
      assertEquals(await client.getState(), State.Busy);
      await raw.write(encodeHandshake(1, Kind.Node, "bad"));
      assertEquals(hex(await raw.read(16)), HANDSHAKE_OK);
      await raw.write(bytes);
      assert(await raw.closedWithin(1000), "the offending link is closed");
      assertEquals(server.stats.rejected, 1);
      assertEquals(await client.stat(SessionKind.Conn), 42, "the other links still answer");
      assertEquals(client.state, "up");
    } finally {
      raw.close();
      await client.close();
      await server.close();
    }
  });
}

Deno.test("a link silent for idleTimeoutMs is closed while a client sending heartbeats stays up", async () => {
  const server = createLinkServer({
    addr: "127.0.0.1:0",
    kind: Kind.Gate,
    id: "g1",
    gate: createFakeGate(),
    idleTimeoutMs: 150,
  });
  const client = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 40, connNum: 2 });
  const raw = await connectRaw(server.addr);
  try {
    await raw.write(encodeHandshake(1, Kind.Node, "quiet"));
    assertEquals(hex(await raw.read(16)), HANDSHAKE_OK);
    const started = performance.now();
    assert(await raw.closedWithin(1000), "the silent link is closed");
    const took = performance.now() - started;
    assert(took >= 100 && took < 600, `closed after ${took.toFixed(0)} ms`);
    await delay(300);
    assertEquals(server.stats.idleClosed, 1, "only the silent link was closed");
    assertEquals(client.state, "up");
    assertEquals(await client.getState(), State.Busy);
  } finally {
    raw.close();
    await client.close();
    await server.close();
  }
});

Deno.test("a busy spell of the server's process longer than idleTimeoutMs closes no link that kept sending", async () => {
  const server = createLinkServer({
    addr: "127.0.0.1:0",
    kind: Kind.Gate,
    id: "g1",
    gate: createFakeGate(),
    idleTimeoutMs: 150,
  });
  const client = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 40, connNum: 2 });
  try {
    assertEquals(await client.getState(), State.Busy);
    // Block this process (server and client alike) for 400 ms: the idle check that fires right after it must not
    // count the heartbeats waiting unread in the sockets as silence.
    const until = performance.now() + 400;
    while (performance.now() < until) { /* busy */ }
    await delay(300);
    assertEquals(server.stats.idleClosed, 0);
    assertEquals(client.state, "up");
    assertEquals(await client.getState(), State.Busy);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the client sends Handshake first, then 00 00 00 01 80 every heartbeatIntervalMs on an idle connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const client = createLinkClient(`127.0.0.1:${port}`, GATE, { connNum: 1, heartbeatIntervalMs: 20 });
  const conn = await listener.accept();
  try {
    const read = async (n: number) => {
      const out = new Uint8Array(n);
      let off = 0;
      while (off < n) {
        const got = await conn.read(out.subarray(off));
        assert(got !== null, "stream ended");
        off += got;
      }
      return out;
    };
    assertEquals(hex(await read(17)), "00 00 00 0d 00 01 00 00 00 00 00 00 00 01 01 67 31");
    await conn.write(encodeResponse(Route.Handshake, 1, 0));
    // A heartbeat is not activity: an idle connection sends one every interval, not every other one.
    const started = performance.now();
    let beats = 0;
    while (performance.now() - started < 400) {
      assertEquals(hex(await read(5)), hex(HEARTBEAT_FRAME));
      beats++;
    }
    assert(beats >= 14, `${beats} heartbeats in 400 ms at a 20 ms interval`);
  } finally {
    await client.close();
    conn.close();
    listener.close();
  }
});

Deno.test("a call with no answer within callTimeoutMs rejects with TimeoutError and its late answer is dropped", async () => {
  const gate = createFakeGate();
  let release = () => {};
  gate.hold = new Promise((resolve) => release = resolve);
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Gate, id: "g1", gate });
  const client = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 0, callTimeoutMs: 80 });
  try {
    await client.getState();
    const started = performance.now();
    const err = await assertRejects(() => client.bind(1, 2), TimeoutError, "no answer within 80 ms");
    assertEquals((err as DueError).code, ErrorCode.Timeout);
    assert(performance.now() - started >= 70, "not before the timeout");
    assertEquals(client.stats.timeouts, 1);
    release();
    await waitFor(() => client.stats.late === 1, "the late answer");
    gate.hold = undefined;
    await client.bind(1, 2);
    assertEquals(client.stats.late, 1, "the new call took its own answer");
  } finally {
    release();
    await client.close();
    await server.close();
  }
});

Deno.test("a client whose server starts late retries the dial and its queued call and deliver go through", async () => {
  const port = freePort();
  let ups = 0;
  let downs = 0;
  const client = createLinkClient(`127.0.0.1:${port}`, GATE, {
    heartbeatIntervalMs: 0,
    dialRetryTimes: 10,
    onUp: () => ups++,
    onDown: () => downs++,
  });
  const node = createFakeNode();
  let server: ReturnType<typeof createLinkServer> | undefined;
  try {
    const state = client.getState();
    client.deliver(1, 2, PACKET);
    await delay(120);
    assertEquals(client.state, "connecting");
    server = createLinkServer({ addr: `127.0.0.1:${port}`, kind: Kind.Node, id: "n1", node });
    assertEquals(await state, State.Work);
    await waitFor(() => node.delivered.length === 1, "the queued deliver");
    assertEquals([ups, downs], [1, 0]);
    assertEquals(client.stats.dropped, 0);
  } finally {
    await client.close();
    await server?.close();
  }
});

Deno.test("onDown fires at once when the server dies and onUp when it is back on the same address", async () => {
  const port = freePort();
  const addr = `127.0.0.1:${port}`;
  const events: string[] = [];
  let server = createLinkServer({ addr, kind: Kind.Node, id: "n1", node: createFakeNode() });
  const client = createLinkClient(addr, GATE, {
    heartbeatIntervalMs: 0,
    onUp: () => events.push("up"),
    onDown: () => events.push("down"),
  });
  try {
    await waitFor(() => client.state === "up", "the first connection");
    await server.close();
    const closedAt = performance.now();
    await waitFor(() => events.includes("down"), "onDown");
    const took = performance.now() - closedAt;
    assert(took < 250, `onDown after ${took.toFixed(0)} ms`);
    assertEquals(client.state, "down");
    await assertRejects(() => client.getState(), DueError, "Cannot reach");
    server = createLinkServer({ addr, kind: Kind.Node, id: "n1", node: createFakeNode() });
    await waitFor(() => client.state === "up", "the link to come back", 4000);
    assertEquals(events, ["up", "down", "up"]);
    assertEquals(await client.getState(), State.Work);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a client that never reaches its server reports down once, rejects calls and counts dropped frames", async () => {
  const events: string[] = [];
  const client = createLinkClient(`127.0.0.1:${freePort()}`, GATE, {
    heartbeatIntervalMs: 0,
    dialRetryTimes: 1,
    connNum: 2,
    onUp: () => events.push("up"),
    onDown: () => events.push("down"),
  });
  try {
    const queued = client.getState();
    client.deliver(1, 2, PACKET);
    await assertRejects(() => queued, DueError, "Cannot reach");
    await waitFor(() => client.state === "down", "down");
    await assertRejects(() => client.getState(), DueError, "link down");
    client.deliver(3, 4, PACKET);
    client.push(SessionKind.Conn, 3, PACKET);
    assertEquals(client.stats.dropped, 4, "the queued call and deliver, then a deliver and a push");
    await delay(50);
    assertEquals(events, ["down"]);
  } finally {
    await client.close();
  }
});

Deno.test("the write queue is bounded: one-way frames past it are dropped and counted, calls rejected", async () => {
  // A server that accepts but never answers the handshake: frames stay queued.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const client = createLinkClient(`127.0.0.1:${port}`, GATE, {
    connNum: 1,
    heartbeatIntervalMs: 0,
    frameLimitBytes: 1024,
    writeQueueBytes: 1028,
  });
  const conn = await listener.accept();
  try {
    for (let i = 0; i < 40; i++) client.deliver(1, 2, PACKET); // 40 bytes each: 25 fit in 1028
    assertEquals(client.stats.sent, 25);
    assertEquals(client.stats.dropped, 15);
    const err = await assertRejects(() => client.bind(1, 2), DueError, "write queue full"); // 30 bytes, 28 free
    assertEquals((err as DueError).code, ErrorCode.QueueFull);
  } finally {
    await client.close();
    conn.close();
    listener.close();
  }
});

Deno.test("frames above the frame limit are refused by the client before they are queued", async () => {
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node: createFakeNode() });
  const client = createLinkClient(server.addr, GATE, { heartbeatIntervalMs: 0, frameLimitBytes: 64 });
  try {
    const err = await assertRejects(
      () => client.call("rank", "top", new Uint8Array(100), "json"),
      DueError,
      "above the limit of 64",
    );
    assertEquals((err as DueError).code, ErrorCode.PacketTooLarge);
    client.deliver(1, 2, new Uint8Array(100));
    assertEquals(client.stats.dropped, 1);
    assertEquals(client.stats.sent, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("close() rejects the calls in flight with ClosedError and later calls too", async () => {
  const gate = createFakeGate();
  gate.hold = new Promise(() => {});
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Gate, id: "g1", gate });
  const client = createLinkClient(server.addr, NODE, { heartbeatIntervalMs: 0 });
  try {
    await client.getState();
    const pending = client.bind(1, 2);
    await waitFor(() => gate.calls.some((c) => c[0] === "bind"), "the bind to arrive");
    await client.close();
    await assertRejects(() => pending, ClosedError, "link closed");
    await assertRejects(() => client.getState(), DueError, "link closed");
    assertEquals(client.state, "closed");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("createLinkClient() and createLinkServer() validate their options", () => {
  assertThrows(() => createLinkClient("127.0.0.1:1", GATE, { connNum: 0 }), RangeError, "'connNum' must be");
  assertThrows(() => createLinkClient("nowhere", GATE), TypeError, "'addr' must be");
  assertThrows(() => createLinkClient("127.0.0.1:0", GATE), TypeError, "needs a port");
  assertThrows(() => createLinkClient("127.0.0.1:1", { kind: 7 as 1, id: "x" }), TypeError, "'self.kind'");
  assertThrows(
    () => createLinkServer({ kind: Kind.Gate, id: "g", frameLimitBytes: 100, writeQueueBytes: 50 }),
    RangeError,
    "'writeQueueBytes' must hold one frame",
  );
  assertThrows(() => createLinkServer({ kind: Kind.Gate, id: "" }), TypeError, "'id' must be");
});

Deno.test("createLinkServer() on a taken address throws DueError unavailable naming the address", async () => {
  const first = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Gate, id: "g1" });
  try {
    const err = assertThrows(
      () => createLinkServer({ addr: first.addr, kind: Kind.Gate, id: "g2" }),
      DueError,
      `Cannot listen on ${first.addr}`,
    );
    assertEquals((err as DueError).code, ErrorCode.Unavailable);
  } finally {
    await first.close();
  }
});

Deno.test("a raw dialer's GetState call is answered even when sent in the same write as its handshake", async () => {
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node: createFakeNode() });
  const raw = await connectRaw(server.addr);
  try {
    const both = new Uint8Array([...encodeHandshake(1, Kind.Gate, "g1"), ...encodeGetState(2)]);
    await raw.write(both);
    assertEquals(hex(await raw.read(16)), HANDSHAKE_OK);
    assertEquals(hex(await raw.read(17)), "00 00 00 0d 00 10 00 00 00 00 00 00 00 02 00 00 01");
  } finally {
    raw.close();
    await server.close();
  }
});
