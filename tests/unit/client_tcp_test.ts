import {
  assert,
  assertBetween,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { ClosedError, DueError, ErrorCode, TimeoutError } from "../../core/errors.ts";
import {
  type Client,
  type CloseInfo,
  connectTcp,
  createClient,
  createDenoTcpDialer,
} from "../../client/mod.ts";
import type { ConnectTcpOptions } from "../../client/tcp_deno.ts";
import {
  fromHex,
  hex,
  type PacketServer,
  selfSignedCert,
  startTcpServer,
  waitFor,
} from "../_helpers/packet_server.ts";

function connect(server: PacketServer, options: Partial<ConnectTcpOptions> = {}): Promise<Client> {
  return connectTcp({ addr: server.addr, heartbeatIntervalMs: 0, ...options });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("request() pairs replies by route and seq with several requests in flight answered out of order", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const answered: number[] = [];
    const requests = [0, 1, 2, 3].map((i) =>
      client.request<{ i: number }>(7, { reverse: 4, i }).then((reply) => {
        answered.push(reply.i);
        return reply;
      })
    );
    const replies = await Promise.all(requests);
    assertEquals(replies.map((r) => r.i), [0, 1, 2, 3]);
    assertEquals(answered, [3, 2, 1, 0]);
    assertEquals(server.packets().map((p) => p.kind === "data" ? p.seq : -1), [1, 2, 3, 4]);
    assertEquals(client.pendingRequests, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request() with the same seq but another route does not resolve with the other route's packet", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const pushes: number[] = [];
    client.on(8, (_data, message) => pushes.push(message.seq));
    const first = client.request(7, { reverse: 2, n: 1 }); // seq 1, held by the server
    await waitFor(() => server.packets().length === 1, "the request");
    await server.push(8, { fake: true }, 1); // seq 1 on route 8: not the reply of route 7 seq 1
    await waitFor(() => pushes.length === 1, "the push");
    assertEquals(client.pendingRequests, 1);
    const second = client.request(7, { reverse: 2, n: 2 }); // seq 2: the server now answers both
    assertEquals(await Promise.all([first, second]), [{ reverse: 2, n: 1 }, { reverse: 2, n: 2 }]);
    assertEquals(pushes, [1]);
    assertEquals(client.stats.unmatchedReplies, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request() rejects with TimeoutError, frees its seq, and the late reply goes to the push handlers", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const late: unknown[] = [];
    client.on(5, (data, message) => late.push({ data, seq: message.seq }));
    const err = await assertRejects(
      () => client.request(5, { drop: true }, { timeoutMs: 20 }),
      TimeoutError,
    ) as TimeoutError;
    assertEquals(err.code, ErrorCode.Timeout);
    assertEquals(err.context.route, 5);
    assertEquals(client.pendingRequests, 0);
    await server.push(5, { late: true }, 1); // the reply to seq 1, after the timeout
    await waitFor(() => late.length === 1, "the late reply");
    assertEquals(late, [{ data: { late: true }, seq: 1 }]);
    assertEquals(client.stats.unmatchedReplies, 1);
    assertEquals(await client.request(5, { again: true }), { again: true });
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request() rejects with the signal's reason when aborted and frees its seq", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const controller = new AbortController();
    const pending = client.request(5, { drop: true }, { signal: controller.signal });
    controller.abort(new Error("user gave up"));
    const err = await assertRejects(() => pending, Error);
    assertEquals(err.message, "user gave up");
    assertEquals(client.pendingRequests, 0);
    await assertRejects(() => client.request(5, {}, { signal: controller.signal }), Error, "user gave up");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request() wraps seq around within seqBytes 1 over 300 requests, skipping 0 and a pending seq", async () => {
  const packet = { seqBytes: 1 } as const;
  const server = await startTcpServer({ packet });
  const client = await connect(server, packet);
  try {
    const held = client.request(1, { drop: true }, { timeoutMs: 60_000 }); // seq 1 stays pending
    const heldRejected = assertRejects(() => held, ClosedError);
    for (let i = 0; i < 300; i++) assertEquals(await client.request(1, i), i);
    const seqs = server.packets().map((p) => p.kind === "data" ? p.seq : -1);
    const expected = [1];
    for (let i = 0, seq = 1; i < 300; i++) {
      seq = seq >= 127 ? 2 : seq + 1; // 1 is pending, 0 is never used
      expected.push(seq);
    }
    assertEquals(seqs, expected);
    assert(seqs.every((s) => s >= 1 && s <= 127));
    await client.close();
    await heldRejected;
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request() rejects with queue_full when every seq of seqBytes 1 is pending", async () => {
  const packet = { seqBytes: 1 } as const;
  const server = await startTcpServer({ packet });
  const client = await connect(server, packet);
  try {
    const held = Array.from({ length: 127 }, () => client.request(1, { drop: true }, { timeoutMs: 60_000 }));
    const heldRejected = held.map((p) => assertRejects(() => p, ClosedError));
    const err = await assertRejects(() => client.request(1, {}), DueError) as DueError;
    assertEquals(err.code, ErrorCode.QueueFull);
    assertEquals(client.pendingRequests, 127);
    await client.close();
    await Promise.all(heldRejected);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("request() with seqBytes 0 rejects with a clear TypeError while send() and pushes still work", async () => {
  const packet = { seqBytes: 0 } as const;
  const server = await startTcpServer({ packet });
  const client = await connect(server, packet);
  try {
    await assertRejects(() => client.request(1, {}), TypeError, "'seqBytes' is 0");
    const echoed: unknown[] = [];
    client.on(3, (data) => echoed.push(data));
    client.send(3, { hello: "world" });
    await waitFor(() => echoed.length === 1, "the echo of send()");
    assertEquals(echoed, [{ hello: "world" }]);
    assertEquals(
      hex(server.received()),
      hex(fromHex("00 00 00 14 00 00 03 7b 22 68 65 6c 6c 6f 22 3a 22 77 6f 72 6c 64 22 7d")),
    );
  } finally {
    await client.close();
    await server.close();
  }
});

const HI = new TextEncoder().encode('{"message":"hi"}');

const WIRE_CASES = [
  {
    name: "big endian, route 2, seq 2 (the worked example)",
    packet: {},
    route: 1,
    seq: 7,
    wire: "00 00 00 15 | 00 | 00 01 | 00 07 | 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d",
  },
  {
    name: "little endian, route 2, seq 2",
    packet: { byteOrder: "little" },
    route: 1,
    seq: 7,
    wire: "15 00 00 00 | 00 | 01 00 | 07 00 | 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d",
  },
  {
    name: "big endian, route 4, no seq",
    packet: { routeBytes: 4, seqBytes: 0 },
    route: 1,
    seq: 0,
    wire: "00 00 00 15 | 00 | 00 00 00 01 | 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d",
  },
  {
    name: "little endian, route 1 (negative), seq 4",
    packet: { byteOrder: "little", routeBytes: 1, seqBytes: 4 },
    route: -2,
    seq: 7,
    wire: "16 00 00 00 | 00 | fe | 07 00 00 00 | 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d",
  },
  {
    name: "big endian, route 2, seq 1",
    packet: { seqBytes: 1 },
    route: 300,
    seq: 7,
    wire: "00 00 00 14 | 00 | 01 2c | 07 | 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d",
  },
] as const;

for (const c of WIRE_CASES) {
  Deno.test(`send() writes the golden bytes for ${c.name}`, async () => {
    const server = await startTcpServer({ packet: c.packet });
    const client = await connect(server, c.packet);
    try {
      client.send(c.route, HI, { seq: c.seq });
      await waitFor(() => server.received().length === fromHex(c.wire).length, "the packet");
      assertEquals(hex(server.received()), hex(fromHex(c.wire)));
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("request() writes route and seq in little endian with routeBytes 4 and seqBytes 2", async () => {
  const packet = { byteOrder: "little", routeBytes: 4, seqBytes: 2 } as const;
  const server = await startTcpServer({ packet });
  const client = await connect(server, packet);
  try {
    const reply = await client.requestRaw(0x01020304, new Uint8Array([0xaa]));
    assertEquals(reply, { route: 0x01020304, seq: 1, payload: new Uint8Array([0xaa]) });
    assertEquals(hex(server.received()), hex(fromHex("08 00 00 00 | 00 | 04 03 02 01 | 01 00 | aa")));
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("requestRaw() resolves with the reply's route, seq and undecoded payload", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const reply = await client.requestRaw(-3, new Uint8Array([1, 2, 3]));
    assertEquals(reply, { route: -3, seq: 1, payload: new Uint8Array([1, 2, 3]) });
  } finally {
    await client.close();
    await server.close();
  }
});

for (const byteOrder of ["big", "little"] as const) {
  Deno.test(`client sends heartbeats every heartbeatIntervalMs in ${byteOrder} endian`, async () => {
    const server = await startTcpServer({ packet: { byteOrder } });
    const client = await connect(server, { byteOrder, heartbeatIntervalMs: 50 });
    try {
      await waitFor(() => server.packets().length >= 3, "three heartbeats");
      const beat = byteOrder === "big" ? "00 00 00 01 80" : "01 00 00 00 80";
      const received = server.received();
      assertEquals(hex(received), Array(received.length / 5).fill(beat).join(" "));
      assertEquals(client.state, "open");
      await waitFor(() => client.stats.heartbeatsReceived >= 3, "three answers");
      assert(client.stats.heartbeatsSent > 2, `expected more than 2: ${client.stats.heartbeatsSent}`);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

for (const byteOrder of ["big", "little"] as const) {
  Deno.test(`onHeartbeat() receives the server time in nanoseconds as an exact bigint (${byteOrder} endian)`, async () => {
    const timeNs = 1717000000123456789n;
    const server = await startTcpServer({ packet: { byteOrder }, heartbeatTimeNs: timeNs });
    const client = await connect(server, { byteOrder, heartbeatIntervalMs: 50 });
    try {
      const times: (bigint | undefined)[] = [];
      client.onHeartbeat((t) => times.push(t));
      await waitFor(() => times.length >= 1, "a heartbeat");
      assertEquals(times[0], timeNs);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("onHeartbeat() receives undefined for a heartbeat without time", async () => {
  const server = await startTcpServer();
  const client = await connect(server, { heartbeatIntervalMs: 50 });
  try {
    const times: (bigint | undefined)[] = [];
    client.onHeartbeat((t) => times.push(t));
    await waitFor(() => times.length >= 1, "a heartbeat");
    assertEquals(times[0], undefined);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("client closes with a reason when the server is silent for more than 2 × heartbeatIntervalMs", async () => {
  const server = await startTcpServer({ mode: "silent" });
  const started = performance.now();
  const client = await connect(server, { heartbeatIntervalMs: 30 });
  try {
    const pending = client.request(1, {}, { timeoutMs: 60_000 });
    const rejected = assertRejects(() => pending, ClosedError, "no packet for");
    const info = await client.closed;
    const elapsed = performance.now() - started;
    await rejected;
    assert(info.error instanceof TimeoutError, `expected TimeoutError: ${info.error}`);
    assertEquals(info.reconnecting, false);
    assertStringIncludes(info.reason, "2 × heartbeatIntervalMs (30 ms)");
    assertBetween(elapsed, 60, 2000);
    assertEquals(client.state, "closed");
    // The client kept sending heartbeats to the silent server until it gave up (one at 30 ms at least).
    const beats = server.packets().filter((p) => p.kind === "heartbeat").length;
    assert(beats >= 1, `heartbeats sent to the silent server: ${beats}`);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a client whose own event loop stalls past 2 × heartbeatIntervalMs does not count the server as silent", async () => {
  const server = await startTcpServer();
  const client = await connect(server, { heartbeatIntervalMs: 50, reconnect: false });
  try {
    await waitFor(() => client.stats.heartbeatsReceived >= 1, "a heartbeat answer");
    // Block this process (client and server alike) for six intervals: the first tick after it comes late, so it
    // only sends a heartbeat; the answer comes before the next tick judges.
    const until = performance.now() + 300;
    while (performance.now() < until) { /* busy */ }
    const answered = client.stats.heartbeatsReceived;
    await waitFor(() => client.stats.heartbeatsReceived > answered, "a heartbeat answer after the stall");
    assertEquals(client.state, "open");
    assertEquals((await client.request<{ n: number }>(1, { n: 3 })).n, 3);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("close() rejects every pending request with ClosedError and later calls with ClosedError", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const pending = [1, 2, 3].map((route) => client.request(route, { drop: true }));
    const rejected = pending.map((p) => assertRejects(() => p, ClosedError, "closed before the reply"));
    const closes: CloseInfo[] = [];
    client.onClose((info) => closes.push(info));
    await client.close("bye");
    await Promise.all(rejected);
    assertEquals(closes, [{ reason: "bye", reconnecting: false }]);
    assertEquals(await client.closed, { reason: "bye", reconnecting: false });
    await assertRejects(() => client.request(1, {}), ClosedError, "the client is closed");
    assertThrows(() => client.send(1, {}), ClosedError, "the client is closed");
    await assertRejects(() => client.connect(), ClosedError);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("client reconnects with back-off after the server restarts on the same port", async () => {
  const first = await startTcpServer();
  const port = first.port;
  let second: PacketServer | undefined;
  const client = await connect(first, { reconnect: { maxRetries: 100, minDelayMs: 10, maxDelayMs: 40 } });
  try {
    const events: string[] = [];
    let attempts = 0;
    client.onClose((info) => events.push(`close reconnecting=${info.reconnecting}`));
    client.onReconnect((n) => {
      attempts = n;
      events.push("reconnect");
    });
    client.onOpen(() => events.push("open"));
    const pending = client.request(1, { drop: true }, { timeoutMs: 60_000 });
    const rejected = assertRejects(() => pending, ClosedError);
    await first.close();
    await rejected;
    await waitFor(() => client.state === "reconnecting", "reconnecting");
    await assertRejects(() => client.request(1, {}), ClosedError, "reconnecting");
    await delay(80); // a few attempts fail while nothing listens
    second = await startTcpServer({ port });
    await waitFor(() => client.state === "open", "the reconnect");
    assertEquals(await client.request(1, { back: true }), { back: true });
    assertEquals(events, ["close reconnecting=true", "reconnect", "open"]);
    assert(attempts > 1, `expected more than 1: ${attempts}`);
    assertEquals(client.stats.reconnects, 1);
  } finally {
    await client.close();
    await first.close();
    await second?.close();
  }
});

Deno.test("client gives up after reconnect.maxRetries and resolves closed with the reason", async () => {
  const server = await startTcpServer();
  const client = await connect(server, { reconnect: { maxRetries: 3, minDelayMs: 5, maxDelayMs: 10 } });
  try {
    await server.close();
    const info = await client.closed;
    assertEquals(info.reconnecting, false);
    assert(info.reason.includes("gave up after 3 attempts"), info.reason);
    assert(info.error instanceof DueError, `expected DueError: ${info.error}`);
    assertEquals(client.state, "closed");
  } finally {
    await client.close();
  }
});

Deno.test("a malformed packet closes the client for good with an invalid_packet reason, even with reconnect", async () => {
  const server = await startTcpServer();
  const client = await connect(server, { reconnect: true });
  try {
    await server.write(fromHex("00 00 00 02 00 01")); // size 2: shorter than header + route + seq (5)
    const info = await client.closed;
    assert(info.error instanceof DueError, `expected DueError: ${info.error}`);
    assertEquals(info.error.code, ErrorCode.InvalidPacket);
    assertEquals(info.reconnecting, false);
    assert(info.reason.includes("do the packet options match"), info.reason);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a declared size above bufferBytes + header closes the client, one at the limit is read", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const got: number[] = [];
    client.on(9, (_data, message) => got.push(message.payload.length));
    const payload = new Uint8Array(5000).fill(0x20); // JSON whitespace … then a value
    payload[4999] = 0x31;
    const atLimit = new Uint8Array(5009);
    atLimit.set(fromHex("00 00 13 8d 00 00 09 00 00")); // size 5005 = 5 + 5000
    atLimit.set(payload, 9);
    await server.write(atLimit);
    await waitFor(() => got.length === 1, "the packet at the limit");
    assertEquals(got, [5000]);
    await server.write(fromHex("00 00 13 8e")); // size 5006: one byte too many
    const info = await client.closed;
    assert(info.error instanceof DueError, `expected DueError: ${info.error}`);
    assertEquals(info.error.code, ErrorCode.PacketTooLarge);
    assert(info.reason.includes("size 5006"), info.reason);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("client reads replies, pushes and heartbeats that the server writes one byte at a time", async () => {
  const timeNs = 1717000000123456789n;
  const server = await startTcpServer({ byteByByte: true, heartbeatTimeNs: timeNs });
  const client = await connect(server, { heartbeatIntervalMs: 60 });
  try {
    const pushes: unknown[] = [];
    const times: (bigint | undefined)[] = [];
    client.on(4, (data) => pushes.push(data));
    client.onHeartbeat((t) => times.push(t));
    assertEquals(await client.request(2, { push: { route: 4, data: "p" }, n: 1 }), {
      push: { route: 4, data: "p" },
      n: 1,
    });
    assertEquals(pushes, ["p"]);
    await waitFor(() => times.length >= 1, "a heartbeat");
    assertEquals(times[0], timeNs);
    // Every packet came split over many reads; none was misframed, or the client would have closed.
    assertEquals(client.state, "open");
    assertEquals(client.stats.errors, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("send() goes out with seq 0 and its echo reaches on(), onAny() and stops after off()", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const routeGot: unknown[] = [];
    const anyGot: number[] = [];
    const handler = (data: unknown) => routeGot.push(data);
    client.on(3, handler);
    const stopAny = client.onAny((message) => anyGot.push(message.route));
    client.send(3, { a: 1 });
    await waitFor(() => routeGot.length === 1, "the echo");
    client.off(3, handler);
    stopAny();
    client.send(3, { a: 2 });
    assertEquals(await client.request(1, "sync"), "sync"); // the second echo came before this reply
    assertEquals(routeGot, [{ a: 1 }]);
    assertEquals(anyGot, [3]);
    assertEquals(client.stats.pushes, 2);
    assertEquals(client.stats.unhandledPushes, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("send() in one tick is coalesced into one TCP write", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    for (let i = 0; i < 20; i++) client.send(1, new Uint8Array([i]));
    await waitFor(() => server.received().length === 20 * 10, "20 packets");
    assertEquals(server.conns[0].chunks.length, 1);
    assertEquals(client.stats.packetsSent, 20);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a push that cannot be decoded goes to onError and the client stays open", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const errors: Error[] = [];
    client.onError((err) => errors.push(err));
    client.on(6, () => {
      throw new Error("handler bug");
    });
    await server.write(fromHex("00 00 00 07 00 00 06 00 00 7b 7b")); // payload "{{"
    await server.push(6, "fine");
    await waitFor(() => errors.length === 2, "two errors");
    assert(errors[0] instanceof DueError, `expected DueError: ${errors[0]}`);
    assertEquals((errors[0] as DueError).code, ErrorCode.InvalidPacket);
    assertEquals(errors[1].message, "handler bug");
    assertEquals(client.state, "open");
    assertEquals(client.stats.errors, 2);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a size-0 packet is ignored", async () => {
  const server = await startTcpServer();
  const client = await connect(server);
  try {
    const pushes: unknown[] = [];
    client.onAny((m) => pushes.push(m.route));
    await server.write(fromHex("00 00 00 00 00 00 00 00"));
    assertEquals(await client.request(1, 1), 1);
    assertEquals(pushes, []);
    assertEquals(client.state, "open");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("connect() rejects with DueError unavailable and the client may try again", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = createClient(createDenoTcpDialer({ addr: `127.0.0.1:${port}` }), { heartbeatIntervalMs: 0 });
  try {
    const err = await assertRejects(() => client.connect(), DueError) as DueError;
    assertEquals(err.code, ErrorCode.Unavailable);
    assertEquals(err.context.addr, `127.0.0.1:${port}`);
    assertEquals(client.state, "idle");
    const server = await startTcpServer({ port });
    try {
      await client.connect();
      assertEquals(await client.request(1, "again"), "again");
    } finally {
      await client.close();
      await server.close();
    }
  } finally {
    await client.close();
  }
});

Deno.test("createClient() validates its options with std-style messages", () => {
  const dialer = createDenoTcpDialer({ addr: "127.0.0.1:1" });
  const err = assertThrows(() => createClient(dialer, { heartbeatIntervalMs: -1 }), RangeError);
  assertEquals(
    err.message,
    "Cannot create client as 'heartbeatIntervalMs' must be an integer in [0, 2147483647] ms: current value is -1",
  );
  assertThrows(() => createClient(dialer, { timeoutMs: 0 }), RangeError, "'timeoutMs'");
  assertThrows(
    () => createClient(dialer, { seqBytes: 3 as 2 }),
    RangeError,
    "'seqBytes' must be 0, 1, 2 or 4",
  );
  assertThrows(
    () => createClient(dialer, { reconnect: { minDelayMs: 100, maxDelayMs: 10 } }),
    RangeError,
    "'reconnect.maxDelayMs'",
  );
  assertThrows(() => createDenoTcpDialer({ addr: "localhost" }), TypeError, "'addr' must be");
});

const tls = await selfSignedCert();
if (!tls) console.warn("client_tcp_test: skipping the TLS tests: `openssl` is not on PATH");

Deno.test({
  name: "connectTcp() with tls trusts caCerts and talks to a TLS server",
  ignore: !tls,
  async fn() {
    const server = await startTcpServer({ tls, heartbeatTimeNs: 1n });
    const client = await connectTcp({
      addr: server.addr,
      tls: { caCerts: [tls!.cert] },
      heartbeatIntervalMs: 50,
    });
    try {
      assertEquals(await client.request(1, { secure: true }), { secure: true });
      const times: (bigint | undefined)[] = [];
      client.onHeartbeat((t) => times.push(t));
      await waitFor(() => times.length > 0, "a heartbeat");
      assertEquals(times[0], 1n);
    } finally {
      await client.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "connectTcp() with tls rejects a server whose certificate it does not trust",
  ignore: !tls,
  async fn() {
    const server = await startTcpServer({ tls });
    try {
      const err = await assertRejects(
        () => connectTcp({ addr: server.addr, tls: true }),
        DueError,
      ) as DueError;
      assertEquals(err.code, ErrorCode.Unavailable);
    } finally {
      await server.close();
    }
  },
});
