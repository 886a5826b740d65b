/**
 * The links between roles (PROTOCOL.md §2): what a node or mesh asks of a gate ({@linkcode GateLink}), what a gate,
 * node or mesh asks of a node ({@linkcode NodeLink}), and what a node asks of a mesh ({@linkcode MeshLink}). The
 * same interfaces are served in-process by the monolith ({@linkcode InprocHub}) and over TCP by the cluster link.
 *
 * One-way operations (`deliver`, `trigger`, `push`) return `void`: they are the hot path and allocate no promise.
 *
 * @module
 */

import { copyBytes } from "./bytes.ts";
import type { ClusterEvent, Kind, SessionKind, State } from "./cluster.ts";

/** Who is calling, as the handshake tells the acceptor. */
export interface Peer {
  /** The caller's kind. */
  readonly kind: Kind;
  /** The caller's instance id. */
  readonly id: string;
}

/** Flags of gate writes. */
export interface PushOptions {
  /** Close the target connection(s) gracefully after writing. */
  disconnect?: boolean;
}

/** Operations on a gate (cluster routes 2–13, 16, 17). Session targets are cids or uids by `kind`. */
export interface GateLink {
  /** Binds `uid` to connection `cid`; rejects with `not_found_session` when the connection is gone. */
  bind(cid: number, uid: number): Promise<void>;
  /** Unbinds `uid` from its connection. */
  unbind(uid: number): Promise<void>;
  /** The client's IP address, or `undefined`. */
  getIP(kind: SessionKind, target: number): Promise<string | undefined>;
  /** How many connections (`Conn`) or bound users (`User`) the gate holds. */
  stat(kind: SessionKind): Promise<number>;
  /** Whether the connection or user is on this gate. */
  isOnline(kind: SessionKind, target: number): Promise<boolean>;
  /** Closes a connection, gracefully or forced; rejects with `not_found_session` when it is not there. */
  disconnect(kind: SessionKind, target: number, force: boolean): Promise<void>;
  /** Writes a client packet to one session (one-way; a missing session is counted, not reported). */
  push(kind: SessionKind, target: number, packet: Uint8Array, options?: PushOptions): void;
  /** Writes a client packet to several sessions; resolves with how many received it. */
  multicast(
    kind: SessionKind,
    targets: readonly number[],
    packet: Uint8Array,
    options?: PushOptions,
  ): Promise<number>;
  /** Writes a client packet to every connection (`Conn`) or every bound user (`User`); resolves with the count. */
  broadcast(kind: SessionKind, packet: Uint8Array, options?: PushOptions): Promise<number>;
  /** Writes a client packet to every subscriber of a channel; resolves with the count. */
  publish(channel: string, packet: Uint8Array, options?: PushOptions): Promise<number>;
  /** Subscribes sessions to a gate-local channel. */
  subscribe(kind: SessionKind, targets: readonly number[], channel: string): Promise<void>;
  /** Unsubscribes sessions from a channel. */
  unsubscribe(kind: SessionKind, targets: readonly number[], channel: string): Promise<void>;
  /** The gate's state. */
  getState(): Promise<State>;
  /** Sets the gate's state. */
  setState(state: State): Promise<void>;
}

/** Operations on a node (cluster routes 14–17), as seen by one caller. */
export interface NodeLink {
  /** Hands a client packet (size prefix included) to the node, one-way. */
  deliver(cid: number, uid: number, packet: Uint8Array): void;
  /** Tells the node about a connection event, one-way. */
  trigger(event: ClusterEvent, cid: number, uid: number): void;
  /** The node's state. */
  getState(): Promise<State>;
  /** Sets the node's state. */
  setState(state: State): Promise<void>;
}

/** What a node serves to its callers; the acceptor side of {@linkcode NodeLink}, told who calls. */
export interface NodeProvider {
  /** A client packet from a gate (cid set) or a node/mesh (`from.kind`). The bytes may be kept: callers copy. */
  deliver(from: Peer, cid: number, uid: number, packet: Uint8Array): void;
  /** A connection event from a gate. */
  trigger(from: Peer, event: ClusterEvent, cid: number, uid: number): void;
  /** The node's state. */
  getState(): State;
  /** Sets the node's state. */
  setState(state: State): void;
}

/** Operations on a mesh service host. */
export interface MeshLink {
  /**
   * Calls `service.method` with arguments encoded by the codec named `codec`; resolves with the encoded result.
   * Rejects with a `DueError` whose code says why (`route_not_found` for an unknown service or method).
   */
  call(service: string, method: string, args: Uint8Array, codec: string): Promise<Uint8Array>;
}

/**
 * The in-process link of the monolith: roles register what they serve under their instance id; callers get links
 * that call straight through. Instances advertise the endpoint `inproc://<id>`.
 */
export class InprocHub {
  readonly #gates = new Map<string, GateLink>();
  readonly #nodes = new Map<string, NodeProvider>();
  readonly #meshes = new Map<string, MeshLink>();

  /** The endpoint an in-process instance advertises. */
  static endpoint(id: string): string {
    return `inproc://${id}`;
  }

  /** Serves a gate. Returns a function that removes it. */
  serveGate(id: string, gate: GateLink): () => void {
    this.#gates.set(id, gate);
    return () => this.#gates.delete(id);
  }

  /** Serves a node. Returns a function that removes it. */
  serveNode(id: string, node: NodeProvider): () => void {
    this.#nodes.set(id, node);
    return () => this.#nodes.delete(id);
  }

  /** Serves mesh services. Returns a function that removes them. */
  serveMesh(id: string, mesh: MeshLink): () => void {
    this.#meshes.set(id, mesh);
    return () => this.#meshes.delete(id);
  }

  /** A link to gate `id`, or `undefined` when it is not in this process. */
  gate(id: string): GateLink | undefined {
    return this.#gates.get(id);
  }

  /** A link to node `id` for caller `from`, or `undefined` when it is not in this process. */
  node(id: string, from: Peer): NodeLink | undefined {
    const provider = this.#nodes.get(id);
    if (!provider) return undefined;
    return {
      // The gate's read buffer is reused after this call returns, and the node may keep the packet (queued
      // behind an async handler, or read lazily by ctx.parse), so the link copies it, into a slab.
      deliver: (cid, uid, packet) => provider.deliver(from, cid, uid, copyBytes(packet)),
      trigger: (event, cid, uid) => provider.trigger(from, event, cid, uid),
      getState: () => Promise.resolve(provider.getState()),
      setState: (state) => Promise.resolve(provider.setState(state)),
    };
  }

  /** A link to the mesh services of instance `id`, or `undefined`. */
  mesh(id: string): MeshLink | undefined {
    return this.#meshes.get(id);
  }
}

/** Turns registry records into links, by endpoint scheme (`inproc://`, `drpc://`). */
export interface LinkResolver {
  /** A link to a gate. @throws {DueError} `unavailable` when the endpoint cannot be served */
  gate(instance: { id: string; endpoint: string }): GateLink;
  /** A link to a node, as seen by caller `from`. */
  node(instance: { id: string; endpoint: string }, from: Peer): NodeLink;
  /** A link to a mesh service host. */
  mesh(instance: { id: string; endpoint: string }): MeshLink;
  /** Forgets an instance that left: its connections close once nothing else uses them. */
  release?(instance: { id: string; endpoint: string }): void;
  /** Releases connections. */
  close(): Promise<void>;
}
