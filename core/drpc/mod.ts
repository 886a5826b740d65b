/**
 * The cluster link over TCP ("drpc", `docs/protocol.md` §2): the link server every gate and node runs, the pooled
 * client that implements `GateLink`, `NodeLink` and `MeshLink` over the wire, the resolver of `drpc://`
 * endpoints, and the frame encoders and decoders.
 *
 * @example A node's link server and a gate's client of it
 * ```ts
 * import { createLinkClient, createLinkServer } from "./mod.ts";
 * import { Kind } from "../cluster.ts";
 *
 * const delivered: number[] = [];
 * const server = createLinkServer({
 *   addr: "127.0.0.1:0",
 *   kind: Kind.Node,
 *   id: "n1",
 *   node: { deliver: (_from, cid) => delivered.push(cid), trigger() {}, getState: () => 1, setState() {} },
 * });
 * const client = createLinkClient(server.addr, { kind: Kind.Gate, id: "g1" });
 * client.deliver(3, 10001, Uint8Array.of(0, 0, 0, 5, 0, 0, 1, 0, 7));
 * console.assert((await client.getState()) === 1);
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

export {
  createLinkServer,
  DEFAULT_FRAME_LIMIT_BYTES,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LINK_ADDR,
  DEFAULT_READ_BUFFER_BYTES,
  DEFAULT_WRITE_QUEUE_BYTES,
} from "./server.ts";
export type { LinkServer, LinkServerOptions, LinkServerStats, LinkTargets } from "./server.ts";
export {
  createLinkClient,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONN_NUM,
  DEFAULT_DIAL_RETRY_TIMES,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
} from "./client.ts";
export type { LinkClient, LinkClientOptions, LinkClientState, LinkClientStats } from "./client.ts";
export { createDrpcLinks } from "./resolver.ts";
export type { DrpcLinks, DrpcLinksOptions, LinkInstance } from "./resolver.ts";
export { Code, Route, ROUTE_NAMES } from "./frames.ts";
