/**
 * Cluster vocabulary shared by gate, node and mesh: instance kinds and states, events, session kinds, and the
 * registry record of an instance (PROTOCOL.md §3). The numbers appear on the wire; the strings in the registry.
 *
 * @module
 */

/** Instance kinds as numbers on the wire (handshake). */
export const Kind = { Gate: 1, Node: 2, Mesh: 3 } as const;
/** One of the values of {@linkcode Kind}. */
export type Kind = typeof Kind[keyof typeof Kind];
/** Instance kinds as names in the registry. */
export type KindName = "gate" | "node" | "mesh";
/** Kind number → name. */
export const KIND_NAMES: Readonly<Record<Kind, KindName>> = { 1: "gate", 2: "node", 3: "mesh" };

/** Instance states as numbers on the wire (GetState/SetState). */
export const State = { Shut: 0, Work: 1, Busy: 2, Hang: 3 } as const;
/** One of the values of {@linkcode State}. */
export type State = typeof State[keyof typeof State];
/** Instance states as names in the registry. */
export type StateName = "shut" | "work" | "busy" | "hang";
/** State number → name. */
export const STATE_NAMES: Readonly<Record<State, StateName>> = { 0: "shut", 1: "work", 2: "busy", 3: "hang" };
/** State name → number. */
export const STATE_BY_NAME: Readonly<Record<StateName, State>> = { shut: 0, work: 1, busy: 2, hang: 3 };

/** Cluster events a gate triggers on nodes. */
export const ClusterEvent = { Connect: 1, Reconnect: 2, Disconnect: 3 } as const;
/** One of the values of {@linkcode ClusterEvent}. */
export type ClusterEvent = typeof ClusterEvent[keyof typeof ClusterEvent];
/** Event names as game code uses them. */
export type ClusterEventName = "connect" | "reconnect" | "disconnect";
/** Event number → name. */
export const EVENT_NAMES: Readonly<Record<ClusterEvent, ClusterEventName>> = {
  1: "connect",
  2: "reconnect",
  3: "disconnect",
};
/** Event name → number. */
export const EVENT_BY_NAME: Readonly<Record<ClusterEventName, ClusterEvent>> = {
  connect: 1,
  reconnect: 2,
  disconnect: 3,
};

/** What a session target names: a connection id or a user id. */
export const SessionKind = { Conn: 1, User: 2 } as const;
/** One of the values of {@linkcode SessionKind}. */
export type SessionKind = typeof SessionKind[keyof typeof SessionKind];

/** A route as registered by a node, in the registry's short JSON form. */
export interface RouteRecord {
  /** Route id. */
  i: number;
  /** Internal: refused from gates. */
  n?: boolean;
  /** Stateful: goes to the node the user is bound to. */
  s?: boolean;
  /** Authorized: needs a bound uid. */
  a?: boolean;
}

/** A registry record of one instance (PROTOCOL.md §3). */
export interface ServiceInstance {
  /** Instance id (gid, nid, mesh id). */
  id: string;
  /** Service name: the role (`gate`, `node`, `mesh`). */
  name: KindName;
  /** Kind: the role. */
  kind: KindName;
  /** The configured instance name (node group), e.g. `game`. */
  alias: string;
  /** `work`, `busy`, `hang` or `shut`. */
  state: StateName;
  /** Cluster events the instance has handlers for. */
  events: ClusterEvent[];
  /** Routes served (nodes). */
  routes: RouteRecord[];
  /** Mesh services hosted. */
  services: string[];
  /** Where to reach it: `drpc://host:port?is_secure=false`, or `inproc://<id>` inside one process. */
  endpoint: string;
  /** Dispatch weight (wrr). */
  weight: number;
  /** Free-form metadata. */
  metadata: Record<string, string>;
}

/** Validates a registry record read from outside; returns it or throws a `TypeError` naming the field. */
export function parseServiceInstance(value: unknown): ServiceInstance {
  const v = value as Partial<ServiceInstance> | null;
  const fail = (field: string) => {
    throw new TypeError(
      `Cannot read registry record: '${field}' is missing or malformed in ${
        JSON.stringify(value)?.slice(0, 200)
      }`,
    );
  };
  if (typeof v !== "object" || v === null) fail("record");
  if (typeof v!.id !== "string" || v!.id === "") fail("id");
  if (v!.kind !== "gate" && v!.kind !== "node" && v!.kind !== "mesh") fail("kind");
  if (typeof v!.endpoint !== "string") fail("endpoint");
  const state = v!.state ?? "work";
  if (!(state in STATE_BY_NAME)) fail("state");
  const routes = Array.isArray(v!.routes) ? v!.routes : [];
  for (const r of routes) if (typeof r?.i !== "number") fail("routes");
  return {
    id: v!.id!,
    name: v!.name ?? v!.kind!,
    kind: v!.kind!,
    alias: typeof v!.alias === "string" ? v!.alias : v!.kind!,
    state,
    events: Array.isArray(v!.events) ? v!.events.filter((e) => e === 1 || e === 2 || e === 3) : [],
    routes,
    services: Array.isArray(v!.services) ? v!.services.filter((s) => typeof s === "string") : [],
    endpoint: v!.endpoint!,
    weight: typeof v!.weight === "number" && v!.weight > 0 ? v!.weight : 1,
    metadata: typeof v!.metadata === "object" && v!.metadata !== null ? v!.metadata : {},
  };
}
