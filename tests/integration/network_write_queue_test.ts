/**
 * The per-connection write queue of the gateways: a burst of packets queued within one tick (many replies at
 * once) goes out whole, whatever `writeQueueSize`; only packets waiting behind a write in flight count towards it
 * (a client that does not read is closed by `tests/e2e/bad_input_test.ts`).
 */
import { createTcpServer } from "../../adapters/network/tcp.ts";
import type { Conn } from "../../adapters/network/types.ts";
import { createPacketFormat, encodeMessage } from "../../core/packet.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("a burst of 10 × writeQueueSize packets queued within one tick reaches the client whole", async () => {
  const format = createPacketFormat();
  let next = 0;
  const server = createTcpServer({ addr: "127.0.0.1:0", format, nextId: () => ++next, writeQueueSize: 4 });
  let conn: Conn | undefined;
  await server.start({
    onConnect: (c) => conn = c,
    onPacket: () => {},
    onDisconnect: () => {},
  });
  const client = await RawClient.connect(server.addr);
  try {
    await waitFor(() => conn !== undefined, "the connection");
    const sent = Array.from({ length: 40 }, (_, i) => conn!.send(encodeMessage(format, 1, i + 1)));
    assertEquals(sent.every(Boolean), true, "every send of the burst was taken");
    await client.until((packets) => packets.length >= 40);
    assertEquals(server.stats.closed.queue_full, 0);
    assertEquals(conn!.state, "open");
  } finally {
    await client.close();
    await server.stop(500);
  }
});
