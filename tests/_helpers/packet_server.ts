/**
 * Small in-test servers that speak the client packet protocol (PROTOCOL.md §1) over TCP (`Deno.listen`) and
 * WebSocket (`Deno.serve` + `Deno.upgradeWebSocket`), for the client SDK's tests.
 *
 * Behaviour: every data packet is echoed back with the same route and seq (a seq-0 packet comes back as a push);
 * each heartbeat is answered (optionally with a fixed server time). A JSON payload may steer the reply:
 * `{"delayMs": n}` answers after n ms, `{"reverse": n}` holds replies until n are held and then answers them
 * newest first, `{"drop": true}` never answers, `{"push": {"route": r, "data": d}}` first
 * pushes `d` on route `r`. Everything received is recorded, raw and decoded, for golden-byte checks.
 *
 * @module
 */

import { FeedResult, FrameReader } from "../../core/frame_reader.ts";
import {
  createPacketFormat,
  type DecodedPacket,
  decodePacket,
  encodeHeartbeat,
  encodeMessage,
  encodeTimedHeartbeat,
  type PacketFormat,
  type PacketOptions,
} from "../../core/packet.ts";

/** Options of {@linkcode startTcpServer} and {@linkcode startWsServer}. */
export interface PacketServerOptions {
  /** The server's packet layout. */
  packet?: Partial<PacketOptions>;
  /** `"resp"` answers heartbeats and data; `"silent"` reads and records but never writes (a dead server). */
  mode?: "resp" | "silent";
  /** When set, heartbeats carry this time (`00 00 00 09 80` + i64). */
  heartbeatTimeNs?: bigint;
  /** Write every outgoing packet one byte at a time, 1 ms apart (TCP only). */
  byteByByte?: boolean;
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** Listen with TLS (TCP only): PEM certificate chain and key. */
  tls?: { cert: string; key: string };
}

/** One accepted connection. */
export interface ServerConn {
  /** Chunks of bytes received, in order (TCP: as read; WS: one per binary frame). */
  readonly chunks: Uint8Array[];
  /** Packets decoded, copies. */
  readonly packets: DecodedPacket[];
  /** Text frames received (WS). */
  readonly texts: string[];
  /** Writes raw bytes (WS: as one binary frame). */
  write(bytes: Uint8Array): Promise<void>;
  /** Sends a text frame (WS only). */
  writeText(text: string): void;
  /** Whether it is closed. */
  readonly closed: boolean;
}

/** A running test server. */
export interface PacketServer {
  /** The port listened on. */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** `ws://127.0.0.1:<port>/`. */
  readonly url: string;
  /** The server's packet layout. */
  readonly format: PacketFormat;
  /** Every connection accepted, open or closed. */
  readonly conns: ServerConn[];
  /** Every byte received on every connection, in order, concatenated. */
  received(): Uint8Array;
  /** Every packet decoded on every connection. */
  packets(): DecodedPacket[];
  /** Writes raw bytes to every open connection. */
  write(bytes: Uint8Array): Promise<void>;
  /** Pushes `data` (JSON) on `route` with `seq` to every open connection. */
  push(route: number, data: unknown, seq?: number): Promise<void>;
  /** Closes every connection but keeps listening. */
  dropConnections(): Promise<void>;
  /** Closes the listener and every connection; waits for every loop and timer. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Control {
  delayMs?: number;
  reverse?: number;
  drop?: boolean;
  push?: { route: number; data: unknown };
}

/** Shared behaviour of both servers: what to answer to a packet. */
class Responder {
  readonly format: PacketFormat;
  readonly #options: PacketServerOptions;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Replies held by `{"reverse": n}` until n are held. */
  readonly #held: Uint8Array[] = [];

  constructor(options: PacketServerOptions) {
    this.format = createPacketFormat(options.packet);
    this.#options = options;
  }

