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

Deno.test("with replyUnknownRoute the gate answers requests it cannot deliver with an empty packet", async () => {
  const m = await startMonolith(game, { gate: { replyUnknownRoute: true } });
  const c = await RawClient.connect(m.tcpAddr);
  try {
    await c.send(999, 5, { message: "nobody serves this" });
    await c.send(11, 6, { room: "lobby" }); // authorized, but not logged in
    await c.send(1, 0, { message: "one-way" }); // seq 0 gets its echo, nothing else
    await c.until((p) => p.length >= 3);
    assertEquals(c.data(), [
      { route: 999, seq: 5, body: undefined },
      { route: 11, seq: 6, body: undefined },
      { route: 1, seq: 0, body: { message: "one-way" } },
    ]);
    assertEquals(m.roles.gate!.stats.unknownRoute, 1);
    assertEquals(m.roles.gate!.stats.illegal, 1);
  } finally {
    await c.close();
    await m.stop();
  }
});
