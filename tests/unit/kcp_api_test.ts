import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { patternBytes, segmentsOf } from "../_helpers/kcp.ts";
import { DEFAULT_KCP_MTU_BYTES, Kcp, KcpCmd } from "../../adapters/network/kcp/mod.ts";

Deno.test("new Kcp() validates conv and output", () => {
  for (const conv of [-1, 2 ** 32, 1.5, NaN]) {
    assertThrows(() => new Kcp(conv, () => {}), RangeError, "'conv'");
  }
  assertThrows(() => new Kcp(1, undefined as unknown as () => void), TypeError, "'output'");
  assertEquals(new Kcp(0xffffffff, () => {}).conv, 0xffffffff);
});

Deno.test("new Kcp() starts with ikcp's defaults", () => {
  const s = new Kcp(1, () => {}).snapshot();
  assertEquals(
    [
      s.mtu,
      s.mss,
      s.sndWnd,
      s.rcvWnd,
      s.rmtWnd,
      s.cwnd,
      s.ssthresh,
      s.rxRto,
      s.rxMinrto,
      s.interval,
      s.tsFlush,
    ],
    [DEFAULT_KCP_MTU_BYTES, 1376, 32, 128, 128, 0, 2, 200, 100, 100, 100],
  );
});

Deno.test("Kcp.setMtu() accepts 50..65535 and sets mss = mtu - 24", () => {
  const kcp = new Kcp(1, () => {});
  for (const mtu of [49, 65536, 100.5]) assertThrows(() => kcp.setMtu(mtu), RangeError, "'mtu'");
  kcp.setMtu(50);
  assertEquals([kcp.mtu, kcp.mss], [50, 26]);
  kcp.setMtu(65535);
  assertEquals([kcp.mtu, kcp.mss], [65535, 65511]);
});

Deno.test("Kcp.setWndSize() keeps rcvWnd >= 128 and leaves a window unchanged for values <= 0", () => {
  const kcp = new Kcp(1, () => {});
  kcp.setWndSize(8, 8);
  assertEquals([kcp.snapshot().sndWnd, kcp.snapshot().rcvWnd], [8, 128]);
  kcp.setWndSize(0, 1024);
  assertEquals([kcp.snapshot().sndWnd, kcp.snapshot().rcvWnd], [8, 1024]);
  kcp.setWndSize(-1, 0);
  assertEquals([kcp.snapshot().sndWnd, kcp.snapshot().rcvWnd], [8, 1024]);
  assertThrows(() => kcp.setWndSize(65536, 1), RangeError, "'sndWnd'");
  assertThrows(() => kcp.setWndSize(1, 1.5), RangeError, "'rcvWnd'");
});

Deno.test("Kcp.setNoDelay() sets minimum RTO by mode, clamps the interval and skips negative values", () => {
  const kcp = new Kcp(1, () => {});
  kcp.setNoDelay(1, 5, 2, 1);
  assertEquals([kcp.minRtoMs, kcp.intervalMs], [30, 10]);
  kcp.setNoDelay(-1, 10_000, -1, -1);
  assertEquals([kcp.minRtoMs, kcp.intervalMs], [30, 5000]);
  kcp.setNoDelay(0, -1, -1, -1);
  assertEquals([kcp.minRtoMs, kcp.intervalMs], [100, 5000]);
  assertThrows(() => kcp.setNoDelay(0.5, 10, 0, 0), RangeError, "'nodelay'");
});

Deno.test("Kcp setters validate deadLink, minRtoMs, fastLimit and intervalMs", () => {
  const kcp = new Kcp(1, () => {});
  assertThrows(() => (kcp.deadLink = 0), RangeError, "'deadLink'");
  assertThrows(() => (kcp.minRtoMs = 0), RangeError, "'minRtoMs'");
  assertThrows(() => (kcp.fastLimit = 1.5), RangeError, "'fastLimit'");
  assertThrows(() => (kcp.intervalMs = -1), RangeError, "'intervalMs'");
  kcp.deadLink = 3;
  kcp.minRtoMs = 10;
  kcp.fastLimit = -1;
  kcp.intervalMs = 1;
  assertEquals([kcp.deadLink, kcp.minRtoMs, kcp.fastLimit, kcp.intervalMs], [3, 10, -1, 10]);
});

Deno.test("Kcp emits datagrams only from update() and flush(), never from send(), input() or recv()", () => {
  let outputs = 0;
  const a = new Kcp(1, () => outputs++);
  a.setNoDelay(1, 10, 0, 1);
  a.send(patternBytes(3000, 1));
  a.flush(); // before the first update(): nothing, as ikcp
  assertEquals(outputs, 0);
  const wire: Uint8Array[] = [];
  const b = new Kcp(1, (d) => wire.push(d.slice()));
  const tmp = new Kcp(1, (d) => b.input(d));
  tmp.setNoDelay(1, 10, 0, 1);
  tmp.send(patternBytes(100, 2));
  tmp.update(0);
  b.recv(new Uint8Array(100));
  assertEquals(wire.length, 0);
  a.update(0);
  assert(outputs > 0);
});

