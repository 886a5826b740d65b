/**
 * The WebSocket gateway server on `npm:ws` over `node:http` (Deno's native WebSocket stalled under deep
 * pipelining when measured here). One client packet per binary frame, size prefix included; text frames are
 * ignored (and do not count as liveness). Upgrades only on `path`, with an origin check, optional TLS (wss).
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
// @ts-types="@types/ws"
import type { RawData, WebSocket } from "ws";
import { BaseConn, listenError, ServerCore } from "./_server_core.ts";
import { formatAddr, parseListenAddr } from "./_addr.ts";
import { CloseReason } from "./types.ts";
import type { ConnHandler, NetworkServer, NetworkStats, ServerOptions } from "./types.ts";

/** The net.Socket under a `ws` WebSocket; `ws` keeps it in a field its types do not declare. */
interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

class WsConn extends BaseConn {
  readonly #ws: WebSocket;
  readonly #socket: CorkableSocket | undefined;

  constructor(core: ServerCore, ws: WebSocket, remoteHost: string, remotePort: number) {
    super(core, remoteHost, remotePort);
    this.#ws = ws;
    this.#socket = (ws as unknown as { _socket?: CorkableSocket })._socket;
    ws.on("message", (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on("close", () => this.ended(CloseReason.Peer));
    ws.on("error", (err: Error & { code?: string }) => {
      const tooLarge = err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
      if (tooLarge) this.reject(CloseReason.TooLarge, "frame above the limit", 0);
      else this.ended(CloseReason.Error);
    });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.core.stats.ignoredFrames++;
      return;
    }
    // `binaryType` stays ws's default, "nodebuffer": a binary message, fragmented or not, is one Buffer.
    const frame = data as Buffer;
    if (this.checkFrame(frame)) this.receive(frame);
  }

  protected writeChunks(chunks: Uint8Array[]): void {
    // Cork so the frames written in this tick leave in one syscall, as TCP coalesces into one buffer.
    const socket = this.#socket;
    socket?.cork();
    for (const chunk of chunks) this.#ws.send(chunk, { binary: true });
    socket?.uncork();
  }

  protected destroy(): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(1000);
    else this.#ws.terminate();
  }
}

/** Options of {@linkcode createWsServer}. */
export interface WsServerOptions extends ServerOptions {
  /** The upgrade path; other paths get 404. @default "/" */
  path?: string;
  /**
   * Allowed `Origin` values; `["*"]` allows all, `[]` refuses every upgrade (as due). Requests without an Origin
   * header (non-browser clients) are allowed unless the list is empty.
   * @default ["*"]
   */
  origins?: string[];
}

/**
 * Creates a WebSocket gateway server.
 *
 * @example
 * ```ts ignore
 * import { createWsServer } from "./ws.ts";
 * import { createPacketFormat } from "../../core/packet.ts";
 * const server = createWsServer({ addr: ":3554", path: "/", format: createPacketFormat() });
 * ```
 */
export function createWsServer(options: WsServerOptions): NetworkServer {
  const { path = "/", origins = ["*"] } = options;
  const listen = parseListenAddr(options.addr, "network.ws.server.addr");
  const core = new ServerCore("ws", options);
  const anyOrigin = origins.includes("*");
  const allowed = new Set(origins);
  let httpServer: http.Server | https.Server | undefined;
  let wss: WebSocketServer | undefined;
  let boundAddr = options.addr;

  function refuse(socket: Duplex, status: string): void {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const remoteHost = req.socket.remoteAddress ?? "";
    const remotePort = req.socket.remotePort ?? 0;
    const url = req.url ?? "/";
    const reqPath = url.includes("?") ? url.slice(0, url.indexOf("?")) : url;
    if (reqPath !== path) return refuse(socket, "404 Not Found");
    const origin = req.headers.origin;
    if (origins.length === 0 || (origin !== undefined && !anyOrigin && !allowed.has(origin))) {
      if (core.log.enabled("debug")) {
        core.log.debug("websocket upgrade refused: origin", { origin, remote: remoteHost });
      }
      return refuse(socket, "403 Forbidden");
    }
    if (!core.admit(remoteHost, remotePort)) return refuse(socket, "503 Service Unavailable");
    wss!.handleUpgrade(req, socket, head, (ws) => core.add(new WsConn(core, ws, remoteHost, remotePort)));
  }

  return {
    network: "ws",
    get addr() {
      return boundAddr;
    },
    get stats(): NetworkStats {
      return core.stats;
    },
    get connCount() {
      return core.conns.size;
    },
    async start(handler: ConnHandler): Promise<void> {
      wss = new WebSocketServer({
        noServer: true,
        maxPayload: core.format.maxSize + 4,
        perMessageDeflate: false,
      });
      const onRequest = (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.writeHead(426, { "Content-Type": "text/plain" }).end("WebSocket upgrade required\n");
      };
      httpServer = options.certFile && options.keyFile
        ? https.createServer({
          cert: await Deno.readTextFile(options.certFile),
          key: await Deno.readTextFile(options.keyFile),
        }, onRequest)
        : http.createServer(onRequest);
      httpServer.on("upgrade", onUpgrade);
      const server = httpServer;
      await new Promise<void>((resolve, reject) => {
        server.once("error", (err: Error) => reject(listenError("ws", options.addr, err)));
        server.listen(listen.port, listen.hostname, () => resolve());
      });
      const local = server.address();
      if (local && typeof local === "object") boundAddr = formatAddr(local.address, local.port);
      core.start(handler);
    },
    async stop(graceMs = 1000): Promise<void> {
      const server = httpServer;
      httpServer = undefined;
      if (!server) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await core.closeAll(graceMs);
      wss?.close();
      server.closeAllConnections?.();
      await closed;
    },
  } satisfies NetworkServer;
}
