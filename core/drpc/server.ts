/**
 * The cluster link server ("drpc", PROTOCOL.md §2) that every gate and node (and a mesh host) runs: it accepts
 * TCP connections from other instances, requires a Handshake first, then dispatches every route to the object it
 * serves — a {@linkcode GateLink}, a {@linkcode NodeProvider}, a {@linkcode MeshLink} — with the caller's
 * {@linkcode Peer} from the handshake, and answers calls (seq ≠ 0) with a code and body.
 *
 * Deliver and Push, the hot routes, are read in place; every other route goes through `decodeRequest`. Each
 * socket read is copied once into a private chunk, so the client packets and mesh call arguments handed to the
 * served object are views it may keep (no copy per packet); a kept view keeps its chunk alive (the read, or the
 * 64 KiB slab a small read was cut from).
 *
 * Longer than ~400 lines on purpose: one accepted connection's state and its dispatch of all 18 routes belong
 * together (each route is a few lines; splitting them from the connection that answers would spread one switch
 * over several files).
 *
 * @module
 */

import { copyBytes } from "../bytes.ts";
import { Kind } from "../cluster.ts";
import { DueError, ErrorCode, errorMessage } from "../errors.ts";
import { FeedResult, FrameReader } from "../frame_reader.ts";
import type { GateLink, MeshLink, NodeProvider, Peer, PushOptions } from "../link.ts";
import { silentLogger } from "../logger.ts";
import type { Logger } from "../logger.ts";
import { advertisedHost, formatAddr, formatEndpoint, isWildcard, parseHostPort } from "./_addr.ts";
import { FrameWriter } from "./_writer.ts";
import { LateTickGuard } from "../late_tick.ts";
import {
  BYTE_RESPONSE_BYTES,
  Code,
  decodeRequest,
  DELIVER_HEAD_BYTES,
  encodeGetIPResponse,
  encodeMeshError,
  encodeMeshResult,
  FRAME_HEAD_BYTES,
  frameSeq,
  HeaderBit,
  PUSH_HEAD_BYTES,
  readI64,
  RESPONSE_BYTES,
  Route,
  ROUTE_NAMES,
  SIZE_BYTES,
  totalResponseBytes,
  writeByteResponse,
  writeResponse,
  writeTotalResponse,
} from "./frames.ts";
import type { DrpcRequest } from "./frames.ts";

/** Default listen address: every interface, a port the OS picks. */
export const DEFAULT_LINK_ADDR = ":0";
/** Default largest frame `size` accepted (bytes after the size prefix). */
export const DEFAULT_FRAME_LIMIT_BYTES = 1024 * 1024;
/** Default time a link may stay silent before the server closes it (due: 20 s). */
export const DEFAULT_IDLE_TIMEOUT_MS = 20_000;
/** Default bound on response bytes queued per connection. */
export const DEFAULT_WRITE_QUEUE_BYTES = 4 * 1024 * 1024;
/** Bytes read per socket read; one buffer per connection, reused. */
export const DEFAULT_READ_BUFFER_BYTES = 64 * 1024;

/** What a link server serves; any may be set later with {@linkcode LinkServer.serve}. */
export interface LinkTargets {
  /** Routes 2–13 (and 16, 17 on a gate). */
  gate?: GateLink;
  /** Routes 14, 15 (and 16, 17 on a node). */
  node?: NodeProvider;
  /** Route 18. */
  mesh?: MeshLink;
}

/** Options of {@linkcode createLinkServer}. */
export interface LinkServerOptions extends LinkTargets {
  /** Listen address, `host:port` or `:port`. @default DEFAULT_LINK_ADDR */
  addr?: string;
  /** The serving instance's kind (answers GetState/SetState for it). */
  kind: Kind;
  /** The serving instance's id (logs). */
  id: string;
  /** Largest frame `size` accepted; a larger one closes that link. @default DEFAULT_FRAME_LIMIT_BYTES */
  frameLimitBytes?: number;
  /** A link silent this long is closed. @default DEFAULT_IDLE_TIMEOUT_MS */
  idleTimeoutMs?: number;
  /** Bound on response bytes queued per connection; overflow closes it. @default DEFAULT_WRITE_QUEUE_BYTES */
  writeQueueBytes?: number;
  /** Bytes read per socket read. @default DEFAULT_READ_BUFFER_BYTES */
  readBufferBytes?: number;
  /** Where link events are logged. @default silent */
  logger?: Logger;
}

