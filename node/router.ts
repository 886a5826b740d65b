/**
 * The node's route table: handlers by route id, node-wide middleware, the default handler and event handlers.
 * Built before start; each route's middleware chain is composed once, and a route with none calls its handler
 * directly.
 *
 * @module
 */

import { EVENT_BY_NAME } from "../core/cluster.ts";
import type { ClusterEvent, ClusterEventName, RouteRecord } from "../core/cluster.ts";
import type { Context } from "./context.ts";
import type { EventHandler, Handler, Middleware, RouteOptions } from "./types.ts";

/** A registered route, ready to run. */
export interface Route {
  /** Route id. */
  readonly id: number;
  /** Its options. */
  readonly options: Readonly<RouteOptions>;
  /** The handler wrapped in its middleware chain (or the bare handler). */
  run: Handler;
}

/** Composes middleware around a handler, koa-style, guarding against a double `next()`. */
export function compose(middlewares: readonly Middleware[], handler: Handler): Handler {
  if (middlewares.length === 0) return handler;
  return function composed(ctx: Context) {
    let last = -1;
    const dispatch = (i: number): void | Promise<void> => {
      if (i <= last) throw new Error("Cannot call next() twice in one middleware");
      last = i;
      return i === middlewares.length ? handler(ctx) : middlewares[i](ctx, () => dispatch(i + 1));
    };
    return dispatch(0);
  };
}

const MIN_ROUTE = -(2 ** 31);
const MAX_ROUTE = 2 ** 31 - 1;

/** Routes, middleware and event handlers of one node. */
export class Router {
  readonly #routes = new Map<number, Route>();
  readonly #middlewares: Middleware[] = [];
  readonly #events = new Map<ClusterEvent, EventHandler[]>();
  #fallback: Route | undefined;
  #sealed = false;

  /** Adds a route. @throws {RangeError} for a bad id or a duplicate, {TypeError} after start */
  add(id: number, handler: Handler, options: RouteOptions = {}): void {
    this.#checkOpen("route");
    if (!Number.isInteger(id) || id < MIN_ROUTE || id > MAX_ROUTE) {
      throw new RangeError(`Cannot add route as its id must be a 32-bit integer: current value is ${id}`);
    }
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot add route ${id} as its handler must be a function: current value is ${typeof handler}`,
      );
    }
    if (this.#routes.has(id)) throw new RangeError(`Cannot add route ${id}: it is already registered`);
    this.#routes.set(id, { id, options: { ...options }, run: handler });
  }

  /** Adds node-wide middleware (runs before every route's own). */
  use(middleware: Middleware): void {
    this.#checkOpen("middleware");
    this.#middlewares.push(middleware);
  }

  /** Sets the handler of routes with no handler of their own. */
  setDefault(handler: Handler): void {
    this.#checkOpen("default handler");
    this.#fallback = { id: 0, options: {}, run: handler };
  }

  /** Adds an event handler. */
  on(event: ClusterEventName, handler: EventHandler): void {
    this.#checkOpen("event handler");
    const e = EVENT_BY_NAME[event];
    if (e === undefined) {
      throw new RangeError(
        `Cannot add event handler as the event must be connect|reconnect|disconnect: current value is "${event}"`,
      );
    }
    let list = this.#events.get(e);
    if (!list) this.#events.set(e, list = []);
    list.push(handler);
  }

  /** Composes every chain; no registration after this. */
  seal(): void {
    if (this.#sealed) return;
    this.#sealed = true;
    for (const route of this.#routes.values()) {
      route.run = compose([...this.#middlewares, ...(route.options.middlewares ?? [])], route.run);
    }
    if (this.#fallback) this.#fallback.run = compose(this.#middlewares, this.#fallback.run);
  }

  /** The route `id`, else the default route, else `undefined`. */
  get(id: number): Route | undefined {
    return this.#routes.get(id) ?? this.#fallback;
  }

  /** Handlers of an event. */
  handlers(event: ClusterEvent): readonly EventHandler[] | undefined {
    return this.#events.get(event);
  }

  /** The routes in the registry's form. */
  records(): RouteRecord[] {
    return [...this.#routes.values()].map(({ id, options }) => {
      const record: RouteRecord = { i: id };
      if (options.internal) record.n = true;
      if (options.stateful) record.s = true;
      if (options.authorized) record.a = true;
      return record;
    });
  }

  /** Whether a default handler is set. */
  get hasDefault(): boolean {
    return this.#fallback !== undefined;
  }

  /** Events with handlers. */
  events(): ClusterEvent[] {
    return [...this.#events.keys()];
  }

  #checkOpen(what: string): void {
    if (this.#sealed) {
      throw new TypeError(
        `Cannot add a ${what} after the node started: register everything in the app's node() function`,
      );
    }
  }
}
