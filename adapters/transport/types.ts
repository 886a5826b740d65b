/**
 * The mesh transport (`transport.driver`): how a node reaches mesh services when they are not dialled directly
 * over the cluster link. With `drpc` (the default) a node finds mesh hosts in the registry and calls them over
 * the cluster link; with a broker transport such as `nats`, mesh instances {@linkcode MeshTransportServer.serve}
 * their services on the broker and nodes call through {@linkcode MeshTransportCaller.caller}, the broker picking
 * one instance per call.
 *
 * Both sides carry the same {@linkcode MeshLink} the cluster link carries: codec-encoded argument arrays in,
 * codec-encoded results out, errors as `{code, message}` turned back into a `DueError` with that code.
 *
 * @module
 */
import type { MeshLink } from "../../core/link.ts";

/** Stops serving what one {@linkcode MeshTransportServer.serve} call served. Idempotent. */
export type Unserve = () => Promise<void>;

/** The mesh side: offers services to callers. */
export interface MeshTransportServer {
  /**
   * Serves `services` by handing each call to `link.call` (a mesh's `mesh.link`). Resolves once the broker
   * delivers calls to this process. Every instance serving a service shares its calls: each call goes to one.
   *
   * The returned function stops taking calls, lets calls already taken finish (bounded by the transport's
   * timeout, after which their callers have given up) and then resolves.
   *
   * @throws {TypeError} when a service name cannot be served (empty, or not valid in a broker subject)
   * @throws {DueError} `unavailable` (with `addr`) when the broker does not confirm the subscription,
   *   `closed` after {@linkcode MeshTransport.close}
   */
  serve(services: readonly string[], link: MeshLink): Promise<Unserve>;
}

/** The node side: calls services wherever they are served. */
export interface MeshTransportCaller {
  /**
   * A link that calls any service served on this transport. Its `call` rejects with a `DueError`:
   * `no_node` when no instance serves the service, `timeout` (a `TimeoutError`) when none answers in time,
   * `packet_too_large` when the request or result is over the broker's limit, `closed` after
   * {@linkcode MeshTransport.close}, `unavailable` when the broker fails, or the code the mesh answered
   * (`route_not_found` for an unknown method, …).
   */
  caller(): MeshLink;
}

/** Counters of a transport's serving side. */
export interface MeshTransportStats {
  /** Calls taken and answered (with a result or an error). */
  served: number;
  /** Calls answered with an error. */
  failed: number;
  /** Messages that got no answer: not a request, or the reply could not be sent. Each is logged. */
  dropped: number;
}

/** A mesh transport: one broker connection that serves, calls, or both. */
export interface MeshTransport extends MeshTransportServer, MeshTransportCaller {
  /** Counters of the serving side. */
  readonly stats: Readonly<MeshTransportStats>;
  /**
   * Stops serving (as every {@linkcode Unserve} does), rejects calls still waiting with a `ClosedError`, and
   * closes the broker connection. Idempotent.
   */
  close(): Promise<void>;
}
