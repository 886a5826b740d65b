/**
 * `deno task build`'s artifact: the CLI bundled into one JavaScript file, run from an empty folder with the
 * example game loaded from disk through `--app` (imported by absolute file URL, as a compiled binary must).
 */
import { assertEquals } from "../_helpers/assert.ts";
import { FREE_PORTS, startDue } from "../_helpers/due_process.ts";
import { connectTcp } from "../../client/mod.ts";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("the bundled due.js runs the example game from an empty folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "due-bundle-" });
  try {
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "-o", `${dir}/due.js`, `${root}cli.ts`],
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const run = await Deno.makeTempDir({ prefix: "due-run-" });
    await Deno.rename(`${dir}/due.js`, `${run}/due.js`);
    const due = await startDue({
      script: `${run}/due.js`,
      cwd: run,
      args: ["dev", ...FREE_PORTS, `--app=${root}examples/game/mod.ts`],
    });
    const client = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 });
    try {
      assertEquals(await client.request(1, { message: "from the bundle" }), { message: "from the bundle" });
      assertEquals(await client.request(2, { message: "async", delayMs: 5 }), {
        message: "async",
        delayMs: 5,
      });
    } finally {
      await client.close();
      assertEquals(await due.stop(), 0);
      await Deno.remove(run, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
