/**
 * Route 1: echo. Responds with the request's JSON `{ "message": … }` — the contract newcomers and the benchmarks
 * rely on.
 *
 * @module
 */
import type { NodeProxy } from "../../mod.ts";

/** The echo route id. */
export const ECHO_ROUTE = 1;

/** Registers the echo route. */
export function echo(node: NodeProxy): void {
  node.route(ECHO_ROUTE, function echoHandler(ctx) {
    ctx.response(ctx.parse<{ message: unknown }>());
  });
}
