import { assert, assertBetween, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { backoffDelay } from "../../client/_backoff.ts";
import { parseAddr } from "../../client/_addr.ts";
import { StreamWriter } from "../../client/_stream_writer.ts";

Deno.test("backoffDelay() doubles from minDelayMs, caps at maxDelayMs, and jitters the upper half", () => {
  assertEquals([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, () => 1)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assertEquals([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, () => 0)), [
    50,
    100,
    200,
    400,
    500,
    500,
  ]);
  for (let i = 0; i < 100; i++) assertBetween(backoffDelay(3, 100, 1000), 200, 400);
  assertEquals(backoffDelay(1000, 100, 1000, () => 1), 1000);
});

Deno.test("parseAddr() splits host:port, [ipv6]:port and :port", () => {
  assertEquals(parseAddr("127.0.0.1:3553", "x"), { hostname: "127.0.0.1", port: 3553 });
  assertEquals(parseAddr("[::1]:3553", "x"), { hostname: "::1", port: 3553 });
  assertEquals(parseAddr("game.example:80", "x"), { hostname: "game.example", port: 80 });
  assertEquals(parseAddr(":3553", "x"), { hostname: "127.0.0.1", port: 3553 });
  assertThrows(
    () => parseAddr("127.0.0.1", "connect"),
    TypeError,
    `Cannot connect as 'addr' must be "host:port"`,
  );
  assertThrows(() => parseAddr("127.0.0.1:0", "connect"), TypeError);
  assertThrows(() => parseAddr("127.0.0.1:70000", "connect"), TypeError);
});

Deno.test("StreamWriter coalesces the writes of one tick and keeps one write in flight", async () => {
  const writes: number[][] = [];
  let release!: () => void;
  const writer = new StreamWriter(
    (bytes) => {
      writes.push([...bytes]);
      return new Promise<void>((resolve) => release = resolve);
    },
    () => {},
    100,
  );
  writer.write(new Uint8Array([1]));
  writer.write(new Uint8Array([2, 3]));
  assertEquals(writes, []); // nothing before the end of the tick
  await Promise.resolve();
  assertEquals(writes, [[1, 2, 3]]);
  writer.write(new Uint8Array([4]));
  writer.write(new Uint8Array([5]));
  await Promise.resolve();
  assertEquals(writes.length, 1); // the first write is still in flight
  release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(writes, [[1, 2, 3], [4, 5]]);
  release();
  await writer.drain(1000);
  assertEquals(writer.pending, 0);
});

Deno.test("StreamWriter refuses writes past maxQueuedBytes and after a failed write", async () => {
  const errors: Error[] = [];
  const writer = new StreamWriter(() => Promise.reject(new Error("broken pipe")), (e) => errors.push(e), 4);
  assert(writer.write(new Uint8Array(3)));
  assert(!writer.write(new Uint8Array(2)), "over the bound");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(errors.map((e) => e.message), ["broken pipe"]);
  assert(!writer.write(new Uint8Array(1)), "after the failure");
  await writer.drain(1000);
});
