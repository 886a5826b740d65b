/**
 * Echo routes. Route 1 responds with the request's JSON `{ "message": … }` — the contract newcomers and the
 * benchmarks rely on. Route 2 responds after `delayMs` (at most 5 s): its handler is asynchronous, and requests of
 * one connection are still answered in the order they were sent.
 *
 * @module
 */
import type { NodeProxy } from "../../mod.ts";

/** The echo route id. */
export const ECHO_ROUTE = 1;
/** The delayed echo route id. */
export const DELAYED_ECHO_ROUTE = 2;

/** Registers the echo routes. */
export function echo(node: NodeProxy): void {
  node.route(ECHO_ROUTE, function echoHandler(ctx) {
    ctx.response(ctx.parse<{ message: unknown }>());
  });

  node.route(DELAYED_ECHO_ROUTE, async function delayedEcho(ctx) {
    const req = ctx.parse<{ message?: unknown; delayMs?: number }>() ?? {};
    const delayMs = Math.min(Math.max(Number(req.delayMs) || 0, 0), 5000);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    ctx.response({ message: req.message, delayMs });
  });
}
