import { assertEquals } from "../_helpers/assert.ts";
import { runWatch } from "../../adapters/registry/_watch.ts";
import { sampleInstance } from "../integration/registry_conformance.ts";

Deno.test("runWatch() yields a list only when it differs from the one before (a poll or re-put that changed nothing)", async () => {
  const a = [sampleInstance("a")];
  const b = [sampleInstance("a"), sampleInstance("b")];
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
  const tasks: Promise<void>[] = [];
  const closing = new AbortController();
  const watch = runWatch(
    async (push) => {
      for (const list of [a, structuredClone(a), b, structuredClone(b), a]) {
        push(list);
        await tick(); // the reader takes each list before the next one
      }
    },
    undefined,
    closing.signal,
    (task) => tasks.push(task),
  );
  const seen: string[][] = [];
  for await (const list of watch) seen.push(list.map((i) => i.id));
  assertEquals(seen, [["a"], ["a", "b"], ["a"]]);
  await Promise.all(tasks);
});
