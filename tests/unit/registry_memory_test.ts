import { createMemoryRegistry } from "../../adapters/registry/memory.ts";
import { runRegistryConformance } from "../integration/registry_conformance.ts";

runRegistryConformance({
  name: "createMemoryRegistry()",
  create: () => Promise.resolve(createMemoryRegistry()),
  skip: [{
    reason: "a memory registry holds its instances in its own object; nothing is shared between two of them",
    tests: ["two registries over one backend see each other's instances"],
  }],
});
