/**
 * Service discovery. Split by caller, as kratos does: every role registers itself ({@linkcode Registrar}); gates,
 * nodes and mesh clients discover others ({@linkcode Discovery}). A backend implements both as a
 * {@linkcode Registry}.
 *
 * @module
 */

import type { KindName, ServiceInstance } from "../../core/cluster.ts";

export type { ServiceInstance } from "../../core/cluster.ts";

/** Registers and deregisters this process's instances. */
export interface Registrar {
  /** Registers or re-registers (e.g. after a state change) an instance. */
  register(instance: ServiceInstance): Promise<void>;
  /** Removes an instance. */
  deregister(instance: ServiceInstance): Promise<void>;
}

/** Options of {@linkcode Discovery.watch}. */
export interface WatchOptions {
  /** Ends the watch. */
  signal?: AbortSignal;
}

/** Finds instances of a service. */
export interface Discovery {
  /** The current instances of `name` (a role: `gate`, `node`, `mesh`). */
  services(name: KindName): Promise<ServiceInstance[]>;
  /**
   * Full lists of the instances of `name`: the current list first, then one after every change. A slow consumer
   * gets only the newest list. Ends when `signal` aborts or the registry closes.
   */
  watch(name: KindName, options?: WatchOptions): AsyncIterable<ServiceInstance[]>;
}

/** A registry backend. */
export interface Registry extends Registrar, Discovery {
  /** The driver name (`memory`, `etcd`, …). */
  readonly name: string;
  /** Stops watches and keep-alives and releases connections. Does not deregister. */
  close(): Promise<void>;
}
