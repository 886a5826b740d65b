/**
 * The client's KCP transport (`client/kcp_deno.ts`) against a fake gate built on the KCP core alone: what the
 * client puts on the wire (conv, the opener), echo over the byte stream, the connect timeout, back-pressure, and
 * validation of the options.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { waitFor } from "../_helpers/packet_server.ts";
import { Kcp, KcpCmd, readU32LE } from "../../adapters/network/kcp/mod.ts";
import { FrameReader } from "../../core/frame_reader.ts";
import { DueError, ErrorCode, TimeoutError } from "../../core/errors.ts";
import { connectKcp, createDenoKcpDialer } from "../../client/mod.ts";

/** A UDP "gate" that echoes every client packet over KCP; `answering` false drops everything it receives. */
class FakeGate {
  readonly socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  readonly datagrams: Uint8Array[] = [];
  readonly frames: Uint8Array[] = [];
  readonly convs = new Set<number>();
  answering = true;
  /** Answer the opener, then fall silent. */
  silentAfterOpen = false;
  /** Answer heartbeats (`00 00 00 01 80`) with KCP ACKs only, no heartbeat back. */
  ackOnlyHeartbeats = false;
  #kcp: Kcp | undefined;
  #reader: FrameReader | undefined;
  #peer: Deno.NetAddr | undefined;
  #timer = setInterval(() => this.#kcp?.update(now()), 10);
  #loop: Promise<void>;

  constructor() {
    this.#loop = this.#run();
  }

