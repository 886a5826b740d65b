/**
 * Throughput of the cluster link (`core/drpc/`) over loopback, against raw TCP of the same sizes measured in the
 * same run:
 *
 * - **one-way**: Deliver frames of a 25-byte client packet (55-byte frames) from a client to a node's link
 *   server, frames/s; the baseline writes frames of the same size over the same number of raw connections
 *   (copied into one buffer per connection, flushed per tick) to a server that only frames and counts them.
 * - **calls**: Bind round trips (30-byte request, 16-byte answer) with a fixed number in flight; the baseline's
 *   server answers each 30-byte frame with a 16-byte frame.
 *
 * Both sides run in this one process (one event loop), so the figures count client and server work together.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/drpc.ts` (`--quick` for a short run).
 *
 * @module
 */
import { Kind } from "../core/cluster.ts";
import { FrameReader } from "../core/frame_reader.ts";
import type { GateLink, NodeProvider } from "../core/link.ts";
import { createLinkClient } from "../core/drpc/client.ts";
import { createLinkServer } from "../core/drpc/server.ts";
import { encodeBind, encodeDeliver, encodeResponse, Route } from "../core/drpc/frames.ts";
import { RawWriter, readLoop } from "./_raw_tcp.ts";

const quick = Deno.args.includes("--quick");
const FRAMES = quick ? 200_000 : 2_000_000;
const CALLS = quick ? 40_000 : 400_000;
const IN_FLIGHT_FRAMES = 20_000;
const IN_FLIGHT_CALLS = 128;
const CONN_NUM = 5;
const ROUNDS = quick ? 1 : 3;
const PACKET = Uint8Array.of(0, 0, 0, 0x15, 0, 0, 1, 0, 7, ...new TextEncoder().encode('{"message":"hi"}'));

function yieldTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// ---- drpc ---------------------------------------------------------------------------------------------------------

async function drpcOneWay(): Promise<number> {
  let received = 0;
  const node: NodeProvider = {
    deliver() {
      received++;
    },
    trigger() {},
    getState: () => 1,
    setState() {},
  };
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node });
  const client = createLinkClient(server.addr, { kind: Kind.Gate, id: "g1" }, { connNum: CONN_NUM });
  await client.getState();
  const started = performance.now();
  let sent = 0;
  while (sent < FRAMES) {
    const burst = Math.min(FRAMES - sent, 2_000);
    for (let i = 0; i < burst; i++) client.deliver(sent + i, 0, PACKET);
    sent += burst;
    while (sent - received > IN_FLIGHT_FRAMES) await yieldTask();
  }
  while (received < FRAMES) await yieldTask();
  const seconds = (performance.now() - started) / 1000;
  if (client.stats.dropped !== 0) throw new Error(`drpc dropped ${client.stats.dropped} frames`);
  await client.close();
  await server.close();
  return FRAMES / seconds;
}

async function drpcCalls(): Promise<number> {
  const gate = { bind: () => Promise.resolve(), getState: () => Promise.resolve(1) } as unknown as GateLink;
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Gate, id: "g1", gate });
  const client = createLinkClient(server.addr, { kind: Kind.Node, id: "n1" }, { connNum: CONN_NUM });
  await client.getState();
  const started = performance.now();
  let issued = 0;
  const worker = async () => {
    while (issued < CALLS) {
      issued++;
      await client.bind(issued, 1);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT_CALLS }, worker));
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  await server.close();
  return CALLS / seconds;
}

// ---- raw TCP baseline ---------------------------------------------------------------------------------------------

/** A raw server: frames every connection; `answer` (if any) is sent back per frame. */
function rawServer(onFrame: () => void, answer?: Uint8Array): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const loops: Promise<void>[] = [];
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        loops.push((async () => {
          const writer = new RawWriter(conn);
          const reader = new FrameReader({ little: false, maxSize: 1 << 20 }, () => {
            onFrame();
            if (answer) writer.send(answer);
          });
          await readLoop(conn, (bytes) => reader.feed(bytes));
        })());
      }
    } catch {
      // closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      await accepting;
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed
        }
      }
      await Promise.all(loops);
    },
  };
}

