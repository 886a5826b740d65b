/**
 * The route table built from the registry's node list: for each route, its flags, its node group, and the nodes
 * that serve it bucketed by state, with the dispatch strategy (`random`, `rr`, `wrr`) that picks one for a stateless
 * request. Rebuilt whole on every registry change; looked up per message. Gates use it to forward client packets;
 * nodes and meshes use it to deliver to nodes by route.
 *
 * @module
 */

import { State, STATE_BY_NAME } from "./cluster.ts";
import type { ClusterEvent } from "./cluster.ts";
import type { ServiceInstance } from "./cluster.ts";
import type { Logger } from "./logger.ts";

/**
 * Registry metadata key a node sets when it has a default handler: gates then send it routes that no node
 * registered (due drops those at the gate, which makes a default handler unreachable from clients).
 */
export const DEFAULT_ROUTE_METADATA = "due.defaultRoute";

/** How a stateless request picks among the nodes that serve its route. */
export type DispatchStrategy = "random" | "rr" | "wrr";
/** The strategies, for validation. */
export const DISPATCH_STRATEGIES: readonly DispatchStrategy[] = ["random", "rr", "wrr"];

/** A node as the dispatcher holds it: its record, its state and the link to it. */
export interface NodeEndpoint<L> {
  /** The node's id. */
  readonly id: string;
  /** The registry record. */
  readonly instance: ServiceInstance;
  /** The node's state. */
  readonly state: State;
  /** The link to it. */
  readonly link: L;
}

/** Picks one of `candidates`; `undefined` when there is none. */
type Picker<L> = () => NodeEndpoint<L> | undefined;

