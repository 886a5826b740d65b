import { assert, assertEquals } from "../_helpers/assert.ts";
import { createPair, patternBytes, segmentsOf } from "../_helpers/kcp.ts";
import { encodeSegmentHeader, Kcp, KCP_OVERHEAD, KcpCmd, KcpState } from "../../adapters/network/kcp/mod.ts";

/** Sends one message into a link that drops everything; returns when sn 0 went out and `state` after each. */
function transmissionsIntoVoid(nodelay: number, deadLink: number, untilMs: number) {
  const times: number[] = [];
  const states: number[] = [];
  let now = 0;
  const kcp = new Kcp(1, (d) => {
    for (const s of segmentsOf(d)) if (s.cmd === KcpCmd.Push && s.sn === 0) times.push(now);
  });
  kcp.setNoDelay(nodelay, 10, 0, 1);
  kcp.deadLink = deadLink;
  kcp.send(patternBytes(10, 0));
  for (now = 1000; now <= untilMs; now += 10) {
    const before = times.length;
    kcp.update(now);
    if (times.length > before) states.push(kcp.state);
  }
  return { kcp, times, states };
}

Deno.test("Kcp resends on timeout with ikcp's RTO back-off for nodelay 0, 1 and 2", () => {
  // nodelay 0: the first resend waits rto + rto/8 (225 ms), then the RTO doubles.
  assertEquals(transmissionsIntoVoid(0, 100, 8000).times, [1000, 1230, 1630, 2430, 4030, 7230]);
  // nodelay 1: no extra first delay; each timeout grows the segment's RTO by half of itself.
  assertEquals(transmissionsIntoVoid(1, 100, 4000).times, [1000, 1200, 1500, 1950, 2630, 3650]);
  // nodelay 2: each timeout grows the RTO by half of rx_rto (200 → +100).
  assertEquals(transmissionsIntoVoid(2, 100, 3000).times, [1000, 1200, 1500, 1900, 2400, 3000]);
});

Deno.test("Kcp sets state -1 on the flush that sends one segment for the deadLink-th time", () => {
  const { kcp, times, states } = transmissionsIntoVoid(0, 6, 14_000);
  assertEquals(times, [1000, 1230, 1630, 2430, 4030, 7230, 13630]);
  assertEquals(states, [0, 0, 0, 0, 0, -1, -1]);
  assertEquals(kcp.state, KcpState.DeadLink);
  assertEquals(kcp.snapshot().xmit, 6); // timeout resends
});

Deno.test("Kcp reaches the default dead link of 20 transmissions and not before", () => {
  const { kcp, states } = transmissionsIntoVoid(2, 20, 30_000); // RTO 200, 300, 400, …: 20 sends in 20.9 s
  assertEquals(kcp.deadLink, 20);
  assertEquals(states.indexOf(-1), 19);
  assertEquals(states.length > 20, true);
});

Deno.test("Kcp stays alive while the peer acknowledges, however long it runs", () => {
  const pair = createPair(2, (k) => k.setNoDelay(1, 10, 2, 1));
  for (let t = 0; t < 60_000; t += 10) {
    if (t % 100 === 0) pair.a.send(patternBytes(200, t));
    pair.step(t);
    while (pair.b.recv(new Uint8Array(200)) >= 0);
  }
  assertEquals(pair.a.state, KcpState.Alive);
  assertEquals(pair.a.waitSnd(), 0);
});

function ackDatagram(conv: number, sn: number, ts: number, una: number): Uint8Array {
  const d = new Uint8Array(KCP_OVERHEAD);
  encodeSegmentHeader(d, 0, conv, KcpCmd.Ack, 0, 128, ts, sn, una, 0);
  return d;
}

/** Sends 5 segments at t=1000, then acks sn 1, 2, 3 one per 10 ms with the given ts; returns sn 0's send times. */
function fastResends(fastLimit: number, ackTs: (i: number) => number) {
  const times: number[] = [];
  let now = 1000;
  const kcp = new Kcp(3, (d) => {
    for (const s of segmentsOf(d)) if (s.cmd === KcpCmd.Push && s.sn === 0) times.push(now);
  });
  kcp.setNoDelay(1, 10, 1, 1);
  kcp.fastLimit = fastLimit;
  for (let i = 0; i < 5; i++) kcp.send(patternBytes(10, i));
  kcp.update(now);
  for (let i = 0; i < 3; i++) {
    assertEquals(kcp.input(ackDatagram(3, i + 1, ackTs(i), 0)), 0);
    now += 10;
    kcp.update(now);
  }
  now += 10;
  kcp.update(now);
  return times;
}

Deno.test("Kcp fast-resends a segment skipped by later ACKs, up to fastLimit transmissions", () => {
  // ACK ts = the time sn 0 was last sent, so FASTACK_CONSERVE counts each one.
  const ts = (i: number) => 1000 + 10 * i;
  assertEquals(fastResends(5, ts), [1000, 1010, 1020, 1030]);
  assertEquals(fastResends(2, ts), [1000, 1010, 1020]);
  assertEquals(fastResends(0, ts), [1000, 1010, 1020, 1030]); // 0: no limit
});

Deno.test("Kcp ignores, for fast resend, an ACK of a transmission older than the skipped segment's", () => {
  // Every ACK carries ts 1000 while sn 0 was resent at 1010: only the first ACK counts (IKCP_FASTACK_CONSERVE).
  assertEquals(fastResends(5, () => 1000), [1000, 1010]);
});

Deno.test("Kcp collapses cwnd to 1 and halves ssthresh from the flush's starting cwnd on a timeout", () => {
  let drop = false;
  let toB: Uint8Array[] = [];
  let toA: Uint8Array[] = [];
  const a = new Kcp(4, (d) => drop || toB.push(d.slice()));
  const b = new Kcp(4, (d) => toA.push(d.slice()));
  for (const k of [a, b]) k.setNoDelay(1, 10, 0, 0);
  let t = 0;
  for (; t < 2000; t += 10) {
    a.send(patternBytes(500, t));
    a.update(t);
    b.update(t);
    for (const d of toB) b.input(d);
    for (const d of toA) a.input(d);
    toB = [];
    toA = [];
    while (b.recv(new Uint8Array(500)) >= 0);
  }
  const grown = a.snapshot().cwnd;
  assert(grown > 4, `cwnd grew to ${grown}`);
  drop = true;
  let timedOut = false;
  for (; t < 4000 && !timedOut; t += 10) {
    const before = a.snapshot();
    a.update(t);
    const after = a.snapshot();
    if (after.xmit > before.xmit) {
      timedOut = true;
      assertEquals(after.cwnd, 1);
      assertEquals(after.ssthresh, Math.max(2, Math.floor(before.cwnd / 2)));
      assertEquals(after.incr, a.mss);
    }
  }
  assert(timedOut, "no timeout resend happened");
});
