/**
 * The etcd config source on a real etcd: the conformance suite of remote config sources, then reading the
 * startup config from an `etcd://` key.
 */
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { createEtcdConfigSource, readEtcdKey } from "../../adapters/configsource/etcd.ts";
import { loadConfig } from "../../config/load.ts";
import { DueError } from "../../core/errors.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { type ConfigArea, runConfigSourceConformance } from "./configsource_conformance.ts";

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

runConfigSourceConformance({
  origin: "etcd",
  label: "createEtcdConfigSource()",
  ignore,
  open() {
    const admin = new Etcd3({ hosts: `http://${addr}` });
    const path = `/due-test/config-${crypto.randomUUID()}`;
    const area: ConfigArea = {
      path,
      put: async (file, text) => void await admin.put(`${path}/${file}`).value(text),
      get: async (file) => (await admin.get(`${path}/${file}`).string()) ?? undefined,
      delete: async (file) => void await admin.delete().key(`${path}/${file}`),
      putBeside: async (file, text) => void await admin.put(`${path}-other/${file}`).value(text),
      source: (options) => createEtcdConfigSource({ addrs: [addr], path, ...options }),
      emptySource: () => createEtcdConfigSource({ addrs: [addr], path: `${path}-none` }),
      configInput: () => ({ driver: "etcd", etcd: { addrs: [addr], path } }),
      async close() {
        await admin.delete().prefix(path).exec(); // the -other sibling too
        admin.close();
      },
    };
    return Promise.resolve(area);
  },
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
