/**
 * The client must run outside Deno. `deno bundle` has no `--platform node` (2.9.6 accepts `browser` or `deno`),
 * so the Node bundle is made with `--platform deno`, the closest: it keeps `node:*` imports as imports, and
 * `client/node.ts` never touches `Deno.*`, so the result is plain ESM that Node runs.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { hasCommand } from "../_helpers/processes.ts";
import { startTcpServer, startWsServer } from "../_helpers/packet_server.ts";

const ROOT = new URL("../../", import.meta.url);

async function bundle(entry: string, platform: "deno" | "browser", out: string): Promise<string> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", platform, "-o", out, entry],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert(success, `deno bundle ${entry} failed: ${new TextDecoder().decode(stderr)}`);
  return await Deno.readTextFile(out);
}

/** Runs `node` with a deadline, so a leaked timer in the client fails the test instead of hanging it. */
async function runNode(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  try {
    const { code, stdout, stderr } = await new Deno.Command("node", {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

const SCRIPT = `
import { connectTcp, connectWs, TimeoutError } from "./client.mjs";

const [addr, url] = process.argv.slice(2);
const out = {};

const tcp = await connectTcp({ addr, heartbeatIntervalMs: 50 });
const pushes = [];
const times = [];
tcp.on(4, (data) => pushes.push(data));
tcp.onHeartbeat((timeNs) => times.push(timeNs));
out.reply = await tcp.request(1, { message: "hi", push: { route: 4, data: "from node" } });
out.pushes = pushes;
try {
  await tcp.request(2, { drop: true }, { timeoutMs: 20 });
} catch (err) {
  out.timeout = err instanceof TimeoutError;
}
while (times.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
out.timeNs = String(times[0]);
out.timeIsBigint = typeof times[0] === "bigint";
await tcp.close();
out.tcpState = tcp.state;

const ws = await connectWs({ url, WebSocket: globalThis.WebSocket, heartbeatIntervalMs: 0 });
out.wsReply = await ws.request(3, { via: "ws" });
await ws.close();

console.log(JSON.stringify(out));
`;

const nodeFound = await hasCommand("node");
if (!nodeFound) console.warn("client_node_test: skipping the Node run: `node` is not on PATH");

Deno.test({
  name: "client/node.ts bundled for Node talks to a real TCP and WebSocket server from node",
  ignore: !nodeFound,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "due_client_node_" });
    const tcp = await startTcpServer({ heartbeatTimeNs: 1717000000123456789n });
    const ws = await startWsServer();
    try {
      const code = await bundle("client/node.ts", "deno", `${dir}/client.mjs`);
      assert(!/\bDeno\./.test(code), "the Node bundle must not touch Deno.*");
      await Deno.writeTextFile(`${dir}/main.mjs`, SCRIPT);
      // Node 20 has no global WebSocket without this flag; the script injects it as `WebSocket`.
      const run = await runNode(["--experimental-websocket", "main.mjs", tcp.addr, ws.url], dir);
      assertEquals(run.code, 0, `node failed: ${run.stderr}`);
      assertEquals(JSON.parse(run.stdout), {
        reply: { message: "hi", push: { route: 4, data: "from node" } },
        pushes: ["from node"],
        timeout: true,
        timeNs: "1717000000123456789",
        timeIsBigint: true,
        tcpState: "closed",
        wsReply: { via: "ws" },
      });
      assert(tcp.packets().some((p) => p.kind === "heartbeat"), "node sent heartbeats");
    } finally {
      await tcp.close();
      await ws.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("client/browser.ts bundles for the browser without Deno.* or node:* imports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "due_client_browser_" });
  try {
    const code = await bundle("client/browser.ts", "browser", `${dir}/client.js`);
    assert(!/\bDeno\./.test(code), "the browser bundle must not touch Deno.*");
    assert(!code.includes("node:"), "the browser bundle must not import node:*");
    assert(code.includes("binaryType"), "the bundle holds the WebSocket transport");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
