/**
 * Locators chosen by `locate.driver`. Backends load lazily: `due dev` never loads ioredis.
 *
 * @module
 */
import type { Locator } from "./types.ts";

export { LocateEventType } from "./types.ts";
export type { LocateEvent, LocateWatchOptions, Locator } from "./types.ts";

/** Loaders by driver name; a new backend is one file and one line here. */
export const LOCATOR_DRIVERS: Record<string, (options: Record<string, unknown>) => Promise<Locator>> = {
  memory: async () => (await import("./memory.ts")).createMemoryLocator(),
  // Gates and nodes resolve a user per message, so the Redis locator always comes wrapped in the memory cache.
  redis: async (options) => {
    const { createRedisLocator, redisLocatorOptionsFromConfig } = await import("./redis.ts");
    const { createCachedLocator } = await import("./cached.ts");
    return createCachedLocator(await createRedisLocator(redisLocatorOptionsFromConfig(options)));
  },
};
