/**
 * Bad input against the real `due dev`: each bad connection is closed or refused alone, with a debug log, and
 * the server keeps serving everyone else; a broken app, config or port fails at start with a message naming it.
 */
import { assert, assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { FREE_PORTS, runDue, startDue } from "../_helpers/due_process.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import { createPacketFormat, encodeMessage } from "../../core/packet.ts";

const hex = (s: string) => new Uint8Array(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));
const format = createPacketFormat();
const echo = (text: string) =>
  encodeMessage(format, 1, 1, new TextEncoder().encode(JSON.stringify({ message: text })));

async function echoWorks(addr: string): Promise<void> {
  const c = await RawClient.connect(addr);
  try {
    await c.send(1, 9, { message: "still here" });
    await c.until((p) => p.length >= 1);
    assertEquals(c.data(), [{ route: 1, seq: 9, body: { message: "still here" } }]);
  } finally {
    await c.close();
  }
}

function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot open ${url}`));
  });
}

function wsClosed(ws: WebSocket): Promise<void> {
  return ws.readyState === WebSocket.CLOSED
    ? Promise.resolve()
    : new Promise((resolve) => ws.addEventListener("close", () => resolve()));
}

Deno.test("due dev closes only the connection that sends bad packets", async (t) => {
  const due = await startDue({
    args: ["dev", ...FREE_PORTS, "--log.level=debug", "--packet.bufferBytes=1000"],
  });
  try {
    await t.step("a data packet shorter than its header closes that connection", async () => {
      const bystander = await RawClient.connect(due.addrs.tcp);
      const bad = await RawClient.connect(due.addrs.tcp);
      await bad.write(hex("00 00 00 02 00 01"));
      await bad.closedByServer();
      await bystander.send(1, 3, { message: "unaffected" });
      await bystander.until((p) => p.length >= 1);
      await bystander.close();
      await due.waitForLine(/connection closed: bad packet.*reason=invalid_packet/);
    });

    await t.step(
      "a declared size above packet.bufferBytes + header closes the connection before allocating",
      async () => {
        const bad = await RawClient.connect(due.addrs.tcp);
        await bad.write(hex("7f ff ff ff 00 00 01"));
        await bad.closedByServer();
        await due.waitForLine(/reason=too_large/);
        await echoWorks(due.addrs.tcp);
      },
    );

    await t.step("a size-0 packet is a no-op and the connection stays open", async () => {
      const c = await RawClient.connect(due.addrs.tcp);
      await c.write(hex("00 00 00 00"));
      await c.write(echo("after noop"));
      await c.until((p) => p.length >= 1);
      assertEquals(c.data()[0].body, { message: "after noop" });
      await c.close();
    });

    await t.step("a WebSocket text frame is ignored and the connection keeps working", async () => {
      const ws = await openWs(`ws://${due.addrs.ws}/`);
      const got = new Promise<ArrayBuffer>((resolve) => ws.onmessage = (e) => resolve(e.data));
      ws.send("not a packet");
      ws.send(echo("after text"));
      const reply = new Uint8Array(await got);
      assertEquals(JSON.parse(new TextDecoder().decode(reply.subarray(9))), { message: "after text" });
      ws.close();
      await wsClosed(ws);
    });

    await t.step(
      "a WebSocket frame whose size field disagrees with its length closes that connection",
      async () => {
        const ws = await openWs(`ws://${due.addrs.ws}/`);
        const closed = wsClosed(ws);
        ws.send(hex("00 00 00 09 00 00 01 00 01"));
        await closed;
        await due.waitForLine(
          /reason=invalid_packet.*why="size disagrees with the frame length"|why="size disagrees with the frame length".*/,
        );
        await echoWorks(due.addrs.tcp);
      },
    );

    await t.step("a WebSocket upgrade on another path is refused", async () => {
      let refused = false;
      await openWs(`ws://${due.addrs.ws}/elsewhere`).then((ws) => {
        ws.close();
        return wsClosed(ws);
      }, () => refused = true);
      assert(refused, "upgrade on a wrong path was accepted");
    });
  } finally {
    assertEquals(await due.stop(), 0);
  }
  const stats = due.lines.find((l) => l.includes("gate stats")) ?? "";
  assertStringIncludes(stats, '"tcp.invalid_packet":1');
  assertStringIncludes(stats, '"tcp.too_large":1');
  assertStringIncludes(stats, '"ws.invalid_packet":1');
});

