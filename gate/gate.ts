/**
 * The gate: holds client connections on its network servers, forwards each data packet to a node chosen by route
 * and by the user's binding, and writes node-built packets back unchanged. It never decodes payloads.
 *
 * Hot path (`onPacket`): read the route, look it up, pick a node, `deliver` — no payload decode, no promise.
 *
 * @module
 */

import { ClusterEvent, SessionKind, State, STATE_NAMES } from "../core/cluster.ts";
import type { ServiceInstance } from "../core/cluster.ts";
import { consume } from "../core/consume.ts";
import { Dispatcher } from "../core/dispatcher.ts";
import type { DispatchStrategy, NodeEndpoint } from "../core/dispatcher.ts";
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import { silentLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import { encodeMessage, readRoute, readSeq } from "../core/packet.ts";
import type { PacketFormat } from "../core/packet.ts";
import { InprocHub } from "../core/link.ts";
import type { GateLink, LinkResolver, NodeLink, Peer, PushOptions } from "../core/link.ts";
import { LocateEventType } from "../adapters/locator/types.ts";
import type { LocateEvent, Locator } from "../adapters/locator/types.ts";
import type { Registry } from "../adapters/registry/types.ts";
import { CloseReason } from "../adapters/network/types.ts";
import type { Conn, ConnHandler, NetworkServer } from "../adapters/network/types.ts";
import { Sessions } from "./sessions.ts";

/** What happens to an older connection when its uid is bound to a new one. */
export type DuplicateLoginPolicy = "kick" | "unbind";

/** Packets held per connection while a stateful route's node is being located. */
export const MAX_WAITING_PACKETS = 64;

/** Options of {@linkcode createGate}. */
export interface GateOptions {
  /** Instance id (gid). @default a random UUID */
  id?: string;
  /** Instance name (registry alias). @default "gate" */
  name?: string;
  /** The packet layout (must match clients and nodes). */
  format: PacketFormat;
  /** Network servers (tcp, ws, kcp) the gate serves. */
  servers: NetworkServer[];
  /** Where the gate registers itself and finds nodes. */
  registry: Registry;
  /** Where user bindings live. */
  locator: Locator;
  /** Turns node records into links. */
  links: LinkResolver;
  /** The endpoint advertised in the registry. @default `inproc://<id>` (served through `hub`) */
  endpoint?: string;
  /** When set, the gate serves itself in-process under its id. */
  hub?: InprocHub;
  /** @default "random" */
  dispatch?: DispatchStrategy;
  /** @default "kick" */
  duplicateLogin?: DuplicateLoginPolicy;
  /**
   * Answer a request (seq ≠ 0) the gate cannot deliver — unknown route, no node, no binding, not logged in — with
   * an empty packet of the same route and seq, so the client learns at once instead of timing out. @default false
   */
  replyUnknownRoute?: boolean;
  /** Registry metadata. */
  metadata?: Record<string, string>;
  /** @default silent */
  logger?: Logger;
}

/** Counters of a gate. */
export interface GateStats {
  /** Packets forwarded to nodes. */
  delivered: number;
  /** Packets dropped: no route. */
  unknownRoute: number;
  /** Packets dropped: authorized or stateful route from an unbound connection, or internal route. */
  illegal: number;
  /** Packets dropped: no node serves the route in state work or busy. */
  noNode: number;
  /** Packets dropped: stateful route with no node binding for the user. */
  noBinding: number;
  /** Packets dropped: stateful route bound to a node that left the cluster (the binding is released). */
  deadNode: number;
  /** Packets dropped: too many waiting for a node lookup. */
  overflow: number;
  /** Pushes whose target was not on this gate. */
  pushMissed: number;
  /** Older connections closed by a duplicate login. */
  kicked: number;
}

/** A running gate. */
export interface Gate {
  /** The gate id (gid). */
  readonly id: string;
  /** The gate's registry record. */
  readonly instance: ServiceInstance;
  /** The gate's operations, as nodes call them. */
  readonly link: GateLink;
  /** Counters. */
  readonly stats: GateStats;
  /** The network servers. */
  readonly servers: readonly NetworkServer[];
  /** Takes a node out of dispatch at once (its link dropped), before its registry lease lapses. */
  nodeDown(id: string): void;
  /** Puts a node taken out by {@linkcode Gate.nodeDown} back. */
  nodeUp(id: string): void;
  /** Starts the servers, watches the registry and locator, registers as `work`. */
  start(): Promise<void>;
  /**
   * Stops: registers `hang`, closes every connection (gracefully, forced after `graceMs`), deregisters.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Creates a gate.
 *
 * @example
 * ```ts ignore
 * const gate = createGate({ format, servers: [tcp, ws], registry, locator, links, hub });
 * await gate.start();
 * ```
 */
export function createGate(options: GateOptions): Gate {
  const {
    id = crypto.randomUUID(),
    name = "gate",
    format,
    servers,
    registry,
    locator,
    links,
    hub,
    dispatch = "random",
    duplicateLogin = "kick",
    replyUnknownRoute = false,
    metadata = {},
  } = options;
  const endpoint = options.endpoint ?? InprocHub.endpoint(id);
  const log = (options.logger ?? silentLogger).with({ role: "gate", id });
  const self: Peer = { kind: 1, id };
  const sessions = new Sessions();
  const stats: GateStats = {
    delivered: 0,
    unknownRoute: 0,
    illegal: 0,
    noNode: 0,
    noBinding: 0,
    deadNode: 0,
    overflow: 0,
    pushMissed: 0,
    kicked: 0,
  };
  const dispatcher = new Dispatcher<NodeLink>({
    strategy: dispatch,
    link: (instance) => links.node(instance, self),
    unlink: (instance) => links.release?.(instance),
    logger: log,
  });
  /** uid → node name → nid, for this gate's users, fed by locator events. */
  const nodeBindings = new Map<number, Map<string, string>>();
  /** Packets of a connection waiting for a node lookup, in arrival order. */
  const waiting = new Map<number, Uint8Array[]>();
  const instance: ServiceInstance = {
    id,
    name: "gate",
    kind: "gate",
    alias: name,
    state: "shut",
    events: [],
    routes: [],
    services: [],
    endpoint,
    weight: 1,
    metadata,
  };
  const abort = new AbortController();
  const background: Promise<void>[] = [];
  let unserve: (() => void) | undefined;

  const debug = log.enabled("debug");

  function drop(conn: Conn, route: number, why: keyof GateStats): void {
    stats[why]++;
    if (debug) log.debug("packet dropped", { why, route, cid: conn.id, uid: conn.uid });
  }

  /** Drops a packet the gate cannot deliver: counted, logged at debug, answered if so configured. */
  function undeliverable(conn: Conn, packet: Uint8Array, route: number, why: keyof GateStats): void {
    drop(conn, route, why);
    if (!replyUnknownRoute) return;
    const seq = readSeq(format, packet, 0);
    if (seq !== 0) conn.send(encodeMessage(format, route, seq));
  }

  /** Forwards one packet; returns false when the node of a stateful route must be looked up first. */
  function forward(conn: Conn, packet: Uint8Array): boolean {
    const route = readRoute(format, packet, 0);
    const entry = dispatcher.route(route);
    if (entry === undefined) {
      undeliverable(conn, packet, route, "unknownRoute");
      return true;
    }
    if (entry.internal || ((entry.stateful || entry.authorized) && conn.uid === 0)) {
      undeliverable(conn, packet, route, "illegal");
      return true;
    }
    let node: NodeEndpoint<NodeLink> | undefined;
    if (entry.stateful) {
      const nid = nodeBindings.get(conn.uid)?.get(entry.group);
      if (nid === undefined) return false;
      node = dispatcher.node(nid);
      if (node === undefined) {
        // The user's node left the cluster: its state is gone, so the binding is released rather than left to
        // swallow every later request; the game binds the user again (e.g. on re-join).
        releaseDeadBinding(conn.uid, entry.group, nid);
        undeliverable(conn, packet, route, "deadNode");
        return true;
      }
      if (node.state === State.Shut) {
        undeliverable(conn, packet, route, "noNode");
        return true;
      }
    } else node = entry.pick();
    if (node === undefined) {
      undeliverable(conn, packet, route, "noNode");
      return true;
    }
    stats.delivered++;
    node.link.deliver(conn.id, conn.uid, packet);
    return true;
  }

  function releaseDeadBinding(uid: number, group: string, nid: string): void {
    nodeBindings.get(uid)?.delete(group);
    log.info("stateful binding to a node that left the cluster released", { uid, group, node: nid });
    locator.unbindNode(uid, group, nid).catch((err) => {
      log.warn("locator unbindNode failed", { uid, group, error: errorMessage(err) });
    });
  }

  function lookup(conn: Conn, queue: Uint8Array[]): void {
    const route = readRoute(format, queue[0], 0);
    const group = dispatcher.route(route)?.group ?? "";
    const uid = conn.uid;
    locator.locateNode(uid, group).then(
      (nid) => {
        if (nid !== undefined) cacheNodeBinding(uid, group, nid);
        else undeliverable(conn, queue.shift()!, route, "noBinding");
        drain(conn, queue);
      },
      (err) => {
        log.warn("node lookup failed", { uid, group, error: errorMessage(err) });
        undeliverable(conn, queue.shift()!, route, "noBinding");
        drain(conn, queue);
      },
    );
  }

  function drain(conn: Conn, queue: Uint8Array[]): void {
    while (queue.length > 0) {
      if (conn.state !== "open") break;
      if (!forward(conn, queue[0])) return lookup(conn, queue);
      queue.shift();
    }
    waiting.delete(conn.id);
  }

  function cacheNodeBinding(uid: number, group: string, nid: string): void {
    let byName = nodeBindings.get(uid);
    if (!byName) nodeBindings.set(uid, byName = new Map());
    byName.set(group, nid);
  }

  function trigger(event: ClusterEvent, cid: number, uid: number): void {
    for (const node of dispatcher.eventTargets(event)) {
      try {
        node.link.trigger(event, cid, uid);
      } catch (err) {
        log.warn("trigger failed", { event, node: node.id, error: errorMessage(err) });
      }
    }
  }

  const handler: ConnHandler = {
    onConnect(conn) {
      sessions.add(conn);
      trigger(ClusterEvent.Connect, conn.id, 0);
    },
    onPacket(conn, packet) {
      const queue = waiting.get(conn.id);
      if (queue !== undefined) {
        if (queue.length >= MAX_WAITING_PACKETS) drop(conn, readRoute(format, packet, 0), "overflow");
        else queue.push(packet.slice());
        return;
      }
      if (!forward(conn, packet)) {
        const held = [packet.slice()];
        waiting.set(conn.id, held);
        lookup(conn, held);
      }
    },
    onDisconnect(conn, reason) {
      waiting.delete(conn.id);
      const uid = conn.uid;
      const heldUid = sessions.remove(conn);
      if (debug) log.debug("connection closed", { cid: conn.id, uid, reason, network: conn.network });
      if (!heldUid) {
        trigger(ClusterEvent.Disconnect, conn.id, uid);
        return;
      }
      nodeBindings.delete(uid);
      locator.unbindGate(uid, id).catch((err) => {
        log.warn("locator unbindGate failed", { uid, error: errorMessage(err) });
      }).finally(() => trigger(ClusterEvent.Disconnect, conn.id, uid));
    },
  };

  function notFound(kind: SessionKind, target: number): DueError {
    return new DueError(
      ErrorCode.NotFoundSession,
      `Cannot find ${kind === SessionKind.User ? "user" : "connection"} ${target} on gate ${id}`,
      kind === SessionKind.User ? { uid: target, instanceId: id } : { cid: target, instanceId: id },
    );
  }

  function writeTo(conn: Conn | undefined, packet: Uint8Array, disconnect: boolean | undefined): number {
    if (conn === undefined || !conn.send(packet)) return 0;
    if (disconnect) conn.close(false, CloseReason.Server);
    return 1;
  }

  let state: State = State.Shut;

  async function setState(next: State): Promise<void> {
    state = next;
    instance.state = STATE_NAMES[next];
    if (next !== State.Shut) await registry.register(instance);
  }

  const link: GateLink = {
    async bind(cid, uid) {
      const conn = sessions.conn(cid);
      if (!conn || conn.state !== "open") throw notFound(SessionKind.Conn, cid);
      const previous = sessions.bind(conn, uid);
      if (previous) {
        if (duplicateLogin === "kick") {
          stats.kicked++;
          log.info("duplicate login: closing the older connection", { uid, cid: previous.id, newCid: cid });
          previous.close(false, CloseReason.Server);
        } else previous.unbind();
      }
      await locator.bindGate(uid, id);
      trigger(ClusterEvent.Reconnect, cid, uid);
    },
    async unbind(uid) {
      const conn = sessions.unbind(uid);
      if (!conn) return;
      nodeBindings.delete(uid);
      await locator.unbindGate(uid, id);
    },
    getIP(kind, target) {
      return Promise.resolve(sessions.find(kind, target)?.remoteIp);
    },
    stat(kind) {
      return Promise.resolve(kind === SessionKind.User ? sessions.userCount : sessions.connCount);
    },
    isOnline(kind, target) {
      return Promise.resolve(sessions.find(kind, target) !== undefined);
    },
    disconnect(kind, target, force) {
      const conn = sessions.find(kind, target);
      if (!conn) return Promise.reject(notFound(kind, target));
      conn.close(force, CloseReason.Server);
      return Promise.resolve();
    },
    push(kind, target, packet, options?: PushOptions) {
      if (writeTo(sessions.find(kind, target), packet, options?.disconnect) === 1) return;
      stats.pushMissed++;
      if (debug) log.debug("push target not on this gate", { kind, target });
      if (kind === SessionKind.User) {
        // A stale binding points here: clear it (compare-and-delete keeps a newer binding).
        locator.unbindGate(target, id).catch(() => {});
      }
    },
    multicast(kind, targets, packet, options) {
      let count = 0;
      for (const target of targets) {
        count += writeTo(sessions.find(kind, target), packet, options?.disconnect);
      }
      return Promise.resolve(count);
    },
    broadcast(kind, packet, options) {
      let count = 0;
      for (const conn of [...sessions.all(kind)]) count += writeTo(conn, packet, options?.disconnect);
      return Promise.resolve(count);
    },
    publish(channel, packet, options) {
      let count = 0;
      const members = sessions.subscribers(channel);
      if (members) { for (const conn of [...members]) count += writeTo(conn, packet, options?.disconnect); }
      return Promise.resolve(count);
    },
    subscribe(kind, targets, channel) {
      for (const target of targets) {
        const conn = sessions.find(kind, target);
        if (conn) sessions.subscribe(conn, channel);
      }
      return Promise.resolve();
    },
    unsubscribe(kind, targets, channel) {
      for (const target of targets) {
        const conn = sessions.find(kind, target);
        if (conn) sessions.unsubscribe(conn, channel);
      }
      return Promise.resolve();
    },
    getState: () => Promise.resolve(state),
    setState,
  };

  function onLocateEvent(event: LocateEvent): void {
    const conn = sessions.user(event.uid);
    if (!conn) return;
    switch (event.type) {
      case LocateEventType.BindGate:
        if (event.insID === id) break;
        // The user logged in through another gate: this connection is the older one.
        if (duplicateLogin === "kick") {
          stats.kicked++;
          log.info("duplicate login on another gate: closing the older connection", {
            uid: event.uid,
            cid: conn.id,
            gate: event.insID,
          });
          sessions.release(event.uid);
          conn.close(false, CloseReason.Server);
        } else sessions.unbind(event.uid);
        nodeBindings.delete(event.uid);
        break;
      case LocateEventType.BindNode:
        cacheNodeBinding(event.uid, event.insName, event.insID);
        break;
      case LocateEventType.UnbindNode: {
        const byName = nodeBindings.get(event.uid);
        if (byName?.get(event.insName) === event.insID) byName.delete(event.insName);
        break;
      }
    }
  }

  return {
    id,
    instance,
    link,
    stats,
    servers,
    nodeDown(nodeId) {
      if (!dispatcher.node(nodeId) || dispatcher.isDown(nodeId)) return;
      log.warn("node link down: out of dispatch", { node: nodeId });
      dispatcher.markDown(nodeId);
    },
    nodeUp(nodeId) {
      if (!dispatcher.isDown(nodeId)) return;
      log.info("node link up: back in dispatch", { node: nodeId });
      dispatcher.markUp(nodeId);
    },
    async start() {
      if (hub) unserve = hub.serveGate(id, link);
      dispatcher.replace(await registry.services("node"));
      const { signal } = abort;
      background.push(
        consume(
          registry.watch("node", { signal }),
          (list) => dispatcher.replace(list),
          signal,
          log,
          "node watch",
        ),
        consume(locator.watch(["gate", "node"], { signal }), onLocateEvent, signal, log, "locator watch"),
      );
      const started: NetworkServer[] = [];
      try {
        for (const server of servers) {
          await server.start(handler);
          started.push(server);
          log.info("gate listening", { network: server.network, addr: server.addr });
        }
      } catch (err) {
        for (const server of started) await server.stop(0);
        abort.abort();
        await Promise.all(background);
        unserve?.();
        throw err;
      }
      await setState(State.Work);
    },
    async stop(graceMs = 3000) {
      if (state !== State.Shut) {
        await setState(State.Hang).catch((err) =>
          log.warn("register hang failed", { error: errorMessage(err) })
        );
      }
      await Promise.all(servers.map((server) => server.stop(graceMs)));
      const closed: Record<string, number> = {};
      for (const server of servers) {
        for (const [reason, count] of Object.entries(server.stats.closed)) {
          if (count > 0) closed[`${server.network}.${reason}`] = count;
        }
        if (server.stats.refused > 0) closed[`${server.network}.refused`] = server.stats.refused;
      }
      log.info("gate stats", { ...stats, closed });
      state = State.Shut;
      instance.state = "shut";
      await registry.deregister(instance).catch((err) =>
        log.warn("deregister failed", { error: errorMessage(err) })
      );
      abort.abort();
      await Promise.all(background);
      unserve?.();
      dispatcher.clear();
      waiting.clear();
      nodeBindings.clear();
    },
  };
}
