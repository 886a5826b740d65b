import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { requireComponent } from "../../runtime/components.ts";
import { createMemoryEventBus } from "../../adapters/eventbus/memory.ts";

Deno.test("requireComponent() hands out a configured component and names the driver key to set for a missing one", async () => {
  const eventbus = createMemoryEventBus();
  try {
    assertEquals(requireComponent({ eventbus }, "eventbus", "node"), eventbus);
    assertThrows(
      () => requireComponent({ eventbus }, "cache", "mesh"),
      TypeError,
      "Cannot use mesh.cache: it is not configured (set 'cache.driver')",
    );
  } finally {
    await eventbus.close();
  }
});
