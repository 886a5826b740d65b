/**
 * The node as game code sees it: route and event registration, and every operation on clients and users
 * anywhere in the cluster (push, multicast, broadcast, channels, kick, location, node-to-node delivery, mesh).
 *
 * Targets name a user (`{ uid }`, located through the locator) or one connection (`{ gid, cid }`).
 *
 * @module
 */

import { SessionKind } from "../core/cluster.ts";
import { DueError, ErrorCode } from "../core/errors.ts";
import type { GateLink } from "../core/link.ts";
import type { Logger } from "../core/logger.ts";
import { encodeMessage, encodeTextMessage } from "../core/packet.ts";
import type { Cache } from "../adapters/cache/types.ts";
import type { EventBus } from "../adapters/eventbus/types.ts";
import type { LockMaker } from "../adapters/lock/types.ts";
import type { ConfigCenter } from "../config/center.ts";
import { type PlatformComponents, requireComponent } from "../runtime/components.ts";
import type { NodeRuntime } from "./_runtime.ts";
import type { MeshClient } from "./mesh_client.ts";
import type { Router } from "./router.ts";
import type {
  ClusterEventName,
  EventHandler,
  Handler,
  Message,
  Middleware,
  RouteOptions,
  SessionTarget,
  SessionTargets,
} from "./types.ts";

/** Which sessions a broadcast or stat counts: every connection, or only those with a bound user. */
export type SessionScope = "conn" | "user";

const scopeKind = (scope: SessionScope = "conn") => scope === "user" ? SessionKind.User : SessionKind.Conn;

/** Extra hooks the runtime wires in (node-to-node delivery by route, mesh clients). */
export interface ProxyHooks {
  /** Delivers a packet to a node chosen by route (stateless pick, or the user's bound node). */
  deliverByRoute(route: number, uid: number, packet: Uint8Array): Promise<void>;
  /** A client of a mesh service. */
  mesh<T extends object>(service: string, target?: string): MeshClient<T>;
  /** Delivers a packet to every node named `name` (this one included); resolves with how many. */
  deliverToNodes(name: string, uid: number, packet: Uint8Array): number;
}

/** Where mesh calls go. */
export interface MeshTargetOptions {
  /**
   * `discovery://<service>` (the default): any instance the registry lists as hosting the service;
   * `direct://host:port`: the mesh or node whose cluster link listens there.
   */
  target?: string;
}

/** Platform components a node hands to game code. */
export type NodeComponents = PlatformComponents;

/** The game-facing node API. */
export class NodeProxy {
  readonly #rt: () => NodeRuntime;
  readonly #router: Router;
  readonly #hooks: ProxyHooks;
  readonly #components: NodeComponents;
  readonly #services = new Map<string, object>();

  /** @internal built by the node */
  constructor(rt: () => NodeRuntime, router: Router, hooks: ProxyHooks, components: NodeComponents = {}) {
    this.#rt = rt;
    this.#router = router;
    this.#hooks = hooks;
    this.#components = components;
  }

  /** The node's instance id (nid). */
  get id(): string {
    return this.#rt().id;
  }

  /** The node's name (its group: stateful routes bind per name). */
  get name(): string {
    return this.#rt().name;
  }

  /** The node's logger (role and id on every line). */
  get logger(): Logger {
    return this.#rt().log;
  }

  // ---- registration ----------------------------------------------------------------------------------------------

  /**
   * Registers a route handler.
   *
   * @example
   * ```ts ignore
   * node.route(1, (ctx) => ctx.response(ctx.parse()));
   * node.route(20, joinRoom, { stateful: true });
   * ```
   */
  route(id: number, handler: Handler, options?: RouteOptions): this {
    this.#router.add(id, handler, options);
    return this;
  }

  /** Adds middleware that runs before every route handler. */
  use(middleware: Middleware): this {
    this.#router.use(middleware);
    return this;
  }

