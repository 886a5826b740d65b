import { assertEquals } from "../_helpers/assert.ts";
import { createPair, patternBytes, segmentsOf } from "../_helpers/kcp.ts";
import { Kcp, KcpCmd, KcpSendResult } from "../../adapters/network/kcp/mod.ts";

function streamMtu300(kcp: Kcp): void {
  kcp.setNoDelay(0, 10, 0, 1);
  kcp.setMtu(300); // mss 276
  kcp.stream = true;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}

Deno.test("Kcp in stream mode merges queued sends into full segments with frg 0", () => {
  const out: Uint8Array[] = [];
  const kcp = new Kcp(5, (d) => out.push(d.slice()));
  streamMtu300(kcp);
  for (let i = 0; i < 10; i++) assertEquals(kcp.send(patternBytes(100, i)), 100);
  assertEquals(kcp.waitSnd(), 4);
  kcp.update(0);
  const pushes = out.flatMap(segmentsOf).filter((s) => s.cmd === KcpCmd.Push);
  assertEquals(pushes.map((s) => s.len), [276, 276, 276, 172]);
  assertEquals(pushes.map((s) => s.frg), [0, 0, 0, 0]);
  const sent = concat(Array.from({ length: 10 }, (_, i) => patternBytes(100, i)));
  assertEquals(concat(pushes.map((s) => s.data)), sent);
});

Deno.test("Kcp in stream mode tops up only the last queued segment, not one in flight", () => {
  const out: Uint8Array[] = [];
  const kcp = new Kcp(5, (d) => out.push(d.slice()));
  streamMtu300(kcp);
  kcp.send(patternBytes(100, 1));
  kcp.update(0); // moves the segment into flight
  kcp.send(patternBytes(100, 2));
  kcp.send(patternBytes(50, 3));
  assertEquals(kcp.waitSnd(), 2);
  kcp.update(10);
  const pushes = out.flatMap(segmentsOf).filter((s) => s.cmd === KcpCmd.Push);
  assertEquals(pushes.map((s) => [s.sn, s.len]), [[0, 100], [1, 150]]);
});

Deno.test("Kcp in stream mode delivers the byte stream intact in segment-sized chunks", () => {
  const pair = createPair(6, streamMtu300);
  const sends = Array.from({ length: 10 }, (_, k) => patternBytes(100 * (k + 1), k));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let k = 0; k < 60; k++) {
    if (k < sends.length) assertEquals(pair.a.send(sends[k]), sends[k].length);
    pair.step(1000 + 10 * k);
    for (let n = pair.b.recv(buf); n >= 0; n = pair.b.recv(buf)) chunks.push(buf.slice(0, n));
  }
  assertEquals(concat(chunks), concat(sends));
  assertEquals(chunks.every((c) => c.length <= 276), true);
  assertEquals(chunks.some((c) => c.length === 276), true);
});

Deno.test("Kcp in stream mode queues what it can of an oversize send and -2 only when nothing fits", () => {
  const kcp = new Kcp(5, () => {});
  streamMtu300(kcp);
  assertEquals(kcp.send(new Uint8Array(276 * 128)), KcpSendResult.TooLarge);
  assertEquals(kcp.waitSnd(), 0);
  assertEquals(kcp.send(new Uint8Array(10)), 10);
  assertEquals(kcp.send(new Uint8Array(276 * 128)), 266); // the top-up of the partial segment only
  assertEquals(kcp.waitSnd(), 1);
});

Deno.test("Kcp in stream mode ignores a zero-length send (message mode queues an empty message)", () => {
  const kcp = new Kcp(5, () => {});
  streamMtu300(kcp);
  assertEquals(kcp.send(new Uint8Array(0)), 0);
  assertEquals(kcp.waitSnd(), 0);
  kcp.stream = false;
  assertEquals(kcp.send(new Uint8Array(0)), 0);
  assertEquals(kcp.waitSnd(), 1);
});
