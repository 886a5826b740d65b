/**
 * `deno task bench`: the monolith running the example game (the real `due dev`) against a raw Deno echo server
 * with the same framing and no framework, both driven by the same load generator in a separate process, for TCP
 * and WebSocket. Prints msg/s, p50/p99 latency, and the server's CPU µs per message with its ratio to the raw
 * server measured in the same run (the machine is shared and noisy: read the ratios, not the absolutes).
 *
 * Usage: `deno task bench [--quick] [--only=tcp|ws|kcp] [--duration=5]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuMicrosOf, freePort, reachable, spawnServer } from "./_proc.ts";
import type { Server } from "./_proc.ts";
import { measureJsonFloor } from "./codec_floor.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    duration: { type: "string" },
    json: { type: "string" },
  },
});
const durationS = Number(values.duration ?? (values.quick ? 2 : 5));
const warmupS = values.quick ? 0.5 : 1;

interface Case {
  name: string;
  transport: "tcp" | "ws";
  conns: number;
  inflight: number;
  payload: number;
  routeBytes: 2 | 4;
  seqBytes: 2 | 4;
  /** Route 1 parses and re-serialises the JSON; route 3 echoes the payload bytes (framework cost alone). */
  route?: 1 | 3;
}

const CASES: Case[] = [];
for (const transport of ["tcp", "ws"] as const) {
  if (values.only && values.only !== transport) continue;

  CASES.push(
    {
      name: "100 conns × 1 in flight, 32 B",
      transport,
      conns: 100,
      inflight: 1,
      payload: 32,
      routeBytes: 2,
      seqBytes: 2,
    },
    {
      name: "100 conns × 32 in flight, 32 B",
      transport,
      conns: 100,
      inflight: 32,
      payload: 32,
      routeBytes: 2,
      seqBytes: 2,
    },
    {
      name: "100 conns × 32 in flight, 32 B, bytes echoed (route 3, no JSON)",
      transport,
      conns: 100,
      inflight: 32,
      payload: 32,
      routeBytes: 2,
      seqBytes: 2,
      route: 3,
    },
    {
      name: "due method: 50 conns pipelined, 1 KB",
      transport,
      conns: 50,
      inflight: 64,
      payload: 1024,
      routeBytes: 4,
      seqBytes: 4,
    },
  );
}

interface Result {
  received: number;
  rate: number;
  p50: number;
  p99: number;
  cpuUsPerMsg: number;
}

const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;

async function startRaw(c: Case, port: number): Promise<Server> {
  return await spawnServer(
    [`${here}raw_echo.ts`, `--transport=${c.transport}`, `--addr=127.0.0.1:${port}`],
    /^ready/,
  );
}

async function startDue(c: Case, port: number): Promise<Server> {
  const other = freePort();
  const [tcpPort, wsPort] = c.transport === "tcp" ? [port, other] : [other, port];
  return await spawnServer([
    `${root}cli.ts`,
    "dev",
    `--network.tcp.server.addr=127.0.0.1:${tcpPort}`,
    `--network.ws.server.addr=127.0.0.1:${wsPort}`,
    "--network.kcp.server.addr=127.0.0.1:0",
    "--network.tcp.server.heartbeatInterval=0",
    "--network.ws.server.heartbeatInterval=0",
    `--packet.routeBytes=${c.routeBytes}`,
    `--packet.seqBytes=${c.seqBytes}`,
    "--packet.bufferBytes=100000",
    "--log.level=info",
  ], /due ready/);
}

const etcdAddr = Deno.env.get("DUE_TEST_ETCD") || "127.0.0.1:2379";
const redisAddr = Deno.env.get("DUE_TEST_REDIS") || "127.0.0.1:6379";

/** Gate and node as two processes on etcd and Redis, the gate serving `port`. */
async function startCluster(c: Case, port: number): Promise<Server> {
  const run = crypto.randomUUID().slice(0, 8);
  const dir = await Deno.makeTempDir({ prefix: "due-bench-" });
  const config = `${dir}/due.toml`;
  await Deno.writeTextFile(
    config,
    [
      `[registry]\ndriver = "etcd"\n[registry.etcd]\naddrs = ["${etcdAddr}"]\nnamespace = "duebench-${run}"`,
      `[locate]\ndriver = "redis"\n[locate.redis]\naddrs = ["${redisAddr}"]\nprefix = "duebench:${run}"`,
      `[cluster.gate]\naddr = "127.0.0.1:0"\n[cluster.node]\naddr = "127.0.0.1:0"`,
      `[packet]\nrouteBytes = ${c.routeBytes}\nseqBytes = ${c.seqBytes}\nbufferBytes = 100000`,
      `[network.tcp.server]\naddr = "127.0.0.1:${port}"\nheartbeatInterval = "0s"`,
      `[network.ws.server]\naddr = "127.0.0.1:${freePort()}"\nheartbeatInterval = "0s"`,
    ].join("\n"),
  );
  const node = await spawnServer([
    `${root}cli.ts`,
    "--role=node",
    `--config=${config}`,
    `--app=${root}examples/game/mod.ts`,
  ], /due ready/);
  const gate = await spawnServer([`${root}cli.ts`, "--role=gate", `--config=${config}`], /due ready/).catch(
    async (err) => {
      await node.stop();
      throw err;
    },
  );
  return {
    pid: gate.pid,
    pids: [gate.pid, node.pid],
    output: [...gate.output, ...node.output],
    async stop() {
      await gate.stop();
      await node.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function drive(c: Case, server: Server, port: number): Promise<Result> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${here}loadgen.ts`,
      `--transport=${c.transport}`,
      `--addr=127.0.0.1:${port}`,
      `--conns=${c.conns}`,
      `--inflight=${c.inflight}`,
      `--payload=${c.payload}`,
      `--route=${c.route ?? 1}`,
      `--route-bytes=${c.routeBytes}`,
      `--seq-bytes=${c.seqBytes}`,
      `--warmup=${warmupS}`,
      `--duration=${durationS}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let cpuStart = 0;
  let cpuEnd = 0;
  let result: Omit<Result, "cpuUsPerMsg"> | undefined;
  let rest = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line);
      if (event.event === "measure-start") cpuStart = await cpuMicrosOf(server.pids ?? [server.pid]);
      else if (event.event === "measure-end") cpuEnd = await cpuMicrosOf(server.pids ?? [server.pid]);
      else if (event.event === "result") result = event;
    }
  }
  const status = await child.status;
  if (!status.success || !result) throw new Error(`load generator failed (${status.code})`);
  return { ...result, cpuUsPerMsg: (cpuEnd - cpuStart) / Math.max(1, result.received) };
}

