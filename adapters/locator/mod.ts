/**
 * Locators chosen by `locate.driver`. Backends load lazily.
 *
 * @module
 */
import type { Locator } from "./types.ts";

export { LocateEventType } from "./types.ts";
export type { LocateEvent, LocateWatchOptions, Locator } from "./types.ts";

/** Loaders by driver name; a new backend is one file and one line here. */
export const LOCATOR_DRIVERS: Record<string, (options: Record<string, unknown>) => Promise<Locator>> = {
  memory: async () => (await import("./memory.ts")).createMemoryLocator(),
};
