import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { createEtcdConfigSource, readEtcdKey } from "../../adapters/configsource/etcd.ts";
import { createConfigSourceFromConfig } from "../../adapters/configsource/mod.ts";
import { type ConfigChange, createConfigCenter } from "../../config/center.ts";
import { ConfigError } from "../../config/config_error.ts";
import { loadConfig } from "../../config/load.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";

const ignore = await skipUnless("etcd");
const addr = serviceAddr("etcd").replace(/^https?:\/\//, "");

/** Runs `fn` with a fresh key prefix and an admin client, deleting everything under the prefix afterwards. */
async function withPrefix(fn: (prefix: string, admin: Etcd3) => Promise<void>): Promise<void> {
  const admin = new Etcd3({ hosts: `http://${addr}` });
  const prefix = `/due-test/config-${crypto.randomUUID()}`;
  try {
    await fn(prefix, admin);
  } finally {
    await admin.delete().prefix(prefix).exec();
    admin.close();
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test({
  name: "createEtcdConfigSource() loads every key under its path as a file named by the key",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      await admin.put(`${prefix}/game.toml`).value("maxPlayers = 4\n");
      await admin.put(`${prefix}/shop.json`).value('{"open": true}');
      await admin.put(`${prefix}/mail.yaml`).value("from: admin\n");
      await admin.put(`${prefix}/level.xml`).value("<level><max>99</max></level>");
      await admin.put(`${prefix}/README`).value("not config");
      await admin.put(`${prefix}-other/game.toml`).value("maxPlayers = 1\n");
      const source = createEtcdConfigSource({ addrs: [addr], path: prefix });
      try {
        const files = await source.load();
        assert.deepEqual(files.map(({ name, content }) => [name, content]), [
          ["game", { maxPlayers: 4 }],
          ["level", { max: 99 }],
          ["mail", { from: "admin" }],
          ["shop", { open: true }],
        ]);
        assert.deepEqual((await source.load("mail")).map((file) => file.file), ["mail.yaml"]);
      } finally {
        await source.close();
        await admin.delete().prefix(`${prefix}-other`).exec();
      }
    }),
});

Deno.test({
  name: "createEtcdConfigSource() names the key of a value it cannot parse",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      await admin.put(`${prefix}/game.json`).value('{"maxPlayers": }');
      const source = createEtcdConfigSource({ addrs: [addr], path: prefix });
      try {
        await assert.rejects(() => source.load(), (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(
            err.message,
            `Cannot parse etcd key ${prefix}/game.json as JSON at line 1, column 16: Unexpected token '}'`,
          );
          return true;
        });
      } finally {
        await source.close();
      }
    }),
});

Deno.test({
  name: "createEtcdConfigSource() stores a file as a key in the extension's format and enforces its mode",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      const readWrite = createEtcdConfigSource({ addrs: [addr], path: prefix, mode: "read-write" });
      const readOnly = createEtcdConfigSource({ addrs: [addr], path: prefix, mode: "read-only" });
      const writeOnly = createEtcdConfigSource({ addrs: [addr], path: prefix, mode: "write-only" });
      try {
        await readWrite.store("game.toml", { maxPlayers: 4, rules: { timeLimit: 60 } });
        assert.match((await admin.get(`${prefix}/game.toml`).string())!, /^maxPlayers = 4/m);
        assert.deepEqual((await readOnly.load()).map((file) => file.content), [{
          maxPlayers: 4,
          rules: { timeLimit: 60 },
        }]);
        await assert.rejects(() => readOnly.store("game.toml", {}), (err: unknown) => {
          assert.ok(DueError.is(err, ErrorCode.IllegalRequest));
          assert.equal(
            err.message,
            `Cannot store game.toml in etcd ${prefix}/ as the etcd config source is read-only`,
          );
          return true;
        });
        await writeOnly.store("shop.json", { open: true });
        assert.equal(await admin.get(`${prefix}/shop.json`).string(), '{\n  "open": true\n}\n');
        await assert.rejects(() => writeOnly.load(), (err: unknown) =>
          DueError.is(err, ErrorCode.IllegalRequest));
        assert.throws(() =>
          writeOnly.watch(() => {}), (err: unknown) =>
          DueError.is(err, ErrorCode.IllegalRequest));
        await assert.rejects(() =>
          readWrite.store("../x.toml", {}), TypeError);
      } finally {
        await Promise.all([readWrite.close(), readOnly.close(), writeOnly.close()]);
      }
    }),
});

