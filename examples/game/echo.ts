/**
 * Echo routes. Route 1 responds with the request's JSON `{ "message": … }` — the contract newcomers and the
 * benchmarks rely on. Route 2 responds after `delayMs` (at most 5 s): its handler is asynchronous, and requests of
 * one connection are still answered in the order they were sent. Route 3 answers with the request's payload bytes,
 * never decoded: what the benchmarks use to measure the framework apart from the codec.
 *
 * @module
 */
import type { NodeProxy } from "../../mod.ts";

/** The echo route id. */
export const ECHO_ROUTE = 1;
/** The delayed echo route id. */
export const DELAYED_ECHO_ROUTE = 2;
/** The byte echo route id: the payload comes back as it came, never decoded (the framework's cost alone). */
export const BYTES_ECHO_ROUTE = 3;

/** Registers the echo routes. */
export function echo(node: NodeProxy): void {
  node.route(ECHO_ROUTE, function echoHandler(ctx) {
    ctx.response(ctx.parse<{ message: unknown }>());
  });

  node.route(BYTES_ECHO_ROUTE, function bytesEcho(ctx) {
    ctx.response(ctx.payload);
  });

  node.route(DELAYED_ECHO_ROUTE, async function delayedEcho(ctx) {
    const req = ctx.parse<{ message?: unknown; delayMs?: number }>() ?? {};
    const delayMs = Math.min(Math.max(Number(req.delayMs) || 0, 0), 5000);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    ctx.response({ message: req.message, delayMs });
  });
}
