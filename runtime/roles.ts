/**
 * Starts the roles of one process — gate, node, mesh, or all three (the monolith) — in dependency order, and stops
 * them in reverse. This is the one place where roles meet: a role never imports another.
 *
 * @module
 */

import { errorMessage } from "../core/errors.ts";
import type { InprocHub, LinkResolver } from "../core/link.ts";
import { silentLogger } from "../core/logger.ts";
import type { Logger } from "../core/logger.ts";
import type { PacketFormat } from "../core/packet.ts";
import type { Codec } from "../adapters/codec/types.ts";
import type { Locator } from "../adapters/locator/types.ts";
import type { NetworkServer } from "../adapters/network/types.ts";
import type { Registry } from "../adapters/registry/types.ts";
import { createGate } from "../gate/gate.ts";
import type { Gate, GateOptions } from "../gate/gate.ts";
import { createMesh } from "../mesh/mesh.ts";
import type { Mesh, MeshOptions } from "../mesh/mesh.ts";
import { createNode } from "../node/node.ts";
import type { Node, NodeOptions } from "../node/node.ts";
import type { App } from "./app.ts";

/** A role a process runs. */
export type Role = "gate" | "node" | "mesh";

/** Options of {@linkcode startRoles}. */
export interface RolesOptions {
  /** Which roles to run. */
  roles: readonly Role[];
  /** The game. */
  app: App;
  /** The packet layout. */
  format: PacketFormat;
  /** Registry shared by the roles. */
  registry: Registry;
  /** Locator shared by the roles. */
  locator: Locator;
  /** Link resolver shared by the roles. */
  links: LinkResolver;
  /** The gate's resolver, when it differs (its drpc handshake says "gate"). @default links */
  gateLinks?: LinkResolver;
  /** The node's resolver, when it differs. @default links */
  nodeLinks?: LinkResolver;
  /** Called with what each role serves as soon as it exists, so link servers can serve it. */
  attach?: {
    gate?(gate: Gate): void;
    node?(node: Node, hosted: Mesh | undefined): void;
    mesh?(mesh: Mesh): void;
  };
  /** In-process hub (monolith). */
  hub?: InprocHub;
  /** Gate settings. */
  gate?: Omit<GateOptions, "format" | "registry" | "locator" | "links" | "hub" | "logger" | "servers"> & {
    servers: NetworkServer[];
  };
  /** Node settings. */
  node?: Omit<NodeOptions, "format" | "registry" | "locator" | "links" | "hub" | "logger">;
  /** Codecs that services hosted on a node decode calls with. @default the node's codec */
  serviceCodecs?: Codec[];
  /** Mesh settings. */
  mesh?: Omit<MeshOptions, "registry" | "hub" | "logger">;
  /** @default silent */
  logger?: Logger;
}

/** The running roles of a process. */
export interface RunningRoles {
  /** The gate, when running. */
  readonly gate?: Gate;
  /** The node, when running. */
  readonly node?: Node;
  /** The mesh, when running. */
  readonly mesh?: Mesh;
  /** The services hosted on the node, when it hosts any. */
  readonly hosted?: Mesh;
  /** Stops gate, then node, then mesh, each bounded by `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Creates and starts the roles: mesh, then node, then gate (so a gate that accepts clients already sees its
 * nodes). When one fails to start, the ones started are stopped and the error is rethrown.
 */
export async function startRoles(options: RolesOptions): Promise<RunningRoles> {
  const { roles, app, format, registry, locator, links, hub, logger = silentLogger } = options;
  const shared = { format, registry, locator, links, hub, logger };
  const started: { stop(graceMs: number): Promise<void> }[] = [];
  let mesh: Mesh | undefined;
  let hosted: Mesh | undefined;
  let node: Node | undefined;
  let gate: Gate | undefined;
  try {
    if (roles.includes("mesh")) {
      if (!options.mesh) throw new TypeError("Cannot start mesh: mesh settings are missing");
      mesh = createMesh({ ...options.mesh, registry, hub, logger });
      options.attach?.mesh?.(mesh);
      await app.mesh?.(mesh.app);
      await mesh.start();
      started.push(mesh);
    }
    if (roles.includes("node")) {
      if (!options.node) throw new TypeError("Cannot start node: node settings are missing");
      node = createNode({ ...options.node, ...shared, links: options.nodeLinks ?? links });
      await app.node?.(node.proxy);
      if (node.proxy.services.size > 0) {
        // Services hosted on the node register under `mesh` with the node's id, as due's node does.
        hosted = createMesh({
          id: node.id,
          name: node.proxy.name,
          codecs: options.serviceCodecs ?? [options.node.codec],
          components: options.node.components,
          endpoint: options.node.endpoint,
          registry,
          hub,
          logger,
        });
        for (const [name, impl] of node.proxy.services) hosted.app.service(name, impl);
      }
      options.attach?.node?.(node, hosted);
      if (hosted) {
        await hosted.start();
        started.push(hosted);
      }
      await node.start();
      started.push(node);
    }
    if (roles.includes("gate")) {
      if (!options.gate) throw new TypeError("Cannot start gate: gate settings are missing");
      gate = createGate({ ...options.gate, ...shared, links: options.gateLinks ?? links });
      options.attach?.gate?.(gate);
      await gate.start();
      started.push(gate);
    }
  } catch (err) {
    for (const role of started.reverse()) {
      await role.stop(0).catch((e) =>
        logger.warn("stop after failed start failed", { error: errorMessage(e) })
      );
    }
    throw err;
  }
  return {
    gate,
    node,
    mesh,
    hosted,
    async stop(graceMs: number) {
      for (const role of [gate, node, hosted, mesh]) {
        if (!role) continue;
        try {
          await role.stop(graceMs);
        } catch (err) {
          logger.error("stop failed", { error: errorMessage(err) });
        }
      }
    },
  };
}
