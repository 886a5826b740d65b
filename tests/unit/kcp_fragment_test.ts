import { assertEquals } from "../_helpers/assert.ts";
import { createPair, patternBytes, segmentsOf } from "../_helpers/kcp.ts";
import {
  Kcp,
  KCP_MAX_FRAGMENTS,
  KcpCmd,
  KcpRecvResult,
  KcpSendResult,
} from "../../adapters/network/kcp/mod.ts";

/** mtu 100 → mss 76, and one full segment per datagram. */
function smallMtu(kcp: Kcp): void {
  kcp.setNoDelay(1, 10, 0, 1);
  kcp.setMtu(100);
}

function pushesOf(datagrams: Uint8Array[]) {
  return datagrams.flatMap(segmentsOf).filter((s) => s.cmd === KcpCmd.Push);
}

Deno.test("Kcp.send() splits a message into fragments count-1..0 of at most mss bytes", () => {
  const out: Uint8Array[] = [];
  const kcp = new Kcp(9, (d) => out.push(d.slice()));
  kcp.setNoDelay(0, 10, 0, 1);
  assertEquals(kcp.mss, 1376);
  assertEquals(kcp.send(patternBytes(5000, 1)), 5000);
  assertEquals(kcp.waitSnd(), 4);
  kcp.update(1000);
  const pushes = pushesOf(out);
  assertEquals(pushes.map((s) => s.frg), [3, 2, 1, 0]);
  assertEquals(pushes.map((s) => s.len), [1376, 1376, 1376, 872]);
  assertEquals(pushes.map((s) => s.sn), [0, 1, 2, 3]);
  assertEquals(out.every((d) => d.length <= 1400), true);
});

Deno.test("Kcp.send() accepts 0 to 127·mss bytes and rejects a message of 128 fragments with -2", () => {
  const kcp = new Kcp(9, () => {});
  kcp.setMtu(100);
  const sizes = [0, 1, 75, 76, 77, 76 * KCP_MAX_FRAGMENTS];
  const counts = [1, 1, 1, 1, 2, 127];
  for (let i = 0; i < sizes.length; i++) {
    const before = kcp.waitSnd();
    assertEquals(kcp.send(new Uint8Array(sizes[i])), sizes[i]);
    assertEquals(kcp.waitSnd() - before, counts[i], `size ${sizes[i]}`);
  }
  const before = kcp.waitSnd();
  assertEquals(kcp.send(new Uint8Array(76 * KCP_MAX_FRAGMENTS + 1)), KcpSendResult.TooLarge);
  assertEquals(kcp.waitSnd(), before);
});

Deno.test("Kcp reassembles messages of every size in order, a zero-length one included", () => {
  const pair = createPair(0x51, smallMtu);
  const sizes = [0, 1, 75, 76, 77, 500, 76 * 127, 3];
  const sent = sizes.map((n, i) => patternBytes(n, i));
  for (const m of sent) assertEquals(pair.a.send(m), m.length);
  const got: Uint8Array[] = [];
  const buf = new Uint8Array(76 * 127);
  for (let t = 0; t < 5000 && got.length < sent.length; t += 10) {
    pair.step(t);
    for (let n = pair.b.recv(buf); n >= 0; n = pair.b.recv(buf)) got.push(buf.slice(0, n));
  }
  assertEquals(got, sent);
  assertEquals(pair.b.recv(buf), KcpRecvResult.Empty);
});

Deno.test("Kcp.recv() returns -2 until the last fragment arrives, then the whole message", () => {
  const out: Uint8Array[] = [];
  const a = new Kcp(3, (d) => out.push(d.slice()));
  const b = new Kcp(3, () => {});
  smallMtu(a);
  smallMtu(b);
  const message = patternBytes(760, 7); // 10 fragments
  a.send(message);
  a.update(0);
  assertEquals(out.length, 10);
  for (const d of out.slice(0, 9)) assertEquals(b.input(d), 0);
  const buf = new Uint8Array(1000);
  assertEquals(b.peekSize(), -1);
  assertEquals(b.recv(buf), KcpRecvResult.Incomplete);
  assertEquals(b.input(out[9]), 0);
  assertEquals(b.peekSize(), 760);
  assertEquals(b.recv(buf), 760);
  assertEquals(buf.subarray(0, 760), message);
});

Deno.test("Kcp reassembles fragments that arrive in reverse order", () => {
  const out: Uint8Array[] = [];
  const a = new Kcp(3, (d) => out.push(d.slice()));
  const b = new Kcp(3, () => {});
  smallMtu(a);
  smallMtu(b);
  const message = patternBytes(700, 3);
  a.send(message);
  a.update(0);
  const buf = new Uint8Array(1000);
  for (const d of out.slice(1).reverse()) {
    assertEquals(b.input(d), 0);
    assertEquals(b.recv(buf), KcpRecvResult.Empty); // held in rcv_buf until fragment 0 fills the gap
  }
  assertEquals(b.snapshot().nrcvBuf, out.length - 1);
  assertEquals(b.input(out[0]), 0);
  assertEquals(b.snapshot().nrcvBuf, 0);
  assertEquals(b.recv(buf), 700);
  assertEquals(buf.subarray(0, 700), message);
});

Deno.test("Kcp.recv() returns -3 for a small buffer and consumes nothing", () => {
  const pair = createPair(4, smallMtu);
  const message = patternBytes(300, 9);
  pair.a.send(message);
  pair.step(0);
  assertEquals(pair.b.peekSize(), 300);
  assertEquals(pair.b.recv(new Uint8Array(299)), KcpRecvResult.BufferTooSmall);
  assertEquals(pair.b.peekSize(), 300);
  const buf = new Uint8Array(300);
  assertEquals(pair.b.recv(buf), 300);
  assertEquals(buf, message);
  assertEquals(pair.b.recv(buf), KcpRecvResult.Empty);
  assertEquals(pair.b.peekSize(), -1);
});
