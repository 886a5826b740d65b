/**
 * Two endpoints over a simulated link with loss, latency jitter (reordering) and duplication, driven as a UDP
 * session wrapper would drive them: `update()` only when `check()` says so, `input()` per arriving datagram,
 * sends gated by `waitSnd()`. Every message must arrive intact and in order, and the run must finish.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { createRandom, createSimLink, patternBytes, type SimLinkOptions } from "../_helpers/kcp.ts";
import { Kcp } from "../../adapters/network/kcp/mod.ts";

interface SimCase {
  name: string;
  nodelay: [number, number, number, number];
  wnd: [number, number];
  mtu: number;
  stream: boolean;
  link: Omit<SimLinkOptions, "random">;
  messages: number;
  maxBytes: number;
}

const CASES: SimCase[] = [
  {
    name: "normal mode, cwnd on, 10% loss, 5% duplicates, 10-80 ms latency",
    nodelay: [0, 10, 0, 0],
    wnd: [32, 128],
    mtu: 1400,
    stream: false,
    link: { loss: 0.1, duplicate: 0.05, minDelayMs: 10, maxDelayMs: 80 },
    messages: 150,
    maxBytes: 4000,
  },
  {
    name: "fast mode (1, 10, 2, 1), 20% loss, 10% duplicates, 5-100 ms latency",
    nodelay: [1, 10, 2, 1],
    wnd: [64, 64],
    mtu: 512,
    stream: false,
    link: { loss: 0.2, duplicate: 0.1, minDelayMs: 5, maxDelayMs: 100 },
    messages: 200,
    maxBytes: 3000,
  },
  {
    name: "nodelay 2 with cwnd, mtu 200, 15% loss, 5% duplicates, 0-60 ms latency",
    nodelay: [2, 20, 1, 0],
    wnd: [16, 16],
    mtu: 200,
    stream: false,
    link: { loss: 0.15, duplicate: 0.05, minDelayMs: 0, maxDelayMs: 60 },
    messages: 100,
    maxBytes: 2000,
  },
  {
    name: "stream mode, 10% loss, 5% duplicates, 10-50 ms latency",
    nodelay: [1, 10, 2, 1],
    wnd: [32, 128],
    mtu: 300,
    stream: true,
    link: { loss: 0.1, duplicate: 0.05, minDelayMs: 10, maxDelayMs: 50 },
    messages: 200,
    maxBytes: 1500,
  },
];

const SIM_LIMIT_MS = 30 * 60 * 1000;
/** Start near 2^32 so that the u32 clock wraps during the run. */
const T0 = 0xffffffff - 1_000;

interface Side {
  kcp: Kcp;
  /** Messages this side sends. */
  outgoing: Uint8Array[];
  nextToSend: number;
  /** The peer's messages (message mode) or stream (stream mode) as received. */
  received: Uint8Array[];
  receivedBytes: number;
}

