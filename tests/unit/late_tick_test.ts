import { assertEquals } from "../_helpers/assert.ts";
import { LateTickGuard } from "../../core/late_tick.ts";

Deno.test("LateTickGuard excuses silence up to each tick that comes more than 1.5 periods late", () => {
  const guard = new LateTickGuard(100, 0);
  // 350 is 150 ms after 200: not late; 700 and 1200 are late; 1300 and 1400 are on time.
  const ticks = [100, 200, 350, 700, 1200, 1300, 1400];
  const seen = ticks.map((t) => [guard.tick(t), guard.late]);
  assertEquals(seen, [[0, false], [0, false], [0, false], [700, true], [1200, true], [1200, false], [
    1200,
    false,
  ]]);
});

Deno.test("LateTickGuard measures lateness from its start, on the caller's clock", () => {
  assertEquals(new LateTickGuard(50, 1000).tick(1200), 1200);
  assertEquals(new LateTickGuard(50, 1000).tick(1050), 1000);
});