async function rawOneWay(): Promise<number> {
  let received = 0;
  const server = rawServer(() => received++);
  const conns = await Promise.all(
    Array.from({ length: CONN_NUM }, () => Deno.connect({ hostname: "127.0.0.1", port: server.port })),
  );
  const writers = conns.map((conn) => new RawWriter(conn));
  const frame = encodeDeliver(0, 1, 0, PACKET); // one frame of the same size, copied: no encoding at all
  const started = performance.now();
  let sent = 0;
  while (sent < FRAMES) {
    const burst = Math.min(FRAMES - sent, 2_000);
    for (let i = 0; i < burst; i++) writers[(sent + i) % CONN_NUM].send(frame);
    sent += burst;
    while (sent - received > IN_FLIGHT_FRAMES) await yieldTask();
  }
  while (received < FRAMES) await yieldTask();
  const seconds = (performance.now() - started) / 1000;
  for (const conn of conns) conn.close();
  await server.close();
  return FRAMES / seconds;
}

async function rawCalls(): Promise<number> {
  const server = rawServer(() => {}, encodeResponse(Route.Bind, 1, 0));
  const conns = await Promise.all(
    Array.from({ length: CONN_NUM }, () => Deno.connect({ hostname: "127.0.0.1", port: server.port })),
  );
  const writers = conns.map((conn) => new RawWriter(conn));
  const request = encodeBind(1, 1, 1);
  let answered = 0;
  let issued = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => done = resolve);
  const loops = conns.map(async (conn, i) => {
    const reader = new FrameReader({ little: false, maxSize: 1 << 20 }, () => {
      answered++;
      if (issued < CALLS) {
        issued++;
        writers[i].send(request);
      } else if (answered === CALLS) done();
    });
    await readLoop(conn, (bytes) => reader.feed(bytes));
  });
  const started = performance.now();
  for (let k = 0; k < IN_FLIGHT_CALLS; k++) {
    issued++;
    writers[k % CONN_NUM].send(request);
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  for (const conn of conns) conn.close();
  await Promise.all(loops);
  await server.close();
  return CALLS / seconds;
}

// ---- run ----------------------------------------------------------------------------------------------------------

function best(values: number[]): number {
  return Math.max(...values);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

console.log(
  `drpc over loopback, ${CONN_NUM} connections, one process; best of ${ROUNDS} (Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch})\n`,
);
const results = {
  drpcOneWay: [] as number[],
  rawOneWay: [] as number[],
  drpcCalls: [] as number[],
  rawCalls: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  results.rawOneWay.push(await rawOneWay());
  results.drpcOneWay.push(await drpcOneWay());
  results.rawCalls.push(await rawCalls());
  results.drpcCalls.push(await drpcCalls());
}
const oneWay = best(results.drpcOneWay), rawOne = best(results.rawOneWay);
const calls = best(results.drpcCalls), rawCall = best(results.rawCalls);
console.log(`Deliver one-way (55-byte frames, ${fmt(FRAMES)} per round):`);
console.log(`  drpc     ${fmt(oneWay).padStart(12)} frames/s`);
console.log(`  raw TCP  ${fmt(rawOne).padStart(12)} frames/s`);
console.log(`  ratio    ${(oneWay / rawOne).toFixed(2)}`);
console.log(
  `\nBind calls (30-byte request, 16-byte answer, ${IN_FLIGHT_CALLS} in flight, ${fmt(CALLS)} per round):`,
);
console.log(`  drpc     ${fmt(calls).padStart(12)} calls/s`);
console.log(`  raw TCP  ${fmt(rawCall).padStart(12)} round trips/s`);
console.log(`  ratio    ${(calls / rawCall).toFixed(2)}`);
