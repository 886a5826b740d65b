/**
 * `deno task compile`: builds the single `due` executable with `deno compile`.
 *
 * `deno compile` downloads Deno's runtime (`denort`) for the target from dl.deno.land unless `DENORT_BIN` names a
 * local copy. Machines that reach only the npm registry cannot download it: this script then says so and points to
 * `deno task build` (dist/due.js, one file run by `deno run -A dist/due.js`) instead of failing obscurely.
 *
 * Usage: `deno task compile [--target=x86_64-unknown-linux-gnu] [--output=dist/due]`
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { target: { type: "string" }, output: { type: "string", default: "dist/due" } },
});
const root = new URL("..", import.meta.url).pathname;
const args = [
  "compile",
  "-A",
  // KCP listens on UDP through Deno.listenDatagram, still behind --unstable-net in Deno 2.9.
  "--unstable-net",
  "--output",
  values.output!,
  ...(values.target ? ["--target", values.target] : []),
  "cli.ts",
];
const child = await new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  env: { NO_COLOR: "1" },
  stdout: "inherit",
  stderr: "piped",
}).output();
const stderr = new TextDecoder().decode(child.stderr);
if (child.success) {
  Deno.stderr.writeSync(child.stderr);
  console.log(`due: compiled ${values.output}`);
  Deno.exit(0);
}
const offline = /dl\.deno\.land|denort|error sending request|dns error|Connection refused|tcp connect error/i
  .test(stderr);
if (offline && !Deno.env.get("DENORT_BIN")) {
  console.error(
    [
      "due: cannot compile: deno compile must download Deno's runtime (denort) from dl.deno.land, which this machine cannot reach.",
      "  - On a machine with access, run `deno task compile` there, or download denort-<target>.zip once and set",
      "    DENORT_BIN=/path/to/denort before `deno task compile` here.",
      "  - Here, `deno task build` makes dist/due.js: the same CLI as one file, run with `deno run -A dist/due.js`.",
      "",
      "deno compile said:",
      stderr.trim().split("\n").slice(0, 6).map((l) => `    ${l}`).join("\n"),
    ].join("\n"),
  );
  Deno.exit(1);
}
Deno.stderr.writeSync(child.stderr);
Deno.exit(child.code || 1);
