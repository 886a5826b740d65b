/**
 * Replays the reference traces of `tests/testdata/kcp/` (produced by skywind3000/kcp `ikcp.c` 2.1.1, see the
 * README there) against our port, driving both endpoints exactly as the C harness did, and compares every line:
 * SEND results, each datagram byte for byte with its fate, RECV results (length, offset, SHA-1, first/last
 * byte), DONE time and the final STATE of both endpoints.
 */
import { assertEquals } from "../_helpers/assert.ts";
import { Kcp, type KcpSnapshot } from "../../adapters/network/kcp/mod.ts";

const DATA_DIR = new URL("../testdata/kcp/", import.meta.url);
const MAX_TICKS = 6000;

type Side = "A" | "B";
/** `null` drops the datagram; `[L]` delivers it L ticks later; `[L, D]` also delivers a copy D ticks later. */
type Fate = null | [number] | [number, number];

interface Scenario {
  name: string;
  conv: number;
  nodelay: [number, number, number, number];
  wndsize: [number, number];
  mtu: number;
  stream: boolean;
  t0: number;
  pattern: "P" | "V";
  /** Sizes of the `ikcp_send` calls a side makes at tick k. */
  sends(side: Side, k: number): number[];
  fate(from: Side, n: number): Fate;
  lastSendTick: number;
  recvStartB: number;
}

const none: number[] = [];

function allDelivered(): Fate {
  return [0];
}

/** Drops every `every`-th datagram `side` emits; delivers everything else at once. */
function dropEvery(side: Side, every: number): (from: Side, n: number) => Fate {
  return (from, n) => from === side && n % every === 0 ? null : [0];
}

const SCENARIOS: Scenario[] = [
  {
    name: "basic",
    conv: 0x11223344,
    nodelay: [0, 10, 0, 0],
    wndsize: [32, 128],
    mtu: 1400,
    stream: false,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => side === "A" && k === 0 ? [10, 1000, 5000] : none,
    fate: allDelivered,
    lastSendTick: 0,
    recvStartB: 0,
  },
  {
    name: "fast",
    conv: 0x11223344,
    nodelay: [1, 10, 2, 1],
    wndsize: [32, 32],
    mtu: 200,
    stream: false,
    t0: 1000,
    pattern: "V",
    sends: (side, k) => side === "A" && k === 0 ? [50, 170, 290, 410, 530] : none,
    fate: dropEvery("A", 4),
    lastSendTick: 0,
    recvStartB: 0,
  },
  {
    name: "acks-lost",
    conv: 0x0a0b0c0d,
    nodelay: [1, 10, 2, 1],
    wndsize: [32, 32],
    mtu: 1400,
    stream: false,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => side === "A" && (k <= 9 || (k <= 55 && k % 5 === 0)) ? [100] : none,
    fate: dropEvery("B", 3),
    lastSendTick: 55,
    recvStartB: 0,
  },
  {
    name: "window",
    conv: 0x00000001,
    nodelay: [0, 10, 0, 0],
    wndsize: [8, 8],
    mtu: 512,
    stream: false,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => side === "A" && k === 0 ? new Array<number>(200).fill(300) : none,
    fate: allDelivered,
    lastSendTick: 0,
    recvStartB: 0,
  },
  {
    name: "probe",
    conv: 0x00000002,
    nodelay: [0, 10, 0, 0],
    wndsize: [8, 8],
    mtu: 512,
    stream: false,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => side === "A" && k === 0 ? new Array<number>(200).fill(300) : none,
    fate: allDelivered,
    lastSendTick: 0,
    recvStartB: 1500,
  },
  {
    name: "stream",
    conv: 0x7f000001,
    nodelay: [0, 10, 0, 0],
    wndsize: [32, 128],
    mtu: 300,
    stream: true,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => side === "A" && k <= 9 ? [100 * (k + 1)] : none,
    fate: allDelivered,
    lastSendTick: 9,
    recvStartB: 0,
  },
  {
    name: "wrap",
    conv: 0x80000000,
    nodelay: [1, 10, 2, 1],
    wndsize: [32, 32],
    mtu: 200,
    stream: false,
    t0: 0xffffff9c,
    pattern: "V",
    sends: (side, k) => side === "A" && k <= 19 ? [50 + 120 * (k % 5)] : none,
    fate: dropEvery("A", 4),
    lastSendTick: 19,
    recvStartB: 0,
  },
  {
    name: "edge",
    conv: 0xffffffff,
    nodelay: [2, 20, 1, 1],
    wndsize: [16, 16],
    mtu: 100,
    stream: false,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => side === "A" && k === 0 ? [0, 1, 76, 77, 9652, 9728] : none,
    fate: dropEvery("A", 6),
    lastSendTick: 0,
    recvStartB: 0,
  },
  {
    name: "chaos",
    conv: 0xdeadbeef,
    nodelay: [1, 10, 2, 0],
    wndsize: [64, 64],
    mtu: 400,
    stream: false,
    t0: 1000,
    pattern: "P",
    sends: (side, k) => k > 29 ? none : side === "A" ? [((k * 397) % 2000) + 1] : [((k * 211) % 1500) + 1],
    fate: (_from, n) => {
      if (n % 9 === 0) return null;
      const l = 3 + (n % 4);
      return n % 7 === 0 ? [l, l + 2] : [l];
    },
    lastSendTick: 29,
    recvStartB: 0,
  },
];

