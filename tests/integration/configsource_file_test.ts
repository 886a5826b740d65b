import assert from "node:assert/strict";
import { createFileConfigSource } from "../../adapters/configsource/file.ts";
import type { ConfigSourceChange } from "../../adapters/configsource/types.ts";
import { type ConfigChange, createConfigCenter } from "../../config/center.ts";
import { ConfigError } from "../../config/config_error.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { createLogger, type LogRecord, silentLogger } from "../../core/logger.ts";
import { waitFor } from "../_helpers/wait.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "due-configsource-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("createFileConfigSource() loads toml, json, yaml and xml files named by their file name", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/game.toml`, "maxPlayers = 4\n[rooms]\nsize = 8\n");
    await Deno.writeTextFile(`${dir}/shop.json`, '{"open": true, "items": ["sword"]}');
    await Deno.writeTextFile(`${dir}/mail.yaml`, "from: admin\n");
    await Deno.writeTextFile(`${dir}/rank.yml`, "top: 10\n");
    await Deno.writeTextFile(`${dir}/level.xml`, "<level><max>99</max><name>hard</name></level>");
    await Deno.writeTextFile(`${dir}/.hidden.toml`, "secret = 1");
    await Deno.writeTextFile(`${dir}/notes.txt`, "not config");
    await Deno.mkdir(`${dir}/sub.toml`);
    const source = createFileConfigSource({ path: dir });
    const files = await source.load();
    assert.deepEqual(files.map(({ name, file, format }) => [name, file, format]), [
      ["game", "game.toml", "toml"],
      ["level", "level.xml", "xml"],
      ["mail", "mail.yaml", "yaml"],
      ["rank", "rank.yml", "yaml"],
      ["shop", "shop.json", "json"],
    ]);
    assert.deepEqual(files[0].content, { maxPlayers: 4, rooms: { size: 8 } });
    assert.deepEqual(files[1].content, { max: 99, name: "hard" });
    assert.deepEqual((await source.load("shop")).map((file) => file.content), [{
      open: true,
      items: ["sword"],
    }]);
    await source.close();
  });
});

Deno.test("createFileConfigSource() names the file and line of a file it cannot parse", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/game.toml`, "maxPlayers = 4\nrooms = [\n");
    const source = createFileConfigSource({ path: dir });
    await assert.rejects(() => source.load(), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, `${dir}/game.toml`);
      assert.match(err.message, new RegExp(`^Cannot parse ${dir}/game\\.toml as TOML at line \\d+`));
      return true;
    });
    await Deno.writeTextFile(`${dir}/game.toml`, "");
    await Deno.writeTextFile(`${dir}/list.json`, "[1, 2]");
    await assert.rejects(() => source.load(), {
      message: `Cannot use ${dir}/list.json as config: its content must be a table, not a list`,
    });
    await source.close();
  });
});

Deno.test("createFileConfigSource() fails on a missing directory unless it may write one", async () => {
  await withDir(async (dir) => {
    await assert.rejects(() => createFileConfigSource({ path: `${dir}/nope` }).load(), {
      name: "ConfigError",
      message: `Cannot read config directory ${dir}/nope: no such directory`,
    });
    const writable = createFileConfigSource({ path: `${dir}/new`, mode: "read-write" });
    assert.deepEqual(await writable.load(), []);
    await writable.store("game.json", { a: 1 });
    assert.deepEqual((await writable.load()).map((file) => file.content), [{ a: 1 }]);
    await writable.close();
  });
});

Deno.test("createFileConfigSource() enforces read-only, write-only and read-write", async () => {
  await withDir(async (dir) => {
    const readOnly = createFileConfigSource({ path: dir, mode: "read-only" });
    await assert.rejects(() => readOnly.store("game.toml", { a: 1 }), (err: unknown) => {
      assert.ok(DueError.is(err, ErrorCode.IllegalRequest));
      assert.equal(err.message, `Cannot store game.toml in ${dir} as the file config source is read-only`);
      return true;
    });
    const writeOnly = createFileConfigSource({ path: dir, mode: "write-only" });
    await writeOnly.store("game.toml", { a: 1 });
    await assert.rejects(
      () => writeOnly.load(),
      (err: unknown) => DueError.is(err, ErrorCode.IllegalRequest),
    );
    assert.throws(
      () => writeOnly.watch(() => {}),
      (err: unknown) => DueError.is(err, ErrorCode.IllegalRequest),
    );
    assert.deepEqual((await readOnly.load()).map((file) => file.content), [{ a: 1 }]);
    assert.throws(() => createFileConfigSource({ path: dir, mode: "rw" as never }), {
      name: "TypeError",
      message:
        "Cannot create file config source as 'mode' must be one of read-only|write-only|read-write: current value is \"rw\"",
    });
    await readOnly.close();
    await writeOnly.close();
  });
});