Deno.test("due dev refuses connections beyond maxConnNum and closes ones that never log in", async (t) => {
  const due = await startDue({
    args: [
      "dev",
      ...FREE_PORTS,
      "--log.level=debug",
      "--network.tcp.server.maxConnNum=3",
      "--network.tcp.server.authorizeTimeout=400ms",
    ],
  });
  const clients: RawClient[] = [];
  try {
    await t.step("the connection beyond maxConnNum is refused, the others keep working", async () => {
      for (let i = 0; i < 3; i++) clients.push(await RawClient.connect(due.addrs.tcp));
      const extra = await RawClient.connect(due.addrs.tcp);
      await extra.closedByServer();
      await due.waitForLine(/connection refused: maxConnNum reached/);
      await clients[0].send(1, 1, { message: "served" });
      await clients[0].until((p) => p.length >= 1);
    });

    await t.step("a connection with no bound uid after authorizeTimeout is closed", async () => {
      const started = performance.now();
      await Promise.all(clients.map((c) => c.closedByServer(2000)));
      const elapsed = performance.now() - started;
      assert(elapsed < 1500, `closed after ${elapsed} ms`);
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due dev closes a connection that does not read once its write queue is full", async () => {
  const due = await startDue({
    args: ["dev", ...FREE_PORTS, "--log.level=debug", "--network.tcp.server.writeQueueSize=16"],
  });
  const [hostname, port] = due.addrs.tcp.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    // 4 KB echoes, never read: once the kernel's socket buffers are full, writes stall and the queue overflows.
    const big = echo("x".repeat(4000));
    const burst = new Uint8Array(big.length * 200);
    for (let i = 0; i < 200; i++) burst.set(big, i * big.length);
    for (let i = 0; i < 30; i++) {
      try {
        let off = 0;
        while (off < burst.length) off += await conn.write(burst.subarray(off));
      } catch {
        break; // closed by the server
      }
      if (due.lines.some((l) => l.includes("write queue full"))) break;
    }
    await due.waitForLine(/connection closed: write queue full/, 10_000);
    await echoWorks(due.addrs.tcp);
  } finally {
    conn.close();
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due fails at start with a message naming the broken app, config or port", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("a broken app module exits 4 and names the module", async () => {
      await Deno.writeTextFile(`${dir}/broken.ts`, "export default defineApp(;\n");
      const { code, stderr } = await runDue(["dev", ...FREE_PORTS, `--app=${dir}/broken.ts`]);
      assertEquals(code, 4);
      assertStringIncludes(stderr, `Cannot load app ${dir}/broken.ts`);
    });

    await t.step("an app module without a default app exits 4 and says what it needs", async () => {
      await Deno.writeTextFile(`${dir}/empty.ts`, "export const x = 1;\n");
      const { code, stderr } = await runDue(["dev", ...FREE_PORTS, `--app=${dir}/empty.ts`]);
      assertEquals(code, 4);
      assertStringIncludes(stderr, "must export default defineApp");
    });

    await t.step("a bad config value exits 3 and names the file and key", async () => {
      await Deno.writeTextFile(`${dir}/due.toml`, '[network.tcp.server]\nmaxConnNum = "many"\n');
      const { code, stderr } = await runDue(["dev", ...FREE_PORTS, `--config=${dir}/due.toml`]);
      assertEquals(code, 3);
      assertStringIncludes(stderr, "due.toml");
      assertStringIncludes(stderr, "'network.tcp.server.maxConnNum'");
    });

    await t.step("an unknown config key is warned about with the closest known key", async () => {
      await Deno.writeTextFile(`${dir}/typo.toml`, "[network.tcp.server]\nmaxConNum = 10\n");
      const due = await startDue({ args: ["dev", ...FREE_PORTS, `--config=${dir}/typo.toml`] });
      assertEquals(await due.stop(), 0);
      assert(
        due.lines.some((l) => l.includes("maxConNum") && l.includes("maxConnNum")),
        "no warning for the typo",
      );
    });

    await t.step("a port in use exits 5 and names the address", async () => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      try {
        const { code, stderr } = await runDue([
          "dev",
          ...FREE_PORTS,
          `--network.tcp.server.addr=127.0.0.1:${port}`,
        ]);
        assertEquals(code, 5);
        assertStringIncludes(stderr, `127.0.0.1:${port}`);
        assertStringIncludes(stderr, "address already in use");
      } finally {
        listener.close();
      }
    });

    await t.step(
      "a gate or node alone on the memory registry or locator refuses to start and names the key",
      async () => {
        const gate = await runDue(["--role=gate", ...FREE_PORTS]);
        assertEquals(gate.code, 3);
        assertStringIncludes(gate.stderr, "'registry.driver'");
        const node = await runDue(["--role=node", "--registry.driver=etcd", `--app=${dir}/empty.ts`]);
        assertEquals(node.code, 3);
        assertStringIncludes(node.stderr, "'locate.driver'");
      },
    );

    await t.step("an unknown flag exits 2", async () => {
      const { code, stderr } = await runDue(["dev", "--no-such-flag"]);
      assertEquals(code, 2);
      assertStringIncludes(stderr, "--no-such-flag");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
