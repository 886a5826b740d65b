import { createFileSink, periodLabel } from "../../adapters/log/file.ts";
import type { LogRecord } from "../../core/logger.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

const record = (msg: string, time = Date.UTC(2026, 10, 24, 9, 15)): LogRecord => ({
  time,
  level: "info",
  msg,
  attrs: { role: "gate", id: "g1", n: 1 },
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "due-log-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const read = (path: string) => Deno.readTextFile(path);
const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("createFileSink() buffers lines until flush() and writes them in order", () =>
  withDir(async (dir) => {
    const sink = createFileSink({ path: `${dir}/due.log` });
    sink.write(record("one"));
    sink.write(record("two"));
    assertEquals(await read(`${dir}/due.log`), "");
    sink.flush();
    const lines = (await read(`${dir}/due.log`)).trim().split("\n");
    assertEquals(lines.length, 2);
    assert(lines[0].endsWith("INFO  [gate g1] one n=1"), lines[0]);
    assert(lines[1].includes("two"));
    await sink.close();
  }));

Deno.test("createFileSink() writes when the buffer passes bufferBytes and on its interval", () =>
  withDir(async (dir) => {
    const sink = createFileSink({ path: `${dir}/due.log`, bufferBytes: 100, flushIntervalMs: 50 });
    sink.write(record("x".repeat(120)));
    assert((await read(`${dir}/due.log`)).includes("x".repeat(120)), "not written past bufferBytes");
    sink.write(record("later"));
    assert(!(await read(`${dir}/due.log`)).includes("later"));
    await new Promise((r) => setTimeout(r, 150));
    assert((await read(`${dir}/due.log`)).includes("later"), "not written by the interval");
    await sink.close();
  }));

Deno.test("createFileSink() close() writes the buffer and ignores later records", () =>
  withDir(async (dir) => {
    const sink = createFileSink({ path: `${dir}/sub/dir/app.log`, format: "json" });
    sink.write(record("kept"));
    await sink.close();
    sink.write(record("ignored"));
    await sink.close();
    const text = await read(`${dir}/sub/dir/app.log`);
    assertEquals(JSON.parse(text.trim()).msg, "kept");
    assert(!text.includes("ignored"));
  }));

Deno.test("createFileSink() rotates by size without losing or reordering lines", () =>
  withDir(async (dir) => {
    const sink = createFileSink({ path: `${dir}/due.log`, maxSizeBytes: 300, bufferBytes: 1 });
    for (let i = 0; i < 20; i++) sink.write(record(`line-${String(i).padStart(2, "0")}`));
    await sink.close();
    const files = names(dir);
    assert(files.length >= 4, files.join(","));
    let all: string[] = [];
    for (const name of files) {
      const text = await read(`${dir}/${name}`);
      assert(new TextEncoder().encode(text).length <= 300, `${name} is over maxSizeBytes`);
      all = all.concat(text.trim().split("\n").map((l) => l.split(" ").at(-2)!));
    }
    // Rotated files are named <time>[.<n>].log: order by time, then n (none = 0); the active file is last.
    const order = (f: string) => {
      const [, label, n] = /^due\.(\d{8}T\d{6})(?:\.(\d+))?\.log$/.exec(f)!;
      return `${label}.${(n ?? "0").padStart(4, "0")}`;
    };
    const rotated = files.filter((f) => f !== "due.log").sort((a, b) => order(a) < order(b) ? -1 : 1);
    const ordered = [...rotated.map((f) => `${dir}/${f}`), `${dir}/due.log`];
    const lines = ordered.flatMap((f) =>
      Deno.readTextFileSync(f).trim().split("\n").map((l) => l.split(" ").at(-2)!)
    );
    assertEquals(lines, Array.from({ length: 20 }, (_, i) => `line-${String(i).padStart(2, "0")}`));
    assertEquals(all.length, 20);
  }));

Deno.test("createFileSink() rotates by day into a file named after the day it covers", () =>
  withDir(async (dir) => {
    let t = new Date(2026, 10, 24, 23, 59).getTime();
    const sink = createFileSink({ path: `${dir}/due.log`, rotate: "day", now: () => t });
    sink.write(record("monday night"));
    sink.flush();
    t = new Date(2026, 10, 25, 0, 1).getTime();
    sink.write(record("tuesday"));
    sink.flush();
    await sink.close();
    assertEquals(names(dir), ["due.2026-11-24.log", "due.log"]);
    assert((await read(`${dir}/due.2026-11-24.log`)).includes("monday night"));
    const active = await read(`${dir}/due.log`);
    assert(active.includes("tuesday") && !active.includes("monday"));
  }));

Deno.test("createFileSink() gzips rotated files when compress is set", () =>
  withDir(async (dir) => {
    let t = new Date(2026, 10, 24, 9).getTime();
    const sink = createFileSink({ path: `${dir}/due.log`, rotate: "hour", compress: true, now: () => t });
    sink.write(record("nine o'clock"));
    sink.flush();
    t += 3_600_000;
    sink.write(record("ten o'clock"));
    await sink.close();
    assertEquals(names(dir), ["due.2026-11-24T09.log.gz", "due.log"]);
    const gz = await Deno.open(`${dir}/due.2026-11-24T09.log.gz`);
    const text = await new Response(gz.readable.pipeThrough(new DecompressionStream("gzip"))).text();
    assert(text.includes("nine o'clock") && !text.includes("ten"), text);
  }));

Deno.test("createFileSink() removes rotated files older than maxAgeMs and nothing else", () =>
  withDir(async (dir) => {
    const day = 86_400_000;
    const old = new Date(Date.now() - 10 * day);
    for (
      const name of ["due.2026-01-01.log", "due.2026-01-02.log.gz", "other.2026-01-01.log", "due.notes.txt"]
    ) {
      await Deno.writeTextFile(`${dir}/${name}`, "old");
      await Deno.utime(`${dir}/${name}`, old, old);
    }
    await Deno.writeTextFile(`${dir}/due.2026-11-20.log`, "recent");
    const sink = createFileSink({ path: `${dir}/due.log`, maxAgeMs: 7 * day });
    await sink.close();
    assertEquals(names(dir), ["due.2026-11-20.log", "due.log", "due.notes.txt", "other.2026-01-01.log"]);
  }));

Deno.test("periodLabel() names years, months, ISO weeks, days and hours in local time", () => {
  const t = new Date(2026, 10, 24, 9, 15, 7).getTime();
  assertEquals(periodLabel("year", t), "2026");
  assertEquals(periodLabel("month", t), "2026-11");
  assertEquals(periodLabel("day", t), "2026-11-24");
  assertEquals(periodLabel("hour", t), "2026-11-24T09");
  assertEquals(periodLabel("none", t), "20261124T091507");
  assertEquals(periodLabel("week", new Date(2021, 0, 3).getTime()), "2020-W53");
  assertEquals(periodLabel("week", new Date(2021, 0, 4).getTime()), "2021-W01");
  assertEquals(periodLabel("week", new Date(2024, 11, 30).getTime()), "2025-W01");
  assertEquals(periodLabel("week", t), "2026-W48");
});