function message(pattern: "P" | "V", side: Side, idx: number, len: number): Uint8Array {
  const bytes = new Uint8Array(len);
  for (let j = 0; j < len; j++) {
    bytes[j] = pattern === "V"
      ? (0x61 + idx) & 0xff
      : side === "A"
      ? (j * 7 + idx) & 0xff
      : (j * 13 + idx + 0x80) & 0xff;
  }
  return bytes;
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function formatFate(fate: Fate): string {
  if (fate === null) return "drop";
  return fate.map((l) => `+${l}`).join(",");
}

function formatState(side: Side, s: KcpSnapshot): string {
  const u = (v: number) => String(v >>> 0);
  return `STATE side=${side} snd_una=${u(s.sndUna)} snd_nxt=${u(s.sndNxt)} rcv_nxt=${u(s.rcvNxt)} ` +
    `cwnd=${u(s.cwnd)} ssthresh=${u(s.ssthresh)} incr=${u(s.incr)} rx_srtt=${s.rxSrtt} ` +
    `rx_rttval=${s.rxRttval} rx_rto=${s.rxRto} rx_minrto=${s.rxMinrto} rmt_wnd=${u(s.rmtWnd)} ` +
    `snd_wnd=${u(s.sndWnd)} rcv_wnd=${u(s.rcvWnd)} nsnd_buf=${s.nsndBuf} nsnd_que=${s.nsndQue} ` +
    `nrcv_buf=${s.nrcvBuf} nrcv_que=${s.nrcvQue} xmit=${u(s.xmit)} state=${u(s.state)} probe=${s.probe} ` +
    `probe_wait=${u(s.probeWait)} ts_probe=${u(s.tsProbe)} ts_flush=${u(s.tsFlush)} mtu=${s.mtu} ` +
    `mss=${s.mss} interval=${s.interval}`;
}

interface Endpoint {
  side: Side;
  kcp: Kcp;
  /** Datagrams emitted so far (the fate rule's n). */
  n: number;
  /** `ikcp_send` calls so far, failed ones included. */
  sendIdx: number;
  /** Sum of the successful send results. */
  accepted: number;
  /** Successful recv calls so far. */
  recvIdx: number;
  /** Bytes received so far. */
  received: number;
}

/** Runs a scenario as the C harness did and returns its event lines. */
async function replay(sc: Scenario): Promise<string[]> {
  const lines: string[] = [];
  const recvData: Uint8Array<ArrayBuffer>[] = []; // RECV lines carry `sha1=#<i>` until the digests are computed
  const schedule = new Map<number, { to: Endpoint; data: Uint8Array }[]>();
  let k = 0;
  let t = sc.t0;

  const make = (side: Side): Endpoint => {
    const ep: Endpoint = { side, kcp: undefined!, n: 0, sendIdx: 0, accepted: 0, recvIdx: 0, received: 0 };
    ep.kcp = new Kcp(sc.conv, (datagram) => {
      ep.n++;
      const fate = sc.fate(side, ep.n);
      lines.push(
        `OUT t=${t} from=${side} n=${ep.n} len=${datagram.length} fate=${formatFate(fate)} hex=${
          toHex(datagram)
        }`,
      );
      if (fate === null) return;
      for (const delay of fate) {
        const due = k + delay;
        let list = schedule.get(due);
        if (list === undefined) schedule.set(due, list = []);
        list.push({ to: side === "A" ? b : a, data: datagram.slice() });
      }
    });
    ep.kcp.setNoDelay(...sc.nodelay);
    ep.kcp.setWndSize(...sc.wndsize);
    ep.kcp.setMtu(sc.mtu);
    if (sc.stream) ep.kcp.stream = true;
    return ep;
  };
  const a = make("A");
  const b = make("B");
  const buf = new Uint8Array(1 << 20);

  const receive = (ep: Endpoint) => {
    for (let r = ep.kcp.recv(buf); r >= 0; r = ep.kcp.recv(buf)) {
      const bytes = buf.slice(0, r);
      const first = r > 0 ? toHex(bytes.subarray(0, 1)) : "-";
      const last = r > 0 ? toHex(bytes.subarray(r - 1)) : "-";
      lines.push(
        `RECV t=${t} side=${ep.side} idx=${ep.recvIdx} len=${r} off=${ep.received} sha1=#${recvData.length} ` +
          `first=${first} last=${last}`,
      );
      recvData.push(bytes);
      ep.recvIdx++;
      ep.received += r;
    }
  };

  let finished = false;
  for (; k < MAX_TICKS && !finished; k++) {
    t = (sc.t0 + 10 * k) >>> 0;
    for (const ep of [a, b]) {
      for (const len of sc.sends(ep.side, k)) {
        const ret = ep.kcp.send(message(sc.pattern, ep.side, ep.sendIdx, len));
        lines.push(`SEND t=${t} side=${ep.side} idx=${ep.sendIdx} len=${len} ret=${ret}`);
        ep.sendIdx++;
        if (ret > 0) ep.accepted += ret;
      }
    }
    a.kcp.update(t);
    b.kcp.update(t);
    for (const { to, data } of schedule.get(k) ?? []) {
      const ret = to.kcp.input(data);
      if (ret !== 0) lines.push(`INERR t=${t} to=${to.side} ret=${ret}`);
    }
    schedule.delete(k);
    if (k >= sc.recvStartB) receive(b);
    receive(a);
    if (
      k >= sc.lastSendTick && b.received === a.accepted && a.received === b.accepted &&
      a.kcp.waitSnd() === 0 && b.kcp.waitSnd() === 0
    ) {
      lines.push(`DONE t=${t}`, formatState("A", a.kcp.snapshot()), formatState("B", b.kcp.snapshot()));
      finished = true;
    }
  }
  if (!finished) lines.push(`TIMEOUT t=${t}`);

  const digests = await Promise.all(recvData.map((d) => crypto.subtle.digest("SHA-1", d)));
  return lines.map((line) =>
    line.replace(/sha1=#(\d+)/, (_, i: string) => `sha1=${toHex(new Uint8Array(digests[Number(i)]))}`)
  );
}

function shorten(line: string | undefined): string {
  if (line === undefined) return "(no line)";
  return line.length > 240 ? `${line.slice(0, 240)}… (${line.length} chars)` : line;
}

for (const sc of SCENARIOS) {
  Deno.test(`Kcp replays the ${sc.name} reference trace byte for byte`, async () => {
    const text = await Deno.readTextFile(new URL(`${sc.name}.trace`, DATA_DIR));
    const want = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    const got = await replay(sc);
    const outs = want.filter((line) => line.startsWith("OUT ")).length;
    if (outs === 0) throw new Error(`The ${sc.name} trace has no OUT line`);
    const at = want.findIndex((line, i) => line !== got[i]);
    if (at !== -1 || got.length !== want.length) {
      const i = at === -1 ? Math.min(got.length, want.length) : at;
      throw new Error(
        `${sc.name}: first difference at event ${i} of ${want.length}\n` +
          `  want: ${shorten(want[i])}\n  got:  ${shorten(got[i])}`,
      );
    }
    assertEquals(got, want);
  });
}

Deno.test("tests/testdata/kcp matches its SHA256SUMS", async () => {
  const sums = await Deno.readTextFile(new URL("SHA256SUMS", DATA_DIR));
  const entries = sums.trim().split("\n").map((line) => line.split(/\s+/));
  assertEquals(entries.length, 10);
  for (const [sum, name] of entries) {
    const bytes = await Deno.readFile(new URL(name, DATA_DIR));
    assertEquals(toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))), sum, name);
  }
});