Deno.test("Kcp reuses one buffer for the datagrams it emits, so output must copy what it keeps", () => {
  const views: Uint8Array[] = [];
  const kcp = new Kcp(1, (d) => views.push(d));
  kcp.setNoDelay(1, 10, 0, 1);
  kcp.send(patternBytes(4000, 3));
  kcp.update(0);
  assertEquals(views.length, 3);
  assert(views.every((v) => v.buffer === views[0].buffer && v.byteOffset === 0), "one shared buffer");
  assertEquals(segmentsOf(views[2]).map((s) => s.frg), [0]); // views[0] and [1] now show the last datagram's bytes
  assertEquals(segmentsOf(views[0].slice(0, views[2].length))[0].frg, 0);
});

Deno.test("Kcp.check() is current before the first update(), then the next flush within the interval", () => {
  const kcp = new Kcp(1, () => {});
  kcp.setNoDelay(0, 50, 0, 0);
  assertEquals(kcp.check(1234), 1234);
  kcp.update(1000);
  assertEquals(kcp.check(1000), 1050);
  assertEquals(kcp.check(1030), 1050);
  assertEquals(kcp.check(1050), 1050);
  assertEquals(kcp.check(1100), 1100);
});

Deno.test("Kcp.check() and update() follow the u32 clock across 2^32", () => {
  const kcp = new Kcp(1, () => {});
  kcp.setNoDelay(1, 100, 0, 1);
  kcp.update(0xffffffc0);
  assertEquals(kcp.check(0xffffffc0), 0x24); // 0xffffffc0 + 100 wraps to 36
  assertEquals(kcp.snapshot().tsFlush, 0x24);
  kcp.update(0x24);
  assertEquals(kcp.snapshot().tsFlush, 0x88);
  assertEquals(kcp.check(2 ** 32 + 0x30), 0x88); // callers may pass an unwrapped count: it is taken mod 2^32
});

Deno.test("Kcp.check() reports the next flush, not now, when a resend falls between flushes", () => {
  let outputs = 0;
  const kcp = new Kcp(1, () => outputs++);
  kcp.setNoDelay(1, 30, 0, 1);
  kcp.send(new Uint8Array(10));
  for (let t = 0; t <= 180; t += 30) kcp.update(t); // sent at 0, resend due at 200, flushes at 0, 30, …, 210
  assertEquals(outputs, 1);
  assertEquals(kcp.check(195), 200);
  kcp.update(200);
  assertEquals(outputs, 1); // update() does not flush before ts_flush…
  assertEquals(kcp.check(200), 210); // …so check() says 210 (ikcp_check would say 200 until then)
  kcp.update(210);
  assertEquals(outputs, 2);
});

Deno.test("Kcp.update() resynchronises the flush schedule after a clock jump of 10 s or more", () => {
  let outputs = 0;
  const kcp = new Kcp(1, (d) => outputs += segmentsOf(d).filter((s) => s.cmd === KcpCmd.Push).length);
  kcp.setNoDelay(1, 10, 0, 1);
  kcp.update(0);
  kcp.update(50_000);
  assertEquals(kcp.snapshot().tsFlush, 50_010);
  kcp.update(30_000); // backwards by 20 s
  assertEquals(kcp.snapshot().tsFlush, 30_010);
  kcp.update(29_000); // backwards by 1 s: waits for the old schedule
  assertEquals(kcp.snapshot().tsFlush, 30_010);
  assertEquals(outputs, 0);
});

Deno.test("Kcp sends a segment queued before setMtu() shrank the MTU in a datagram of its own", () => {
  const sizes: number[] = [];
  const kcp = new Kcp(1, (d) => sizes.push(d.length));
  kcp.setNoDelay(1, 10, 0, 1);
  kcp.send(patternBytes(1000, 1)); // one segment of 1000 bytes at mss 1376
  kcp.setMtu(200);
  kcp.send(patternBytes(300, 2)); // two segments at mss 176
  kcp.update(0);
  // ikcp would write the 1024-byte segment past its 3·(mtu + 24) = 672-byte buffer; the port grows its buffer.
  assertEquals(sizes, [1024, 200, 148]);
});

Deno.test("Kcp.hasPendingAcks tells whether an input left ACKs to send: after PUSH yes, after ACKs only no", () => {
  const sent: Uint8Array[] = [];
  const a = new Kcp(7, (d) => sent.push(d.slice()));
  const b = new Kcp(7, (d) => sent.push(d.slice()));
  a.send(new Uint8Array([1, 2, 3]));
  a.update(0);
  a.flush();
  const push = sent.splice(0);
  assertEquals(b.hasPendingAcks, false);
  for (const d of push) b.input(d);
  assertEquals(b.hasPendingAcks, true);
  b.update(0);
  b.flush();
  assertEquals(b.hasPendingAcks, false);
  for (const d of sent.splice(0)) a.input(d); // b's ACK
  assertEquals(a.hasPendingAcks, false);
});
