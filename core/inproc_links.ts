/**
 * A {@linkcode LinkResolver} for `inproc://` endpoints, served by an {@linkcode InprocHub}.
 *
 * @module
 */

import { DueError, ErrorCode } from "./errors.ts";
import { InprocHub } from "./link.ts";
import type { GateLink, LinkResolver, MeshLink, NodeLink, Peer } from "./link.ts";

function missing(what: string, instance: { id: string; endpoint: string }): DueError {
  return new DueError(
    ErrorCode.Unavailable,
    `Cannot link to ${what} ${instance.id}: endpoint ${instance.endpoint} is not served in this process`,
    { instanceId: instance.id, addr: instance.endpoint },
  );
}

/** Resolves `inproc://` endpoints through `hub`; other schemes throw (combine with the TCP resolver for those). */
export function createInprocLinks(hub: InprocHub): LinkResolver {
  return {
    gate(instance): GateLink {
      const link = instance.endpoint === InprocHub.endpoint(instance.id) ? hub.gate(instance.id) : undefined;
      if (!link) throw missing("gate", instance);
      return link;
    },
    node(instance, from: Peer): NodeLink {
      const link = instance.endpoint === InprocHub.endpoint(instance.id)
        ? hub.node(instance.id, from)
        : undefined;
      if (!link) throw missing("node", instance);
      return link;
    },
    mesh(instance): MeshLink {
      const link = instance.endpoint === InprocHub.endpoint(instance.id) ? hub.mesh(instance.id) : undefined;
      if (!link) throw missing("mesh", instance);
      return link;
    },
    close: () => Promise.resolve(),
  };
}
