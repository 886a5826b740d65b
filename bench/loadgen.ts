/**
 * The load generator of the benchmarks, run as its own process so that its CPU is not the server's: `conns`
 * connections, each keeping `inflight` requests in flight (pipelined), sending route 1 (or `--route`) with a JSON
 * `{"message": "<letters>"}` payload and matching responses by seq. Prints one JSON line with msg/s and latency
 * percentiles.
 *
 * Usage: `deno run -A bench/loadgen.ts --transport=tcp --addr=127.0.0.1:3553 --conns=100 --inflight=1
 *   --payload=32 --route-bytes=2 --seq-bytes=2 --warmup=1 --duration=5`
 *
 * @module
 */
import { parseArgs } from "node:util";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { FrameReader } from "../core/frame_reader.ts";
import { RawWriter, readLoop } from "./_raw_tcp.ts";
import { createPacketFormat, readSeq, writeDataHeader } from "../core/packet.ts";
import type { PacketFormat } from "../core/packet.ts";

const { values } = parseArgs({
  options: {
    transport: { type: "string", default: "tcp" },
    addr: { type: "string", default: "127.0.0.1:3553" },
    conns: { type: "string", default: "100" },
    inflight: { type: "string", default: "1" },
    payload: { type: "string", default: "32" },
    route: { type: "string", default: "1" },
    "route-bytes": { type: "string", default: "2" },
    "seq-bytes": { type: "string", default: "2" },
    warmup: { type: "string", default: "1" },
    duration: { type: "string", default: "5" },
  },
});
const conns = Number(values.conns);
const route = Number(values.route);
const inflight = Number(values.inflight);
const payloadBytes = Number(values.payload);
const format = createPacketFormat({
  routeBytes: Number(values["route-bytes"]) as 1 | 2 | 4,
  seqBytes: Number(values["seq-bytes"]) as 1 | 2 | 4,
  bufferBytes: 1 << 20,
});
const warmupMs = Number(values.warmup) * 1000;
const durationMs = Number(values.duration) * 1000;

// {"message":"<letters>"} totals `payload` bytes.
const letters = "x".repeat(Math.max(1, payloadBytes - 14));
const body = new TextEncoder().encode(JSON.stringify({ message: letters }));

function packet(format: PacketFormat, seq: number): Uint8Array {
  const out = new Uint8Array(4 + format.dataHeaderBytes + body.length);
  writeDataHeader(format, out, 0, route, seq, body.length);
  out.set(body, 4 + format.dataHeaderBytes);
  return out;
}

let measuring = false;
let stopped = false;
let received = 0;
const latencies: number[] = [];

interface Sender {
  send(bytes: Uint8Array): void;
  close(): void;
}

function driver(sender: () => Sender): { onPacket(frame: Uint8Array): void; start(): void } {
  const sentAt = new Float64Array(format.maxSeq + 1);
  let seq = 0;
  let s: Sender;
  const next = () => {
    seq = seq === format.maxSeq ? 1 : seq + 1;
    sentAt[seq] = performance.now();
    s.send(packet(format, seq));
  };
  return {
    start() {
      s = sender();
      for (let i = 0; i < inflight; i++) next();
    },
    onPacket(frame: Uint8Array) {
      if (frame[4] & 0x80) return;
      const seqIn = readSeq(format, frame, 0);
      if (measuring) {
        received++;
        latencies.push(performance.now() - sentAt[seqIn]);
      }
      if (!stopped) next();
    },
  };
}

async function tcpConn(): Promise<() => void> {
  const [hostname, port] = [
    values.addr!.slice(0, values.addr!.lastIndexOf(":")),
    Number(values.addr!.slice(values.addr!.lastIndexOf(":") + 1)),
  ];
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  const writer = new RawWriter(conn);
  const d = driver(() => ({ send: (bytes) => writer.send(bytes), close: () => conn.close() }));
  const reader = new FrameReader({ little: false, maxSize: 1 << 20 }, (f) => d.onPacket(f));
  d.start();
  readLoop(conn, (bytes) => reader.feed(bytes));
  return () => {
    try {
      conn.close();
    } catch {
      // closed
    }
  };
}

async function wsConn(): Promise<() => void> {
  const ws = new WebSocket(`ws://${values.addr}/`, { perMessageDeflate: false });
  ws.binaryType = "nodebuffer";
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const d = driver(() => ({ send: (bytes) => ws.send(bytes, { binary: true }), close: () => ws.close() }));
  ws.on("message", (data: Uint8Array) => d.onPacket(data));
  d.start();
  return () => ws.terminate();
}

const closers: (() => void)[] = [];
for (let i = 0; i < conns; i++) closers.push(await (values.transport === "ws" ? wsConn() : tcpConn()));
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const start = performance.now();
// Tell the orchestrator where the measured window starts, so it samples the server's CPU time there.
console.log(JSON.stringify({ event: "measure-start" }));
await new Promise((r) => setTimeout(r, durationMs));
const seconds = (performance.now() - start) / 1000;
measuring = false;
console.log(JSON.stringify({ event: "measure-end" }));
stopped = true;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : NaN;
console.log(
  JSON.stringify({
    event: "result",
    received,
    seconds,
    rate: received / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
  }),
);
for (const close of closers) close();
Deno.exit(0);
