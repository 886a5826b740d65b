/**
 * The platform components (event bus, cache, locks, config centre) that nodes and meshes hand to game code, and
 * the one refusal for a component that is not configured.
 *
 * @module
 */
import type { Cache } from "../adapters/cache/types.ts";
import type { EventBus } from "../adapters/eventbus/types.ts";
import type { LockMaker } from "../adapters/lock/types.ts";
import type { ConfigCenter } from "../config/center.ts";

/** Platform components a node or mesh hands to game code; each is there when its driver is configured. */
export interface PlatformComponents {
  /** The event bus (`eventbus.driver`). */
  eventbus?: EventBus;
  /** The cache (`cache.driver`). */
  cache?: Cache;
  /** The lock maker (`lock.driver`). */
  lock?: LockMaker;
  /** The config centre (`config.driver`). */
  config?: ConfigCenter;
}

/**
 * The component `key` of `components`.
 *
 * @param owner who hands it out, for the message (`node`, `mesh`)
 * @throws {TypeError} naming the driver key to set when the component is not configured
 */
export function requireComponent<K extends keyof PlatformComponents>(
  components: PlatformComponents,
  key: K,
  owner: string,
): NonNullable<PlatformComponents[K]> {
  const component = components[key];
  if (component === undefined) {
    throw new TypeError(`Cannot use ${owner}.${key}: it is not configured (set '${key}.driver')`);
  }
  return component as NonNullable<PlatformComponents[K]>;
}
