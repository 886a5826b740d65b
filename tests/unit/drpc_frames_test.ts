/**
 * Golden-byte tests of the cluster protocol (`core/drpc/frames.ts`): the worked examples of PROTOCOL.md §2, every
 * `golden=drpc-…` example of `docs/protocol.md` §2 (read out of the markdown, so the doc cannot drift from the
 * code), and the decoders' handling of malformed bodies.
 */
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { FeedResult, FrameReader } from "../../core/frame_reader.ts";
import {
  Code,
  decodeMeshResponse,
  decodeRequest,
  DELIVER_HEAD_BYTES,
  type DrpcRequest,
  encodeBind,
  encodeBroadcast,
  encodeByteResponse,
  encodeDeliver,
  encodeDisconnect,
  encodeGetIPResponse,
  encodeGetState,
  encodeHandshake,
  encodeMeshCall,
  encodeMeshError,
  encodeMeshResult,
  encodeMulticast,
  encodePublish,
  encodePush,
  encodeResponse,
  encodeSessionQuery,
  encodeSetState,
  encodeStat,
  encodeSubscription,
  encodeTotalResponse,
  encodeTrigger,
  encodeUnbind,
  frameHeader,
  frameRoute,
  frameSeq,
  HEARTBEAT_FRAME,
  ipv4ToU32,
  MAX_SEQ,
  nextSeq,
  PUSH_HEAD_BYTES,
  readI64,
  readU64,
  responseByte,
  responseCode,
  responseIP,
  responseTotal,
  Route,
  triggerBytes,
  u32ToIpv4,
  writeDeliver,
  writeI64,
  writePush,
  writeTrigger,
  writeU64,
} from "../../core/drpc/frames.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function fromHex(text: string): Uint8Array {
  const tokens = text.replace(/#.*$/gm, "").replaceAll("|", " ").split(/\s+/).filter((t) => t !== "");
  return Uint8Array.from(tokens, (t) => parseInt(t, 16));
}

const te = new TextEncoder();
/** The client packet of §1.9: route 1, seq 7, `{"message":"hi"}` (25 bytes, big endian). */
const HI = fromHex("00 00 00 15 00 00 01 00 07 7b 22 6d 65 73 73 61 67 65 22 3a 22 68 69 22 7d");
/** The push of §1.9: route 20, seq 0, `{"x":1}` (16 bytes). */
const X1 = fromHex("00 00 00 0c 00 00 14 00 00 7b 22 78 22 3a 31 7d");

// ---- PROTOCOL.md §2, written out here independently of the doc -------------------------------------------------

Deno.test("encodeDeliver() writes the worked example of PROTOCOL.md §2 byte for byte", () => {
  const expected =
    "00 00 00 33 00 0f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00 00 00 00 27 11 " +
    hex(HI);
  assertEquals(HI.length, 25);
  assertEquals(hex(encodeDeliver(0, 3, 10001, HI)), expected);
});

Deno.test("encodeHandshake() writes the handshake of gate g1 of PROTOCOL.md §2 byte for byte", () => {
  assertEquals(hex(encodeHandshake(1, 1, "g1")), "00 00 00 0d 00 01 00 00 00 00 00 00 00 01 01 67 31");
});

Deno.test("HEARTBEAT_FRAME is exactly 00 00 00 01 80", () => {
  assertEquals(hex(HEARTBEAT_FRAME), "00 00 00 01 80");
});

// ---- docs/protocol.md §2 ----------------------------------------------------------------------------------------

const doc = await Deno.readTextFile(new URL("../../docs/protocol.md", import.meta.url));

/** `hex golden=drpc-…` blocks of the doc, by name. */
function drpcExamples(markdown: string): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```hex golden=(drpc-[a-z0-9-]+)$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].startsWith("```")) body.push(lines[j++]);
    assert(!found.has(open[1]), `docs/protocol.md has two blocks golden=${open[1]}`);
    found.set(open[1], fromHex(body.join("\n")));
    i = j;
  }
  return found;
}

/** What a response example decodes to with the response readers. */
interface ResponseView {
  code: number;
  total?: number;
  byte?: number;
  ip?: string;
}