/** Counters of a link server. */
export interface LinkServerStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Data frames received. */
  frames: number;
  /** Calls (seq ≠ 0) answered. */
  answered: number;
  /** Requests refused: route not served here, or not allowed from the caller's kind (Trigger from a non-gate). */
  refused: number;
  /** Requests whose body did not parse, or with an unknown route. */
  malformed: number;
  /** Served operations that failed (answered with an error code, or logged when one-way). */
  failed: number;
  /** Links closed for a protocol violation (no handshake, size 0 or above the limit, short frame). */
  rejected: number;
  /** Links closed after the idle timeout. */
  idleClosed: number;
}

/** A running link server. */
export interface LinkServer {
  /** The bound address, `host:port` (the OS-chosen port when listening on port 0). */
  readonly addr: string;
  /** The endpoint to advertise in the registry: `drpc://host:port?is_secure=false`. */
  readonly endpoint: string;
  /** Counters. */
  readonly stats: LinkServerStats;
  /** Sets (or replaces) what is served, e.g. once the gate that owns the server exists. */
  serve(targets: LinkTargets): void;
  /** Stops accepting, closes every link, and waits for their loops to end. */
  close(): Promise<void>;
}

const DISCONNECT: Readonly<PushOptions> = Object.freeze({ disconnect: true });

function positive(what: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new RangeError(
      `Cannot create link server as '${what}' must be a positive integer: current value is ${value}`,
    );
  }
  return value;
}

/** State shared by the server and its links. */
interface Core {
  readonly kind: Kind;
  readonly log: Logger;
  readonly debug: boolean;
  readonly stats: LinkServerStats;
  readonly frameLimitBytes: number;
  readonly writeQueueBytes: number;
  readonly readBufferBytes: number;
  readonly links: Set<ServerLink>;
  targets: LinkTargets;
}

function codeOf(err: unknown): Code {
  return DueError.is(err, ErrorCode.NotFoundSession) ? Code.NotFoundSession : Code.InternalError;
}

/** One accepted connection. */
class ServerLink {
  readonly #core: Core;
  readonly #socket: Deno.Conn;
  readonly #writer: FrameWriter;
  readonly #readBuf: Uint8Array;
  readonly #remote: string;
  #reader: FrameReader | undefined;
  #peer: Peer | undefined;
  #closed = false;
  /** `Date.now()` of the last read. */
  lastRead = Date.now();

  constructor(core: Core, socket: Deno.Conn) {
    this.#core = core;
    this.#socket = socket;
    const remote = socket.remoteAddr as Deno.NetAddr;
    this.#remote = formatAddr(remote.hostname, remote.port);
    this.#readBuf = new Uint8Array(core.readBufferBytes);
    this.#writer = new FrameWriter(core.writeQueueBytes, (err) => {
      if (!this.#closed) {
        core.log.debug("link write failed", { remote: this.#remote, error: errorMessage(err) });
      }
      this.close();
    });
    this.#writer.attach(socket);
  }

