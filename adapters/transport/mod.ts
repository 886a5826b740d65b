/**
 * Mesh transports by driver name (`transport.driver`), loaded on first use so a backend's npm client is imported
 * only when chosen.
 *
 * | driver | factory | how nodes reach mesh services |
 * |---|---|---|
 * | `drpc` | none: the cluster link | hosts found in the registry (`discovery://name`, `direct://host:port`), dialled over TCP |
 * | `nats` | `createNatsTransport` | NATS request/reply on `<prefix>.<service>`, one queue group per service |
 *
 * With `nats`, a mesh instance calls `transport.serve(mesh.instance.services, mesh.link)` after it starts, and a
 * node calls mesh services through `transport.caller()` instead of a registry-discovered link.
 *
 * @example
 * ```ts ignore
 * import { createMeshTransport } from "./mod.ts";
 * const transport = await createMeshTransport("nats", { url: "nats://127.0.0.1:4222", timeoutMs: 3_000 });
 * const unserve = await transport.serve(["rank"], mesh.link);
 * const result = await transport.caller().call("rank", "top", new TextEncoder().encode("[3]"), "json");
 * await unserve();
 * await transport.close();
 * ```
 *
 * @module
 */
import type { MeshTransport } from "./types.ts";
import type { NatsTransportOptions } from "./nats.ts";

export type {
  MeshTransport,
  MeshTransportCaller,
  MeshTransportServer,
  MeshTransportStats,
  Unserve,
} from "./types.ts";
export type { NatsTransportOptions };

/** The options of each driver that has a transport object (`drpc` is the cluster link itself). */
export interface MeshTransportDriverOptions {
  nats: NatsTransportOptions;
}

/** A driver name of the `transport` config section that needs a transport object. */
export type MeshTransportDriver = keyof MeshTransportDriverOptions;

/** Loaders of each driver's factory. */
export const TRANSPORT_DRIVERS: {
  [D in MeshTransportDriver]: () => Promise<
    (options: MeshTransportDriverOptions[D]) => Promise<MeshTransport>
  >;
} = {
  nats: () => import("./nats.ts").then((m) => m.createNatsTransport),
};

/** Whether `driver` (a `transport.driver` value) needs a transport from {@linkcode createMeshTransport}. */
export function hasMeshTransport(driver: string): driver is MeshTransportDriver {
  return Object.hasOwn(TRANSPORT_DRIVERS, driver);
}

/**
 * Loads the backend of `driver` and connects a mesh transport with `options`.
 *
 * @throws {TypeError} for `drpc` (served by the cluster link, no transport object) or an unknown driver
 * @throws {DueError} `unavailable` when the broker cannot be reached
 */
export async function createMeshTransport<D extends MeshTransportDriver>(
  driver: D,
  options: MeshTransportDriverOptions[D],
): Promise<MeshTransport> {
  if (!hasMeshTransport(driver)) {
    throw new TypeError(
      `Cannot create mesh transport as 'driver' must be one of ${
        Object.keys(TRANSPORT_DRIVERS).join("|")
      } (drpc is the cluster link and needs none): current value is "${driver}"`,
    );
  }
  const create = await TRANSPORT_DRIVERS[driver]();
  return await create(options);
}