interface Case {
  bytes: Uint8Array;
  request?: DrpcRequest;
  response?: ResponseView;
}

const CASES: Record<string, Case> = {
  "drpc-heartbeat": { bytes: HEARTBEAT_FRAME },
  "drpc-handshake": { bytes: encodeHandshake(1, 1, "g1"), request: { route: 1, kind: 1, id: "g1" } },
  "drpc-handshake-ok": { bytes: encodeResponse(Route.Handshake, 1, Code.OK), response: { code: 0 } },
  "drpc-deliver": {
    bytes: encodeDeliver(0, 3, 10001, HI),
    request: { route: 15, cid: 3, uid: 10001, packet: HI },
  },
  "drpc-trigger-connect": {
    bytes: encodeTrigger(0, 1, 3, 0),
    request: { route: 14, event: 1, cid: 3, uid: 0 },
  },
  "drpc-trigger-reconnect": {
    bytes: encodeTrigger(0, 2, 3, 10001),
    request: { route: 14, event: 2, cid: 3, uid: 10001 },
  },
  "drpc-bind": { bytes: encodeBind(2, 3, 10001), request: { route: 2, cid: 3, uid: 10001 } },
  "drpc-bind-not-found": {
    bytes: encodeResponse(Route.Bind, 2, Code.NotFoundSession),
    response: { code: 1 },
  },
  "drpc-unbind": { bytes: encodeUnbind(3, 10001), request: { route: 3, uid: 10001 } },
  "drpc-getip": {
    bytes: encodeSessionQuery(Route.GetIP, 4, 2, 10001),
    request: { route: 4, kind: 2, target: 10001 },
  },
  "drpc-getip-response": {
    bytes: encodeGetIPResponse(4, Code.OK, "192.168.1.20"),
    response: { code: 0, ip: "192.168.1.20" },
  },
  "drpc-stat": { bytes: encodeStat(5, 1), request: { route: 5, kind: 1 } },
  "drpc-stat-response": {
    bytes: encodeTotalResponse(Route.Stat, 5, Code.OK, 42),
    response: { code: 0, total: 42 },
  },
  "drpc-stat-response-zero": {
    bytes: encodeTotalResponse(Route.Stat, 5, Code.OK, 0),
    response: { code: 0, total: 0 },
  },
  "drpc-isonline": {
    bytes: encodeSessionQuery(Route.IsOnline, 6, 2, 10001),
    request: { route: 6, kind: 2, target: 10001 },
  },
  "drpc-isonline-response": {
    bytes: encodeByteResponse(Route.IsOnline, 6, Code.OK, 1),
    response: { code: 0, byte: 1 },
  },
  "drpc-disconnect": {
    bytes: encodeDisconnect(7, 1, 3, true),
    request: { route: 7, kind: 1, target: 3, force: true },
  },
  "drpc-push": {
    bytes: encodePush(0, 2, 10001, X1),
    request: { route: 8, kind: 2, target: 10001, packet: X1, disconnect: false },
  },
  "drpc-push-disconnect": {
    bytes: encodePush(0, 2, 10001, X1, true),
    request: { route: 8, kind: 2, target: 10001, packet: X1, disconnect: true },
  },
  "drpc-multicast": {
    bytes: encodeMulticast(8, 1, [3, 4], X1),
    request: { route: 9, kind: 1, targets: [3, 4], packet: X1, disconnect: false },
  },
  "drpc-multicast-response": {
    bytes: encodeTotalResponse(Route.Multicast, 8, Code.OK, 2),
    response: { code: 0, total: 2 },
  },
  "drpc-broadcast": {
    bytes: encodeBroadcast(9, 2, X1),
    request: { route: 10, kind: 2, packet: X1, disconnect: false },
  },
  "drpc-publish": {
    bytes: encodePublish(10, "room", X1),
    request: { route: 11, channel: "room", packet: X1, disconnect: false },
  },
  "drpc-subscribe": {
    bytes: encodeSubscription(Route.Subscribe, 11, 2, [10001], "room"),
    request: { route: 12, kind: 2, targets: [10001], channel: "room" },
  },
  "drpc-unsubscribe": {
    bytes: encodeSubscription(Route.Unsubscribe, 12, 2, [10001], "room"),
    request: { route: 13, kind: 2, targets: [10001], channel: "room" },
  },
  "drpc-getstate": { bytes: encodeGetState(13), request: { route: 16 } },
  "drpc-getstate-response": {
    bytes: encodeByteResponse(Route.GetState, 13, Code.OK, 1),
    response: { code: 0, byte: 1 },
  },
  "drpc-setstate": { bytes: encodeSetState(14, 3), request: { route: 17, state: 3 } },
  "drpc-meshcall": {
    bytes: encodeMeshCall(15, "rank", "top", "json", te.encode("[3]")),
    request: { route: 18, service: "rank", method: "top", codec: "json", args: te.encode("[3]") },
  },
  "drpc-meshcall-result": { bytes: encodeMeshResult(15, te.encode("[1,2]")) },
  "drpc-meshcall-error": { bytes: encodeMeshError(15, "route_not_found", "no such service") },
};

