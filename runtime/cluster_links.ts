/**
 * How the roles of one process reach each other and the rest of the cluster. On the memory registry (the
 * monolith) everything is in-process. Otherwise every role listens on its cluster link (`cluster.<role>.addr`,
 * advertised as `drpc://host:port`), and reaches other instances through pooled drpc clients — except instances
 * in this same process, which are called directly.
 *
 * @module
 */

import { Kind } from "../core/cluster.ts";
import type { InprocHub, LinkResolver, Peer } from "../core/link.ts";
import { createInprocLinks } from "../core/inproc_links.ts";
import { CloseStack } from "../core/close_stack.ts";
import type { Logger } from "../core/logger.ts";
import { createDrpcLinks } from "../core/drpc/resolver.ts";
import type { DrpcLinks } from "../core/drpc/resolver.ts";
import { createLinkServer } from "../core/drpc/server.ts";
import type { LinkServer } from "../core/drpc/server.ts";
import type { DueConfig } from "../config/schema.ts";
import type { Gate } from "../gate/gate.ts";
import type { Mesh } from "../mesh/mesh.ts";
import type { Node } from "../node/node.ts";
import type { Role, RolesOptions } from "./roles.ts";

/** Instance ids of the roles of this process. */
export interface RoleIds {
  gate: string;
  node: string;
  mesh: string;
}

/** The links of one process. */
export interface ClusterLinks {
  /** The default resolver (in-process only on the memory registry). */
  links: LinkResolver;
  /** The gate's resolver. */
  gateLinks?: LinkResolver;
  /** The node's resolver. */
  nodeLinks?: LinkResolver;
  /** Advertised endpoints by role (undefined: in-process). */
  endpoints: Partial<Record<Role, string>>;
  /** Hands each role to its link server. */
  attach: RolesOptions["attach"];
  /** Closes link servers and clients. */
  close(): Promise<void>;
}

/** Prefers an instance served in this process; otherwise dials it. */
function localFirst(hub: InprocHub, drpc: DrpcLinks): LinkResolver {
  return {
    gate: (instance) => hub.gate(instance.id) ?? drpc.gate(instance),
    node: (instance, from) => hub.node(instance.id, from) ?? drpc.node(instance, from),
    mesh: (instance) => hub.mesh(instance.id) ?? drpc.mesh(instance),
    release: (instance) => drpc.release(instance),
    close: () => drpc.close(),
  };
}

/** Creates the link servers and resolvers the roles of this process need. */
export function createClusterLinks(options: {
  config: DueConfig;
  roles: readonly Role[];
  ids: RoleIds;
  hub: InprocHub;
  logger: Logger;
  /** Filled with the roles once they exist, so link failures reach their dispatchers. */
  running: { gate?: Gate; node?: Node };
}): ClusterLinks {
  const { config, roles, ids, hub, logger, running } = options;
  const inproc = createInprocLinks(hub);
  if (config.registry.driver === "memory") {
    return { links: inproc, endpoints: {}, attach: undefined, close: () => inproc.close() };
  }
  const closers = new CloseStack(logger);
  const servers: Partial<Record<Role, LinkServer>> = {};
  const endpoints: Partial<Record<Role, string>> = {};
  const resolvers: Partial<Record<"gate" | "node", LinkResolver>> = {};
  const { gate, node, mesh } = config.cluster;
  try {
    for (const role of roles) {
      const section = role === "gate" ? gate : role === "node" ? node : undefined;
      const log = logger.with({ role, id: ids[role] });
      const server = createLinkServer({
        addr: role === "mesh" ? mesh.addr : section!.addr,
        kind: role === "gate" ? Kind.Gate : role === "node" ? Kind.Node : Kind.Mesh,
        id: ids[role],
        frameLimitBytes: section?.frameLimit ?? gate.frameLimit,
        writeQueueBytes: 4 * (section?.frameLimit ?? gate.frameLimit),
        logger: log,
      });
      servers[role] = server;
      endpoints[role] = server.endpoint;
      closers.push(() => server.close());
      if (!section) continue;
      const self: Peer = { kind: role === "gate" ? Kind.Gate : Kind.Node, id: ids[role] };
      const drpc = createDrpcLinks({
        self,
        connNum: section.connNum,
        dialTimeoutMs: section.dialTimeout,
        dialRetryTimes: section.dialRetryTimes,
        callTimeoutMs: section.callTimeout,
        frameLimitBytes: section.frameLimit,
        writeQueueBytes: 4 * section.frameLimit,
        logger: log,
        onDown: (peer) => {
          if (peer.kind !== Kind.Node) return;
          if (role === "gate") running.gate?.nodeDown(peer.id);
          else running.node?.nodeDown(peer.id);
        },
        onUp: (peer) => {
          if (peer.kind !== Kind.Node) return;
          if (role === "gate") running.gate?.nodeUp(peer.id);
          else running.node?.nodeUp(peer.id);
        },
      });
      resolvers[role as "gate" | "node"] = localFirst(hub, drpc);
      closers.push(() => drpc.close());
    }
  } catch (err) {
    void closers.close();
    throw err;
  }
  return {
    links: resolvers.node ?? resolvers.gate ?? inproc,
    gateLinks: resolvers.gate,
    nodeLinks: resolvers.node,
    endpoints,
    attach: {
      gate: (g) => {
        running.gate = g;
        servers.gate?.serve({ gate: g.link });
      },
      node: (n, hosted) => {
        running.node = n;
        servers.node?.serve({ node: n.provider, mesh: hosted?.link });
      },
      mesh: (m: Mesh) => servers.mesh?.serve({ mesh: m.link }),
    },
    close: () => closers.close(),
  };
}
