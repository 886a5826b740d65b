import { assert, assertEquals } from "../_helpers/assert.ts";
import { createPair, fromHex, patternBytes, segmentsOf, toHex } from "../_helpers/kcp.ts";
import { encodeSegmentHeader, Kcp, KCP_OVERHEAD, KcpCmd } from "../../adapters/network/kcp/mod.ts";

Deno.test("Kcp probes a zero window with WASK at 5 s then ×1.5, and resumes on the receiver's WINS", () => {
  const pair = createPair(0x77, (k) => k.setNoDelay(0, 10, 0, 1));
  const { a, b } = pair;
  const messages = Array.from({ length: 200 }, (_, i) => patternBytes(100, i));
  for (const m of messages) a.send(m);
  const drainAt = 25_000;
  const received: Uint8Array[] = [];
  const buf = new Uint8Array(2000);
  const wasks: number[] = [];
  const wins: { t: number; wnd: number }[] = [];
  let zeroAckAt = -1;
  let zeroWindowFlushAt = -1;
  for (let t = 0; t < 40_000 && received.length < messages.length; t += 10) {
    const na = pair.fromA.length;
    const nb = pair.fromB.length;
    pair.step(t);
    for (const s of pair.fromA.slice(na).flatMap(segmentsOf)) if (s.cmd === KcpCmd.WindowAsk) wasks.push(t);
    for (const s of pair.fromB.slice(nb).flatMap(segmentsOf)) {
      if (s.cmd === KcpCmd.WindowTell) wins.push({ t, wnd: s.wnd });
      if (s.cmd === KcpCmd.Ack && s.wnd === 0 && zeroAckAt < 0) zeroAckAt = t;
    }
    if (zeroWindowFlushAt < 0 && a.snapshot().probeWait > 0) zeroWindowFlushAt = t;
    if (t >= drainAt) {
      for (let n = b.recv(buf); n >= 0; n = b.recv(buf)) received.push(buf.slice(0, n));
    }
  }
  // B's queue filled to its window of 128 and its ACKs advertised 0; A's next flush armed the probe timer.
  assert(zeroAckAt >= 0, "B never advertised a zero window");
  assertEquals(zeroWindowFlushAt, zeroAckAt + 10);
  // WASK after PROBE_INIT (5000 ms), then after 7500 ms, then 11250 ms; the next would fall after the drain.
  const first = zeroWindowFlushAt + 5000;
  assertEquals(wasks, [first, first + 7500, first + 7500 + 11250]);
  assert(first + 7500 + 11250 + 16870 > drainAt);
  // B answers each WASK on its next flush with wnd 0, then tells wnd > 0 right after the application drains.
  assertEquals(wins.slice(0, 3), wasks.map((t) => ({ t: t + 10, wnd: 0 })));
  assertEquals(wins[3].t, drainAt + 10);
  assert(wins[3].wnd > 0, `WINS after the drain carries wnd ${wins[3].wnd}`);
  assertEquals(received, messages);
  assertEquals(a.snapshot().probeWait, 0);
});

Deno.test("Kcp never stores more than rcvWnd messages the application does not read", () => {
  const pair = createPair(0x78, (k) => k.setNoDelay(1, 10, 0, 1));
  for (let i = 0; i < 400; i++) pair.a.send(patternBytes(50, i));
  for (let t = 0; t < 3000; t += 10) pair.step(t);
  const snap = pair.b.snapshot();
  assertEquals(snap.nrcvQue, 128);
  assert(snap.nrcvBuf <= 128, `rcv_buf holds ${snap.nrcvBuf}`);
  assertEquals(pair.a.snapshot().rmtWnd, 0);
  assert(pair.a.waitSnd() > 200, "A stopped sending into the closed window");
});

Deno.test("Kcp encodes WINS after ACKs in the same flush with the last ACK's sn and ts, as ikcp_flush does", () => {
  const out: Uint8Array[] = [];
  const b = new Kcp(0x1234, (d) => out.push(d.slice()));
  const datagram = new Uint8Array(3 * KCP_OVERHEAD + 2);
  let p = encodeSegmentHeader(datagram, 0, 0x1234, KcpCmd.Push, 0, 128, 1234, 0, 0, 1);
  datagram[p++] = 0xaa;
  p = encodeSegmentHeader(datagram, p, 0x1234, KcpCmd.Push, 0, 128, 5678, 1, 0, 1);
  datagram[p++] = 0xbb;
  encodeSegmentHeader(datagram, p, 0x1234, KcpCmd.WindowAsk, 0, 128, 0, 0, 0, 0);
  assertEquals(b.input(datagram), 0);
  b.update(9000);
  assertEquals(out.length, 1);
  // ACK sn 0 ts 1234, ACK sn 1 ts 5678, then WINS carrying sn 1 and ts 5678 (ikcp reuses its ACK template).
  const want = "34120000" + "52" + "00" + "7e00" + "d2040000" + "00000000" + "02000000" + "00000000" +
    "34120000" + "52" + "00" + "7e00" + "2e160000" + "01000000" + "02000000" + "00000000" +
    "34120000" + "54" + "00" + "7e00" + "2e160000" + "01000000" + "02000000" + "00000000";
  assertEquals(toHex(out[0]), want);
  assertEquals(segmentsOf(fromHex(want)).map((s) => [s.cmd, s.sn, s.ts, s.wnd]), [
    [82, 0, 1234, 126],
    [82, 1, 5678, 126],
    [84, 1, 5678, 126],
  ]);
});