  get addr(): string {
    return `127.0.0.1:${(this.socket.addr as Deno.NetAddr).port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.socket.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const recv = new Uint8Array(65536);
    for (;;) {
      let datagram: Uint8Array;
      let from: Deno.Addr;
      try {
        [datagram, from] = await this.socket.receive();
      } catch {
        return;
      }
      this.datagrams.push(datagram);
      if (!this.answering) continue;
      const conv = readU32LE(datagram, 0);
      this.convs.add(conv);
      if (!this.#kcp) {
        const peer = this.#peer = from as Deno.NetAddr;
        this.#kcp = new Kcp(conv, (d) => this.socket.send(d.slice(), peer).catch(() => {}));
        this.#kcp.stream = true;
        this.#kcp.setNoDelay(1, 10, 2, 1);
      }
      const kcp = this.#kcp;
      const reader = this.#reader ??= new FrameReader({ little: false, maxSize: 1 << 20 }, (frame) => {
        this.frames.push(frame.slice());
        const heartbeat = frame.length === 5 && frame[4] === 0x80;
        if (frame.length > 4 && !(heartbeat && this.ackOnlyHeartbeats)) kcp.send(frame);
      });
      kcp.update(now());
      kcp.input(datagram);
      let n: number;
      while ((n = kcp.recv(recv)) >= 0) reader.feed(recv.subarray(0, n));
      kcp.flush();
      if (this.silentAfterOpen) this.answering = false;
    }
  }
}

function now(): number {
  return Math.floor(performance.now()) >>> 0;
}

Deno.test("connectKcp() opens with a size-0 no-op packet under the given conv and echoes over the stream", async () => {
  const gate = new FakeGate();
  const client = await connectKcp({ addr: gate.addr, conv: 0x01020304, heartbeatIntervalMs: 0 });
  try {
    const first = gate.datagrams[0];
    assertEquals(Array.from(first.subarray(0, 6)), [4, 3, 2, 1, KcpCmd.Push, 0]);
    assertEquals(readU32LE(first, 12), 0); // sn 0
    assertEquals(Array.from(first.subarray(24)), [0, 0, 0, 0]); // the opener
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.request<{ i: number }>(7, { i, pad: "p".repeat(i * 100) })),
    );
    assertEquals(replies.map((r) => r.i), Array.from({ length: 30 }, (_, i) => i));
    assertEquals([...gate.convs], [0x01020304]);
    assertEquals(gate.frames[0].length, 4);
  } finally {
    await client.close();
    await gate.close();
  }
});

Deno.test("a gate that only acknowledges over KCP keeps the client alive; one that falls silent ends it", async () => {
  const gate = new FakeGate();
  gate.ackOnlyHeartbeats = true;
  const client = await connectKcp({ addr: gate.addr, heartbeatIntervalMs: 40, reconnect: false });
  try {
    await new Promise((resolve) => setTimeout(resolve, 400)); // ten intervals: old code gave up after two
    assertEquals(client.state, "open");
    assert(client.stats.heartbeatsSent >= 5, `heartbeats sent: ${client.stats.heartbeatsSent}`);
    assertEquals(client.stats.heartbeatsReceived, 0);
    assertEquals((await client.request<{ ok: number }>(7, { ok: 1 })).ok, 1);
    gate.answering = false;
    const info = await client.closed;
    assert(info.error instanceof TimeoutError, `expected TimeoutError: ${info.error}`);
    assert(info.reason.includes("no packet for"), info.reason);
  } finally {
    await client.close();
    await gate.close();
  }
});

Deno.test("createDenoKcpDialer() picks a random conv per connection unless one is given", async () => {
  const gate = new FakeGate();
  gate.answering = false;
  try {
    for (let i = 0; i < 2; i++) {
      await assertRejects(
        () => connectKcp({ addr: gate.addr, connectTimeoutMs: 100, heartbeatIntervalMs: 0 }),
        TimeoutError,
      );
    }
    await waitFor(() => gate.datagrams.length >= 2, "two openers");
    const convs = new Set(gate.datagrams.map((d) => readU32LE(d, 0)));
    assert(convs.size >= 2, `convs ${[...convs]}`);
    assert(!convs.has(0), "conv 0 is never picked");
  } finally {
    await gate.close();
  }
});

Deno.test("connectKcp() rejects with TimeoutError when no gate answers, and releases its socket and timers", async () => {
  const gate = new FakeGate();
  gate.answering = false;
  try {
    const started = performance.now();
    await assertRejects(
      () => connectKcp({ addr: gate.addr, connectTimeoutMs: 400, heartbeatIntervalMs: 0 }),
      TimeoutError,
      "no connection within 400 ms",
    );
    assert(performance.now() - started < 1000, "the timeout is the connect timeout");
    assert(gate.datagrams.length >= 2, "the opener was retransmitted (first RTO: 200 ms)");
    const count = gate.datagrams.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertEquals(gate.datagrams.length, count, "nothing is sent after the dial failed");
  } finally {
    await gate.close();
  }
});

Deno.test("send() fails with queue_full once maxQueuedBytes are queued or unacknowledged", async () => {
  const gate = new FakeGate();
  gate.silentAfterOpen = true;
  const client = await connectKcp({ addr: gate.addr, maxQueuedBytes: 20_000, heartbeatIntervalMs: 0 });
  try {
    const payload = "x".repeat(3000);
    let sent = 0;
    const error = assertThrows(() => {
      for (let i = 0; i < 100; i++, sent++) client.send(5, { payload });
    }, DueError);
    assertEquals((error as DueError).code, ErrorCode.QueueFull);
    assertEquals(sent, 6);
  } finally {
    await client.close();
    await gate.close();
  }
});

Deno.test("createDenoKcpDialer() validates addr, conv and the KCP settings with std-style messages", () => {
  assertThrows(() => createDenoKcpDialer({ addr: "nowhere" }), TypeError, "'addr' must be");
  assertThrows(
    () => createDenoKcpDialer({ addr: ":3555", conv: -1 }),
    RangeError,
    "'conv' must be an integer",
  );
  assertThrows(() => createDenoKcpDialer({ addr: ":3555", mtu: 20 }), RangeError, "current value is 20");
  assertThrows(
    () =>
      createDenoKcpDialer({
        addr: ":3555",
        noDelay: [1, 10, 2] as unknown as [number, number, number, number],
      }),
    RangeError,
    "'noDelay' must be",
  );
  assertThrows(
    () => createDenoKcpDialer({ addr: ":3555", windowSize: [0, 128] }),
    RangeError,
    "'windowSize'",
  );
  assertEquals(createDenoKcpDialer({ addr: "127.0.0.1:3555" }).framing, "stream");
});
