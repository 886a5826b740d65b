/**
 * due for Deno — a distributed game-server framework: gates hold client connections (TCP, WebSocket, KCP), nodes
 * run your route handlers and actors, meshes host stateless services. Write the game as a module, run it with
 * `due dev --app=./game/mod.ts` in one process, deploy the same module to many processes.
 *
 * @example The echo game
 * ```ts
 * import { defineApp } from "./mod.ts";
 *
 * export default defineApp({
 *   node(node) {
 *     node.route(1, (ctx) => {
 *       const req = ctx.parse<{ message: string }>();
 *       ctx.response({ message: req.message });
 *     });
 *   },
 * });
 * ```
 *
 * @module
 */

export { appFromModule, defineApp } from "./runtime/app.ts";
export type { App } from "./runtime/app.ts";
export { Context, EventContext } from "./node/context.ts";
export { NodeProxy } from "./node/proxy.ts";
export type { SessionScope } from "./node/proxy.ts";
export type {
  ClusterEventName,
  EventHandler,
  Handler,
  Message,
  Middleware,
  RouteOptions,
  SessionTarget,
  SessionTargets,
} from "./node/types.ts";
export type { MeshClient } from "./node/mesh_client.ts";
export type { MeshApp, ServiceImpl } from "./mesh/mesh.ts";
export { ClosedError, DueError, ErrorCode, TimeoutError } from "./core/errors.ts";
export type { Logger } from "./core/logger.ts";
export { createGate } from "./gate/gate.ts";
export type { Gate, GateOptions, GateStats } from "./gate/gate.ts";
export { createNode } from "./node/node.ts";
export type { Node, NodeOptions, NodeStats } from "./node/node.ts";
export { createMesh } from "./mesh/mesh.ts";
export type { Mesh, MeshOptions } from "./mesh/mesh.ts";
