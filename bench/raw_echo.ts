/**
 * The baseline server of the benchmarks: the same framing as due (size-prefixed packets over TCP, one packet per
 * binary frame over WebSocket) and the same socket libraries (`Deno.listen`, `npm:ws`), but no framework: every
 * packet is written straight back, coalesced per tick as the gate does.
 *
 * Usage: `deno run -A bench/raw_echo.ts --transport=tcp|ws --addr=127.0.0.1:4000 [--little]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import http from "node:http";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import { FrameReader } from "../core/frame_reader.ts";
import { RawWriter, readLoop } from "./_raw_tcp.ts";

const { values } = parseArgs({
  options: {
    transport: { type: "string", default: "tcp" },
    addr: { type: "string", default: "127.0.0.1:4000" },
    little: { type: "boolean", default: false },
  },
});
const [hostname, portText] = [
  values.addr!.slice(0, values.addr!.lastIndexOf(":")),
  values.addr!.slice(values.addr!.lastIndexOf(":") + 1),
];
const port = Number(portText);

async function serveTcp(): Promise<void> {
  const listener = Deno.listen({ hostname, port });
  console.log(`ready tcp ${values.addr}`);
  for await (const conn of listener) handleTcp(conn);
}

async function handleTcp(conn: Deno.Conn): Promise<void> {
  const writer = new RawWriter(conn);
  const reader = new FrameReader({ little: values.little!, maxSize: 1 << 20 }, (frame) => {
    writer.send(frame.slice());
  });
  await readLoop(conn, (bytes) => reader.feed(bytes), 16 * 1024);
  try {
    conn.close();
  } catch {
    // closed
  }
}

function serveWs(): void {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const raw = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      let pending: Uint8Array[] = [];
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        const batch = pending;
        pending = [];
        raw.cork();
        for (const p of batch) ws.send(p, { binary: true });
        raw.uncork();
      };
      ws.on("message", (data: Uint8Array, isBinary: boolean) => {
        if (!isBinary) return;
        pending.push(data);
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(flush);
        }
      });
    });
  });
  server.listen(port, hostname, () => console.log(`ready ws ${values.addr}`));
}

if (values.transport === "ws") serveWs();
else await serveTcp();
