import assert from "node:assert/strict";
import { formatSize, parseSize } from "../../config/size.ts";

Deno.test("parseSize() reads due's units as multiples of 1024", () => {
  assert.equal(parseSize("100B"), 100);
  assert.equal(parseSize("512K"), 512 * 1024);
  assert.equal(parseSize("512KB"), 512 * 1024);
  assert.equal(parseSize("4M"), 4 * 1024 * 1024);
  assert.equal(parseSize("4MB"), 4 * 1024 * 1024);
  assert.equal(parseSize("4MiB"), 4 * 1024 * 1024);
  assert.equal(parseSize("1G"), 1024 ** 3);
  assert.equal(parseSize("2T"), 2 * 1024 ** 4);
});

Deno.test("parseSize() ignores case and space, and rounds fractions down", () => {
  assert.equal(parseSize("4m"), 4 * 1024 * 1024);
  assert.equal(parseSize("1 k"), 1024);
  assert.equal(parseSize("1.5K"), 1536);
  assert.equal(parseSize("0.3K"), 307);
});

Deno.test("parseSize() treats numbers and digit strings as bytes", () => {
  assert.equal(parseSize(5000), 5000);
  assert.equal(parseSize("5000"), 5000);
  assert.equal(parseSize(0), 0);
});

Deno.test("parseSize() rejects what is not a size", () => {
  for (const bad of ["four", "4X", "M", "-1K", "4 MBs", ""]) {
    assert.throws(() => parseSize(bad), SyntaxError, `"${bad}" should be rejected`);
  }
  assert.throws(() => parseSize(1.5), SyntaxError);
  assert.throws(() => parseSize(-1), SyntaxError);
  assert.throws(() => parseSize("4Q"), {
    message: 'Cannot parse size as it must be like "4M", "512K", "1G" or "100B": current value is "4Q"',
  });
});

Deno.test("formatSize() writes the shortest exact string parseSize() reads back", () => {
  assert.equal(formatSize(4 * 1024 * 1024), "4M");
  assert.equal(formatSize(1536), "1536B");
  assert.equal(formatSize(2048), "2K");
  assert.equal(formatSize(0), "0B");
  for (const bytes of [1, 1023, 1024, 5000, 100 * 1024 * 1024, 3 * 1024 ** 4]) {
    assert.equal(parseSize(formatSize(bytes)), bytes);
  }
});
