/**
 * The context a handler gets: who sent the request, its route and seq, lazy payload decoding, the reply, and the
 * session operations that act on this request's connection (login, logout, stateful binding, disconnect).
 *
 * @module
 */

import { Kind, SessionKind } from "../core/cluster.ts";
import type { ClusterEventName } from "../core/cluster.ts";
import type { Peer } from "../core/link.ts";
import { SIZE_BYTES } from "../core/packet.ts";
import { DueError, ErrorCode } from "../core/errors.ts";
import type { Cache } from "../adapters/cache/types.ts";
import type { EventBus } from "../adapters/eventbus/types.ts";
import type { LockMaker } from "../adapters/lock/types.ts";
import type { NodeRuntime } from "./_runtime.ts";
import type { MeshTargetOptions, NodeProxy } from "./proxy.ts";
import type { MeshClient } from "./mesh_client.ts";
import type { Message, RouteOptions } from "./types.ts";

const NO_VALUE = Symbol("none");

/** The context of one request. */
export class Context {
  /** The gate the request came through (`""` when it came from a node or mesh). */
  readonly gid: string;
  /** The node that delivered it (`""` when it came from a gate). */
  readonly nid: string;
  /** The client connection id on its gate (0 when it came from a node or mesh). */
  readonly cid: number;
  /** The route. */
  readonly route: number;
  /** The seq: 0 for a one-way message; a reply carries it back. */
  readonly seq: number;
  /** The whole client packet, size prefix included. */
  readonly packet: Uint8Array;
  readonly #rt: NodeRuntime;
  readonly #from: Peer;
  readonly #options: Readonly<RouteOptions>;
  #uid: number;
  #parsed: unknown = NO_VALUE;

  /** @internal built by the node */
  constructor(
    rt: NodeRuntime,
    from: Peer,
    cid: number,
    uid: number,
    route: number,
    seq: number,
    packet: Uint8Array,
    options: Readonly<RouteOptions>,
  ) {
    this.#rt = rt;
    this.#from = from;
    this.gid = from.kind === Kind.Gate ? from.id : "";
    this.nid = from.kind === Kind.Node ? from.id : "";
    this.cid = cid;
    this.#uid = uid;
    this.route = route;
    this.seq = seq;
    this.packet = packet;
    this.#options = options;
  }

  /** The user id bound to the connection, 0 when none. */
  get uid(): number {
    return this.#uid;
  }

  /** The node's proxy: push, broadcast, mesh, … */
  get node(): NodeProxy {
    return this.#rt.proxy;
  }

