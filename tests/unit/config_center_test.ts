import assert from "node:assert/strict";
import { type ConfigChange, createConfigCenter } from "../../config/center.ts";
import type {
  ConfigFile,
  ConfigFileFailure,
  ConfigSource,
  ConfigSourceChange,
  ConfigSourceMode,
} from "../../adapters/configsource/types.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { type LogRecord, silentLogger } from "../../core/logger.ts";
import { createLogger } from "../../core/logger.ts";

/** An in-memory source whose changes the test triggers. */
function createFakeSource(
  name: string,
  mode: ConfigSourceMode,
  files: Record<string, Record<string, unknown>>,
) {
  const listeners = new Set<(change: ConfigSourceChange) => void>();
  const calls: string[] = [];
  const list = (only?: string): ConfigFile[] =>
    Object.entries(files)
      .filter(([file]) => only === undefined || file.split(".")[0] === only)
      .map(([file, content]) => ({
        name: file.split(".")[0],
        file,
        format: "json",
        content: structuredClone(content),
      }));
  const source = {
    name,
    mode,
    closed: false,
    calls,
    load(only?: string) {
      calls.push(`load ${only ?? "*"}`);
      assert.notEqual(mode, "write-only", "the centre must not read a write-only source");
      return Promise.resolve(list(only));
    },
    store(file: string, content: Record<string, unknown>) {
      calls.push(`store ${file}`);
      assert.notEqual(mode, "read-only", "the centre must not write a read-only source");
      files[file] = content;
      return Promise.resolve();
    },
    watch(onChange: (change: ConfigSourceChange) => void) {
      calls.push("watch");
      listeners.add(onChange);
      return { ready: Promise.resolve(), stop: () => Promise.resolve(void listeners.delete(onChange)) };
    },
    close() {
      source.closed = true;
      return Promise.resolve();
    },
    /** Tells watchers the files changed. */
    emit(failures: ConfigFileFailure[] = []) {
      for (const listener of listeners) listener({ files: list(), failures });
    },
    get watching() {
      return listeners.size;
    },
  };
  return source satisfies ConfigSource;
}

Deno.test("createConfigCenter() get() reads dotted keys whose first segment is the file name", async () => {
  const source = createFakeSource("file", "read-only", {
    "game.toml": { maxPlayers: 4, rooms: { lobby: { size: 8 } }, levels: ["easy", "hard"] },
  });
  const center = createConfigCenter({ sources: [source], hotReload: false, logger: silentLogger });
  await center.load();
  assert.equal(center.get("game.maxPlayers"), 4);
  assert.equal(center.get("game.rooms.lobby.size"), 8);
  assert.equal(center.get("game.levels.1"), "hard");
  assert.deepEqual(center.get("game.rooms"), { lobby: { size: 8 } });
  assert.equal(center.get("game.missing"), undefined);
  assert.equal(center.get("game.missing", 7), 7);
  assert.equal(center.get("other.key", "x"), "x");
  assert.equal(center.has("game.rooms.lobby"), true);
  assert.equal(center.has("game.rooms.hall"), false);
  assert.equal(center.has("game.levels.2"), false);
  assert.equal(center.has("game"), true);
  assert.equal(center.has("game.toString"), false);
  await center.close();
});

Deno.test("createConfigCenter() merges sources key by key, later sources winning", async () => {
  const base = createFakeSource("file", "read-only", { "game.json": { a: 1, nested: { x: 1, y: 1 } } });
  const override = createFakeSource("etcd", "read-only", { "game.yaml": { nested: { y: 2 }, b: 3 } });
  const center = createConfigCenter({ sources: [base, override], hotReload: false, logger: silentLogger });
  await center.load();
  assert.deepEqual(center.get("game"), { a: 1, nested: { x: 1, y: 2 }, b: 3 });
  await center.close();
});

Deno.test("createConfigCenter() set() changes memory only and notifies watchers", async () => {
  const source = createFakeSource("file", "read-only", { "game.json": { maxPlayers: 4 } });
  const center = createConfigCenter({ sources: [source], hotReload: false, logger: silentLogger });
  await center.load();
  const changes: ConfigChange[] = [];
  const stop = center.watch((change) => changes.push(change));
  center.set("game.rules.timeLimit", 60);
  assert.equal(center.get("game.rules.timeLimit"), 60);
  assert.equal(center.get("game.maxPlayers"), 4);
  assert.deepEqual(changes, [{
    name: "game",
    value: { maxPlayers: 4, rules: { timeLimit: 60 } },
    origin: "set",
  }]);
  center.set("shop", { open: true });
  assert.equal(center.get("shop.open"), true);
  stop();
  center.set("game.maxPlayers", 5);
  assert.equal(changes.length, 2, "no calls after stop()");
  assert.deepEqual(source.calls.filter((call) => call.startsWith("store")), [], "set() does not store");
  assert.throws(() => center.set("shop", 3), TypeError);
  assert.throws(() => center.set("game..x", 3), TypeError);
  center.set("game.__proto__.polluted", true);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  await center.close();
});

