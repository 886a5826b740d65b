/**
 * The shape of a game module: what `due --app=./game/mod.ts` imports.
 *
 * @module
 */

import type { NodeProxy } from "../node/proxy.ts";
import type { MeshApp } from "../mesh/mesh.ts";

/** A game: the functions that register its routes, events and services on each role. */
export interface App {
  /** Registers routes, middleware and event handlers on a node. Runs once per node, before it starts. */
  node?(node: NodeProxy): void | Promise<void>;
  /** Registers services on a mesh. Runs once per mesh, before it starts. */
  mesh?(mesh: MeshApp): void | Promise<void>;
}

/**
 * Declares a game. Returns its argument: it exists for the types.
 *
 * @example The echo game
 * ```ts
 * import { defineApp } from "../mod.ts";
 * export default defineApp({
 *   node(node) {
 *     node.route(1, (ctx) => ctx.response(ctx.parse()));
 *   },
 * });
 * ```
 */
export function defineApp(app: App): App {
  return app;
}

/**
 * Checks that a module's export is a game, naming the module when it is not.
 *
 * @throws {TypeError} when the module has no usable default export (or `app` export)
 */
export function appFromModule(module: Record<string, unknown>, where: string): App {
  const app = (module.default ?? module.app) as App | undefined;
  if (typeof app !== "object" || app === null) {
    throw new TypeError(
      `Cannot load app ${where}: it must export default defineApp({ node, mesh }) (found ${
        app === null ? "null" : typeof app
      })`,
    );
  }
  for (const key of ["node", "mesh"] as const) {
    if (app[key] !== undefined && typeof app[key] !== "function") {
      throw new TypeError(
        `Cannot load app ${where}: '${key}' must be a function: current value is ${typeof app[key]}`,
      );
    }
  }
  if (!app.node && !app.mesh) {
    throw new TypeError(`Cannot load app ${where}: it defines neither node() nor mesh()`);
  }
  return app;
}