const examples = drpcExamples(doc);

Deno.test("docs/protocol.md §2 has a drpc example for every case and a case for every drpc example", () => {
  assert(examples.size >= 30, `expected the drpc examples, found ${examples.size}`);
  assertEquals([...examples.keys()].sort(), Object.keys(CASES).sort());
});

Deno.test("docs/protocol.md §2 shows a golden example of every route 1-18", () => {
  const routes = new Set<number>();
  for (const bytes of examples.values()) if (bytes.length >= 14) routes.add(frameRoute(bytes));
  assertEquals([...routes].sort((a, b) => a - b), Array.from({ length: 18 }, (_, i) => i + 1));
});

for (const [name, { bytes, request, response }] of Object.entries(CASES)) {
  Deno.test(`docs/protocol.md example "${name}" is what core/drpc/frames.ts encodes and decodes`, () => {
    const fromDoc = examples.get(name);
    assert(fromDoc, `docs/protocol.md has no hex block golden=${name}`);
    assertEquals(hex(fromDoc), hex(bytes));
    assertEquals(
      fromDoc.length - 4,
      (fromDoc[0] << 24) | (fromDoc[1] << 16) | (fromDoc[2] << 8) | fromDoc[3],
    );
    if (request) assertEquals(decodeRequest(fromDoc), request);
    if (response) {
      const view: ResponseView = { code: responseCode(fromDoc) };
      if (response.total !== undefined) view.total = responseTotal(fromDoc);
      if (response.byte !== undefined) view.byte = responseByte(fromDoc);
      if (response.ip !== undefined) view.ip = responseIP(fromDoc) ?? undefined;
      assertEquals(view, response);
    }
  });
}

Deno.test("decodeMeshResponse() reads the result and the error examples of docs/protocol.md §2.6", () => {
  assertEquals(decodeMeshResponse(examples.get("drpc-meshcall-result")!), {
    ok: true,
    result: te.encode("[1,2]"),
  });
  assertEquals(decodeMeshResponse(examples.get("drpc-meshcall-error")!), {
    ok: false,
    errorCode: "route_not_found",
    message: "no such service",
  });
});

// ---- head, integers, hot-path writers ---------------------------------------------------------------------------

Deno.test("frameHeader(), frameRoute() and frameSeq() read the head of a frame", () => {
  const frame = encodePush(123456789012, 1, 7, X1, true);
  assertEquals(frameHeader(frame), 0x40);
  assertEquals(frameRoute(frame), Route.Push);
  assertEquals(frameSeq(frame), 123456789012);
});

Deno.test("writeU64() writes the largest seq 2^53 - 1 as u64 and readU64() refuses anything above it", () => {
  const buf = new Uint8Array(8);
  writeU64(buf, 0, MAX_SEQ);
  assertEquals(hex(buf), "00 1f ff ff ff ff ff ff");
  assertEquals(readU64(buf, 0), MAX_SEQ);
  assertEquals(readU64(fromHex("00 20 00 00 00 00 00 00"), 0), -1);
  assertEquals(readU64(fromHex("ff ff ff ff ff ff ff ff"), 0), -1);
});