  async run(): Promise<void> {
    const core = this.#core;
    const reader = this.#reader = new FrameReader(
      { little: false, maxSize: core.frameLimitBytes },
      this.#onFrame,
    );
    try {
      while (!this.#closed) {
        const n = await this.#socket.read(this.#readBuf);
        if (n === null) break;
        this.lastRead = Date.now();
        // One copy per read, not per frame: every frame handed on is a view of this private chunk (cut from a
        // shared slab when small, see core/bytes.ts) or of the framer's accumulator, so the served object may keep
        // packets without a copy each (a native allocation costs ~0.5 µs).
        const result = reader.feed(copyBytes(this.#readBuf.subarray(0, n)));
        if (result === FeedResult.TooLarge) {
          this.#reject("frame size above the limit", { size: reader.lastSize, limit: core.frameLimitBytes });
        }
        if (result !== FeedResult.Ok) break;
      }
    } catch (err) {
      if (!this.#closed && core.debug) {
        core.log.debug("link read failed", { remote: this.#remote, error: errorMessage(err) });
      }
    }
    this.close();
  }

  /** Closes the link at once (queued responses are dropped). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader?.stop();
    this.#writer.detach();
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
    const core = this.#core;
    if (core.links.delete(this)) core.stats.open--;
    if (core.debug) core.log.debug("link closed", { remote: this.#remote, peer: this.#peer?.id });
  }

  #reject(why: string, attrs: Record<string, unknown> = {}): void {
    this.#core.stats.rejected++;
    this.#core.log.warn("link closed: " + why, { remote: this.#remote, peer: this.#peer?.id, ...attrs });
    this.close();
  }

  #respondCode(route: number, seq: number, code: Code): void {
    const writer = this.#writer;
    const off = this.#closed ? -1 : writer.reserve(RESPONSE_BYTES);
    if (off < 0) return this.#overflow();
    writeResponse(writer.buffer, off, route, seq, code);
    writer.commit(RESPONSE_BYTES);
    this.#core.stats.answered++;
  }

  #respondTotal(route: number, seq: number, total: number): void {
    const writer = this.#writer;
    const bytes = totalResponseBytes(Code.OK, total);
    const off = this.#closed ? -1 : writer.reserve(bytes);
    if (off < 0) return this.#overflow();
    writeTotalResponse(writer.buffer, off, route, seq, Code.OK, total);
    writer.commit(bytes);
    this.#core.stats.answered++;
  }

  #respondByte(route: number, seq: number, value: number): void {
    const writer = this.#writer;
    const off = this.#closed ? -1 : writer.reserve(BYTE_RESPONSE_BYTES);
    if (off < 0) return this.#overflow();
    writeByteResponse(writer.buffer, off, route, seq, Code.OK, value);
    writer.commit(BYTE_RESPONSE_BYTES);
    this.#core.stats.answered++;
  }

  /** No room for a response: the caller does not read; drop the link (a closed link drops it silently). */
  #overflow(): void {
    if (!this.#closed) this.#reject("write queue full", { queued: this.#writer.pendingBytes });
  }

  #respond(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#core.stats.answered++;
    if (!this.#writer.send(frame)) this.#reject("write queue full", { queued: this.#writer.pendingBytes });
  }

  #refuse(route: number, seq: number, why: string): void {
    const core = this.#core;
    core.stats.refused++;
    if (core.debug) core.log.debug("request refused: " + why, { route, peer: this.#peer?.id });
    if (seq !== 0) this.#respondCode(route, seq, Code.InternalError);
  }

  #malformed(route: number, seq: number): void {
    const core = this.#core;
    core.stats.malformed++;
    core.log.warn("request malformed", { route, peer: this.#peer?.id, remote: this.#remote });
    if (seq !== 0) this.#respondCode(route, seq, Code.InternalError);
  }

  readonly #onFrame = (frame: Uint8Array): void => {
    const length = frame.length;
    if (length === SIZE_BYTES) return this.#reject("frame size 0");
    if ((frame[4] & HeaderBit.Heartbeat) !== 0) {
      if (this.#peer === undefined) this.#reject("handshake required");
      return;
    }
    if (length < FRAME_HEAD_BYTES) return this.#reject("frame shorter than its head", { length });
    const seq = frameSeq(frame);
    if (seq < 0) return this.#reject("seq above 2^53 - 1");
    const core = this.#core;
    core.stats.frames++;
    const route = frame[5];
    const peer = this.#peer;
    if (peer === undefined) return this.#handshake(frame, route, seq);
    if (route === Route.Deliver) {
      const node = core.targets.node;
      if (node === undefined) return this.#refuse(route, seq, "no node served here");
      if (length < DELIVER_HEAD_BYTES) return this.#malformed(route, seq);
      const cid = readI64(frame, FRAME_HEAD_BYTES), uid = readI64(frame, FRAME_HEAD_BYTES + 8);
      if (Number.isNaN(cid + uid)) return this.#malformed(route, seq);
      try {
        node.deliver(peer, cid, uid, frame.subarray(DELIVER_HEAD_BYTES));
      } catch (err) {
        return this.#oneWayFailed(route, seq, err);
      }
      if (seq !== 0) this.#respondCode(route, seq, Code.OK);
      return;
    }
    if (route === Route.Push) {
      const gate = core.targets.gate;
      if (gate === undefined) return this.#refuse(route, seq, "no gate served here");
      if (length < PUSH_HEAD_BYTES) return this.#malformed(route, seq);
      const kind = frame[FRAME_HEAD_BYTES], target = readI64(frame, FRAME_HEAD_BYTES + 1);
      if ((kind !== 1 && kind !== 2) || Number.isNaN(target)) return this.#malformed(route, seq);
      const options = (frame[4] & HeaderBit.Disconnect) !== 0 ? DISCONNECT : undefined;
      try {
        gate.push(kind, target, frame.subarray(PUSH_HEAD_BYTES), options);
      } catch (err) {
        return this.#oneWayFailed(route, seq, err);
      }
      if (seq !== 0) this.#respondCode(route, seq, Code.OK);
      return;
    }
    const request = decodeRequest(frame);
    if (request === undefined) return this.#malformed(route, seq);
    this.#dispatch(request, seq, peer);
  };

  /** A one-way operation (Deliver, Push, Trigger) threw: counted, logged, and answered when it was acked. */
  #oneWayFailed(route: number, seq: number, err: unknown): void {
    this.#failed(route, err);
    if (seq !== 0) this.#respondCode(route, seq, codeOf(err));
  }

  #failed(route: number, err: unknown): void {
    const core = this.#core;
    core.stats.failed++;
    if (core.debug) {
      core.log.debug("request failed", {
        route: ROUTE_NAMES[route as Route] ?? route,
        peer: this.#peer?.id,
        error: errorMessage(err),
      });
    }
  }

  /** Answers a call when the operation settles; logs a failure of a one-way request. */
  #settle<T>(route: number, seq: number, run: () => Promise<T> | T, ok: (value: T) => void): void {
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(run());
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        if (seq !== 0) ok(value);
      },
      (err) => {
        this.#failed(route, err);
        if (seq === 0) return;
        if (route === Route.MeshCall) {
          const code = DueError.is(err) ? err.code : ErrorCode.Internal;
          this.#respond(encodeMeshError(seq, code, errorMessage(err), this.#core.frameLimitBytes - 10));
        } else this.#respondCode(route, seq, codeOf(err));
      },
    );
  }