  /** Records and answers one complete packet; throws on a malformed one. */
  handle(conn: ServerConn, packet: Uint8Array): void {
    const decoded = decodePacket(this.format, packet);
    if (decoded === undefined) return;
    conn.packets.push(
      decoded.kind === "data" ? { ...decoded, payload: decoded.payload.slice() } : decoded,
    );
    if (this.#options.mode === "silent") return;
    if (decoded.kind === "heartbeat") {
      const timeNs = this.#options.heartbeatTimeNs;
      conn.write(
        timeNs === undefined ? encodeHeartbeat(this.format) : encodeTimedHeartbeat(this.format, timeNs),
      );
      return;
    }
    const { route, seq } = decoded;
    const payload = decoded.payload.slice();
    const control = parseControl(payload);
    if (control.drop) return;
    if (control.push) {
      conn.write(
        encodeMessage(this.format, control.push.route, 0, encoder.encode(JSON.stringify(control.push.data))),
      );
    }
    const reply = encodeMessage(this.format, route, seq, payload);
    if (control.reverse) {
      this.#held.push(reply);
      if (this.#held.length < control.reverse) return;
      for (const held of this.#held.splice(0).reverse()) conn.write(held);
    } else if (control.delayMs) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!conn.closed) conn.write(reply);
      }, control.delayMs);
      this.#timers.add(timer);
    } else {
      conn.write(reply);
    }
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

function parseControl(payload: Uint8Array): Control {
  if (payload[0] !== 0x7b) return {};
  try {
    const value = JSON.parse(decoder.decode(payload));
    return typeof value === "object" && value !== null ? value : {};
  } catch {
    return {};
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const chunk of chunks) {
    out.set(chunk, off);
    off += chunk.length;
  }
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function baseServer(
  responder: Responder,
  port: number,
  conns: (ServerConn & { close(): Promise<void> })[],
  closeListener: () => Promise<void>,
): PacketServer {
  const open = () => conns.filter((c) => !c.closed);
  return {
    port,
    addr: `127.0.0.1:${port}`,
    url: `ws://127.0.0.1:${port}/`,
    format: responder.format,
    conns,
    received: () => concat(conns.flatMap((c) => c.chunks)),
    packets: () => conns.flatMap((c) => c.packets),
    async write(bytes) {
      await Promise.all(open().map((c) => c.write(bytes)));
    },
    async push(route, data, seq = 0) {
      const packet = encodeMessage(responder.format, route, seq, encoder.encode(JSON.stringify(data)));
      await Promise.all(open().map((c) => c.write(packet)));
    },
    async dropConnections() {
      await Promise.all(conns.map((c) => c.close()));
    },
    async close() {
      responder.stop();
      await closeListener();
      await Promise.all(conns.map((c) => c.close()));
      responder.stop();
    },
  };
}

/**
 * Starts a TCP packet server on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startTcpServer } from "./packet_server.ts";
 * const server = await startTcpServer({ packet: { byteOrder: "little" } });
 * await server.close();
 * ```
 */
export function startTcpServer(options: PacketServerOptions = {}): Promise<PacketServer> {
  const responder = new Responder(options);
  const listener = options.tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: options.port ?? 0, ...options.tls })
    : Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  const conns: (ServerConn & { close(): Promise<void> })[] = [];
  const loops: Promise<void>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        if (!options.tls) (conn as Deno.TcpConn).setNoDelay(true);
        const serverConn = tcpConn(conn, responder, options.byteByByte ?? false);
        conns.push(serverConn);
        loops.push(serverConn.loop);
      }
    } catch {
      // listener closed
    }
  })();
  const server = baseServer(responder, (listener.addr as Deno.NetAddr).port, conns, async () => {
    try {
      listener.close();
    } catch {
      // closed already
    }
    await accepting;
  });
  const close = server.close;
  server.close = async () => {
    await close();
    await Promise.all(loops);
  };
  return Promise.resolve(server);
}