Deno.test("writeI64() and readI64() round-trip negative and extreme safe integers as two's complement", () => {
  const buf = new Uint8Array(8);
  for (
    const value of [
      0,
      1,
      -1,
      10001,
      -10001,
      2 ** 32,
      -(2 ** 32) - 1,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ]
  ) {
    writeI64(buf, 0, value);
    assertEquals(readI64(buf, 0), value, `i64 ${value}`);
  }
  writeI64(buf, 0, -1);
  assertEquals(hex(buf), "ff ff ff ff ff ff ff ff");
  assert(Number.isNaN(readI64(fromHex("7f ff ff ff ff ff ff ff"), 0)), "2^63 - 1 is not a safe integer");
  assert(Number.isNaN(readI64(fromHex("80 00 00 00 00 00 00 00"), 0)), "-2^63 is not a safe integer");
});

Deno.test("nextSeq() counts up and wraps from 2^53 - 1 to 2, never to 0 or the handshake's 1", () => {
  assertEquals(nextSeq(1), 2);
  assertEquals(nextSeq(41), 42);
  assertEquals(nextSeq(MAX_SEQ), 2);
});

Deno.test("writeDeliver(), writePush() and writeTrigger() write at an offset exactly what the encoders return", () => {
  const buf = new Uint8Array(300).fill(0xee);
  let off = 3;
  off = writeDeliver(buf, off, 0, 3, 10001, HI);
  assertEquals(off, 3 + DELIVER_HEAD_BYTES + HI.length);
  off = writePush(buf, off, 9, 2, 10001, X1, true);
  off = writeTrigger(buf, off, 0, 3, 42, 0);
  const expected = [
    encodeDeliver(0, 3, 10001, HI),
    encodePush(9, 2, 10001, X1, true),
    encodeTrigger(0, 3, 42, 0),
  ];
  const total = expected.reduce((n, f) => n + f.length, 0);
  assertEquals(off, 3 + total);
  assertEquals(hex(buf.subarray(3, off)), expected.map(hex).join(" "));
  assertEquals(buf[2], 0xee, "nothing is written before the offset");
  assertEquals(buf[off], 0xee, "nothing is written after the frames");
  assertEquals(PUSH_HEAD_BYTES + X1.length, expected[1].length);
  assertEquals(triggerBytes(0), expected[2].length);
  assertEquals(triggerBytes(5), expected[2].length + 8);
});

Deno.test("decodeRequest() returns subarrays of the frame for client packets, not copies", () => {
  const frame = encodeDeliver(0, 1, 2, HI);
  const request = decodeRequest(frame);
  assert(request?.route === Route.Deliver);
  assertEquals(request.packet.buffer, frame.buffer);
  assertEquals(request.packet.byteOffset, DELIVER_HEAD_BYTES);
});

// ---- malformed input --------------------------------------------------------------------------------------------

function withBody(route: number, body: number[]): Uint8Array {
  const frame = new Uint8Array(14 + body.length);
  const size = frame.length - 4;
  frame.set([size >>> 24, size >>> 16, size >>> 8, size, 0, route]);
  frame.set(body, 14);
  return frame;
}

Deno.test("decodeRequest() refuses bodies of the wrong length, bad enums, bad UTF-8 and unknown routes", () => {
  const bad: [string, Uint8Array][] = [
    ["bind one byte short", encodeBind(1, 3, 4).subarray(0, 29)],
    ["bind one byte long", withBody(Route.Bind, new Array(17).fill(0))],
    ["getip session kind 3", withBody(Route.GetIP, [3, 0, 0, 0, 0, 0, 0, 0, 1])],
    ["stat session kind 0", withBody(Route.Stat, [0])],
    ["trigger event 4", withBody(Route.Trigger, [4, 0, 0, 0, 0, 0, 0, 0, 1])],
    ["trigger of 12 bytes", withBody(Route.Trigger, [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])],
    ["setstate 4", withBody(Route.SetState, [4])],
    ["getstate with a body", withBody(Route.GetState, [1])],
    ["handshake kind 4", withBody(Route.Handshake, [4, 0x67])],
    ["handshake with no id", withBody(Route.Handshake, [1])],
    ["handshake id not UTF-8", withBody(Route.Handshake, [1, 0xff, 0xfe])],
    ["multicast count above the body", withBody(Route.Multicast, [1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1])],
    ["subscribe count above the body", withBody(Route.Subscribe, [1, 0, 1, 0, 0, 0])],
    ["publish channel length above the body", withBody(Route.Publish, [9, 0x61])],
    ["deliver of 15 bytes", withBody(Route.Deliver, new Array(15).fill(0))],
    ["deliver uid above 2^53", withBody(Route.Deliver, [0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0, 0, 0, 0, 0, 0, 0])],
    ["push of 8 bytes", withBody(Route.Push, [1, 0, 0, 0, 0, 0, 0, 0])],
    ["meshcall cut in a name", withBody(Route.MeshCall, [4, 0x72, 0x61])],
    ["unknown route 99", withBody(99, [])],
  ];
  for (const [what, frame] of bad) assertEquals(decodeRequest(frame), undefined, what);
});