  #handshake(frame: Uint8Array, route: number, seq: number): void {
    const request = route === Route.Handshake ? decodeRequest(frame) : undefined;
    if (request === undefined || request.route !== Route.Handshake) {
      return this.#reject(route === Route.Handshake ? "handshake malformed" : "handshake required", {
        route,
      });
    }
    this.#peer = Object.freeze({ kind: request.kind, id: request.id });
    if (seq !== 0) this.#respondCode(route, seq, Code.OK);
    const core = this.#core;
    if (core.debug) {
      core.log.debug("link accepted", { remote: this.#remote, kind: request.kind, peer: request.id });
    }
  }

  #dispatch(request: DrpcRequest, seq: number, peer: Peer): void {
    const { gate, node, mesh } = this.#core.targets;
    const code = (route: number) => () => this.#respondCode(route, seq, Code.OK);
    switch (request.route) {
      case Route.Handshake: {
        const same = request.kind === peer.kind && request.id === peer.id;
        if (seq !== 0) this.#respondCode(request.route, seq, same ? Code.OK : Code.InternalError);
        if (!same) this.#core.log.warn("second handshake names another peer: ignored", { peer: peer.id });
        return;
      }
      case Route.Trigger: {
        if (node === undefined) return this.#refuse(request.route, seq, "no node served here");
        if (peer.kind !== Kind.Gate) return this.#refuse(request.route, seq, "trigger from a non-gate");
        const { event, cid, uid } = request;
        try {
          node.trigger(peer, event, cid, uid);
        } catch (err) {
          return this.#oneWayFailed(request.route, seq, err);
        }
        if (seq !== 0) this.#respondCode(request.route, seq, Code.OK);
        return;
      }
      case Route.GetState:
      case Route.SetState: {
        const useGate = gate !== undefined && (this.#core.kind === Kind.Gate || node === undefined);
        if (!useGate && node === undefined) {
          return this.#refuse(request.route, seq, "no gate or node served here");
        }
        if (request.route === Route.GetState) {
          return this.#settle(
            request.route,
            seq,
            () => useGate ? gate!.getState() : node!.getState(),
            (state) => this.#respondByte(Route.GetState, seq, state),
          );
        }
        const state = request.state;
        return this.#settle(
          request.route,
          seq,
          () => useGate ? gate!.setState(state) : node!.setState(state),
          code(Route.SetState),
        );
      }
      case Route.MeshCall: {
        if (mesh === undefined) return this.#refuse(request.route, seq, "no mesh served here");
        const { service, method, codec, args } = request;
        const limit = this.#core.frameLimitBytes;
        return this.#settle(
          request.route,
          seq,
          () => mesh.call(service, method, args, codec),
          (result) =>
            this.#respond(
              result.length + FRAME_HEAD_BYTES + 2 - SIZE_BYTES <= limit
                ? encodeMeshResult(seq, result)
                : encodeMeshError(
                  seq,
                  ErrorCode.PacketTooLarge,
                  `Cannot answer mesh call ${service}.${method}: result of ${result.length} bytes is above the frame limit`,
                ),
            ),
        );
      }
      case Route.Deliver:
      case Route.Push:
        return; // read in place by #onFrame
    }
    if (gate === undefined) return this.#refuse(request.route, seq, "no gate served here");
    switch (request.route) {
      case Route.Bind:
        return this.#settle(
          request.route,
          seq,
          () => gate.bind(request.cid, request.uid),
          code(request.route),
        );
      case Route.Unbind:
        return this.#settle(request.route, seq, () => gate.unbind(request.uid), code(request.route));
      case Route.GetIP:
        return this.#settle(
          request.route,
          seq,
          () => gate.getIP(request.kind, request.target),
          (ip) => this.#respond(encodeGetIPResponse(seq, Code.OK, ip)),
        );
      case Route.Stat:
        return this.#settle(
          request.route,
          seq,
          () => gate.stat(request.kind),
          (total) => this.#respondTotal(Route.Stat, seq, total),
        );
      case Route.IsOnline:
        return this.#settle(
          request.route,
          seq,
          () => gate.isOnline(request.kind, request.target),
          (online) => this.#respondByte(Route.IsOnline, seq, online ? 1 : 0),
        );
      case Route.Disconnect:
        return this.#settle(
          request.route,
          seq,
          () => gate.disconnect(request.kind, request.target, request.force),
          code(request.route),
        );
      case Route.Multicast: {
        const { kind, targets, packet } = request;
        const options = request.disconnect ? DISCONNECT : undefined;
        return this.#settle(
          request.route,
          seq,
          () => gate.multicast(kind, targets, packet, options),
          (total) => this.#respondTotal(Route.Multicast, seq, total),
        );
      }
      case Route.Broadcast: {
        const options = request.disconnect ? DISCONNECT : undefined;
        return this.#settle(
          request.route,
          seq,
          () => gate.broadcast(request.kind, request.packet, options),
          (total) => this.#respondTotal(Route.Broadcast, seq, total),
        );
      }
      case Route.Publish: {
        const options = request.disconnect ? DISCONNECT : undefined;
        return this.#settle(
          request.route,
          seq,
          () => gate.publish(request.channel, request.packet, options),
          (total) => this.#respondTotal(Route.Publish, seq, total),
        );
      }
      case Route.Subscribe:
        return this.#settle(
          request.route,
          seq,
          () => gate.subscribe(request.kind, request.targets, request.channel),
          code(request.route),
        );
      case Route.Unsubscribe:
        return this.#settle(
          request.route,
          seq,
          () => gate.unsubscribe(request.kind, request.targets, request.channel),
          code(request.route),
        );
    }
  }
}