  /** Sets the handler for routes that have none of their own. */
  defaultHandler(handler: Handler): this {
    this.#router.setDefault(handler);
    return this;
  }

  /** Handles a connection event: `connect`, `reconnect` (a uid was bound) or `disconnect`. */
  on(event: ClusterEventName, handler: EventHandler): this {
    this.#router.on(event, handler);
    return this;
  }

  // ---- writing to clients ----------------------------------------------------------------------------------------

  /**
   * Encodes a message into a client packet with the node's codec and packet format, encrypting the payload when
   * an encryptor is configured (`encrypt: false` for packets that go to nodes, which read plain payloads).
   */
  pack(message: Message, options: { encrypt?: boolean } = {}): Uint8Array {
    const rt = this.#rt();
    const encryptor = options.encrypt === false ? undefined : rt.encryptor;
    if (!encryptor && rt.codec.encodeText) {
      // A text codec's output goes straight into the packet: no payload buffer, no copy.
      const text = rt.codec.encodeText(message.data, message.type);
      if (text !== undefined) return encodeTextMessage(rt.format, message.route, message.seq ?? 0, text);
    }
    let payload = rt.codec.encode(message.data, message.type);
    if (encryptor && payload.length > 0) payload = encryptor.encrypt(payload);
    return encodeMessage(rt.format, message.route, message.seq ?? 0, payload);
  }

  /**
   * Pushes a message to one user or connection.
   * @throws {DueError} `not_found_location` when the user is on no gate
   */
  async push(target: SessionTarget, message: Message, options: { disconnect?: boolean } = {}): Promise<void> {
    const packet = this.pack(message);
    if ("gid" in target) {
      return this.#rt().gate(target.gid).push(SessionKind.Conn, target.cid, packet, options);
    }
    const gate = await this.#userGate(target.uid);
    gate.push(SessionKind.User, target.uid, packet, options);
  }