Deno.test("createFileConfigSource() store() writes the extension's format and refuses paths", async () => {
  await withDir(async (dir) => {
    const source = createFileConfigSource({ path: dir, mode: "read-write" });
    const value = { name: "arena", maxPlayers: 4, rules: { timeLimit: 60 } };
    for (const file of ["a.toml", "b.json", "c.yaml", "d.xml"]) await source.store(file, value);
    assert.match(await Deno.readTextFile(`${dir}/a.toml`), /^name = "arena"/m);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/b.json`)).maxPlayers, 4);
    assert.match(await Deno.readTextFile(`${dir}/d.xml`), /<config>/);
    for (const file of await source.load()) assert.deepEqual(file.content, value, file.file);
    const leftovers = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) =>
      name.startsWith(".")
    );
    assert.deepEqual(leftovers, [], "no temporary files left");
    for (const bad of ["../evil.toml", "sub/game.toml", ".hidden.toml", "game.ini", "game"]) {
      await assert.rejects(() => source.store(bad, {}), TypeError, bad);
    }
    await source.close();
  });
});

Deno.test("createFileConfigSource() watch() reports changes once per burst of writes", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/game.toml`, "v = 0\n");
    const source = createFileConfigSource({ path: dir, debounceMs: 150 });
    const changes: ConfigSourceChange[] = [];
    const watcher = source.watch((change) => changes.push(change));
    await sleep(50);
    for (let v = 1; v <= 5; v++) await Deno.writeTextFile(`${dir}/game.toml`, `v = ${v}\n`);
    await waitFor(() => changes.length > 0, "a change");
    await sleep(400);
    assert.equal(changes.length, 1, "five writes in a burst are read once");
    assert.deepEqual(changes[0].files.map((file) => file.content), [{ v: 5 }]);
    await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
    await sleep(300);
    assert.equal(changes.length, 1, "files that are not config do not trigger a reload");
    await watcher.stop();
    await source.close();
  });
});

Deno.test("createConfigCenter() over a file source hot-reloads edited, added and removed files", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/game.toml`, "maxPlayers = 4\n");
    const center = createConfigCenter({
      sources: [createFileConfigSource({ path: dir, debounceMs: 50 })],
      logger: silentLogger,
    });
    await center.load();
    assert.equal(center.get("game.maxPlayers"), 4);
    const changes: ConfigChange[] = [];
    center.watch((change) => changes.push(change));

    await Deno.writeTextFile(`${dir}/game.toml`, "maxPlayers = 6\n");
    await waitFor(() => center.get("game.maxPlayers") === 6, "game.maxPlayers = 6");
    await Deno.writeTextFile(`${dir}/shop.yaml`, "open: true\n");
    await waitFor(() => center.get("shop.open") === true, "shop.open");
    await Deno.remove(`${dir}/game.toml`);
    await waitFor(() => !center.has("game"), "game removed");
    assert.deepEqual(changes.map(({ name, value, origin }) => [name, value, origin]), [
      ["game", { maxPlayers: 6 }, "file"],
      ["shop", { open: true }, "file"],
      ["game", undefined, "file"],
    ]);
    await center.close();
  });
});

Deno.test("createConfigCenter() keeps a file's last good values while it is broken on disk", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/game.json`, '{"maxPlayers": 4}');
    await Deno.writeTextFile(`${dir}/shop.json`, '{"open": false}');
    const records: LogRecord[] = [];
    const center = createConfigCenter({
      sources: [createFileConfigSource({ path: dir, debounceMs: 50 })],
      logger: createLogger({ sinks: [{ write: (record) => records.push(record) }] }),
    });
    await center.load();
    await Deno.writeTextFile(`${dir}/game.json`, '{"maxPlayers": ');
    await Deno.writeTextFile(`${dir}/shop.json`, '{"open": true}');
    await waitFor(() => center.get("shop.open") === true, "shop reloaded");
    assert.equal(center.get("game.maxPlayers"), 4, "the broken file keeps its last good values");
    assert.ok(records.some((record) => record.level === "error" && record.attrs.file === "game.json"));
    await Deno.writeTextFile(`${dir}/game.json`, '{"maxPlayers": 8}');
    await waitFor(() => center.get("game.maxPlayers") === 8, "game fixed");
    await center.close();
  });
});

Deno.test("createConfigCenter() store() through a read-write file source is read back at once", async () => {
  await withDir(async (dir) => {
    const center = createConfigCenter({
      sources: [createFileConfigSource({ path: dir, mode: "read-write", debounceMs: 50 })],
      logger: silentLogger,
    });
    await center.load();
    await center.store("game.yaml", { maxPlayers: 10 });
    assert.equal(center.get("game.maxPlayers"), 10);
    assert.match(await Deno.readTextFile(`${dir}/game.yaml`), /maxPlayers: 10/);
    await center.close();
  });
});

Deno.test("createConfigCenter() over a missing read-only directory fails naming it", async () => {
  await withDir(async (dir) => {
    const center = createConfigCenter({
      sources: [createFileConfigSource({ path: `${dir}/missing` })],
      logger: silentLogger,
    });
    await assert.rejects(() => center.load(), {
      name: "ConfigError",
      message: `Cannot watch config directory ${dir}/missing: no such directory`,
    });
    await center.close();
  });
});

Deno.test("createConfigCenter() over a missing read-write directory creates it and watches it", async () => {
  await withDir(async (dir) => {
    const center = createConfigCenter({
      sources: [createFileConfigSource({ path: `${dir}/fresh`, mode: "read-write", debounceMs: 50 })],
      logger: silentLogger,
    });
    await center.load();
    assert.equal(center.has("game"), false);
    await Deno.writeTextFile(`${dir}/fresh/game.json`, '{"maxPlayers": 2}');
    await waitFor(() => center.get("game.maxPlayers") === 2, "game.maxPlayers = 2");
    await center.close();
  });
});
