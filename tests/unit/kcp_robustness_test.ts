import { assert, assertEquals } from "../_helpers/assert.ts";
import { createRandom, patternBytes, segmentsOf } from "../_helpers/kcp.ts";
import {
  encodeSegmentHeader,
  Kcp,
  KCP_OVERHEAD,
  KcpCmd,
  KcpInputResult,
  KcpRecvResult,
  writeU32LE,
} from "../../adapters/network/kcp/mod.ts";

const CONV = 0x0badcafe;

function segment(
  cmd: number,
  sn: number,
  len: number,
  fields: { frg?: number; wnd?: number; una?: number } = {},
) {
  const d = new Uint8Array(KCP_OVERHEAD + len);
  encodeSegmentHeader(d, 0, CONV, cmd, fields.frg ?? 0, fields.wnd ?? 128, 1000, sn, fields.una ?? 0, len);
  d.fill(0x5a, KCP_OVERHEAD);
  return d;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}

function endpoint() {
  const out: Uint8Array[] = [];
  const kcp = new Kcp(CONV, (d) => out.push(d.slice()));
  return { kcp, out };
}

const VALID_RESULTS = new Set<number>(Object.values(KcpInputResult));

Deno.test("Kcp.input() survives 20000 random datagrams with bounded state", () => {
  const random = createRandom(7);
  const { kcp, out } = endpoint();
  const counts = new Map<number, number>();
  for (let i = 0; i < 20_000; i++) {
    const len = Math.floor(random() * 600);
    const d = new Uint8Array(len);
    for (let j = 0; j < len; j++) d[j] = random() * 256;
    // Half the datagrams get a plausible header: our conv, mostly a valid cmd, a small len, an sn near the window.
    if (len >= KCP_OVERHEAD && i % 2 === 0) {
      writeU32LE(d, 0, CONV);
      d[4] = random() < 0.9 ? KcpCmd.Push + Math.floor(random() * 4) : d[4];
      writeU32LE(d, 12, Math.floor(random() * 300));
      writeU32LE(d, 20, Math.floor(random() * (len - KCP_OVERHEAD + 8)));
    }
    const ret = kcp.input(d);
    assert(VALID_RESULTS.has(ret), `input returned ${ret}`);
    counts.set(ret, (counts.get(ret) ?? 0) + 1);
    if (i % 100 === 0) kcp.update(i);
  }
  // Every kind of outcome happened, so the fuzzer reached past the header checks.
  for (const code of [0, -1, -2, -3]) {
    assert((counts.get(code) ?? 0) > 100, `code ${code}: ${counts.get(code)}`);
  }
  const snap = kcp.snapshot();
  assert(snap.nrcvBuf + snap.nrcvQue <= 2 * snap.rcvWnd, `rcv_buf ${snap.nrcvBuf} rcv_queue ${snap.nrcvQue}`);
  assert(out.every((d) => d.length <= kcp.mtu), "a datagram exceeded the MTU");
  const buf = new Uint8Array(128 * 600);
  while (kcp.recv(buf) >= 0);
  // Random frg values may leave an incomplete message at the head (-2), as in ikcp; that stalls only this session.
  const last = kcp.recv(buf);
  assert(last === KcpRecvResult.Empty || last === KcpRecvResult.Incomplete, `recv returned ${last}`);
});

Deno.test("Kcp.input() returns -1 for every truncated header and changes nothing", () => {
  const { kcp, out } = endpoint();
  const full = segment(KcpCmd.Push, 0, 4);
  const before = kcp.snapshot();
  for (let n = 0; n < KCP_OVERHEAD; n++) {
    assertEquals(kcp.input(full.subarray(0, n)), KcpInputResult.InvalidHeader);
  }
  assertEquals(kcp.snapshot(), before);
  kcp.update(0);
  assertEquals(out, []);
});

Deno.test("Kcp.input() returns -1 for another conv, even after valid segments, and keeps what came before", () => {
  const { kcp, out } = endpoint();
  const before = kcp.snapshot();
  const foreign = segment(KcpCmd.Push, 0, 4);
  writeU32LE(foreign, 0, CONV + 1);
  assertEquals(kcp.input(foreign), KcpInputResult.InvalidHeader);
  assertEquals(kcp.snapshot(), before);
  assertEquals(kcp.input(concat([segment(KcpCmd.Push, 0, 4), foreign])), KcpInputResult.InvalidHeader);
  assertEquals(kcp.peekSize(), 4);
  kcp.update(0);
  assertEquals(out.flatMap(segmentsOf).map((s) => [s.cmd, s.sn]), [[KcpCmd.Ack, 0]]);
});

