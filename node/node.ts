/**
 * The node: runs the game's route handlers and event handlers for packets that gates (and other nodes and
 * meshes) deliver, and gives game code the {@linkcode NodeProxy} to reach clients, users, nodes and meshes.
 *
 * Requests of one connection are handled in arrival order: while a handler's promise is pending, later requests
 * of that connection wait in a bounded queue. Different connections run concurrently on the event loop. A
 * synchronous handler costs no promise and no queue.
 *
 * @module
 */

import { EVENT_NAMES, Kind, State, STATE_NAMES } from "../core/cluster.ts";
import type { ClusterEvent, ServiceInstance } from "../core/cluster.ts";
import { consume } from "../core/consume.ts";
import { DEFAULT_ROUTE_METADATA, Dispatcher } from "../core/dispatcher.ts";
import type { DispatchStrategy } from "../core/dispatcher.ts";
import { DueError, ErrorCode, errorMessage, TimeoutError } from "../core/errors.ts";
import { silentLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import { readRoute, readSeq } from "../core/packet.ts";
import type { PacketFormat } from "../core/packet.ts";
import { InprocHub } from "../core/link.ts";
import type { GateLink, LinkResolver, MeshLink, NodeLink, NodeProvider, Peer } from "../core/link.ts";
import type { Codec } from "../adapters/codec/types.ts";
import type { Encryptor } from "../adapters/crypto/types.ts";
import type { LocateEvent, Locator } from "../adapters/locator/types.ts";
import { LocateEventType } from "../adapters/locator/types.ts";
import type { Registry } from "../adapters/registry/types.ts";
import type { NodeRuntime } from "./_runtime.ts";
import { Context, EventContext } from "./context.ts";
import { createMeshClient } from "./mesh_client.ts";
import type { MeshClient } from "./mesh_client.ts";
import { NodeProxy } from "./proxy.ts";
import type { NodeComponents } from "./proxy.ts";
import { RegistryLookup } from "./_registry_lookup.ts";
import { Router } from "./router.ts";
import type { Route } from "./router.ts";

/**
 * After a registry lookup that did not find a delivering gate (or a mesh service), how long before the next
 * lookup: a peer the registry does not list is not worth asking about on every request.
 */
const LOOKUP_PAUSE_MS = 1_000;

/**
 * The `host:port` of a `direct://host:port` mesh target, or `undefined` for discovery (`discovery://<service>` or
 * none). @throws {TypeError} for any other target
 */
export function parseMeshTarget(service: string, target: string | undefined): string | undefined {
  if (target === undefined || target === `discovery://${service}`) return undefined;
  const direct = /^direct:\/\/([^/?#]+:\d+)$/.exec(target);
  if (!direct) {
    throw new TypeError(
      `Cannot call mesh service ${service} as 'target' must be "discovery://${service}" or "direct://host:port": current value is "${target}"`,
    );
  }
  return direct[1];
}

/** Default bound of each connection's queue of waiting requests. */
export const DEFAULT_REQUEST_QUEUE_SIZE = 256;
/** Default timeout of mesh calls. */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;

/** Options of {@linkcode createNode}. */
export interface NodeOptions {
  /** Instance id (nid). @default a random UUID */
  id?: string;
  /** Node name: the group stateful bindings are per. @default "node" */
  name?: string;
  /** The packet layout (must match clients and gates). */
  format: PacketFormat;
  /** The payload codec (`cluster.node.codec`). */
  codec: Codec;
  /** The codec of mesh calls: the node's when it is schemaless, else JSON. @default codec */
  meshCodec?: Codec;
  /** Where the node registers and finds gates, nodes and meshes. */
  registry: Registry;
  /** Where user bindings live. */
  locator: Locator;
  /** Turns records into links. */
  links: LinkResolver;
  /** When set, the node serves itself in-process. */
  hub?: InprocHub;
  /** The endpoint advertised. @default `inproc://<id>` */
  endpoint?: string;
  /** Dispatch weight (`wrr` on gates). @default 1 */
  weight?: number;
  /** Requests a connection may have waiting behind a pending handler. @default 256 */
  requestQueueSize?: number;
  /** Timeout of mesh calls. @default 3000 */
  callTimeoutMs?: number;
  /** Where mesh calls go when a transport other than the cluster link serves them (`transport.driver = "nats"`). */
  meshTransport?: MeshLink;
  /**
   * On stop, the quiet time (no delivery, nothing pending) that ends the drain: gates need a moment to see the
   * node's `hang` state. 0 when no gate can still send (the monolith stops its gate first). @default 500
   */
  drainQuietMs?: number;
  /** How this node picks among nodes for node-to-node delivery by route. @default "rr" */
  dispatch?: DispatchStrategy;
  /** Registry metadata. */
  metadata?: Record<string, string>;
  /** Platform components handed to game code (`node.eventbus`, `node.cache`, `node.lock`, `node.config`). */
  components?: NodeComponents;
  /** Encrypts client-bound payloads and decrypts payloads from clients (`cluster.node.encryptor`). */
  encryptor?: Encryptor;
  /** @default silent */
  logger?: Logger;
}

/** Counters of a node. */
export interface NodeStats {
  /** Requests handled (handler called). */
  handled: number;
  /** Requests dropped: no handler for the route. */
  unknownRoute: number;
  /** Requests dropped: an internal route from a gate. */
  illegal: number;
  /** Stateful requests dropped: the user is not bound to this node. */
  notBound: number;
  /** Requests dropped: the connection's queue was full. */
  overflow: number;
  /** Handlers that threw or rejected. */
  handlerErrors: number;
  /** Replies that had nowhere to go (a request delivered by a mesh). */
  unroutableReplies: number;
  /**
   * Registry lookups for a gate that delivered before this node's watch showed it (a polling registry such as
   * Nacos shows a new gate up to one poll late); its requests wait for the lookup instead of losing their replies.
   */
  gateLookups: number;
  /** Registry lookups for a mesh service that the watch showed no host of, made before failing the call. */
  meshLookups: number;
}

/** A running node. */
export interface Node {
  /** The nid. */
  readonly id: string;
  /** The registry record. */
  readonly instance: ServiceInstance;
  /** The game-facing API. */
  readonly proxy: NodeProxy;
  /** What gates and nodes call. */
  readonly provider: NodeProvider;
  /** Counters. */
  readonly stats: NodeStats;
  /** Requests being handled or waiting. */
  readonly pending: number;
  /** Takes a node out of node-to-node dispatch at once (its link dropped). */
  nodeDown(id: string): void;
  /** Puts a node taken out by {@linkcode Node.nodeDown} back. */
  nodeUp(id: string): void;
  /** Seals the routes, watches the registry, registers as `work`. */
  start(): Promise<void>;
  /** Registers `hang`, waits for pending requests (up to `graceMs`), deregisters. */
  stop(graceMs?: number): Promise<void>;
}

interface Task {
  readonly from: Peer;
  readonly cid: number;
  readonly uid: number;
  readonly packet: Uint8Array | undefined;
  readonly route: Route | undefined;
  /** The packet's route id, read once on delivery (0 for events). */
  readonly routeId: number;
  readonly event: ClusterEvent;
}

/**
 * Creates a node. Register routes through `node.proxy` before `start()`.
 *
 * @example
 * ```ts ignore
 * const node = createNode({ format, codec, registry, locator, links, hub });
 * node.proxy.route(1, (ctx) => ctx.response(ctx.parse()));
 * await node.start();
 * ```
 */
export function createNode(options: NodeOptions): Node {
  const {
    id = crypto.randomUUID(),
    name = "node",
    format,
    codec,
    meshCodec = codec,
    registry,
    locator,
    links,
    hub,
    weight = 1,
    requestQueueSize = DEFAULT_REQUEST_QUEUE_SIZE,
    callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
    drainQuietMs = 500,
    meshTransport,
    dispatch = "rr",
    metadata = {},
    components = {},
    encryptor,
  } = options;
  if (!(Number.isInteger(requestQueueSize) && requestQueueSize > 0)) {
    throw new RangeError(
      `Cannot create node as 'requestQueueSize' must be a positive integer: current value is ${requestQueueSize}`,
    );
  }
  const endpoint = options.endpoint ?? InprocHub.endpoint(id);
  const log = (options.logger ?? silentLogger).with({ role: "node", id });
  const debug = log.enabled("debug");
  const self: Peer = { kind: Kind.Node, id };
  const router = new Router();
  const stats: NodeStats = {
    handled: 0,
    unknownRoute: 0,
    illegal: 0,
    notBound: 0,
    overflow: 0,
    handlerErrors: 0,
    unroutableReplies: 0,
    gateLookups: 0,
    meshLookups: 0,
  };
  const instance: ServiceInstance = {
    id,
    name: "node",
    kind: "node",
    alias: name,
    state: "shut",
    events: [],
    routes: [],
    services: [],
    endpoint,
    weight,
    metadata,
  };
  const bound = new Set<number>();
  const gates = new Map<string, { id: string; instance: ServiceInstance; link: GateLink }>();
  const nodes = new Dispatcher<NodeLink>({
    strategy: dispatch,
    link: (ins) => links.node(ins, self),
    unlink: (ins) => links.release?.(ins),
    logger: log,
  });
  let meshes: ServiceInstance[] = [];
  const meshLinks = new Map<string, { endpoint: string; link: MeshLink }>();
  const meshClients = new Map<string, MeshClient<object>>();
  let meshNext = 0;
  /** peer id → cid → tasks waiting behind a pending handler. */
  const queues = new Map<string, Map<number, Task[]>>();
  let queued = 0;
  let running = 0;
  let deliveries = 0;
  let state: State = State.Shut;
  const abort = new AbortController();
  const background: Promise<void>[] = [];
  let unserve: (() => void) | undefined;

  const rt: NodeRuntime = {
    id,
    name,
    format,
    codec,
    encryptor,
    locator,
    log,
    bound,
    gate(gid: string): GateLink {
      const gate = gates.get(gid);
      if (!gate) {
        throw new DueError(ErrorCode.Unavailable, `Cannot reach gate ${gid}: it is not in the registry`, {
          instanceId: gid,
        });
      }
      return gate.link;
    },
    gates: () => gates.values(),
    deliverTo(nid, cid, uid, packet) {
      if (nid === id) return provider.deliver(self, cid, uid, packet.slice());
      const node = nodes.node(nid);
      if (!node) {
        throw new DueError(ErrorCode.Unavailable, `Cannot reach node ${nid}: it is not in the registry`, {
          instanceId: nid,
        });
      }
      node.link.deliver(cid, uid, packet);
    },
    unroutableReply() {
      stats.unroutableReplies++;
    },
    get proxy() {
      return proxy;
    },
  };

  const proxy: NodeProxy = new NodeProxy(() => rt, router, {
    async deliverByRoute(route, uid, packet) {
      const entry = nodes.route(route);
      if (!entry) {
        throw new DueError(ErrorCode.RouteNotFound, `Cannot deliver route ${route}: no node serves it`, {
          route,
        });
      }
      if (entry.stateful) {
        const nid = await locator.locateNode(uid, entry.group);
        if (!nid) {
          throw new DueError(
            ErrorCode.NotFoundLocation,
            `Cannot deliver route ${route}: user ${uid} is not bound to a "${entry.group}" node`,
            { route, uid },
          );
        }
        return rt.deliverTo(nid, 0, uid, packet);
      }
      const node = entry.pick();
      if (!node) {
        throw new DueError(ErrorCode.NoNode, `Cannot deliver route ${route}: no node in state work or busy`, {
          route,
        });
      }
      if (node.id === id) return provider.deliver(self, 0, uid, packet.slice());
      node.link.deliver(0, uid, packet);
    },
    deliverToNodes(group, uid, packet) {
      let count = 0;
      for (const endpoint of nodes.nodes()) {
        if (endpoint.instance.alias !== group) continue;
        rt.deliverTo(endpoint.id, 0, uid, packet);
        count++;
      }
      return count;
    },
    mesh<T extends object>(service: string, target?: string): MeshClient<T> {
      const direct = parseMeshTarget(service, target);
      const key = direct ? `${service}@${direct}` : service;
      let client = meshClients.get(key);
      if (!client) {
        const call = direct ? (s: string, m: string, a: unknown[]) => callMesh(s, m, a, direct) : callMesh;
        meshClients.set(key, client = createMeshClient<object>(service, call));
      }
      return client as MeshClient<T>;
    },
  }, components);

  /** The link to an instance hosting `service`: the transport's, else one discovered in the registry. */
  function meshLinkFor(
    service: string,
    method: string,
    direct?: string,
  ): { link: MeshLink; hostId?: string } {
    if (direct) {
      const endpoint = `drpc://${direct}?is_secure=false`;
      let cached = meshLinks.get(`direct://${direct}`);
      if (!cached) {
        meshLinks.set(
          `direct://${direct}`,
          cached = { endpoint, link: links.mesh({ id: `direct://${direct}`, endpoint }) },
        );
      }
      return { link: cached.link, hostId: direct };
    }
    if (meshTransport) return { link: meshTransport };
    const hosts = meshes.filter((m) =>
      m.services.includes(service) && (m.state === "work" || m.state === "busy")
    );
    if (hosts.length === 0) {
      throw new DueError(
        ErrorCode.NoNode,
        `Cannot call mesh service ${service}.${method}: no instance hosts it`,
      );
    }
    const host = hosts[meshNext++ % hosts.length];
    let cached = meshLinks.get(host.id);
    if (!cached || cached.endpoint !== host.endpoint) {
      meshLinks.set(host.id, cached = { endpoint: host.endpoint, link: links.mesh(host) });
    }
    return { link: cached.link, hostId: host.id };
  }

  /**
   * A link to a host of `service`. When the watch shows none, the registry is asked once before giving up: a mesh
   * that just started may not have reached the watch yet (see {@linkcode RegistryLookup}).
   */
  async function resolveMeshLink(
    service: string,
    method: string,
    direct?: string,
  ): Promise<{ link: MeshLink; hostId?: string }> {
    try {
      return meshLinkFor(service, method, direct);
    } catch (err) {
      const lookup = DueError.is(err, ErrorCode.NoNode) && !abort.signal.aborted
        ? meshLookup.start(service)
        : undefined;
      if (lookup === undefined) throw err;
      await lookup;
      return meshLinkFor(service, method, direct);
    }
  }

  async function callMesh(
    service: string,
    method: string,
    args: unknown[],
    direct?: string,
  ): Promise<unknown> {
    const { link, hostId } = await resolveMeshLink(service, method, direct);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new TimeoutError(
            `Cannot call mesh service ${service}.${method}: no answer within ${callTimeoutMs} ms`,
            { instanceId: hostId },
          ),
        );
      }, callTimeoutMs);
    });
    try {
      const result = await Promise.race([
        link.call(service, method, meshCodec.encode(args), meshCodec.name),
        timeout,
      ]);
      return meshCodec.decode(result);
    } finally {
      clearTimeout(timer);
    }
  }

  function handlerFailed(route: number, uid: number, err: unknown): void {
    stats.handlerErrors++;
    log.error("handler failed", { route, uid, error: errorMessage(err) });
  }

  function settled(): void {
    running--;
  }

  /** Runs a task; returns a promise only when it went asynchronous. Never throws or rejects. */
  function run(task: Task): Promise<void> | undefined {
    if (task.route === undefined) return runEvent(task);
    const { from, cid, uid, packet, route, routeId } = task;
    if (route.options.stateful && !bound.has(uid)) return checkBinding(task);
    const ctx = new Context(
      rt,
      from,
      cid,
      uid,
      routeId,
      readSeq(format, packet!, 0),
      packet!,
      route.options,
    );
    stats.handled++;
    try {
      const result = route.run(ctx);
      if (result instanceof Promise) {
        running++;
        return result.then(settled, (err) => {
          handlerFailed(ctx.route, ctx.uid, err);
          settled();
        });
      }
    } catch (err) {
      handlerFailed(ctx.route, ctx.uid, err);
    }
    return undefined;
  }

  function checkBinding(task: Task): Promise<void> {
    running++;
    return locator.locateNode(task.uid, name).then((nid) => {
      if (nid === id) {
        bound.add(task.uid);
        return run(task);
      }
      stats.notBound++;
      if (debug) log.debug("stateful request dropped: user not bound here", { uid: task.uid, boundTo: nid });
    }).catch((err) => {
      stats.notBound++;
      log.warn("stateful request dropped: locator failed", { uid: task.uid, error: errorMessage(err) });
    }).finally(settled);
  }

  function runEvent(task: Task): Promise<void> | undefined {
    const handlers = router.handlers(task.event) ?? [];
    const ctx = new EventContext(rt, EVENT_NAMES[task.event], task.from.id, task.cid, task.uid);
    let chain: Promise<void> | undefined;
    for (const handler of handlers) {
      const call = () => {
        try {
          const result = handler(ctx);
          return result instanceof Promise
            ? result.catch((err) => handlerFailed(0, task.uid, err))
            : undefined;
        } catch (err) {
          handlerFailed(0, task.uid, err);
        }
      };
      chain = chain ? chain.then(call) : call();
    }
    if (!chain) return undefined;
    running++;
    return chain.then(settled);
  }

  /** Tasks from a gate this node does not know yet, waiting for the gate lookup, in arrival order, by gate. */
  const awaitingGate = new Map<string, Task[]>();

  /**
   * Schedules a task; one from a gate this node does not know yet waits for a registry lookup of the gates first,
   * so that its replies have a link to go back on (see {@linkcode RegistryLookup}). Later tasks of that gate
   * queue behind the waiting ones, so every connection's requests still run in arrival order; waiting tasks
   * count as queued (drain waits for them).
   */
  function admit(task: Task): void {
    if (task.from.kind === Kind.Gate) {
      const gid = task.from.id;
      const waiting = awaitingGate.get(gid);
      if (waiting) {
        waiting.push(task);
        queued++;
        return;
      }
      const lookup = gates.has(gid) || abort.signal.aborted ? undefined : gateLookup.start(gid);
      if (lookup) {
        const tasks = [task];
        awaitingGate.set(gid, tasks);
        queued++;
        lookup.then(() => {
          awaitingGate.delete(gid);
          queued -= tasks.length;
          for (const waited of tasks) schedule(waited);
        });
        return;
      }
    }
    schedule(task);
  }

  /**
   * A lookup of the instances of `kind` that adds the ones this node lacks with `add` (it removes none: the
   * watch, perhaps a poll behind, stays the judge of who left); failures are logged.
   */
  function lookUp(kind: "gate" | "mesh", add: (instance: ServiceInstance) => void): RegistryLookup {
    return new RegistryLookup(async () => {
      stats[kind === "gate" ? "gateLookups" : "meshLookups"]++;
      try {
        const list = await registry.services(kind);
        for (const instance of list) add(instance);
        return new Set(list.map((instance) => instance.id));
      } catch (err) {
        log.warn(`${kind} lookup failed`, { error: errorMessage(err) });
        return new Set<string>();
      }
    }, LOOKUP_PAUSE_MS);
  }
  const gateLookup = lookUp("gate", upsertGate);
  const meshLookup = lookUp("mesh", (instance) => {
    if (!meshes.some((m) => m.id === instance.id && m.endpoint === instance.endpoint)) {
      replaceMeshes([...meshes.filter((m) => m.id !== instance.id), instance]);
    }
  });

  function schedule(task: Task): void {
    const { from, cid } = task;
    if (cid === 0) {
      run(task);
      return;
    }
    let byCid = queues.get(from.id);
    const waiting = byCid?.get(cid);
    if (waiting !== undefined) {
      if (waiting.length >= requestQueueSize) {
        stats.overflow++;
        log.warn("request dropped: connection queue full", { gate: from.id, cid, limit: requestQueueSize });
        return;
      }
      waiting.push(task);
      queued++;
      return;
    }
    const pending = run(task);
    if (pending === undefined) return;
    if (!byCid) queues.set(from.id, byCid = new Map());
    const queue: Task[] = [];
    byCid.set(cid, queue);
    const map = byCid;
    pending.then(() => next(map, cid, queue));
  }

  function next(byCid: Map<number, Task[]>, cid: number, queue: Task[]): void {
    while (queue.length > 0) {
      const task = queue.shift()!;
      queued--;
      const pending = run(task);
      if (pending !== undefined) {
        pending.then(() => next(byCid, cid, queue));
        return;
      }
    }
    byCid.delete(cid);
  }

  /**
   * Waits until nothing is pending and nothing was delivered for `drainQuietMs` (gates need a moment to see the
   * `hang` state and stop sending), or until `graceMs` passed.
   */
  async function drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    let seen = -1;
    while (Date.now() < deadline) {
      if (running + queued === 0 && (deliveries === seen || drainQuietMs === 0)) return;
      seen = deliveries;
      const wait = running + queued > 0 ? Math.min(drainQuietMs || 50, 50) : drainQuietMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(wait, deadline - Date.now()))));
    }
    if (running + queued > 0) log.warn("node stopped with requests pending", { pending: running + queued });
  }

  const provider: NodeProvider = {
    deliver(from, cid, uid, packet) {
      deliveries++;
      const routeId = readRoute(format, packet, 0);
      const route = router.get(routeId);
      if (route === undefined) {
        stats.unknownRoute++;
        if (debug) log.debug("request dropped: no handler", { route: routeId, from: from.id, cid, uid });
        return;
      }
      if (route.options.internal && from.kind === Kind.Gate) {
        stats.illegal++;
        if (debug) log.debug("request dropped: internal route from a gate", { route: routeId, cid });
        return;
      }
      admit({ from, cid, uid, packet, route, routeId, event: 0 as ClusterEvent });
    },
    trigger(from, event, cid, uid) {
      if (!router.handlers(event)) return;
      admit({ from, cid, uid, packet: undefined, route: undefined, routeId: 0, event });
    },
    getState: () => state,
    setState(next) {
      setState(next).catch((err) => log.warn("register failed", { error: errorMessage(err) }));
    },
  };

  async function setState(next: State): Promise<void> {
    state = next;
    instance.state = STATE_NAMES[next];
    if (next !== State.Shut) await registry.register(instance);
  }

  /** Takes a new list of meshes, releasing the links to instances that left it or moved. */
  function replaceMeshes(list: ServiceInstance[]): void {
    meshes = list;
    for (const [meshId, cached] of meshLinks) {
      if (meshId.startsWith("direct://")) continue;
      if (list.some((m) => m.id === meshId && m.endpoint === cached.endpoint)) continue;
      meshLinks.delete(meshId);
      links.release?.({ id: meshId, endpoint: cached.endpoint });
    }
  }

  /** Adds or updates one gate; a gate that moved gets a new link and its old one is released. */
  function upsertGate(ins: ServiceInstance): void {
    const old = gates.get(ins.id);
    if (old && old.instance.endpoint === ins.endpoint) {
      old.instance = ins;
      return;
    }
    if (old) {
      gates.delete(ins.id);
      links.release?.(old.instance);
    }
    try {
      gates.set(ins.id, { id: ins.id, instance: ins, link: links.gate(ins) });
    } catch (err) {
      log.warn("cannot link to gate", { gate: ins.id, endpoint: ins.endpoint, error: errorMessage(err) });
    }
  }

  function replaceGates(list: ServiceInstance[]): void {
    const seen = new Set<string>();
    for (const ins of list) {
      seen.add(ins.id);
      upsertGate(ins);
    }
    for (const [gid, gate] of gates) {
      if (seen.has(gid)) continue;
      gates.delete(gid);
      links.release?.(gate.instance);
    }
  }

  function onLocateEvent(event: LocateEvent): void {
    if (event.insName !== name) return;
    if (event.type === LocateEventType.BindNode) {
      if (event.insID === id) bound.add(event.uid);
      else bound.delete(event.uid);
    } else if (event.type === LocateEventType.UnbindNode && event.insID === id) bound.delete(event.uid);
  }

  return {
    id,
    instance,
    proxy,
    provider,
    stats,
    get pending() {
      return running + queued;
    },
    nodeDown(nodeId) {
      if (nodes.node(nodeId)) nodes.markDown(nodeId);
    },
    nodeUp(nodeId) {
      nodes.markUp(nodeId);
    },
    async start() {
      router.seal();
      instance.routes = router.records();
      instance.events = router.events();
      if (router.hasDefault) instance.metadata = { ...instance.metadata, [DEFAULT_ROUTE_METADATA]: "true" };
      if (hub) unserve = hub.serveNode(id, provider);
      replaceGates(await registry.services("gate"));
      nodes.replace(await registry.services("node"));
      replaceMeshes(await registry.services("mesh"));
      const { signal } = abort;
      background.push(
        consume(registry.watch("gate", { signal }), replaceGates, signal, log, "gate watch"),
        consume(registry.watch("node", { signal }), (list) => nodes.replace(list), signal, log, "node watch"),
        consume(
          registry.watch("mesh", { signal }),
          replaceMeshes,
          signal,
          log,
          "mesh watch",
        ),
        consume(locator.watch(["node"], { signal }), onLocateEvent, signal, log, "locator watch"),
      );
      await setState(State.Work);
      log.info("node started", { name, routes: instance.routes.length, codec: codec.name });
    },
    async stop(graceMs = 3000) {
      if (state !== State.Shut) {
        await setState(State.Hang).catch((err) =>
          log.warn("register hang failed", { error: errorMessage(err) })
        );
      }
      await drain(graceMs);
      state = State.Shut;
      instance.state = "shut";
      await registry.deregister(instance).catch((err) =>
        log.warn("deregister failed", { error: errorMessage(err) })
      );
      abort.abort();
      await Promise.all(background);
      unserve?.();
      nodes.clear();
      gates.clear();
      meshLinks.clear();
    },
  };
}
