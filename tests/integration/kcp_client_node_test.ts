/**
 * The KCP client of `client/node.ts` (`node:dgram`) run by Node against the KCP gateway, directly and through the
 * lossy relay. As in `tests/unit/client_node_test.ts`, the bundle is made with `deno bundle --platform deno` (2.9.6
 * has no `node` platform): it keeps `node:*` imports, and the file never touches `Deno.*`.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { hasCommand } from "../_helpers/processes.ts";
import { startLossyUdpRelay } from "../_helpers/lossy_udp_relay.ts";
import { startMonolith } from "../_helpers/monolith.ts";
import game from "../../examples/game/mod.ts";

const ROOT = new URL("../../", import.meta.url);

const SCRIPT = `
import { connectKcp } from "./client.mjs";

const [direct, lossy] = process.argv.slice(2);
const out = {};

async function session(addr, uid) {
  // The relay's round trip reaches ~130 ms with jitter and reordering, and a lost heartbeat waits for its KCP
  // retransmission: 2 × the interval must cover that, as it must on any real link.
  const client = await connectKcp({ addr, heartbeatIntervalMs: 250, timeoutMs: 10000 });
  const events = [];
  client.on(100, (event) => events.push(event));
  const echoes = [];
  for (let i = 0; i < 20; i++) echoes.push(client.request(1, { message: "node " + i }));
  const replies = await Promise.all(echoes);
  const login = await client.request(10, { uid, name: "node" + uid });
  const join = await client.request(11, { room: "r" + uid });
  const say = await client.request(13, { room: "r" + uid, text: "from node" });
  while (events.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  await client.close();
  return { replies: replies.map((r) => r.message), login, join: join.code, say, events, state: client.state };
}

out.direct = await session(direct, 501);
out.lossy = await session(lossy, 502);
console.log(JSON.stringify(out));
`;

const nodeFound = await hasCommand("node");
if (!nodeFound) console.warn("kcp_client_node_test: skipping: `node` is not on PATH");

Deno.test({
  name: "client/node.ts bundled for Node runs echo and chat over KCP, directly and through a 10 % loss relay",
  ignore: !nodeFound,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "due_kcp_node_" });
    const m = await startMonolith(game, { kcp: true });
    const relay = await startLossyUdpRelay({
      target: m.kcpAddr,
      seed: 5,
      loss: 0.1,
      reorder: 0.1,
      jitterMs: 20,
    });
    try {
      const bundled = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", "--quiet", "--platform", "deno", "-o", `${dir}/client.mjs`, "client/node.ts"],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert(bundled.success, new TextDecoder().decode(bundled.stderr));
      const code = await Deno.readTextFile(`${dir}/client.mjs`);
      assert(!/\bDeno\./.test(code), "the Node bundle must not touch Deno.*");
      assert(code.includes("node:dgram"), "the bundle holds the KCP transport");
      await Deno.writeTextFile(`${dir}/main.mjs`, SCRIPT);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      const run = await new Deno.Command("node", {
        args: ["main.mjs", m.kcpAddr, relay.addr],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        signal: controller.signal,
      }).output().finally(() => clearTimeout(timer));
      const stderr = new TextDecoder().decode(run.stderr);
      assertEquals(run.code, 0, `node failed: ${stderr}`);
      const out = JSON.parse(new TextDecoder().decode(run.stdout));
      const replies = Array.from({ length: 20 }, (_, i) => `node ${i}`);
      for (const [key, uid] of [["direct", 501], ["lossy", 502]] as const) {
        assertEquals(out[key], {
          replies,
          login: { code: 0, uid },
          join: 0,
          say: { code: 0 },
          events: [
            { type: "join", room: `r${uid}`, name: `node${uid}` },
            { type: "say", room: `r${uid}`, name: `node${uid}`, text: "from node" },
          ],
          state: "closed",
        });
      }
      assert(relay.stats.dropped > 0, "the relay dropped datagrams");
      assertEquals(m.kcp!.kcpStats.sessionsOpened, 2);
    } finally {
      await relay.close();
      await m.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