Deno.test("createConfigCenter() reloads on source changes and tells watchers of the files that changed", async () => {
  const files: Record<string, Record<string, unknown>> = {
    "game.json": { maxPlayers: 4 },
    "shop.json": { open: true },
  };
  const source = createFakeSource("file", "read-only", files);
  const center = createConfigCenter({ sources: [source], logger: silentLogger });
  await center.load();
  assert.equal(source.watching, 1, "the first full load starts watching");
  const changes: ConfigChange[] = [];
  const onlyGame: string[] = [];
  center.watch((change) => changes.push(change));
  center.watch(({ name }) => onlyGame.push(name), { names: ["game"] });

  files["game.json"] = { maxPlayers: 6 };
  delete files["shop.json"];
  files["mail.json"] = { from: "admin" };
  source.emit();
  assert.equal(center.get("game.maxPlayers"), 6);
  assert.equal(center.has("shop"), false);
  assert.equal(center.get("mail.from"), "admin");
  assert.deepEqual(changes.map(({ name, value, origin }) => [name, value, origin]), [
    ["game", { maxPlayers: 6 }, "file"],
    ["shop", undefined, "file"],
    ["mail", { from: "admin" }, "file"],
  ]);
  assert.deepEqual(onlyGame, ["game"]);

  source.emit();
  assert.equal(changes.length, 3, "no call when nothing changed");
  await center.close();
  assert.equal(source.watching, 0);
  assert.equal(source.closed, true);
});

Deno.test("createConfigCenter() keeps a file's last good values when its reload fails, and logs it", async () => {
  const files: Record<string, Record<string, unknown>> = { "game.json": { maxPlayers: 4 } };
  const source = createFakeSource("file", "read-only", files);
  const records: LogRecord[] = [];
  const logger = createLogger({ sinks: [{ write: (record) => records.push(record) }] });
  const center = createConfigCenter({ sources: [source], logger });
  await center.load();
  delete files["game.json"];
  source.emit([{
    name: "game",
    file: "game.json",
    error: new SyntaxError("Cannot parse game.json as JSON"),
  }]);
  assert.equal(center.get("game.maxPlayers"), 4);
  assert.equal(records.length, 1);
  assert.equal(records[0].level, "error");
  assert.equal(records[0].attrs.file, "game.json");
  await center.close();
});

Deno.test("createConfigCenter() store() writes only writable sources and reads the file back", async () => {
  const readOnly = createFakeSource("etcd", "read-only", {});
  const readWrite = createFakeSource("file", "read-write", {});
  const writeOnly = createFakeSource("backup", "write-only", {});
  const center = createConfigCenter({
    sources: [readOnly, readWrite, writeOnly],
    hotReload: false,
    logger: silentLogger,
  });
  await center.load();
  assert.deepEqual(writeOnly.calls, [], "a write-only source is never read");
  await center.store("game.toml", { maxPlayers: 8 });
  assert.deepEqual(readOnly.calls.filter((call) => call.startsWith("store")), []);
  assert.deepEqual(readWrite.calls.filter((call) => call.startsWith("store")), ["store game.toml"]);
  assert.deepEqual(writeOnly.calls, ["store game.toml"]);
  assert.equal(center.get("game.maxPlayers"), 8, "read back after store()");
  assert.ok(readWrite.calls.includes("load game"));

  await center.store("only.json", { a: 1 }, { source: "backup" });
  assert.equal(readWrite.calls.includes("store only.json"), false);
  await assert.rejects(() => center.store("game.ini", {}), TypeError);
  await center.close();
});

Deno.test("createConfigCenter() store() fails when no source may be written", async () => {
  const center = createConfigCenter({
    sources: [createFakeSource("file", "read-only", {})],
    hotReload: false,
    logger: silentLogger,
  });
  await assert.rejects(() => center.store("game.toml", {}), (err: unknown) => {
    assert.ok(DueError.is(err, ErrorCode.IllegalRequest));
    assert.equal(err.message, "Cannot store game.toml as no config source may be written: file read-only");
    return true;
  });
  await center.close();
});

Deno.test("createConfigCenter() load(name) reloads one file only", async () => {
  const files: Record<string, Record<string, unknown>> = { "game.json": { v: 1 }, "shop.json": { v: 1 } };
  const source = createFakeSource("file", "read-only", files);
  const center = createConfigCenter({ sources: [source], hotReload: false, logger: silentLogger });
  await center.load();
  files["game.json"] = { v: 2 };
  files["shop.json"] = { v: 2 };
  await center.load("game");
  assert.equal(center.get("game.v"), 2);
  assert.equal(center.get("shop.v"), 1);
  assert.equal(source.watching, 0, "hotReload: false");
  await center.close();
});

Deno.test("createConfigCenter() refuses work after close()", async () => {
  const center = createConfigCenter({ sources: [], logger: silentLogger });
  await center.close();
  await center.close();
  await assert.rejects(() => center.load(), (err: unknown) => DueError.is(err, ErrorCode.Closed));
  assert.throws(() => center.set("a.b", 1), (err: unknown) => DueError.is(err, ErrorCode.Closed));
});

Deno.test("createConfigCenter() retries watching on the next load() after a source failed to watch", async () => {
  const good = createFakeSource("etcd", "read-only", { "game.json": { v: 1 } });
  let failures = 1;
  const flaky = {
    ...createFakeSource("file", "read-only", {}),
    watch() {
      if (failures-- > 0) throw new Error("Cannot watch ./config: no such directory");
      return { ready: Promise.resolve(), stop: () => Promise.resolve() };
    },
  };
  const center = createConfigCenter({ sources: [good, flaky], logger: silentLogger });
  await assert.rejects(() => center.load(), { message: "Cannot watch ./config: no such directory" });
  assert.equal(good.watching, 0, "the watch already started was stopped");
  await center.load();
  assert.equal(good.watching, 1);
  assert.equal(center.get("game.v"), 1);
  await center.close();
  assert.equal(good.watching, 0);
});