Deno.test("encodeMulticast() and encodeSubscription() refuse more than 65535 targets in one frame", () => {
  const targets = new Array<number>(65536).fill(1);
  assertThrows(() => encodeMulticast(1, 1, targets, X1), RangeError, "at most 65535 targets");
  assertThrows(() => encodeSubscription(Route.Subscribe, 1, 1, targets, "c"), RangeError, "at most 65535");
  assertEquals(decodeRequest(encodeMulticast(1, 1, targets.slice(1), X1))?.route, Route.Multicast);
});

Deno.test("encodePublish() and encodeMeshCall() refuse names longer than 255 UTF-8 bytes", () => {
  assertThrows(() => encodePublish(1, "é".repeat(128), X1), RangeError, "at most 255 UTF-8 bytes");
  assertThrows(() => encodeMeshCall(1, "s".repeat(256), "m", "json", new Uint8Array()), RangeError, "255");
  assertEquals(decodeRequest(encodePublish(1, "c".repeat(255), X1))?.route, Route.Publish);
});

Deno.test("ipv4ToU32() reads dotted and IPv4-mapped addresses and refuses IPv6 and out-of-range parts", () => {
  assertEquals(ipv4ToU32("192.168.1.20"), 0xc0a80114);
  assertEquals(ipv4ToU32("::ffff:10.0.0.1"), 0x0a000001);
  assertEquals(ipv4ToU32("::1"), -1);
  assertEquals(ipv4ToU32("256.1.1.1"), -1);
  assertEquals(u32ToIpv4(0xffffffff), "255.255.255.255");
  assertEquals(responseIP(encodeGetIPResponse(1, Code.OK, "::1")), undefined, "IPv6 leaves the address out");
  assertEquals(responseIP(encodeGetIPResponse(1, Code.InternalError, "1.2.3.4")), undefined);
});

Deno.test("encodeTotalResponse() leaves the total out when the code is not OK", () => {
  const frame = encodeTotalResponse(Route.Broadcast, 3, Code.InternalError, 9);
  assertEquals(frame.length, 16);
  assertEquals(responseCode(frame), Code.InternalError);
  assertEquals(responseTotal(frame), 0);
});

Deno.test("encodeMeshError() cuts a long message on a character boundary so it still decodes", () => {
  const frame = encodeMeshError(1, "internal", "é".repeat(100), 40);
  const decoded = decodeMeshResponse(frame);
  assert(decoded && !decoded.ok, "an error");
  assertEquals(decoded.errorCode, "internal");
  assert(decoded.message.length > 0 && /^é+$/.test(decoded.message), decoded.message);
  assert(frame.length - 14 <= 40, `body of ${frame.length - 14} bytes`);
});

Deno.test("every drpc example framed from one stream split at every offset comes out whole and in order", () => {
  const frames = [...examples.values()];
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let off = 0;
  for (const frame of frames) {
    stream.set(frame, off);
    off += frame.length;
  }
  for (let cut = 1; cut < stream.length; cut++) {
    const seen: string[] = [];
    const reader = new FrameReader({ little: false, maxSize: 1 << 20 }, (f) => seen.push(hex(f)));
    assertEquals(reader.feed(stream.subarray(0, cut)), FeedResult.Ok);
    assertEquals(reader.feed(stream.subarray(cut)), FeedResult.Ok);
    assertEquals(seen, frames.map(hex), `split at ${cut}`);
  }
});
