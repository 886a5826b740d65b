import { assertEquals } from "../_helpers/assert.ts";
import { RegistryLookup } from "../../node/_registry_lookup.ts";

Deno.test("RegistryLookup shares one run, pauses only the peers it did not find, and looks up new peers at once", async () => {
  let runs = 0;
  let listed = new Set<string>();
  const lookup = new RegistryLookup(() => {
    runs++;
    return Promise.resolve(listed);
  }, 60_000);
  listed = new Set(["g1"]);
  const first = lookup.start("g1");
  assertEquals(lookup.start("ghost") === first, true, "a peer asked meanwhile shares the run in flight");
  await first;
  assertEquals(runs, 1);
  assertEquals(lookup.start("ghost"), undefined, "a peer the lookup missed is paused");
  await lookup.start("g2"); // another new peer is looked up at once
  assertEquals(runs, 2);
  await lookup.start("g1"); // g1 was found: not paused
  assertEquals(runs, 3);
});
