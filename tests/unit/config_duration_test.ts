import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../config/duration.ts";

Deno.test("parseDuration() reads due's units as milliseconds", () => {
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  assert.equal(parseDuration("1h2m3s4ms"), 3_723_004);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration("0s"), 0);
});

Deno.test("parseDuration() reads sub-millisecond units as fractions", () => {
  assert.equal(parseDuration("250us"), 0.25);
  assert.equal(parseDuration("250µs"), 0.25);
  assert.equal(parseDuration("1000000ns"), 1);
});

Deno.test("parseDuration() treats numbers and digit strings as milliseconds", () => {
  assert.equal(parseDuration(1500), 1500);
  assert.equal(parseDuration("1500"), 1500);
  assert.equal(parseDuration(" 20s "), 20_000);
});

Deno.test("parseDuration() rejects what is not a duration", () => {
  for (const bad of ["ten", "10 s", "s", "-1s", "1y", "10S", "", "1m30", "1.s"]) {
    assert.throws(() => parseDuration(bad), SyntaxError, `"${bad}" should be rejected`);
  }
  assert.throws(() => parseDuration(-1), SyntaxError);
  assert.throws(() => parseDuration(Number.NaN), SyntaxError);
  assert.throws(() => parseDuration(Infinity), SyntaxError);
});

Deno.test("parseDuration() names the bad value in its message", () => {
  assert.throws(() => parseDuration("ten"), {
    name: "SyntaxError",
    message:
      'Cannot parse duration as it must be like "10s", "500ms", "1m30s", "2h" or "7d": current value is "ten"',
  });
});

Deno.test("formatDuration() writes the shortest string parseDuration() reads back", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(604_800_000), "7d");
  assert.equal(formatDuration(20), "20ms");
  for (const ms of [1, 999, 1000, 61_001, 86_400_001, 3_723_004]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
