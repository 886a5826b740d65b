/**
 * Micro-benchmark of the KCP protocol core (`adapters/network/kcp/`): two in-memory endpoints, no sockets, a
 * simulated clock. Prints messages/s, the bytes the JS heap grows per message in steady state (the
 * "allocation-free hot path" figure), where the time goes, and a ratio against a baseline measured in the same
 * run (bare framing: header + copy in, parse + copy out, no reliability).
 *
 * Run: `npx -y deno@2.9.6 run -A bench/kcp_core.ts` (add `--quick` for a short run). It re-runs itself with
 * `--v8-flags=--expose-gc,…` so that it can force a GC and hold the young generation at 64 MiB: heap growth over
 * a measured window is then what that window allocated.
 *
 * @module
 */
import { Kcp } from "../adapters/network/kcp/mod.ts";

const V8_FLAGS = "--v8-flags=--expose-gc,--min-semi-space-size=64,--max-semi-space-size=64";
const gc = (globalThis as { gc?: () => void }).gc;

if (gc === undefined) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", V8_FLAGS, new URL(import.meta.url).pathname, ...Deno.args],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  Deno.exit((await child.status).code);
}
const collect = gc!;
const quick = Deno.args.includes("--quick");
const scale = quick ? 0.1 : 1;

interface PairOptions {
  size: number;
  wnd: number;
  /** Drop every n-th datagram in each direction; 0: no loss. */
  lossEvery: number;
  /** Time input() separately (adds two clock reads per datagram). */
  timeInput: boolean;
}

interface Phases {
  send: number;
  flushA: number;
  flushB: number;
  input: number;
  recv: number;
}

/** A sender A and a receiver B; A's output calls B's input directly (and back), so the link allocates nothing. */
function createBenchPair(options: PairOptions) {
  const { size, wnd, lossEvery, timeInput } = options;
  const phases: Phases = { send: 0, flushA: 0, flushB: 0, input: 0, recv: 0 };
  let datagramsA = 0;
  let datagramsB = 0;
  const deliver = (to: () => Kcp, counter: () => number) => (d: Uint8Array) => {
    const n = counter();
    if (lossEvery > 0 && n % lossEvery === 0) return;
    if (timeInput) {
      const t0 = performance.now();
      to().input(d);
      phases.input += performance.now() - t0;
    } else {
      to().input(d);
    }
  };
  const a: Kcp = new Kcp(0x1234, deliver(() => b, () => ++datagramsA));
  const b: Kcp = new Kcp(0x1234, deliver(() => a, () => ++datagramsB));
  for (const k of [a, b]) {
    k.setNoDelay(1, 10, 2, 1);
    k.setWndSize(wnd, wnd);
  }
  const message = new Uint8Array(size);
  for (let i = 0; i < size; i++) message[i] = i * 7;
  const buffer = new Uint8Array(65536);
  let now = 0;
  let bytes = 0;

  /** Moves `count` messages from A to B. */
  function run(count: number, timed: boolean): void {
    let sent = 0;
    let received = 0;
    while (received < count) {
      let t0 = timed ? performance.now() : 0;
      while (sent < count && a.waitSnd() < 2 * wnd) {
        a.send(message);
        sent++;
      }
      if (timed) {
        const t1 = performance.now();
        phases.send += t1 - t0;
        t0 = t1;
      }
      a.update(now);
      if (timed) {
        const t1 = performance.now();
        phases.flushA += t1 - t0;
        t0 = t1;
      }
      b.update(now);
      if (timed) {
        const t1 = performance.now();
        phases.flushB += t1 - t0;
        t0 = t1;
      }
      for (let n = b.recv(buffer); n >= 0; n = b.recv(buffer)) {
        received++;
        bytes += n;
      }
      if (timed) phases.recv += performance.now() - t0;
      now += 10;
    }
  }
  return { a, b, run, phases, datagrams: () => datagramsA + datagramsB, bytes: () => bytes };
}

/** The baseline: frame `count` messages into MTU-sized datagrams (24-byte header + copy) and copy them out. */
function baseline(count: number, size: number): void {
  const mtu = 1400;
  const datagram = new Uint8Array(mtu);
  const out = new Uint8Array(65536);
  const message = new Uint8Array(size);
  let ptr = 0;
  let sink = 0;
  const drain = () => {
    let off = 0;
    while (off + 24 <= ptr) {
      const len = datagram[off + 20] | (datagram[off + 21] << 8);
      out.set(datagram.subarray(off + 24, off + 24 + len), 0);
      sink += out[0];
      off += 24 + len;
    }
    ptr = 0;
  };
  for (let i = 0; i < count; i++) {
    let rest = size;
    while (rest > 0) {
      const len = Math.min(rest, mtu - 24);
      if (ptr + 24 + len > mtu) drain();
      datagram.fill(0, ptr, ptr + 20);
      datagram[ptr + 20] = len;
      datagram[ptr + 21] = len >> 8;
      datagram.set(len === size ? message : message.subarray(0, len), ptr + 24);
      ptr += 24 + len;
      rest -= len;
    }
  }
  drain();
  if (sink < 0) console.log(sink);
}