Deno.test("Kcp.input() returns -2 for a len beyond the datagram, huge ones included, and stores nothing", () => {
  const { kcp } = endpoint();
  const before = kcp.snapshot();
  for (const len of [5, 100, 0x7fffffff, 0x80000000, 0xffffffff]) {
    const d = segment(KcpCmd.Push, 0, 4);
    writeU32LE(d, 20, len);
    assertEquals(kcp.input(d), KcpInputResult.InvalidLength, `len ${len}`);
  }
  assertEquals(kcp.snapshot(), before);
});

Deno.test("Kcp.input() returns -3 for an unknown cmd", () => {
  const { kcp } = endpoint();
  for (const cmd of [0, 1, 80, 85, 0xff]) {
    assertEquals(kcp.input(segment(cmd, 0, 0)), KcpInputResult.UnknownCommand);
  }
  assertEquals(
    kcp.input(concat([segment(KcpCmd.Push, 0, 1), segment(85, 1, 0)])),
    KcpInputResult.UnknownCommand,
  );
  assertEquals(kcp.peekSize(), 1); // the PUSH before the bad segment was taken
});

Deno.test("Kcp.input() keeps at most rcvWnd - 1 out-of-order segments while sn 0 is missing", () => {
  const { kcp } = endpoint();
  for (let sn = 1; sn < 10_000; sn += 1) assertEquals(kcp.input(segment(KcpCmd.Push, sn, 8)), 0);
  const snap = kcp.snapshot();
  assertEquals(snap.nrcvBuf, 127);
  assertEquals(snap.nrcvQue, 0);
  assertEquals(kcp.input(segment(KcpCmd.Push, 0, 8)), 0);
  assertEquals(kcp.snapshot().nrcvQue, 128);
});

Deno.test("Kcp.input() neither stores nor acknowledges a PUSH beyond the receive window", () => {
  const { kcp, out } = endpoint();
  assertEquals(kcp.input(segment(KcpCmd.Push, 128, 8)), 0);
  assertEquals(kcp.input(segment(KcpCmd.Push, 0x80000000, 8)), 0);
  assertEquals(kcp.snapshot().nrcvBuf, 0);
  kcp.update(0);
  assertEquals(out, []);
});

Deno.test("Kcp bounds the ACKs pending between flushes under a flood of duplicate PUSHes", () => {
  const { kcp, out } = endpoint();
  const one = segment(KcpCmd.Push, 0, 0);
  const flood = concat(new Array<Uint8Array>(2000).fill(one));
  for (let i = 0; i < 10; i++) assertEquals(kcp.input(flood), 0);
  kcp.update(0);
  const acks = out.flatMap(segmentsOf).filter((s) => s.cmd === KcpCmd.Ack);
  assertEquals(acks.length, 4 * 128);
  assertEquals(kcp.snapshot().nrcvQue, 1);
  out.length = 0;
  kcp.update(10); // nothing left over for the next flush
  assertEquals(out, []);
});

Deno.test("Kcp delivers each message once and in order from duplicated, shuffled datagrams", () => {
  const random = createRandom(99);
  const wire: Uint8Array[] = [];
  const a = new Kcp(CONV, (d) => wire.push(d.slice()));
  const { kcp: b } = endpoint();
  for (const k of [a, b]) {
    k.setNoDelay(1, 10, 0, 1);
    k.setWndSize(128, 128);
    k.setMtu(100);
  }
  const messages = Array.from({ length: 30 }, (_, i) => patternBytes(1 + i * 13, i));
  for (const m of messages) a.send(m);
  a.update(0);
  assertEquals(a.snapshot().nsndQue, 0); // everything went out in one flush
  const copies = [...wire, ...wire, ...wire];
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copies[i], copies[j]] = [copies[j], copies[i]];
  }
  const got: Uint8Array[] = [];
  const buf = new Uint8Array(1000);
  for (const d of copies) {
    assertEquals(b.input(d), 0);
    for (let n = b.recv(buf); n >= 0; n = b.recv(buf)) got.push(buf.slice(0, n));
  }
  assertEquals(got, messages);
  assertEquals(b.snapshot().nrcvBuf, 0);
});

Deno.test("Kcp.input() copies the datagram, so the caller may reuse its buffer at once", () => {
  const { kcp } = endpoint();
  const d = segment(KcpCmd.Push, 0, 3);
  d.set([1, 2, 3], KCP_OVERHEAD);
  kcp.input(d);
  d.fill(0);
  const buf = new Uint8Array(3);
  assertEquals(kcp.recv(buf), 3);
  assertEquals(buf, new Uint8Array([1, 2, 3]));
});
