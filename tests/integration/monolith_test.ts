import { assertEquals } from "../_helpers/assert.ts";
import { startMonolith } from "../_helpers/monolith.ts";
import { RawClient } from "../_helpers/raw_client.ts";
import game from "../../examples/game/mod.ts";

Deno.test("monolith echoes route 1 over TCP with the request's seq", async () => {
  const m = await startMonolith(game);
  const c = await RawClient.connect(m.tcpAddr);
  try {
    await c.send(1, 7, { message: "hi" });
    await c.until((p) => p.length >= 1);
    assertEquals(c.data(), [{ route: 1, seq: 7, body: { message: "hi" } }]);
  } finally {
    await c.close();
    await m.stop();
  }
});
