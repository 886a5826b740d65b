import { createCachedLocator } from "../../adapters/locator/cached.ts";
import { createMemoryLocator } from "../../adapters/locator/memory.ts";
import type { Locator } from "../../adapters/locator/types.ts";
import { silentLogger } from "../../core/logger.ts";
import { runLocatorConformance } from "../integration/locator_conformance.ts";

runLocatorConformance({
  name: "createMemoryLocator()",
  create: () => Promise.resolve(createMemoryLocator()),
  skip: [{
    reason: "a memory locator holds its bindings in its own object; nothing is shared between two of them",
    tests: ["two locators over one backend share bindings and events"],
  }],
});

// Two cached locators over one memory locator stand for two processes over one Redis.
const backends = new Map<string, Locator>();
runLocatorConformance({
  name: "createCachedLocator() over memory",
  create: (prefix) => {
    let backend = backends.get(prefix);
    if (!backend) backends.set(prefix, backend = createMemoryLocator());
    return Promise.resolve(createCachedLocator(backend, { logger: silentLogger }));
  },
  cleanup: (prefix) => Promise.resolve(void backends.delete(prefix)),
});