async function measure(c: Case, start: (c: Case, port: number) => Promise<Server>): Promise<Result> {
  const port = freePort();
  const server = await start(c, port);
  try {
    return await drive(c, server, port);
  } finally {
    await server.stop();
  }
}

const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows: Record<string, unknown>[] = [];
console.log(
  `due bench: ${durationS} s per run after ${warmupS} s warm-up; CPU is the server process's (all threads)\n`,
);
console.log("| transport | case | server | msg/s | p50 ms | p99 ms | CPU µs/msg | CPU ratio to raw |");
console.log("|---|---|---|---:|---:|---:|---:|---:|");
const rawByCase = new Map<Case, Result>();
for (const c of CASES) {
  const raw = await measure(c, startRaw);
  rawByCase.set(c, raw);
  const due = await measure(c, startDue);
  for (const [server, r] of [["raw", raw], ["due", due]] as const) {
    const ratio = r.cpuUsPerMsg / raw.cpuUsPerMsg;
    console.log(
      `| ${c.transport} | ${c.name} | ${server} | ${fmt(r.rate, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${
        fmt(r.cpuUsPerMsg, 2)
      } | ${fmt(ratio, 2)} |`,
    );
    rows.push({ transport: c.transport, case: c.name, server, ...r, cpuRatio: ratio });
  }
}
console.log(
  "\nThe JSON work alone of route 1 (decode, parse, stringify, encode: bench/codec_floor.ts, in this process)",
);
console.log("against the raw server's whole CPU per message: a floor under the JSON cases' ratio.\n");
console.log("| transport | case | JSON µs/msg | raw CPU µs/msg | JSON alone / raw |");
console.log("|---|---|---:|---:|---:|");
const floors = new Map<number, number>();
for (const c of CASES.filter((c) => c.route === undefined)) {
  const floor = floors.get(c.payload) ?? measureJsonFloor(c.payload);
  floors.set(c.payload, floor);
  const raw = rawByCase.get(c)!;
  console.log(
    `| ${c.transport} | ${c.name} | ${fmt(floor, 2)} | ${fmt(raw.cpuUsPerMsg, 2)} | ${
      fmt(floor / raw.cpuUsPerMsg, 2)
    } |`,
  );
  rows.push({ transport: c.transport, case: c.name, server: "json floor", cpuUsPerMsg: floor });
}

if (values.only !== "ws") {
  console.log(
    "\nGate and node as two processes (etcd registry, Redis locator, drpc link) against the monolith;",
  );
  console.log("CPU is the gate's plus the node's.\n");
  if (!(await reachable(etcdAddr)) || !(await reachable(redisAddr))) {
    console.log(
      `skipped: needs etcd at ${etcdAddr} and Redis at ${redisAddr} (DUE_TEST_ETCD, DUE_TEST_REDIS)`,
    );
  } else {
    console.log("| case | setup | msg/s | p50 ms | p99 ms | CPU µs/msg | msg/s ratio to monolith |");
    console.log("|---|---|---:|---:|---:|---:|---:|");
    for (const c of CASES.filter((c) => c.transport === "tcp" && c.inflight > 1 && c.route === undefined)) {
      const mono = await measure(c, startDue);
      const cluster = await measure(c, startCluster);
      for (const [setup, r] of [["monolith", mono], ["gate + node", cluster]] as const) {
        console.log(
          `| ${c.name} | ${setup} | ${fmt(r.rate, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${
            fmt(r.cpuUsPerMsg, 2)
          } | ${fmt(r.rate / mono.rate, 2)} |`,
        );
        rows.push({ transport: "tcp", case: c.name, server: setup, ...r, rateRatio: r.rate / mono.rate });
      }
    }
  }
}
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(rows, null, 2));

if (values.only === undefined || values.only === "kcp") {
  console.log("\nKCP against TCP in the same run (bench/kcp.ts):\n");
  const kcp = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", `${here}kcp.ts`, ...(values.quick ? ["--quick"] : [])],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!kcp.success) Deno.exit(kcp.code || 1);
}
