/**
 * The cost of the JSON work alone that route 1 does per message: UTF-8 decode, `JSON.parse`, `JSON.stringify` and
 * UTF-8 encode of the load generator's `{"message":"<letters>"}` payload, with the framework's own helpers
 * (`adapters/codec/json.ts`). It is a floor under the JSON echo's CPU per message: no framework can do that work
 * for less, so `floor / raw` tells how far from the raw server the JSON cases can possibly come.
 *
 * @module
 */
import { createJsonCodec } from "../adapters/codec/json.ts";

/**
 * Microseconds of one decode + encode round of the JSON codec on a payload of `payloadBytes` bytes, the median of
 * five runs of `runMs` each.
 */
export function measureJsonFloor(payloadBytes: number, runMs = 200): number {
  const codec = createJsonCodec();
  const text = JSON.stringify({ message: "x".repeat(Math.max(1, payloadBytes - 14)) });
  // The payload sits inside a larger buffer, as it does in a read slab.
  const slab = new Uint8Array(64 * 1024);
  const encoded = new TextEncoder().encode(text);
  slab.set(encoded, 64);
  const payload = slab.subarray(64, 64 + encoded.length);
  let sink = 0;
  const round = () => {
    sink += codec.encode(codec.decode(payload)).length;
  };
  for (let i = 0; i < 20_000; i++) round(); // warm up the optimiser
  const samples: number[] = [];
  for (let run = 0; run < 5; run++) {
    let n = 0;
    const started = performance.now();
    const until = started + runMs;
    let now = started;
    while (now < until) {
      for (let i = 0; i < 1000; i++) round();
      n += 1000;
      now = performance.now();
    }
    samples.push(((now - started) * 1000) / n);
  }
  if (sink === 0) throw new Error("unreachable: the codec produced nothing");
  samples.sort((a, b) => a - b);
  return samples[2];
}
