/**
 * The {@linkcode LinkResolver} for `drpc://` endpoints: one pooled {@linkcode LinkClient} per endpoint (and
 * caller identity), shared by every lookup of that endpoint, closed when released or when the resolver closes.
 * `runtime/cluster_links.ts` puts it behind the in-process hub (an instance served in this process is reached directly).
 *
 * @module
 */

import { Kind } from "../cluster.ts";
import { DueError, ErrorCode, errorMessage } from "../errors.ts";
import type { GateLink, LinkResolver, MeshLink, NodeLink, Peer } from "../link.ts";
import { silentLogger } from "../logger.ts";
import { formatAddr, parseEndpoint } from "./_addr.ts";
import { createLinkClient } from "./client.ts";
import type { LinkClient, LinkClientOptions } from "./client.ts";

/** An instance as the resolver needs it. */
export interface LinkInstance {
  /** Instance id. */
  id: string;
  /** Its endpoint, `drpc://host:port?is_secure=false` or `inproc://<id>`. */
  endpoint: string;
}

/** Options of {@linkcode createDrpcLinks}. */
export interface DrpcLinksOptions extends Omit<LinkClientOptions, "onDown" | "onUp"> {
  /** Who this process is: the handshake identity of gate and mesh links (node links use their `from`). */
  self: Peer;
  /** Every connection to an instance failed: take it out of dispatch. */
  onDown?: (peer: Peer, endpoint: string) => void;
  /** A connection to an instance opened (again). */
  onUp?: (peer: Peer, endpoint: string) => void;
}

/** The drpc resolver. */
export interface DrpcLinks extends LinkResolver {
  /**
   * Forgets `instance` (deregistered, or dropped from a dispatcher): its client closes once no other instance
   * uses the same endpoint.
   */
  release(instance: LinkInstance): void;
  /** The shared clients, for stats and tests. */
  clients(): LinkClient[];
}

interface Entry {
  client: LinkClient;
  endpoint: string;
  /** Instances reached through this client, by id. */
  peers: Map<string, Peer>;
}

/** The `host:port` of a `drpc://` endpoint, as the pooled client is keyed by. */
function endpointAddr(endpoint: string): string {
  const { hostname, port } = parseEndpoint(endpoint);
  return formatAddr(hostname, port);
}

function unavailable(what: string, instance: LinkInstance, err: unknown): DueError {
  return new DueError(
    ErrorCode.Unavailable,
    `Cannot link to ${what} ${instance.id}: ${errorMessage(err)}`,
    { instanceId: instance.id, addr: instance.endpoint, cause: err },
  );
}

/**
 * Creates the resolver of `drpc://` endpoints.
 *
 * @example
 * ```ts ignore
 * const links = createDrpcLinks({ self: { kind: Kind.Gate, id: "g1" }, onDown: (peer) => dispatcher.markDown(peer.id),
 *   onUp: (peer) => dispatcher.markUp(peer.id) });
 * const node = links.node({ id: "n1", endpoint: "drpc://10.0.0.7:41234?is_secure=false" }, self);
 * ```
 */
export function createDrpcLinks(options: DrpcLinksOptions): DrpcLinks {
  const { self, onDown, onUp, ...clientOptions } = options;
  if (self?.kind !== Kind.Gate && self?.kind !== Kind.Node && self?.kind !== Kind.Mesh) {
    throw new TypeError(
      `Cannot create drpc links as 'self.kind' must be 1, 2 or 3: current value is ${self?.kind}`,
    );
  }
  const log = options.logger ?? silentLogger;
  /** `kind/id@host:port` of the caller and endpoint → entry. */
  const entries = new Map<string, Entry>();
  const closing = new Set<Promise<void>>();
  let closed = false;

  function notify(
    peers: Map<string, Peer>,
    endpoint: string,
    fn: ((peer: Peer, endpoint: string) => void) | undefined,
  ): void {
    if (fn === undefined) return;
    for (const peer of [...peers.values()]) fn(peer, endpoint);
  }

  function link(what: string, instance: LinkInstance, kind: Kind, from: Peer): LinkClient {
    if (closed) throw unavailable(what, instance, "the resolver is closed");
    let addr: string;
    try {
      addr = endpointAddr(instance.endpoint);
    } catch (err) {
      throw unavailable(what, instance, err);
    }
    const key = `${from.kind}/${from.id}@${addr}`;
    let entry = entries.get(key);
    if (entry === undefined) {
      const peers = new Map<string, Peer>();
      const endpoint = instance.endpoint;
      const client = createLinkClient(addr, from, {
        ...clientOptions,
        onDown: () => notify(peers, endpoint, onDown),
        onUp: () => notify(peers, endpoint, onUp),
      });
      entries.set(key, entry = { client, endpoint, peers });
      log.debug("link created", { addr, to: instance.id });
    }
    if (!entry.peers.has(instance.id)) entry.peers.set(instance.id, Object.freeze({ kind, id: instance.id }));
    return entry.client;
  }

  function retire(key: string, entry: Entry): void {
    entries.delete(key);
    const done = entry.client.close().catch(() => {});
    closing.add(done);
    done.finally(() => closing.delete(done));
  }

  return {
    gate(instance): GateLink {
      return link("gate", instance, Kind.Gate, self);
    },
    node(instance, from): NodeLink {
      return link("node", instance, Kind.Node, from ?? self);
    },
    mesh(instance): MeshLink {
      return link("mesh", instance, Kind.Mesh, self);
    },
    release(instance) {
      let addr: string;
      try {
        addr = endpointAddr(instance.endpoint);
      } catch {
        return; // never linked
      }
      for (const [key, entry] of entries) {
        if (!key.endsWith(`@${addr}`)) continue;
        if (entry.peers.delete(instance.id) && entry.peers.size === 0) retire(key, entry);
      }
    },
    clients() {
      return [...entries.values()].map((entry) => entry.client);
    },
    async close() {
      closed = true;
      for (const [key, entry] of [...entries]) retire(key, entry);
      await Promise.all([...closing]);
    },
  };
}
