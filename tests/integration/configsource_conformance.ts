/**
 * The behaviour every remote config source must show, whatever holds the files (etcd keys, Consul KV, …): every
 * file directly under the source's path is loaded by name and format (other keys are not files), a value that cannot be parsed is refused naming its
 * key, `store` writes in the extension's format and honours the mode, a config centre over the source
 * hot-reloads changed, new and deleted files, and `config.driver` builds the source. Backend-specific behaviour
 * (restarts, unreachable servers, startup config URLs) is tested per backend.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createConfigSourceFromConfig } from "../../adapters/configsource/mod.ts";
import type { ConfigSource, ConfigSourceMode } from "../../adapters/configsource/types.ts";
import { type ConfigChange, createConfigCenter } from "../../config/center.ts";
import { ConfigError } from "../../config/config_error.ts";
import { resolveConfig } from "../../config/resolve.ts";
import type { DueConfigInput } from "../../config/schema.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { waitFor } from "../_helpers/wait.ts";

/** A fresh, empty place in the backend (a key prefix) and an operator's access to it. */
export interface ConfigArea {
  /** The path the source reads, as its messages name it (`/due-test/config-…`). */
  readonly path: string;
  /** Writes the text of `file` (`game.toml`, or any key name) under the path, as an operator would. */
  put(file: string, text: string): Promise<void>;
  /** The text stored for `file`, or `undefined`. */
  get(file: string): Promise<string | undefined>;
  /** Deletes `file`. */
  delete(file: string): Promise<void>;
  /** Writes `file` under a sibling path that starts with this path's text (`<path>-other`): it must not load. */
  putBeside(file: string, text: string): Promise<void>;
  /** A source over this area. */
  source(options?: { mode?: ConfigSourceMode; debounceMs?: number }): ConfigSource;
  /** A source over a path next to this one that holds nothing. */
  emptySource(): ConfigSource;
  /** The `config` section that makes `config.driver` build a source over this area. */
  configInput(): NonNullable<DueConfigInput["config"]>;
  /** Resolves once a watch started just before will see the next change (e.g. its first blocking query is in). */
  watchSettled?(): Promise<void>;
  /** Deletes everything the test left and releases the backend. */
  close(): Promise<void>;
}

/** Options of {@linkcode runConfigSourceConformance}. */
export interface ConfigSourceConformanceOptions {
  /** The backend's `source.name` (`etcd`), also the origin of its changes. */
  origin: string;
  /** What test names say: `createEtcdConfigSource()`, `createConsulConfigSource() on FakeConsul`. */
  label: string;
  /** Skip every test (server down). */
  ignore: boolean;
  /** A fresh area for one test. */
  open(): Promise<ConfigArea>;
}

