/**
 * Golden-byte tests of `docs/protocol.md`: every byte example is read out of the markdown (```hex golden=NAME
 * blocks) and compared with what `core/packet.ts` encodes, so the doc cannot drift from the code.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  createPacketFormat,
  type DecodedPacket,
  decodePacket,
  encodeHeartbeat,
  encodeMessage,
  encodeTimedHeartbeat,
  type PacketFormat,
  writeU32,
} from "../../core/packet.ts";

const DOC_URL = new URL("../../docs/protocol.md", import.meta.url);
const doc = await Deno.readTextFile(DOC_URL);

interface Block {
  info: string;
  body: string;
  line: number;
}

/** The fenced code blocks of a markdown text. */
function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].startsWith(open[1])) body.push(lines[j++]);
    blocks.push({ info: open[2].trim(), body: body.join("\n"), line: i + 1 });
    i = j;
  }
  return blocks;
}

/** Bytes of a golden block: hex pairs, `|` separators ignored, `#` starts a comment. */
function parseHexBlock(block: Block): Uint8Array {
  const tokens = block.body.split("\n").flatMap((line) =>
    line.replace(/#.*$/, "").replaceAll("|", " ").split(/\s+/)
  )
    .filter((t) => t !== "");
  for (const token of tokens) {
    assert(
      /^[0-9a-f]{2}$/.test(token),
      `docs/protocol.md:${block.line}: "${token}" is not a lowercase hex byte`,
    );
  }
  return Uint8Array.from(tokens, (t) => parseInt(t, 16));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

const HI = new TextEncoder().encode('{"message":"hi"}');
const X1 = new TextEncoder().encode('{"x":1}');
const TIME_NS = 1717000000123456789n;
const big = createPacketFormat();
const little = createPacketFormat({ byteOrder: "little" });

function noop(format: PacketFormat): Uint8Array {
  const out = new Uint8Array(4);
  writeU32(out, 0, 0, format.little);
  return out;
}

/** What each named example must be: the format it is in, the encoder's bytes, and what decoding gives. */
const CASES: Record<string, { format: PacketFormat; bytes: Uint8Array; decoded: DecodedPacket | undefined }> =
  {
    "route300-seq1": {
      format: createPacketFormat({ seqBytes: 1 }),
      bytes: encodeMessage(createPacketFormat({ seqBytes: 1 }), 300, 7, X1),
      decoded: { kind: "data", route: 300, seq: 7, payload: X1 },
    },
    "seq-max": {
      format: big,
      bytes: encodeMessage(big, 1, 32767),
      decoded: { kind: "data", route: 1, seq: 32767, payload: new Uint8Array() },
    },
    "seq-wrapped": {
      format: big,
      bytes: encodeMessage(big, 1, 1),
      decoded: { kind: "data", route: 1, seq: 1, payload: new Uint8Array() },
    },
    "heartbeat-big": { format: big, bytes: encodeHeartbeat(big), decoded: { kind: "heartbeat" } },
    "heartbeat-little": { format: little, bytes: encodeHeartbeat(little), decoded: { kind: "heartbeat" } },
    "heartbeat-time-big": {
      format: big,
      bytes: encodeTimedHeartbeat(big, TIME_NS),
      decoded: { kind: "heartbeat", timeNs: TIME_NS },
    },
    "heartbeat-time-little": {
      format: little,
      bytes: encodeTimedHeartbeat(little, TIME_NS),
      decoded: { kind: "heartbeat", timeNs: TIME_NS },
    },
    "noop": { format: big, bytes: noop(big), decoded: undefined },
    "data-big": {
      format: big,
      bytes: encodeMessage(big, 1, 7, HI),
      decoded: { kind: "data", route: 1, seq: 7, payload: HI },
    },
    "data-little": {
      format: little,
      bytes: encodeMessage(little, 1, 7, HI),
      decoded: { kind: "data", route: 1, seq: 7, payload: HI },
    },
    "push-big": {
      format: big,
      bytes: encodeMessage(big, 20, 0, X1),
      decoded: { kind: "data", route: 20, seq: 0, payload: X1 },
    },
    "route4-noseq": {
      format: createPacketFormat({ routeBytes: 4, seqBytes: 0 }),
      bytes: encodeMessage(createPacketFormat({ routeBytes: 4, seqBytes: 0 }), 1, 0, X1),
      decoded: { kind: "data", route: 1, seq: 0, payload: X1 },
    },
    "signed-route1-seq1": {
      format: createPacketFormat({ routeBytes: 1, seqBytes: 1 }),
      bytes: encodeMessage(createPacketFormat({ routeBytes: 1, seqBytes: 1 }), -1, 127),
      decoded: { kind: "data", route: -1, seq: 127, payload: new Uint8Array() },
    },
  };

const blocks = fencedBlocks(doc);
const golden = new Map<string, Uint8Array>();
for (const block of blocks) {
  const match = /^hex golden=([a-z0-9-]+)$/.exec(block.info);
  if (match) golden.set(match[1], parseHexBlock(block));
}

Deno.test("docs/protocol.md has a golden case for every hex block and a hex block for every case", () => {
  const hexBlocks = blocks.filter((b) => b.info.startsWith("hex"));
  assertEquals(hexBlocks.length, golden.size, "every hex block needs a unique golden=NAME");
  // The cluster protocol's examples (golden=drpc-…) are checked by drpc_frames_test.ts against core/drpc/frames.ts.
  const clientExamples = [...golden.keys()].filter((name) => !name.startsWith("drpc-"));
  assertEquals(clientExamples.sort(), Object.keys(CASES).sort());
});

for (const [name, { format, bytes, decoded }] of Object.entries(CASES)) {
  Deno.test(`docs/protocol.md example "${name}" is what core/packet.ts encodes and decodes`, () => {
    const fromDoc = golden.get(name);
    assert(fromDoc, `docs/protocol.md has no hex block golden=${name}`);
    assertEquals(hex(fromDoc), hex(bytes));
    assertEquals(decodePacket(format, fromDoc), decoded);
  });
}

Deno.test("every inline byte string in docs/protocol.md appears in a golden example", () => {
  const all = [...golden.values()].map(hex);
  const inline = [...doc.matchAll(/`([0-9a-f]{2}(?: [0-9a-f]{2})+)`/g)].map((m) => m[1]);
  assert(inline.length >= 5, `expected inline byte strings, found ${inline.length}`);
  for (const bytes of inline) {
    assert(all.some((g) => g.includes(bytes)), `inline bytes "${bytes}" appear in no golden example`);
  }
});

Deno.test("no other fenced block of docs/protocol.md holds byte examples", () => {
  for (const block of blocks) {
    if (block.info.startsWith("hex")) continue;
    assert(
      !/(^|\s)([0-9a-f]{2} ){3}[0-9a-f]{2}(\s|$)/m.test(block.body),
      `docs/protocol.md:${block.line}: bytes outside a golden hex block`,
    );
  }
});

Deno.test("docs/protocol.md states the default inbound limit that createPacketFormat() computes", () => {
  assertEquals(createPacketFormat().maxSize, 5005);
  assert(doc.includes(`${createPacketFormat().maxSize} with the defaults`), "the limit 5005 is documented");
});

Deno.test("docs/protocol.md keeps a marked Cluster protocol section", () => {
  assert(/^## 2\. Cluster protocol$/m.test(doc), "the section heading is there");
});
