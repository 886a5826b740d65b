import { createMemoryEventBus } from "../../adapters/eventbus/memory.ts";
import { silentLogger } from "../../core/logger.ts";
import { runEventBusConformance } from "../integration/eventbus_conformance.ts";

runEventBusConformance({
  name: "createMemoryEventBus()",
  create: () => Promise.resolve(createMemoryEventBus({ logger: silentLogger })),
  shared: false,
});
