/**
 * KCP echo against TCP echo, in the same run: the example game's echo (route 1) served by a monolith in a child
 * process, driven from this process with the client SDK (`connectTcp` / `connectKcp`, so both sides pay the same
 * client costs). Phases: TCP, KCP, KCP with ACKs piggybacked (`ackNoDelay: false` on both ends), and KCP through
 * the lossy UDP relay at 5 % loss each way. Prints msg/s, p50/p99 latency, datagrams per echo, the KCP/TCP ratio,
 * and with `--profile` where the server's time goes (its `--cpu-prof`, self time by function).
 *
 * Run: `npx -y deno@2.9.6 run -A bench/kcp.ts [--quick] [--profile] [--conns=50] [--inflight=1] [--duration=5]`
 *
 * Each phase gets a fresh server process, so a profile covers one transport. On a 2-core machine the load
 * generator, the relay and the server share the cores: read the ratios, not the absolute numbers.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Client, connectKcp, connectTcp } from "../client/mod.ts";
import { startLossyUdpRelay } from "../tests/_helpers/lossy_udp_relay.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    serve: { type: "boolean", default: false },
    "ack-no-delay": { type: "string", default: "true" },
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    conns: { type: "string", default: "50" },
    inflight: { type: "string", default: "1" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
  },
});

if (values.serve) {
  await serve(values["ack-no-delay"] === "true");
} else {
  await main();
}

/** The child: a monolith with TCP and KCP; prints `ready {…}`, answers `stats` lines, stops when stdin closes. */
async function serve(ackNoDelay: boolean): Promise<void> {
  const { startMonolith } = await import("../tests/_helpers/monolith.ts");
  const game = (await import("../examples/game/mod.ts")).default;
  const m = await startMonolith(game, { kcp: { ackNoDelay }, server: { maxConnNum: 10_000 } });
  console.log(`ready ${JSON.stringify({ tcp: m.tcpAddr, kcp: m.kcpAddr })}`);
  for await (const line of lines(Deno.stdin.readable)) {
    if (line === "stats") {
      console.log(`stats ${JSON.stringify({ kcp: m.kcp!.kcpStats, packetsIn: m.kcp!.stats.packetsIn })}`);
    }
  }
  await m.stop();
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let i: number;
    while ((i = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
}

interface Server {
  addrs: { tcp: string; kcp: string };
  stats(): Promise<{ kcp: { datagramsIn: number; datagramsOut: number }; packetsIn: number }>;
  stop(): Promise<string | undefined>;
}

async function startServer(ackNoDelay: boolean, profileDir: string | undefined): Promise<Server> {
  const flags = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...flags,
      new URL(import.meta.url).pathname,
      "--serve",
      `--ack-no-delay=${ackNoDelay}`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const next = async (prefix: string) => {
    for (;;) {
      const { value, done } = await out.next();
      if (done) throw new Error("the server exited");
      if (value.startsWith(prefix)) return JSON.parse(value.slice(prefix.length));
    }
  };
  const addrs = await next("ready ");
  return {
    addrs,
    async stats() {
      await writer.write(new TextEncoder().encode("stats\n"));
      return await next("stats ");
    },
    async stop() {
      await writer.close();
      await child.status;
      for await (const _ of out) { /* drain */ }
      if (!profileDir) return undefined;
      const files = [...Deno.readDirSync(profileDir)].filter((f) => f.name.endsWith(".cpuprofile"));
      return files.length ? `${profileDir}/${files[0].name}` : undefined;
    },
  };
}

interface Result {
  name: string;
  rate: number;
  p50: number;
  p99: number;
  datagramsPerEcho?: number;
}

/** `conns` clients, each with `inflight` echo loops, for warmup + duration; latencies of the measured window. */
async function drive(name: string, clients: Client[], warmupMs: number, durationMs: number): Promise<Result> {
  const inflight = Number(values.inflight);
  const body = { message: "x".repeat(18) }; // a 32-byte JSON payload
  const latencies: number[] = [];
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + durationMs;
  let errors = 0;
  async function loop(client: Client): Promise<void> {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      try {
        await client.request(1, body, { timeoutMs: 10_000 });
      } catch {
        errors++;
        continue;
      }
      if (t0 >= measureFrom) latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(clients.flatMap((c) => Array.from({ length: inflight }, () => loop(c))));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  if (errors > 0) console.log(`  ${name}: ${errors} requests failed`);
  return { name, rate: latencies.length / (durationMs / 1000), p50: pct(0.5), p99: pct(0.99) };
}

interface Phase {
  name: string;
  ackNoDelay: boolean;
  connect(server: Server, relayAddr: string | undefined): Promise<Client>;
  loss?: number;
}

async function main(): Promise<void> {
  const quick = values.quick;
  const conns = Number(values.conns);
  const warmupMs = Number(values.warmup) * 1000;
  const durationMs = (quick ? 2 : Number(values.duration)) * 1000;
  const base = { heartbeatIntervalMs: 0, timeoutMs: 10_000 };
  const phases: Phase[] = [
    { name: "tcp", ackNoDelay: true, connect: (s) => connectTcp({ addr: s.addrs.tcp, ...base }) },
    { name: "kcp", ackNoDelay: true, connect: (s) => connectKcp({ addr: s.addrs.kcp, ...base }) },
    {
      name: "kcp, ackNoDelay off",
      ackNoDelay: false,
      connect: (s) => connectKcp({ addr: s.addrs.kcp, ackNoDelay: false, ...base }),
    },
    {
      name: "kcp, 5 % loss",
      ackNoDelay: true,
      loss: 0.05,
      connect: (_s, relay) => connectKcp({ addr: relay!, ...base }),
    },
  ];
  console.log(
    `echo, ${conns} connections × ${values.inflight} in flight, 32-byte JSON, ${
      durationMs / 1000
    } s per phase`,
  );
  const results: Result[] = [];
  for (const phase of phases) {
    const profileDir = values.profile ? await Deno.makeTempDir({ prefix: "due_kcp_prof_" }) : undefined;
    const server = await startServer(phase.ackNoDelay, profileDir);
    const relay = phase.loss !== undefined
      ? await startLossyUdpRelay({ target: server.addrs.kcp, seed: 11, loss: phase.loss })
      : undefined;
    const clients: Client[] = [];
    for (let i = 0; i < conns; i++) clients.push(await phase.connect(server, relay?.addr));
    const before = await server.stats();
    const result = await drive(phase.name, clients, warmupMs, durationMs);
    const after = await server.stats();
    const echoes = after.packetsIn - before.packetsIn;
    if (phase.name !== "tcp" && echoes > 0) {
      const datagrams = after.kcp.datagramsIn - before.kcp.datagramsIn + after.kcp.datagramsOut -
        before.kcp.datagramsOut;
      result.datagramsPerEcho = datagrams / echoes;
    }
    await Promise.all(clients.map((c) => c.close()));
    await relay?.close();
    const profile = await server.stop();
    results.push(result);
    const extra = result.datagramsPerEcho !== undefined
      ? `, ${result.datagramsPerEcho.toFixed(2)} server datagrams/echo`
      : "";
    console.log(
      `${phase.name.padEnd(22)} ${Math.round(result.rate).toString().padStart(7)} msg/s  p50 ${
        result.p50.toFixed(2)
      } ms  p99 ${result.p99.toFixed(2)} ms${extra}`,
    );
    if (profile) printProfile(profile);
    if (profileDir) await Deno.remove(profileDir, { recursive: true });
  }
  const tcp = results[0];
  for (const r of results.slice(1)) {
    console.log(
      `ratio ${r.name} / tcp: throughput ${(r.rate / tcp.rate).toFixed(2)}, p99 ${
        (r.p99 / tcp.p99).toFixed(2)
      }`,
    );
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time by function from a V8 `.cpuprofile`, top 18, and a few buckets. */
function printProfile(path: string): void {
  const profile = JSON.parse(Deno.readTextFileSync(path)) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const dt = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === "(idle)") return;
    const file = frame.url.slice(frame.url.lastIndexOf("/") + 1);
    const key = `${frame.functionName || "(anonymous)"} ${file}${file ? `:${frame.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const buckets: Record<string, RegExp> = {
    "kcp core (kcp.ts, segment queues/pool)": /kcp\.ts|_segment_/,
    "kcp server + session": /server\.ts|_session\.ts|_due_heap\.ts|tunables\.ts/,
    "Deno UDP/TCP ops (send, receive, read, write)": /^(send|receive|read|write|op_|core\.|#?\w*[Oo]p\w*) /,
    "gate / node / codecs": /gate\.ts|dispatcher|router|context|json\.ts|proxy|node\.ts|session/,
    "GC": /garbage collector/,
  };
  const bucketTotals = new Map<string, number>();
  for (const [key, t] of self) {
    for (const [name, re] of Object.entries(buckets)) {
      if (re.test(key)) {
        bucketTotals.set(name, (bucketTotals.get(name) ?? 0) + t);
        break;
      }
    }
  }
  const pct = (t: number) => `${(100 * t / total).toFixed(1).padStart(5)} %`;
  console.log(`  server CPU (busy ${(total / 1e6).toFixed(2)} s), self time:`);
  for (const [name, t] of [...bucketTotals].sort((a, b) => b[1] - a[1])) {
    console.log(`    ${pct(t)}  [${name}]`);
  }
  for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 18)) {
    console.log(`    ${pct(t)}  ${key}`);
  }
}