Deno.test({
  name: "createConfigCenter() over an etcd source hot-reloads put and deleted keys",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      await admin.put(`${prefix}/game.toml`).value("maxPlayers = 4\n");
      const center = createConfigCenter({
        sources: [createEtcdConfigSource({ addrs: [addr], path: prefix, debounceMs: 30 })],
        logger: silentLogger,
      });
      try {
        await center.load();
        assert.equal(center.get("game.maxPlayers"), 4);
        const changes: ConfigChange[] = [];
        center.watch((change) => changes.push(change));
        await admin.put(`${prefix}/game.toml`).value("maxPlayers = 6\n");
        await waitFor("game.maxPlayers = 6", () => center.get("game.maxPlayers") === 6);
        await admin.put(`${prefix}/shop.json`).value('{"open": true}');
        await waitFor("shop.open", () => center.get("shop.open") === true);
        await admin.delete().key(`${prefix}/shop.json`);
        await waitFor("shop removed", () => !center.has("shop"));
        assert.deepEqual(changes.map(({ name, origin }) => [name, origin]), [
          ["game", "etcd"],
          ["shop", "etcd"],
          ["shop", "etcd"],
        ]);
      } finally {
        await center.close();
      }
    }),
});

Deno.test({
  name: "createConfigSourceFromConfig() builds the etcd source config.driver names",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      await admin.put(`${prefix}/game.json`).value('{"maxPlayers": 3}');
      const { config } = resolveConfig({ config: { driver: "etcd", etcd: { addrs: [addr], path: prefix } } });
      const source = await createConfigSourceFromConfig(config.config);
      assert.ok(source);
      try {
        assert.equal(source.name, "etcd");
        assert.equal(source.mode, "read-only");
        assert.deepEqual((await source.load()).map((file) => file.content), [{ maxPlayers: 3 }]);
      } finally {
        await source.close();
      }
      assert.equal(await createConfigSourceFromConfig(resolveConfig({}).config.config), undefined);
      await assert.rejects(
        () => createConfigSourceFromConfig(resolveConfig({ config: { driver: "nacos" } }).config.config),
        {
          name: "TypeError",
          message:
            `Cannot create config source as 'config.driver' must be one of file|etcd|consul in this build: current value is "nacos"`,
        },
      );
    }),
});

Deno.test({
  name: "loadConfig() reads the startup config from an etcd:// key, parsed by the key's extension",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      await admin.put(`${prefix}/due.toml`).value(
        'mode = "release"\n[cluster.gate]\naddr = ":9100"\nadr = "x"\n',
      );
      await admin.put(`${prefix}/due.yaml`).value("cluster:\n  node:\n    weight: 3\n");
      const url = `etcd://${addr}${prefix}/due.toml`;
      const { config, source, warnings } = await loadConfig({
        path: url,
        env: { DUE_CLUSTER_GATE_NAME: "g-env" },
      });
      assert.equal(source, url);
      assert.equal(config.mode, "release");
      assert.equal(config.cluster.gate.addr, ":9100");
      assert.equal(config.cluster.gate.name, "g-env");
      assert.deepEqual(warnings, [
        `Unknown config key 'cluster.gate.adr' in ${url} is ignored: did you mean 'cluster.gate.addr'?`,
      ]);
      const yaml = await loadConfig({ path: `etcd://${addr}${prefix}/due.yaml`, env: {} });
      assert.equal(yaml.config.cluster.node.weight, 3);
    }),
});

Deno.test({
  name: "loadConfig() names the etcd key that is missing or invalid",
  ignore,
  fn: () =>
    withPrefix(async (prefix, admin) => {
      const missing = `etcd://${addr}${prefix}/none.toml`;
      await assert.rejects(() => loadConfig({ path: missing, env: {} }), {
        name: "ConfigError",
        message: `Cannot read config from ${missing}: no such key`,
      });
      await admin.put(`${prefix}/bad.toml`).value('[cluster.gate]\ncallTimeout = "soon"\n');
      const bad = `etcd://${addr}${prefix}/bad.toml`;
      await assert.rejects(() => loadConfig({ path: bad, env: {} }), {
        name: "ConfigError",
        message:
          `Invalid config in ${bad}: 'cluster.gate.callTimeout' must be a duration like "10s": current value is "soon"`,
      });
    }),
});

Deno.test("readEtcdKey() fails with the address when etcd does not answer", async () => {
  await assert.rejects(
    () => readEtcdKey("/due/due.toml", { addrs: ["127.0.0.1:1"], dialTimeoutMs: 300 }),
    (err: unknown) => {
      assert.ok(DueError.is(err));
      assert.equal(err.context.addr, "127.0.0.1:1");
      assert.match(err.message, /^Cannot read etcd key \/due\/due\.toml: /);
      return true;
    },
  );
});