function runSim(c: SimCase, seed: number) {
  const random = createRandom(seed);
  const ab = createSimLink({ random, ...c.link });
  const ba = createSimLink({ random, ...c.link });
  let sim = 0; // ms since start, never wraps; the endpoints see (T0 + sim) mod 2^32
  const now32 = () => (T0 + sim) >>> 0;
  const make = (link: typeof ab, salt: number): Side => {
    const kcp = new Kcp(0x5eed, (d) => link.send(d, sim));
    kcp.setNoDelay(...c.nodelay);
    kcp.setWndSize(...c.wnd);
    kcp.setMtu(c.mtu);
    kcp.stream = c.stream;
    const outgoing = Array.from(
      { length: c.messages },
      (_, i) => patternBytes(Math.floor(random() * (c.maxBytes + 1)), i * 7 + salt),
    );
    return { kcp, outgoing, nextToSend: 0, received: [], receivedBytes: 0 };
  };
  const a = make(ab, 1);
  const b = make(ba, 2);
  const buf = new Uint8Array(128 * c.mtu);
  let maxRcvBuf = 0;
  let maxRcvQue = 0;
  let wakeups = 0;

  const totalBytes = (s: Side) => s.outgoing.reduce((n, m) => n + m.length, 0);
  const done = () =>
    a.nextToSend === c.messages && b.nextToSend === c.messages && a.kcp.waitSnd() === 0 &&
    b.kcp.waitSnd() === 0 && (c.stream
      ? a.receivedBytes === totalBytes(b) && b.receivedBytes === totalBytes(a)
      : a.received.length === c.messages && b.received.length === c.messages);

  while (!done()) {
    if (sim > SIM_LIMIT_MS) throw new Error(`${c.name}, seed ${seed}: not done after ${SIM_LIMIT_MS} ms`);
    wakeups++;
    ab.deliverDue(sim, (d) => assertEquals(b.kcp.input(d), 0));
    ba.deliverDue(sim, (d) => assertEquals(a.kcp.input(d), 0));
    for (const s of [a, b]) {
      for (let n = s.kcp.recv(buf); n >= 0; n = s.kcp.recv(buf)) {
        s.received.push(buf.slice(0, n));
        s.receivedBytes += n;
      }
      while (s.nextToSend < c.messages && s.kcp.waitSnd() < 2 * c.wnd[0]) {
        const m = s.outgoing[s.nextToSend++];
        assertEquals(s.kcp.send(m), m.length);
      }
      const snap = s.kcp.snapshot();
      maxRcvBuf = Math.max(maxRcvBuf, snap.nrcvBuf);
      maxRcvQue = Math.max(maxRcvQue, snap.nrcvQue);
      s.kcp.update(now32());
    }
    // Sleep until an endpoint's check() time or the next arrival, whichever is first. Right after update(now),
    // check(now) is always later than now, so a timer driven by it never spins.
    const dueA = (a.kcp.check(now32()) - now32()) | 0;
    const dueB = (b.kcp.check(now32()) - now32()) | 0;
    assert(dueA > 0 && dueB > 0 && dueA <= c.nodelay[1] && dueB <= c.nodelay[1], `check(): ${dueA}, ${dueB}`);
    sim = Math.min(sim + dueA, sim + dueB, Math.max(sim, Math.min(ab.nextArrival(), ba.nextArrival())));
  }
  return { a, b, ab, ba, sim, maxRcvBuf, maxRcvQue, wakeups };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0));
  let off = 0;
  for (const x of chunks) {
    all.set(x, off);
    off += x.length;
  }
  return all;
}

for (const c of CASES) {
  Deno.test(`Kcp delivers every message in order over a lossy link: ${c.name}`, () => {
    for (const seed of [1, 2, 3]) {
      const r = runSim(c, seed);
      const label = `seed ${seed}`;
      if (c.stream) {
        assertEquals(concat(r.b.received), concat(r.a.outgoing), label);
        assertEquals(concat(r.a.received), concat(r.b.outgoing), label);
      } else {
        assertEquals(r.b.received, r.a.outgoing, label);
        assertEquals(r.a.received, r.b.outgoing, label);
      }
      assertEquals([r.a.kcp.state, r.b.kcp.state], [0, 0], label);
      // The link really was hostile, and memory stayed within the windows.
      for (const link of [r.ab, r.ba]) {
        assert(link.stats.lost > 0 && link.stats.duplicated > 0 && link.stats.reordered > 0, label);
      }
      assert(
        r.maxRcvBuf <= 128 && r.maxRcvQue <= 128,
        `${label}: rcv_buf ${r.maxRcvBuf} rcv_queue ${r.maxRcvQue}`,
      );
      assert(r.a.kcp.snapshot().xmit > 0, `${label}: some segment timed out and was resent`);
      // The clock wrapped past 2^32 during the run.
      assert(r.sim > 1_000, `${label}: ran ${r.sim} ms`);
    }
  });
}

Deno.test("Kcp simulation is deterministic for a seed", () => {
  const first = runSim(CASES[1], 42);
  const second = runSim(CASES[1], 42);
  assertEquals(second.sim, first.sim);
  assertEquals(second.wakeups, first.wakeups);
  assertEquals(second.ab.stats, first.ab.stats);
  assertEquals(second.a.kcp.snapshot(), first.a.kcp.snapshot());
});