/** JS heap plus off-heap ArrayBuffer memory, after a full GC. */
function memory(): number {
  collect();
  collect();
  return allocated();
}

function allocated(): number {
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

interface Scenario {
  name: string;
  size: number;
  count: number;
  wnd: number;
  lossEvery: number;
}

const scenarios: Scenario[] = [
  { name: "64 B messages, no loss", size: 64, count: Math.round(1_000_000 * scale), wnd: 256, lossEvery: 0 },
  { name: "1 KiB messages, no loss", size: 1024, count: Math.round(300_000 * scale), wnd: 256, lossEvery: 0 },
  {
    name: "4 KiB messages (3 fragments)",
    size: 4096,
    count: Math.round(100_000 * scale),
    wnd: 256,
    lossEvery: 0,
  },
  {
    name: "64 B messages, 1 in 20 lost",
    size: 64,
    count: Math.round(300_000 * scale),
    wnd: 256,
    lossEvery: 20,
  },
];

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits });
}

console.log(
  `KCP core micro-benchmark (Deno ${Deno.version.deno}, V8 ${Deno.version.v8})${quick ? " --quick" : ""}`,
);
console.log("nodelay(1, 10, 2, 1), mtu 1400, A → B over a direct in-memory link\n");

for (const s of scenarios) {
  // Throughput and heap growth, no timers inside the loop.
  const pair = createBenchPair({ size: s.size, wnd: s.wnd, lossEvery: s.lossEvery, timeInput: false });
  pair.run(Math.ceil(s.count / 5), false); // warm up: JIT, segment pool, queue rings
  const datagrams0 = pair.datagrams();
  const before = memory();
  const t0 = performance.now();
  pair.run(s.count, false);
  const ms = performance.now() - t0;
  const grown = allocated() - before;
  const datagrams = pair.datagrams() - datagrams0;

  // Baseline in the same run.
  baseline(Math.ceil(s.count / 5), s.size);
  const b0 = performance.now();
  baseline(s.count, s.size);
  const baseMs = performance.now() - b0;

  // Where the time goes, on a fresh pair with timers around each phase and each input().
  const timed = createBenchPair({ size: s.size, wnd: s.wnd, lossEvery: s.lossEvery, timeInput: true });
  timed.run(Math.ceil(s.count / 5), true);
  for (const k of Object.keys(timed.phases) as (keyof Phases)[]) timed.phases[k] = 0;
  timed.run(s.count, true);
  const p = timed.phases;
  const total = p.send + p.flushA + p.flushB + p.recv;
  const share = (x: number) => `${fmt((100 * x) / total)}%`;

  console.log(`${s.name}: ${fmt(s.count)} messages`);
  console.log(
    `  ${fmt(s.count / (ms / 1000))} msg/s, ${fmt((s.count * s.size) / 1e6 / (ms / 1000), 1)} MB/s, ` +
      `${fmt((ms * 1e6) / s.count)} ns/msg, ${fmt(datagrams)} datagrams`,
  );
  console.log(
    `  memory growth: ${fmt(grown / s.count, 2)} B/msg, ${fmt(grown / datagrams, 1)} B/datagram ` +
      `(${fmt(grown / 1024)} KiB over the window)`,
  );
  console.log(
    `  baseline (framing + copies only): ${fmt((baseMs * 1e6) / s.count)} ns/msg → KCP ×${
      fmt(ms / baseMs, 1)
    }`,
  );
  console.log(
    `  time: send ${share(p.send)}, A update (data out) ${share(p.flushA)} incl. B input, ` +
      `B update (ACKs out) ${share(p.flushB)} incl. A input, recv ${share(p.recv)}; ` +
      `input() alone ${share(p.input)}\n`,
  );
}

// The game-server shape: many sessions, one small message per session per tick.
{
  const sessions = 1000;
  const ticks = Math.round(200 * scale);
  const clients: Kcp[] = [];
  const servers: Kcp[] = [];
  for (let i = 0; i < sessions; i++) {
    const c: Kcp = new Kcp(i, (d) => s.input(d));
    const s: Kcp = new Kcp(i, (d) => c.input(d));
    for (const k of [c, s]) k.setNoDelay(1, 10, 2, 1);
    clients.push(c);
    servers.push(s);
  }
  const message = new Uint8Array(32);
  const buffer = new Uint8Array(1400);
  let now = 0;
  let received = 0;
  const tick = () => {
    for (const c of clients) c.send(message);
    for (const c of clients) c.update(now);
    for (const s of servers) {
      s.update(now);
      while (s.recv(buffer) >= 0) received++;
    }
    now += 10;
  };
  for (let i = 0; i < 20; i++) tick();
  received = 0;
  const before = memory();
  const t0 = performance.now();
  for (let i = 0; i < ticks; i++) tick();
  const ms = performance.now() - t0;
  const grown = allocated() - before;
  console.log(`${sessions} sessions × ${ticks} ticks, one 32 B message per session per tick:`);
  console.log(
    `  ${fmt(received / (ms / 1000))} msg/s, ${fmt((ms * 1e6) / (ticks * sessions * 2))} ns per update() ` +
      `(two per session per tick, each with one flush and one input), memory growth ${
        fmt(grown / received, 1)
      } B/msg`,
  );
}