function tcpConn(
  conn: Deno.Conn,
  responder: Responder,
  byteByByte: boolean,
): ServerConn & { close(): Promise<void>; loop: Promise<void> } {
  let closed = false;
  let chain = Promise.resolve();
  const chunks: Uint8Array[] = [];
  const packets: DecodedPacket[] = [];
  const self = {
    chunks,
    packets,
    texts: [] as string[],
    get closed() {
      return closed;
    },
    write(bytes: Uint8Array): Promise<void> {
      chain = chain.then(async () => {
        if (closed) return;
        try {
          if (!byteByByte) {
            let off = 0;
            while (off < bytes.length) off += await conn.write(bytes.subarray(off));
            return;
          }
          for (let i = 0; i < bytes.length && !closed; i++) {
            await conn.write(bytes.subarray(i, i + 1));
            await delay(1);
          }
        } catch {
          // the peer went away
        }
      });
      return chain;
    },
    writeText(): void {
      throw new TypeError("Cannot send a text frame over TCP");
    },
    async close(): Promise<void> {
      if (!closed) {
        closed = true;
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      await chain;
      await loop;
    },
    loop: Promise.resolve(),
  };
  const reader = new FrameReader({ little: responder.format.little, maxSize: 1 << 20 }, (frame) => {
    try {
      responder.handle(self, frame);
    } catch {
      // a malformed packet from the client: record only
    }
  });
  const loop = (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
        if (reader.feed(buf.subarray(0, n)) !== FeedResult.Ok) break;
      }
    } catch {
      // closed
    }
    if (!closed) {
      closed = true;
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
  })();
  self.loop = loop;
  return self;
}

/**
 * Starts a WebSocket packet server on 127.0.0.1 (one packet per binary frame; text frames are recorded).
 *
 * @example
 * ```ts
 * import { startWsServer } from "./packet_server.ts";
 * const server = await startWsServer();
 * await server.close();
 * ```
 */
export async function startWsServer(options: PacketServerOptions = {}): Promise<PacketServer> {
  const responder = new Responder(options);
  const conns: (ServerConn & { close(): Promise<void> })[] = [];
  const { promise: listening, resolve: onListen } = Promise.withResolvers<Deno.NetAddr>();
  const http = Deno.serve({ hostname: "127.0.0.1", port: options.port ?? 0, onListen }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    conns.push(wsConn(socket, responder));
    return response;
  });
  const addr = await listening;
  return baseServer(responder, addr.port, conns, async () => {
    await Promise.all(conns.map((c) => c.close()));
    await http.shutdown();
  });
}

function wsConn(socket: WebSocket, responder: Responder): ServerConn & { close(): Promise<void> } {
  socket.binaryType = "arraybuffer";
  const { promise: ended, resolve: onEnded } = Promise.withResolvers<void>();
  let closed = false;
  const self = {
    chunks: [] as Uint8Array[],
    packets: [] as DecodedPacket[],
    texts: [] as string[],
    get closed() {
      return closed || socket.readyState !== WebSocket.OPEN;
    },
    write(bytes: Uint8Array): Promise<void> {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
      return Promise.resolve();
    },
    writeText(text: string): void {
      socket.send(text);
    },
    async close(): Promise<void> {
      closed = true;
      if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close();
      await ended;
    },
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      self.texts.push(event.data);
      return;
    }
    const frame = new Uint8Array(event.data as ArrayBuffer);
    self.chunks.push(frame.slice());
    try {
      responder.handle(self, frame);
    } catch {
      // a malformed packet from the client: record only
    }
  };
  socket.onclose = () => {
    closed = true;
    onEnded();
  };
  socket.onerror = () => {};
  return self;
}

/**
 * A self-signed certificate for 127.0.0.1 made with `openssl`, or `undefined` when `openssl` is not on PATH.
 *
 * @example
 * ```ts
 * import { selfSignedCert } from "./packet_server.ts";
 * const tls = await selfSignedCert();
 * console.log(tls === undefined ? "no openssl" : tls.cert.slice(0, 27));
 * ```
 */
export async function selfSignedCert(): Promise<{ cert: string; key: string } | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "due_tls_" });
  try {
    const { success } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) return undefined;
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } catch {
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

export { waitFor } from "./wait.ts";

/** Bytes as lowercase hex pairs separated by spaces, for readable assertion failures. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Parses `"00 00 00 01 80"`-style hex (spaces and `|` ignored). */
export function fromHex(text: string): Uint8Array {
  const pairs = text.replace(/[\s|]+/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(pairs)) throw new SyntaxError(`Cannot parse hex: ${JSON.stringify(text)}`);
  return Uint8Array.from(pairs.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}
