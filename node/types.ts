/**
 * The types game code sees on a node: handlers, middleware, route options, messages and session targets.
 *
 * @module
 */

import type { ClusterEventName } from "../core/cluster.ts";
import type { Context, EventContext } from "./context.ts";

/** A route handler. It may return a promise: the connection's next request waits for it. */
export type Handler = (ctx: Context) => void | Promise<void>;

/**
 * Middleware around handlers: call `next()` to go on (and `await` it to run code after), or do not to stop.
 *
 * @example
 * ```ts ignore
 * node.use(async function timing(ctx, next) {
 *   const start = performance.now();
 *   await next();
 *   ctx.node.logger.debug("handled", { route: ctx.route, ms: performance.now() - start });
 * });
 * ```
 */
export type Middleware = (ctx: Context, next: () => void | Promise<void>) => void | Promise<void>;

/** A handler of a connection event. */
export type EventHandler = (ctx: EventContext) => void | Promise<void>;

/** Options of a route. */
export interface RouteOptions {
  /** Goes to the node the user is bound to (`ctx.bindNode()`), per node name. @default false */
  stateful?: boolean;
  /** Needs a bound uid (`ctx.bindGate(uid)`): dropped at the gate otherwise. @default false */
  authorized?: boolean;
  /** Reachable only from nodes and meshes, never from clients through a gate. @default false */
  internal?: boolean;
  /** Middleware run before the handler, after the node-wide ones. */
  middlewares?: Middleware[];
  /** The message type of requests, for schema codecs (protobuf: `"game.EchoReq"`). */
  request?: string;
  /** The message type of responses, for schema codecs. */
  response?: string;
}

/** A message a node sends to clients. */
export interface Message {
  /** The route the client sees. */
  route: number;
  /** The payload, encoded with the node's codec (`Uint8Array` is sent as is). */
  data?: unknown;
  /** Seq; pushes carry 0. @default 0 */
  seq?: number;
  /** The message type, for schema codecs. */
  type?: string;
}

/** A client session: a user anywhere in the cluster, or one connection on one gate. */
export type SessionTarget = { uid: number } | { gid: string; cid: number };

/** Several users, or several connections of one gate. */
export type SessionTargets = { uids: readonly number[] } | { gid: string; cids: readonly number[] };

/** Names of the events a node may handle. */
export type { ClusterEventName };