  /** The payload bytes (a view into {@linkcode Context.packet}). */
  get payload(): Uint8Array {
    return this.packet.subarray(SIZE_BYTES + this.#rt.format.dataHeaderBytes);
  }

  /**
   * Decodes the payload with the node's codec, once; later calls return the same value.
   * @throws {SyntaxError} (or the codec's error) when the payload does not decode
   */
  parse<T = unknown>(): T {
    if (this.#parsed === NO_VALUE) {
      const { codec, encryptor } = this.#rt;
      let payload = this.payload;
      // Clients encrypt their payloads; nodes and meshes deliver plain ones.
      if (encryptor && this.#from.kind === Kind.Gate && payload.length > 0) {
        payload = encryptor.decrypt(payload);
      }
      this.#parsed = codec.decode(payload, this.#options.request);
    }
    return this.#parsed as T;
  }

  /** Replies with `data` on this request's route and seq. */
  response(data?: unknown): void {
    this.reply({ route: this.route, seq: this.seq, data, type: this.#options.response });
  }

  /** Sends a message back to this request's client (or to the node that delivered it). */
  reply(message: Message): void {
    const rt = this.#rt;
    switch (this.#from.kind) {
      case Kind.Gate:
        rt.gate(this.#from.id).push(SessionKind.Conn, this.cid, rt.proxy.pack(message));
        return;
      case Kind.Node:
        rt.deliverTo(this.#from.id, 0, this.#uid, rt.proxy.pack(message, { encrypt: false }));
        return;
      default:
        rt.unroutableReply();
    }
  }

  /**
   * Binds a user id to this connection: the login step. The gate records it (kicking an older connection of the
   * same user, by default) and so does the locator, then nodes with a `reconnect` handler hear of it.
   */
  async bindGate(uid: number): Promise<void> {
    if (this.#from.kind !== Kind.Gate) throw this.#noConnection("bindGate");
    if (!Number.isSafeInteger(uid) || uid <= 0) {
      throw new RangeError(`Cannot bind gate as 'uid' must be a positive integer: current value is ${uid}`);
    }
    await this.#rt.gate(this.gid).bind(this.cid, uid);
    this.#uid = uid;
  }

  /** Unbinds this connection's user (logout); the connection stays open. */
  async unbindGate(): Promise<void> {
    if (this.#uid === 0) return;
    const gid = this.gid || await this.#rt.locator.locateGate(this.#uid);
    if (gid) await this.#rt.gate(gid).unbind(this.#uid);
    this.#uid = 0;
  }

  /** Binds the user to this node for this node's name: their stateful routes come here from now on. */
  bindNode(): Promise<void> {
    return this.#rt.proxy.bindNode(this.#requireUid("bindNode"));
  }

  /** Removes the user's binding to this node. */
  unbindNode(): Promise<void> {
    return this.#rt.proxy.unbindNode(this.#requireUid("unbindNode"));
  }

  /** Closes this request's connection: gracefully (queued packets first) unless `force`. */
  disconnect(force = false): Promise<void> {
    if (this.#from.kind === Kind.Gate) {
      return this.#rt.gate(this.gid).disconnect(SessionKind.Conn, this.cid, force);
    }
    return this.#rt.proxy.disconnect({ uid: this.#requireUid("disconnect") }, { force });
  }

  /** The client's IP address. */
  getIP(): Promise<string | undefined> {
    if (this.#from.kind === Kind.Gate) return this.#rt.gate(this.gid).getIP(SessionKind.Conn, this.cid);
    return this.#rt.proxy.getIP({ uid: this.#requireUid("getIP") });
  }

  /** A client of mesh service `service`. */
  mesh<T extends object>(service: string, options?: MeshTargetOptions): MeshClient<T> {
    return this.#rt.proxy.mesh<T>(service, options);
  }

  /** The event bus (`eventbus.driver`); same as `ctx.node.eventbus`. */
  get eventbus(): EventBus {
    return this.#rt.proxy.eventbus;
  }

  /** The cache (`cache.driver`); same as `ctx.node.cache`. */
  get cache(): Cache {
    return this.#rt.proxy.cache;
  }

  /** The distributed lock maker (`lock.driver`); same as `ctx.node.lock`. */
  get lock(): LockMaker {
    return this.#rt.proxy.lock;
  }

  #requireUid(what: string): number {
    if (this.#uid === 0) {
      throw new DueError(
        ErrorCode.IllegalRequest,
        `Cannot ${what}: the connection has no bound uid (call ctx.bindGate(uid) first)`,
        {
          cid: this.cid,
          route: this.route,
        },
      );
    }
    return this.#uid;
  }

  #noConnection(what: string): DueError {
    return new DueError(ErrorCode.IllegalRequest, `Cannot ${what}: the request did not come through a gate`, {
      route: this.route,
    });
  }
}

/** The context of a connection event. */
export class EventContext {
  /** `connect`, `reconnect` (a uid was bound: login) or `disconnect`. */
  readonly event: ClusterEventName;
  /** The gate of the connection. */
  readonly gid: string;
  /** The connection id. */
  readonly cid: number;
  /** The user id: 0 on connect; the bound user on reconnect; on disconnect, the user the connection held. */
  readonly uid: number;
  readonly #rt: NodeRuntime;

  /** @internal built by the node */
  constructor(rt: NodeRuntime, event: ClusterEventName, gid: string, cid: number, uid: number) {
    this.#rt = rt;
    this.event = event;
    this.gid = gid;
    this.cid = cid;
    this.uid = uid;
  }

  /** The node's proxy. */
  get node(): NodeProxy {
    return this.#rt.proxy;
  }
}