function createPicker<L>(strategy: DispatchStrategy, candidates: NodeEndpoint<L>[]): Picker<L> {
  const n = candidates.length;
  if (n === 0) return () => undefined;
  if (n === 1) return () => candidates[0];
  if (strategy === "random") return () => candidates[Math.floor(Math.random() * n)];
  if (strategy === "rr") {
    let next = 0;
    return () => {
      const picked = candidates[next];
      next = next + 1 === n ? 0 : next + 1;
      return picked;
    };
  }
  // Smooth weighted round-robin (nginx): every pick adds each weight to its current value, takes the largest,
  // and subtracts the total from the winner; the sequence interleaves nodes in proportion to their weights.
  const weights = candidates.map((c) => c.instance.weight > 0 ? c.instance.weight : 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const current = new Array<number>(n).fill(0);
  return () => {
    let best = 0;
    for (let i = 0; i < n; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    return candidates[best];
  };
}

/** The flags and group of a route. */
interface RouteFlags {
  internal: boolean;
  stateful: boolean;
  authorized: boolean;
  group: string;
}

/** One route of the table. */
export class RouteEntry<L> {
  /** Route id. */
  readonly id: number;
  /** Refused from gates. */
  readonly internal: boolean;
  /** Goes to the node the user is bound to (per node group). */
  readonly stateful: boolean;
  /** Needs a bound uid. */
  readonly authorized: boolean;
  /** The node group (registry alias) that serves the route. */
  readonly group: string;
  /** Every node serving the route, any state. */
  readonly nodes: readonly NodeEndpoint<L>[];
  /** Picks a node for a stateless request: among `work` nodes, else `busy`; never `hang` or `shut`. */
  readonly pick: Picker<L>;

  constructor(
    id: number,
    flags: RouteFlags,
    nodes: NodeEndpoint<L>[],
    strategy: DispatchStrategy,
  ) {
    this.id = id;
    this.internal = flags.internal;
    this.stateful = flags.stateful;
    this.authorized = flags.authorized;
    this.group = flags.group;
    this.nodes = nodes;
    const work = nodes.filter((e) => e.state === State.Work);
    this.pick = createPicker(strategy, work.length > 0 ? work : nodes.filter((e) => e.state === State.Busy));
  }
}

/** Options of {@linkcode Dispatcher}. */
export interface DispatcherOptions<L> {
  /** @default "random" */
  strategy?: DispatchStrategy;
  /** Makes (or reuses) the link to a node; called on rebuild for nodes not yet linked or whose endpoint changed. */
  link(instance: ServiceInstance): L;
  /** Called when a node leaves the table (deregistered): release its link. */
  unlink?(instance: ServiceInstance, link: L): void;
  /** Logs route conflicts. */
  logger?: Logger;
}

/** The route table of one gate or node. */
export class Dispatcher<L> {
  readonly #strategy: DispatchStrategy;
  readonly #options: DispatcherOptions<L>;
  #routes = new Map<number, RouteEntry<L>>();
  #nodes = new Map<string, NodeEndpoint<L>>();
  #events = new Map<ClusterEvent, NodeEndpoint<L>[]>();
  #fallback: RouteEntry<L> | undefined;
  #instances: ServiceInstance[] = [];
  readonly #down = new Set<string>();

  constructor(options: DispatcherOptions<L>) {
    this.#strategy = options.strategy ?? "random";
    this.#options = options;
  }

  /**
   * The route entry of `route`; for a route no node registered, the entry of the nodes with a default handler
   * (stateless, any node of them); else `undefined`.
   */
  route(route: number): RouteEntry<L> | undefined {
    return this.#routes.get(route) ?? this.#fallback;
  }

  /** The node `id`, in any state, or `undefined`. */
  node(id: string): NodeEndpoint<L> | undefined {
    return this.#nodes.get(id);
  }

  /** Every node in the table. */
  nodes(): IterableIterator<NodeEndpoint<L>> {
    return this.#nodes.values();
  }

  /** Nodes that registered a handler for `event`. */
  eventTargets(event: ClusterEvent): readonly NodeEndpoint<L>[] {
    return this.#events.get(event) ?? [];
  }

  /** Takes a node out of stateless dispatch at once (its link failed), until {@linkcode markUp}. */
  markDown(id: string): void {
    if (this.#down.has(id)) return;
    this.#down.add(id);
    this.replace(this.#instances);
  }

  /** Puts a node taken out by {@linkcode markDown} back. */
  markUp(id: string): void {
    if (!this.#down.delete(id)) return;
    this.replace(this.#instances);
  }

  /** Whether a node is marked down. */
  isDown(id: string): boolean {
    return this.#down.has(id);
  }

  /** Rebuilds the table from the registry's full node list. */
  replace(instances: ServiceInstance[]): void {
    this.#instances = instances;
    const nodes = new Map<string, NodeEndpoint<L>>();
    for (const instance of instances) {
      if (instance.kind !== "node") continue;
      const old = this.#nodes.get(instance.id);
      const link = old && old.instance.endpoint === instance.endpoint
        ? old.link
        : this.#options.link(instance);
      if (old && old.link !== link) this.#options.unlink?.(old.instance, old.link);
      const state = this.#down.has(instance.id) ? State.Shut : STATE_BY_NAME[instance.state] ?? State.Shut;
      nodes.set(instance.id, { id: instance.id, instance, state, link });
    }
    for (const [id, old] of this.#nodes) if (!nodes.has(id)) this.#options.unlink?.(old.instance, old.link);
    for (const id of this.#down) if (!nodes.has(id)) this.#down.delete(id);

    const byRoute = new Map<number, { flags: RouteFlags; nodes: NodeEndpoint<L>[] }>();
    const events = new Map<ClusterEvent, NodeEndpoint<L>[]>();
    // Sorted so that the group of a route registered by two node names is the same on every gate.
    const sorted = [...nodes.values()].sort((a, b) =>
      a.instance.alias.localeCompare(b.instance.alias) || a.id.localeCompare(b.id)
    );
    for (const endpoint of sorted) {
      for (const r of endpoint.instance.routes) {
        const entry = byRoute.get(r.i);
        if (!entry) {
          byRoute.set(r.i, {
            flags: {
              internal: Boolean(r.n),
              stateful: Boolean(r.s),
              authorized: Boolean(r.a),
              group: endpoint.instance.alias,
            },
            nodes: [endpoint],
          });
        } else if (entry.flags.group !== endpoint.instance.alias && entry.flags.stateful) {
          this.#options.logger?.warn("route registered by two node names: keeping the first", {
            route: r.i,
            kept: entry.flags.group,
            ignored: endpoint.instance.alias,
          });
        } else entry.nodes.push(endpoint);
      }
      for (const e of endpoint.instance.events) {
        let list = events.get(e);
        if (!list) events.set(e, list = []);
        list.push(endpoint);
      }
    }
    const fallbackNodes = sorted.filter((e) => e.instance.metadata?.[DEFAULT_ROUTE_METADATA] === "true");
    this.#fallback = fallbackNodes.length === 0 ? undefined : new RouteEntry(
      0,
      { internal: false, stateful: false, authorized: false, group: fallbackNodes[0].instance.alias },
      fallbackNodes,
      this.#strategy,
    );
    const routes = new Map<number, RouteEntry<L>>();
    for (const [id, { flags, nodes: list }] of byRoute) {
      routes.set(id, new RouteEntry(id, flags, list, this.#strategy));
    }
    this.#nodes = nodes;
    this.#routes = routes;
    this.#events = events;
  }

  /** Releases every link. */
  clear(): void {
    for (const endpoint of this.#nodes.values()) this.#options.unlink?.(endpoint.instance, endpoint.link);
    this.#nodes = new Map();
    this.#routes = new Map();
    this.#events = new Map();
    this.#fallback = undefined;
    this.#instances = [];
  }
}