/**
 * Creates a link server listening at once on `addr` (so `addr` and `endpoint` are known before the gate or node
 * that serves through it is built).
 *
 * @example
 * ```ts ignore
 * const server = createLinkServer({ kind: Kind.Gate, id: "g1", addr: ":0" });
 * const gate = createGate({ endpoint: server.endpoint, ... });
 * server.serve({ gate: gate.link });
 * ```
 *
 * @throws {DueError} `unavailable` when the address cannot be bound
 */
export function createLinkServer(options: LinkServerOptions): LinkServer {
  const {
    addr = DEFAULT_LINK_ADDR,
    kind,
    id,
    frameLimitBytes = DEFAULT_FRAME_LIMIT_BYTES,
    idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
    writeQueueBytes = DEFAULT_WRITE_QUEUE_BYTES,
    readBufferBytes = DEFAULT_READ_BUFFER_BYTES,
  } = options;
  if (kind !== Kind.Gate && kind !== Kind.Node && kind !== Kind.Mesh) {
    throw new TypeError(`Cannot create link server as 'kind' must be 1, 2 or 3: current value is ${kind}`);
  }
  if (typeof id !== "string" || id === "") {
    throw new TypeError(
      `Cannot create link server as 'id' must be a non-empty string: current value is ${id}`,
    );
  }
  positive("frameLimitBytes", frameLimitBytes);
  positive("idleTimeoutMs", idleTimeoutMs);
  positive("writeQueueBytes", writeQueueBytes);
  positive("readBufferBytes", readBufferBytes);
  if (writeQueueBytes < frameLimitBytes + SIZE_BYTES) {
    throw new RangeError(
      `Cannot create link server as 'writeQueueBytes' must hold one frame of 'frameLimitBytes' (${frameLimitBytes}): current value is ${writeQueueBytes}`,
    );
  }
  const { hostname, port } = parseHostPort(addr, "Cannot create link server");
  const log = (options.logger ?? silentLogger).with({ link: "drpc" });
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port, transport: "tcp" });
  } catch (err) {
    throw new DueError(ErrorCode.Unavailable, `Cannot listen on ${addr}: ${errorMessage(err)}`, {
      addr,
      cause: err,
    });
  }
  const bound = listener.addr as Deno.NetAddr;
  const stats: LinkServerStats = {
    accepted: 0,
    open: 0,
    frames: 0,
    answered: 0,
    refused: 0,
    malformed: 0,
    failed: 0,
    rejected: 0,
    idleClosed: 0,
  };
  const core: Core = {
    kind,
    log,
    debug: log.enabled("debug"),
    stats,
    frameLimitBytes,
    writeQueueBytes,
    readBufferBytes,
    links: new Set(),
    targets: { gate: options.gate, node: options.node, mesh: options.mesh },
  };
  const running = new Set<Promise<void>>();
  let closed = false;

  const idleCheckMs = Math.max(5, Math.min(1000, Math.floor(idleTimeoutMs / 4)));
  const idleGuard = new LateTickGuard(idleCheckMs, Date.now());
  const idleTimer = setInterval(() => {
    const now = Date.now();
    const oldest = now - idleTimeoutMs;
    // This process's busy spells are not the links' silence: nothing is idle right after one.
    if (idleGuard.tick(now) >= oldest) return;
    for (const link of core.links) {
      if (link.lastRead < oldest) {
        stats.idleClosed++;
        log.info("link closed: idle", { idleTimeoutMs });
        link.close();
      }
    }
  }, idleCheckMs);

  async function accept(): Promise<void> {
    try {
      for await (const socket of listener) {
        if (closed) {
          socket.close();
          break;
        }
        stats.accepted++;
        stats.open++;
        const link = new ServerLink(core, socket);
        core.links.add(link);
        const done = link.run();
        running.add(done);
        done.finally(() => running.delete(done));
      }
    } catch (err) {
      if (!closed) log.error("link server accept failed", { error: errorMessage(err) });
    }
  }
  const accepting = accept();
  const host = advertisedHost(hostname);
  const endpoint = formatEndpoint(host, bound.port);
  log.info("link server listening", { addr: formatAddr(bound.hostname, bound.port), endpoint, kind, id });
  if (isWildcard(hostname) && host === "127.0.0.1") {
    log.warn("link server advertises 127.0.0.1: no other IPv4 address found (is --allow-sys granted?)", {
      endpoint,
    });
  }

  return {
    addr: formatAddr(bound.hostname, bound.port),
    endpoint,
    stats,
    serve(targets) {
      core.targets = { ...core.targets, ...targets };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(idleTimer);
      try {
        listener.close();
      } catch {
        // already closed
      }
      await accepting;
      for (const link of [...core.links]) link.close();
      await Promise.all([...running]);
    },
  };
}