/** Registers the conformance tests of one config source backend. */
export function runConfigSourceConformance(options: ConfigSourceConformanceOptions): void {
  const { origin, label, ignore } = options;
  const test = (name: string, fn: (area: ConfigArea) => Promise<void>) =>
    Deno.test({
      name: `${label} ${name}`,
      ignore,
      async fn() {
        const area = await options.open();
        try {
          await fn(area);
        } finally {
          await area.close();
        }
      },
    });

  test("loads every config file under its path, named by the key", async (area) => {
    await area.put("game.toml", "maxPlayers = 4\n");
    await area.put("shop.json", '{"open": true}');
    await area.put("mail.yaml", "from: admin\n");
    await area.put("level.xml", "<level><max>99</max></level>");
    await area.put("README", "not config");
    await area.put("nested/deep.toml", "x = 1\n");
    await area.putBeside("game.toml", "maxPlayers = 1\n");
    const source = area.source();
    const empty = area.emptySource();
    try {
      assert.equal(source.name, origin);
      const files = await source.load();
      assert.deepEqual(files.map(({ name, content }) => [name, content]), [
        ["game", { maxPlayers: 4 }],
        ["level", { max: 99 }],
        ["mail", { from: "admin" }],
        ["shop", { open: true }],
      ]);
      assert.deepEqual((await source.load("mail")).map((file) => file.file), ["mail.yaml"]);
      assert.deepEqual(await empty.load(), []);
    } finally {
      await Promise.all([source.close(), empty.close()]);
    }
  });

  test("names the key of a value it cannot parse", async (area) => {
    await area.put("game.json", '{"maxPlayers": }');
    const source = area.source();
    try {
      await assert.rejects(() => source.load(), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(
          err.message.startsWith(
            `Cannot parse ${origin} key ${area.path}/game.json as JSON at line 1, column 16`,
          ),
          err.message,
        );
        return true;
      });
    } finally {
      await source.close();
    }
  });

  test("stores a file in the extension's format and enforces its mode", async (area) => {
    const readWrite = area.source({ mode: "read-write" });
    const readOnly = area.source({ mode: "read-only" });
    const writeOnly = area.source({ mode: "write-only" });
    try {
      await readWrite.store("game.toml", { maxPlayers: 4, rules: { timeLimit: 60 } });
      assert.match((await area.get("game.toml"))!, /^maxPlayers = 4/m);
      assert.deepEqual((await readOnly.load()).map((file) => file.content), [{
        maxPlayers: 4,
        rules: { timeLimit: 60 },
      }]);
      await assert.rejects(() => readOnly.store("game.toml", {}), (err: unknown) => {
        assert.ok(DueError.is(err, ErrorCode.IllegalRequest));
        assert.equal(
          err.message,
          `Cannot store game.toml in ${origin} ${area.path}/ as the ${origin} config source is read-only`,
        );
        return true;
      });
      await writeOnly.store("shop.json", { open: true });
      assert.equal(await area.get("shop.json"), '{\n  "open": true\n}\n');
      await assert.rejects(
        () => writeOnly.load(),
        (err: unknown) => DueError.is(err, ErrorCode.IllegalRequest),
      );
      assert.throws(
        () => writeOnly.watch(() => {}),
        (err: unknown) => DueError.is(err, ErrorCode.IllegalRequest),
      );
      await assert.rejects(() => readWrite.store("../x.toml", {}), TypeError);
    } finally {
      await Promise.all([readWrite.close(), readOnly.close(), writeOnly.close()]);
    }
  });

  test("under a config centre hot-reloads changed, new and deleted files", async (area) => {
    await area.put("game.toml", "maxPlayers = 4\n");
    const center = createConfigCenter({ sources: [area.source({ debounceMs: 30 })], logger: silentLogger });
    try {
      await center.load();
      assert.equal(center.get("game.maxPlayers"), 4);
      const changes: ConfigChange[] = [];
      center.watch((change) => changes.push(change));
      await area.watchSettled?.();
      await area.put("game.toml", "maxPlayers = 6\n");
      await waitFor(() => center.get("game.maxPlayers") === 6, "game.maxPlayers = 6");
      await area.put("shop.json", '{"open": true}');
      await waitFor(() => center.get("shop.open") === true, "shop.open");
      await area.delete("shop.json");
      await waitFor(() => !center.has("shop"), "shop removed");
      assert.deepEqual(changes.map(({ name, origin }) => [name, origin]), [
        ["game", origin],
        ["shop", origin],
        ["shop", origin],
      ]);
    } finally {
      await center.close();
    }
  });

  test("refuses a watch after close(), which nothing would stop", async (area) => {
    const source = area.source();
    await source.close();
    assert.throws(() => source.watch(() => {}), (err: unknown) => DueError.is(err, ErrorCode.Closed));
  });

  test(`is what config.driver = "${origin}" builds`, async (area) => {
    await area.put("game.json", '{"maxPlayers": 3}');
    const { config } = resolveConfig({ config: area.configInput() });
    assert.equal(config.config.driver, origin);
    const source = await createConfigSourceFromConfig(config.config);
    assert.ok(source);
    try {
      assert.equal(source.name, origin);
      assert.equal(source.mode, "read-only");
      assert.deepEqual((await source.load()).map((file) => file.content), [{ maxPlayers: 3 }]);
    } finally {
      await source.close();
    }
  });
}
