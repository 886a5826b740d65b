import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { ConfigError } from "../../config/config_error.ts";
import { resolveConfig } from "../../config/resolve.ts";
import type { DueConfigInput } from "../../config/schema.ts";

async function withFile(name: string, text: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "due-config-" });
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ConfigError names the file, the key, the expected type and the value", async () => {
  const text = '[network.tcp.server]\nheartbeatInterval = "ten"\n';
  await withFile("due.toml", text, async (cwd) => {
    await assert.rejects(() => loadConfig({ path: "due.toml", cwd, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, "ConfigError");
      assert.equal(
        err.message,
        `Invalid config in due.toml: 'network.tcp.server.heartbeatInterval' must be a duration like "10s": current value is "ten"`,
      );
      assert.equal(err.file, "due.toml");
      assert.equal(err.key, "network.tcp.server.heartbeatInterval");
      assert.equal(err.expected, 'a duration like "10s"');
      assert.equal(err.value, "ten");
      return true;
    });
  });
});

Deno.test("loadConfig() rejects wrong types with the key and what was expected", async () => {
  const cases: [string, string][] = [
    [
      "[cluster.gate]\nconnNum = 0",
      `'cluster.gate.connNum' must be an integer from 1 to 64: current value is 0`,
    ],
    ['[cluster.gate]\nexpose = "yes"', `'cluster.gate.expose' must be true or false: current value is "yes"`],
    ["[cluster.gate]\naddr = 3553", `'cluster.gate.addr' must be a string: current value is 3553`],
    [
      '[cluster.gate]\nframeLimit = "4X"',
      `'cluster.gate.frameLimit' must be a size like "4M": current value is "4X"`,
    ],
    [
      "[cluster.gate]\nmetadata = { a = 1 }",
      `'cluster.gate.metadata.a' must be a string: current value is 1`,
    ],
    [
      '[cluster.gate]\nmetadata = "a"',
      `'cluster.gate.metadata' must be a table of strings: current value is "a"`,
    ],
    [
      '[cluster.gate]\nnetworks = "tcp"',
      `'cluster.gate.networks' must be a list of values from "tcp", "ws", "kcp", each once: current value is "tcp"`,
    ],
    [
      '[cluster.node]\ncodec = "proto"',
      `'cluster.node.codec' must be one of "json", "msgpack", "protobuf": current value is "proto"`,
    ],
    ["cluster = 5", `'cluster' must be a table: current value is 5`],
    ["[packet]\nrouteBytes = 3", `'packet.routeBytes' must be one of 1, 2, 4: current value is 3`],
    ["[packet]\nseqBytes = 8", `'packet.seqBytes' must be one of 0, 1, 2, 4: current value is 8`],
    [
      "[network.kcp.server]\nnoDelay = [1, 10, 2]",
      `'network.kcp.server.noDelay' must be a list of 4 integers: current value is [1,10,2]`,
    ],
    [
      "[network.kcp.server]\nmtu = 9000",
      `'network.kcp.server.mtu' must be an integer from 50 to 1500: current value is 9000`,
    ],
    ["shutdownMaxWaitTime = -1", `'shutdownMaxWaitTime' must be a duration like "10s": current value is -1`],
  ];
  for (const [text, expected] of cases) {
    await withFile("due.toml", text, async (cwd) => {
      await assert.rejects(() => loadConfig({ path: "due.toml", cwd, env: {} }), {
        name: "ConfigError",
        message: `Invalid config in due.toml: ${expected}`,
      });
    });
  }
});

Deno.test("loadConfig() names the file and line of a TOML syntax error", async () => {
  await withFile("due.toml", 'mode = "debug"\n[cluster.gate]\naddr = \n', async (cwd) => {
    await assert.rejects(() => loadConfig({ path: "due.toml", cwd, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^Cannot parse due\.toml as TOML at line 3, column \d+: /);
      assert.equal(err.line, 3);
      return true;
    });
  });
});

Deno.test("loadConfig() names the file and line of a JSON syntax error", async () => {
  await withFile("due.json", '{\n  "mode": "debug",\n  "pid": }\n', async (cwd) => {
    await assert.rejects(() => loadConfig({ path: "due.json", cwd, env: {} }), {
      message: "Cannot parse due.json as JSON at line 3, column 10: Unexpected token '}'",
    });
  });
  await withFile("due.json", '{"mode": "debug" "pid": ""}', async (cwd) => {
    await assert.rejects(() => loadConfig({ path: "due.json", cwd, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^Cannot parse due\.json as JSON at line 1, column 18: /);
      return true;
    });
  });
});

Deno.test("loadConfig() names the file and line of a YAML syntax error", async () => {
  await withFile("due.yaml", "mode: debug\ncluster:\n  gate: [1\npid: x\n", async (cwd) => {
    await assert.rejects(() => loadConfig({ path: "due.yaml", cwd, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^Cannot parse due\.yaml as YAML at line 4, column 1: /);
      assert.equal(err.line, 4);
      return true;
    });
  });
});

Deno.test("loadConfig() rejects a file that is not a table", async () => {
  await withFile("due.yaml", "- 1\n- 2\n", async (cwd) => {
    await assert.rejects(() => loadConfig({ path: "due.yaml", cwd, env: {} }), {
      message: "Invalid config in due.yaml: the file must hold a table of keys: current value is [1,2]",
    });
  });
});

Deno.test("loadConfig() rejects a missing file and an unknown extension", async () => {
  const dir = await Deno.makeTempDir({ prefix: "due-config-" });
  try {
    await assert.rejects(() => loadConfig({ path: "nope.toml", cwd: dir, env: {} }), {
      name: "ConfigError",
      message: "Cannot read config file nope.toml: no such file",
    });
    await assert.rejects(() => loadConfig({ path: "due.ini", cwd: dir, env: {} }), {
      name: "ConfigError",
      message: "Cannot load config from due.ini: the name must end in .toml, .json, .yaml or .yml",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() rejects a malformed etcd:// URL", async () => {
  await assert.rejects(() => loadConfig({ path: "etcd://127.0.0.1:2379", env: {} }), {
    name: "ConfigError",
    message:
      "Cannot load config from etcd://127.0.0.1:2379: the URL must be etcd://[user:password@]host:port[,host:port]/key",
  });
});

Deno.test("resolveConfig() validates an embedder's partial config like a file", () => {
  const { config } = resolveConfig({ cluster: { gate: { callTimeout: "1s", networks: ["kcp"] } } });
  assert.equal(config.cluster.gate.callTimeout, 1_000);
  assert.deepEqual(config.cluster.gate.networks, ["kcp"]);
  assert.equal(config.cluster.gate.dialTimeout, 3_000);
  assert.throws(
    () => resolveConfig({ cluster: { gate: { callTimeout: "soon" } } }, { file: "createGate()" }),
    {
      message:
        `Invalid config in createGate(): 'cluster.gate.callTimeout' must be a duration like "10s": current value is "soon"`,
    },
  );
  assert.throws(() => resolveConfig([] as unknown as DueConfigInput), ConfigError);
});
