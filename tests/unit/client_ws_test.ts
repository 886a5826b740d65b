import WsPackageWebSocket from "ws";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { ClosedError, DueError, ErrorCode, TimeoutError } from "../../core/errors.ts";
import { type Client, connectWs, type ConnectWsOptions, createWsDialer } from "../../client/mod.ts";
import { fromHex, hex, type PacketServer, startWsServer, waitFor } from "../_helpers/packet_server.ts";

function connect(server: PacketServer, options: Partial<ConnectWsOptions> = {}): Promise<Client> {
  return connectWs({ url: server.url, heartbeatIntervalMs: 0, ...options });
}

Deno.test("connectWs() pairs replies by route and seq with several requests in flight answered out of order", async () => {
  const server = await startWsServer();
  const client = await connect(server);
  try {
    const answered: number[] = [];
    const replies = await Promise.all(
      [0, 1, 2].map((i) =>
        client.request<{ i: number }>(1, { reverse: 3, i }).then((reply) => {
          answered.push(reply.i);
          return reply.i;
        })
      ),
    );
    assertEquals(replies, [0, 1, 2]);
    assertEquals(answered, [2, 1, 0]);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the WebSocket client writes one packet per binary frame with the golden bytes", async () => {
  const packet = { byteOrder: "little" } as const;
  const server = await startWsServer({ packet });
  const client = await connect(server, packet);
  try {
    const hi = new TextEncoder().encode('{"message":"hi"}');
    client.send(1, hi, { seq: 7 });
    client.send(2, new Uint8Array([0xab]));
    await waitFor(() => server.conns[0]?.chunks.length === 2, "two frames");
    assertEquals(server.conns[0].chunks.map(hex), [
      hex(fromHex("15 00 00 00 | 00 | 01 00 | 07 00 | 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d")),
      hex(fromHex("06 00 00 00 | 00 | 02 00 | 00 00 | ab")),
    ]);
    assertEquals(server.conns[0].texts, []);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the WebSocket client ignores text frames", async () => {
  const server = await startWsServer();
  const client = await connect(server);
  try {
    const pushes: unknown[] = [];
    client.onAny((message) => pushes.push(message.route));
    server.conns[0].writeText("00 00 00 01 80");
    await server.push(4, "after the text");
    await waitFor(() => pushes.length === 1, "the push");
    assertEquals(pushes, [4]);
    assertEquals(client.state, "open");
    assertEquals(client.stats.packetsReceived, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the WebSocket client sends heartbeats and decodes the server time as a bigint", async () => {
  const timeNs = 1717000000123456789n;
  const server = await startWsServer({ heartbeatTimeNs: timeNs });
  const client = await connect(server, { heartbeatIntervalMs: 50 });
  try {
    const times: (bigint | undefined)[] = [];
    client.onHeartbeat((t) => times.push(t));
    await waitFor(() => times.length >= 2, "two heartbeats");
    assertEquals(times.slice(0, 2), [timeNs, timeNs]);
    assertEquals(hex(server.conns[0].chunks[0]), "00 00 00 01 80");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a WebSocket frame whose size field disagrees with its length closes the client", async () => {
  const server = await startWsServer();
  const client = await connect(server);
  try {
    const pending = client.request(1, { drop: true });
    const rejected = assertRejects(() => pending, ClosedError);
    await server.write(fromHex("00 00 00 09 00 00 01 00 00")); // says 9, carries 5
    const info = await client.closed;
    await rejected;
    assert(info.error instanceof DueError);
    assertEquals(info.error.code, ErrorCode.InvalidPacket);
    assertStringIncludes(info.reason, "size field 9 disagrees with 5 bytes");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a WebSocket frame longer than bufferBytes + header closes the client", async () => {
  const server = await startWsServer();
  const client = await connect(server, { bufferBytes: 10 });
  try {
    await server.push(1, "0123456789"); // 12 bytes of JSON: over the limit of 10
    const info = await client.closed;
    assert(info.error instanceof DueError);
    assertEquals(info.error.code, ErrorCode.PacketTooLarge);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the WebSocket client detects a silent server and closes", async () => {
  const server = await startWsServer({ mode: "silent" });
  const client = await connect(server, { heartbeatIntervalMs: 25 });
  try {
    const info = await client.closed;
    assert(info.error instanceof TimeoutError);
    assertEquals(info.reconnecting, false);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the WebSocket client reconnects after the server restarts", async () => {
  const first = await startWsServer();
  let second: PacketServer | undefined;
  const client = await connect(first, { reconnect: { maxRetries: 100, minDelayMs: 10, maxDelayMs: 40 } });
  try {
    const reconnects: number[] = [];
    client.onReconnect((n) => reconnects.push(n));
    await first.close();
    await waitFor(() => client.state === "reconnecting", "reconnecting");
    second = await startWsServer({ port: first.port });
    await waitFor(() => client.state === "open", "the reconnect");
    assertEquals(await client.request(1, "back"), "back");
    assertEquals(reconnects.length, 1);
  } finally {
    await client.close();
    await first.close();
    await second?.close();
  }
});

Deno.test("createWsDialer() takes an injected WebSocket constructor such as the ws package's", async () => {
  const server = await startWsServer();
  const client = await connect(server, { WebSocket: WsPackageWebSocket });
  try {
    assertEquals(await client.request(3, { via: "ws package" }), { via: "ws package" });
    await server.push(9, "pushed");
    const pushed = await new Promise((resolve) => client.on(9, resolve));
    assertEquals(pushed, "pushed");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("createWsDialer() rejects a non-ws URL and a missing WebSocket constructor with TypeError", () => {
  assertThrows(() => createWsDialer({ url: "http://127.0.0.1:1/" }), TypeError, "must start with ws://");
  const global = globalThis as { WebSocket?: unknown };
  const saved = global.WebSocket;
  delete global.WebSocket;
  try {
    assertThrows(
      () => createWsDialer({ url: "ws://127.0.0.1:1/" }),
      TypeError,
      "there is no global WebSocket",
    );
  } finally {
    global.WebSocket = saved;
  }
});

Deno.test("connectWs() rejects with DueError unavailable when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const err = await assertRejects(() => connectWs({ url: `ws://127.0.0.1:${port}/` }), DueError) as DueError;
  assertEquals(err.code, ErrorCode.Unavailable);
  assertStringIncludes(err.message, `ws://127.0.0.1:${port}/`);
});