  /** Pushes one message to several users or connections, encoded once; resolves with how many received it. */
  async multicast(targets: SessionTargets, message: Message): Promise<number> {
    const packet = this.pack(message);
    const rt = this.#rt();
    if ("gid" in targets) return rt.gate(targets.gid).multicast(SessionKind.Conn, targets.cids, packet);
    const byGate = await this.#groupByGate(targets.uids);
    const counts = await Promise.all(
      [...byGate].map(([gid, uids]) => rt.gate(gid).multicast(SessionKind.User, uids, packet)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Sends one message to every client (`conn`, default) or every logged-in user (`user`) on every gate. */
  async broadcast(message: Message, options: { scope?: SessionScope } = {}): Promise<number> {
    const packet = this.pack(message);
    const kind = scopeKind(options.scope);
    const counts = await Promise.all([...this.#rt().gates()].map(({ link }) => link.broadcast(kind, packet)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Sends one message to every subscriber of a gate-local channel, on every gate. */
  async publish(channel: string, message: Message): Promise<number> {
    checkChannel(channel);
    const packet = this.pack(message);
    const counts = await Promise.all(
      [...this.#rt().gates()].map(({ link }) => link.publish(channel, packet)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Subscribes users or connections to a channel. */
  async subscribe(channel: string, targets: SessionTargets): Promise<void> {
    checkChannel(channel);
    await this.#eachGate(targets, (gate, kind, ids) => gate.subscribe(kind, ids, channel));
  }

  /** Unsubscribes users or connections from a channel. */
  async unsubscribe(channel: string, targets: SessionTargets): Promise<void> {
    await this.#eachGate(targets, (gate, kind, ids) => gate.unsubscribe(kind, ids, channel));
  }

  // ---- sessions ------------------------------------------------------------------------------------------------------

  /** Whether a user (anywhere) or a connection is online. */
  async isOnline(target: SessionTarget): Promise<boolean> {
    if ("gid" in target) return this.#rt().gate(target.gid).isOnline(SessionKind.Conn, target.cid);
    const gid = await this.#rt().locator.locateGate(target.uid);
    if (!gid) return false;
    try {
      return await this.#rt().gate(gid).isOnline(SessionKind.User, target.uid);
    } catch (err) {
      if (DueError.is(err, ErrorCode.Unavailable)) return false;
      throw err;
    }
  }

  /** Connections (`conn`, default) or logged-in users (`user`) across every gate. */
  async stat(scope?: SessionScope): Promise<number> {
    const kind = scopeKind(scope);
    const counts = await Promise.all([...this.#rt().gates()].map(({ link }) => link.stat(kind)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Closes a user's or a connection's connection: gracefully unless `force`. */
  async disconnect(target: SessionTarget, options: { force?: boolean } = {}): Promise<void> {
    if ("gid" in target) {
      return this.#rt().gate(target.gid).disconnect(SessionKind.Conn, target.cid, Boolean(options.force));
    }
    const gate = await this.#userGate(target.uid);
    await gate.disconnect(SessionKind.User, target.uid, Boolean(options.force));
  }

  /** The IP address of a user or connection. */
  async getIP(target: SessionTarget): Promise<string | undefined> {
    if ("gid" in target) return this.#rt().gate(target.gid).getIP(SessionKind.Conn, target.cid);
    const gate = await this.#userGate(target.uid);
    return gate.getIP(SessionKind.User, target.uid);
  }

  /** Binds `uid` to connection `cid` of gate `gid` (what `ctx.bindGate` does for its own connection). */
  bindGate(gid: string, cid: number, uid: number): Promise<void> {
    return this.#rt().gate(gid).bind(cid, uid);
  }

  /** Unbinds `uid` from its gate; the connection stays open. */
  async unbindGate(uid: number): Promise<void> {
    const gid = await this.#rt().locator.locateGate(uid);
    if (gid) await this.#rt().gate(gid).unbind(uid);
  }

  /** Binds `uid` to node `nid` (default: this node) for node name `name` (default: this node's). */
  async bindNode(uid: number, options: { name?: string; nid?: string } = {}): Promise<void> {
    const rt = this.#rt();
    const { name = rt.name, nid = rt.id } = options;
    await rt.locator.bindNode(uid, name, nid);
    if (name === rt.name && nid === rt.id) rt.bound.add(uid);
  }

  /** Removes `uid`'s binding to node `nid` (default: this node) for `name` (default: this node's). */
  async unbindNode(uid: number, options: { name?: string; nid?: string } = {}): Promise<void> {
    const rt = this.#rt();
    const { name = rt.name, nid = rt.id } = options;
    await rt.locator.unbindNode(uid, name, nid);
    if (name === rt.name && nid === rt.id) rt.bound.delete(uid);
  }

  /** The gate `uid` is connected through. */
  locateGate(uid: number): Promise<string | undefined> {
    return this.#rt().locator.locateGate(uid);
  }

  /** The node `uid` is bound to for node name `name` (default: this node's). */
  locateNode(uid: number, name?: string): Promise<string | undefined> {
    return this.#rt().locator.locateNode(uid, name ?? this.#rt().name);
  }

  // ---- nodes and meshes --------------------------------------------------------------------------------------------

  /**
   * Delivers a message to another node as if a client had sent it: to node `nid`, or to the node that serves
   * `message.route` (the user's bound node for a stateful route). The handler sees `ctx.nid` set; its
   * `ctx.response()` comes back here as a delivery.
   */
  async deliver(message: Message & { nid?: string; uid?: number }): Promise<void> {
    const packet = this.pack(message, { encrypt: false });
    const uid = message.uid ?? 0;
    if (message.nid) return this.#rt().deliverTo(message.nid, 0, uid, packet);
    await this.#hooks.deliverByRoute(message.route, uid, packet);
  }

  /**
   * Delivers a message to every node named `name` (default: this node's name, this node included), e.g. to refresh
   * state every node keeps; handlers see `ctx.nid` set. Resolves with how many nodes it was sent to.
   *
   * @example
   * ```ts ignore
   * await node.broadcastNodes({ route: 900, data: { reload: "shop" } });
   * ```
   */
  broadcastNodes(message: Message & { name?: string; uid?: number }): Promise<number> {
    const packet = this.pack(message, { encrypt: false });
    return Promise.resolve(this.#hooks.deliverToNodes(message.name ?? this.name, message.uid ?? 0, packet));
  }

  /**
   * Hosts a mesh service on this node (as due's node can): it registers under `mesh` with this node's id and
   * serves calls like a mesh. Register before the node starts.
   */
  service(name: string, impl: object): this {
    if (this.#services.has(name)) {
      throw new RangeError(`Cannot add service "${name}": it is already registered`);
    }
    this.#services.set(name, impl);
    return this;
  }

  /** Services hosted on this node, by name. */
  get services(): ReadonlyMap<string, object> {
    return this.#services;
  }

  /**
   * A client of mesh service `service`: each method call is an RPC to a mesh instance hosting it.
   *
   * @example
   * ```ts ignore
   * interface Rank { top(n: number): Promise<string[]> }
   * const names = await node.mesh<Rank>("rank").top(10);
   * ```
   */
  mesh<T extends object>(service: string, options: MeshTargetOptions = {}): MeshClient<T> {
    return this.#hooks.mesh<T>(service, options.target);
  }

  // ---- platform ------------------------------------------------------------------------------------------------------

  /** The event bus (`eventbus.driver`, memory by default): publish/subscribe topics across the cluster. */
  get eventbus(): EventBus {
    return this.#component("eventbus");
  }

  /** The cache (`cache.driver`, memory by default). */
  get cache(): Cache {
    return this.#component("cache");
  }

  /** The distributed lock maker (`lock.driver`, memory by default): `node.lock.make("name").acquire()`. */
  get lock(): LockMaker {
    return this.#component("lock");
  }

  /** The business config centre (`config.driver`): `node.config.get("game.maxPlayers")`. */
  get config(): ConfigCenter {
    return this.#component("config");
  }

  #component<K extends keyof NodeComponents>(name: K): NonNullable<NodeComponents[K]> {
    return requireComponent(this.#components, name, "node");
  }

  // ---- helpers -------------------------------------------------------------------------------------------------------

  async #userGate(uid: number): Promise<GateLink> {
    const gid = await this.#rt().locator.locateGate(uid);
    if (!gid) {
      throw new DueError(
        ErrorCode.NotFoundLocation,
        `Cannot find user ${uid}: the user is not connected to any gate`,
        { uid },
      );
    }
    return this.#rt().gate(gid);
  }

  async #groupByGate(uids: readonly number[]): Promise<Map<string, number[]>> {
    const rt = this.#rt();
    const gids = await Promise.all(uids.map((uid) => rt.locator.locateGate(uid)));
    const byGate = new Map<string, number[]>();
    gids.forEach((gid, i) => {
      if (!gid) return;
      let list = byGate.get(gid);
      if (!list) byGate.set(gid, list = []);
      list.push(uids[i]);
    });
    return byGate;
  }

  async #eachGate(
    targets: SessionTargets,
    fn: (gate: GateLink, kind: SessionKind, ids: readonly number[]) => Promise<void>,
  ): Promise<void> {
    const rt = this.#rt();
    if ("gid" in targets) return fn(rt.gate(targets.gid), SessionKind.Conn, targets.cids);
    const byGate = await this.#groupByGate(targets.uids);
    await Promise.all([...byGate].map(([gid, uids]) => fn(rt.gate(gid), SessionKind.User, uids)));
  }
}

function checkChannel(channel: string): void {
  if (typeof channel !== "string" || channel === "" || new TextEncoder().encode(channel).length > 255) {
    throw new RangeError(
      `Cannot use channel as its name must be 1 to 255 bytes: current value is ${JSON.stringify(channel)}`,
    );
  }
}
