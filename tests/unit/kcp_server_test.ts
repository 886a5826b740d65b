/**
 * The KCP gateway's pieces that need no gate: option validation, the listen error, and the due-time heap that
 * drives every session from one timer.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { createRandom } from "../_helpers/kcp.ts";
import { createKcpServer, DEFAULT_KCP_NO_DELAY, resolveKcpTunables } from "../../adapters/network/kcp/mod.ts";
import { DueHeap, type DueItem } from "../../adapters/network/kcp/_due_heap.ts";
import { createPacketFormat } from "../../core/packet.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";

const format = createPacketFormat();

Deno.test("createKcpServer() rejects options out of range with std-style messages", () => {
  const base = { addr: "127.0.0.1:0", format };
  assertThrows(() => createKcpServer({ ...base, addr: "nope" }), TypeError, "network.kcp.server.addr");
  assertThrows(
    () => createKcpServer({ ...base, mtu: 1501 }),
    RangeError,
    "Cannot create kcp server as 'mtu' must be an integer in [50, 1500]: current value is 1501",
  );
  assertThrows(
    () => createKcpServer({ ...base, noDelay: [3, 10, 2, 1] }),
    RangeError,
    "'noDelay' must be [nodelay 0..2, interval ms, resend, nc] of integers in [0, 5000]: current value is [3, 10, 2, 1]",
  );
  assertThrows(() => createKcpServer({ ...base, windowSize: [256, 70_000] }), RangeError, "'windowSize'");
  assertThrows(() => createKcpServer({ ...base, maxPendingSessions: 0 }), RangeError, "'maxPendingSessions'");
  assertThrows(() => createKcpServer({ ...base, maxSessionsPerIp: 1.5 }), RangeError, "'maxSessionsPerIp'");
  assertThrows(() => createKcpServer({ ...base, readBufferBytes: -1 }), RangeError, "'readBufferBytes'");
  assertThrows(() => createKcpServer({ ...base, quarantineMs: -1 }), RangeError, "'quarantineMs' must be");
  assertThrows(() => createKcpServer({ ...base, maxConnNum: 0 }), RangeError, "'maxConnNum'");
  assertThrows(
    () => createKcpServer({ ...base, ackNoDelay: "yes" as unknown as boolean }),
    RangeError,
    "'ackNoDelay' must be a boolean",
  );
});

Deno.test("resolveKcpTunables() fills in due's defaults: MTU 1400, turbo nodelay, ACK at once, windows 256", () => {
  assertEquals(resolveKcpTunables("test", {}), {
    mtu: 1400,
    noDelay: DEFAULT_KCP_NO_DELAY,
    ackNoDelay: true,
    windowSize: [256, 256],
    deadLink: 20,
  });
  assertEquals(DEFAULT_KCP_NO_DELAY, [1, 10, 2, 1]);
});

Deno.test("createKcpServer() start() rejects with code unavailable when the UDP port is taken", async () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const server = createKcpServer({ addr: `127.0.0.1:${port}`, format });
  try {
    const error = await assertRejects(
      () => server.start({ onConnect() {}, onPacket() {}, onDisconnect() {} }),
      DueError,
      `Cannot listen on 127.0.0.1:${port} (kcp): address already in use`,
    );
    assertEquals((error as DueError).code, ErrorCode.Unavailable);
    await server.stop();
  } finally {
    taken.close();
  }
});

Deno.test("createKcpServer() binds a free port, reports it, and stop() releases it", async () => {
  const server = createKcpServer({ addr: "127.0.0.1:0", format });
  await server.start({ onConnect() {}, onPacket() {}, onDisconnect() {} });
  const port = Number(server.addr.split(":")[1]);
  assert(port > 0, server.addr);
  assertEquals([server.network, server.connCount, server.sessionCount], ["kcp", 0, 0]);
  await server.stop();
  const again = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  again.close();
});

interface Item extends DueItem {
  id: number;
}

Deno.test("DueHeap pops items in due order through random inserts, moves and deletes", () => {
  const random = createRandom(3);
  const heap = new DueHeap<Item>();
  const items: Item[] = Array.from({ length: 200 }, (_, id) => ({ id, dueAt: 0, heapIndex: -1 }));
  const inHeap = new Set<Item>();
  for (let step = 0; step < 5000; step++) {
    const item = items[Math.floor(random() * items.length)];
    const op = random();
    if (op < 0.6) {
      heap.set(item, Math.floor(random() * 1000));
      inHeap.add(item);
    } else if (op < 0.8) {
      heap.delete(item);
      inHeap.delete(item);
    } else {
      const top = heap.pop();
      if (top === undefined) {
        assertEquals(inHeap.size, 0);
        continue;
      }
      for (const other of inHeap) {
        assert(other.dueAt >= top.dueAt, `popped ${top.dueAt} before ${other.dueAt}`);
      }
      inHeap.delete(top);
      assertEquals(top.heapIndex, -1);
    }
    assertEquals(heap.size, inHeap.size);
  }
  const drained: number[] = [];
  for (let top = heap.pop(); top !== undefined; top = heap.pop()) drained.push(top.dueAt);
  assertEquals(drained, [...drained].sort((a, b) => a - b));
  assertEquals(drained.length, inHeap.size);
});
