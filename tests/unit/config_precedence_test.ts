import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";

const FILE = `
mode = "test"
[cluster.gate]
addr = ":7000"
name = "gate-file"
dispatch = "rr"
[network.tcp.server]
maxConnNum = 10
`;

async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "due-config-" });
  try {
    await Deno.writeTextFile(`${dir}/due.toml`, FILE);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() without a file returns the defaults", async () => {
  const { config, warnings, source } = await loadConfig({ env: {} });
  assert.equal(source, "defaults");
  assert.deepEqual(warnings, []);
  assert.equal(config.cluster.gate.addr, ":0");
  assert.equal(config.mode, "debug");
});

Deno.test("loadConfig() layers defaults < file < env < flags", async () => {
  await inDir(async (cwd) => {
    const { config, source } = await loadConfig({
      path: "due.toml",
      cwd,
      env: { DUE_CLUSTER_GATE_ADDR: ":8000", DUE_CLUSTER_GATE_NAME: "gate-env", DUE_MODE: "release" },
      flags: { "cluster.gate.addr": ":9000" },
    });
    assert.equal(source, "due.toml");
    assert.equal(config.cluster.gate.addr, ":9000", "flag beats env and file");
    assert.equal(config.cluster.gate.name, "gate-env", "env beats file");
    assert.equal(config.mode, "release", "env beats file");
    assert.equal(config.cluster.gate.dispatch, "rr", "file beats default");
    assert.equal(config.network.tcp.server.maxConnNum, 10, "file beats default");
    assert.equal(config.cluster.gate.connNum, 5, "default stays");
  });
});

Deno.test("loadConfig() keeps the file's values that env and flags do not name", async () => {
  await inDir(async (cwd) => {
    const { config } = await loadConfig({ path: "due.toml", cwd, env: {}, flags: {} });
    assert.equal(config.cluster.gate.addr, ":7000");
    assert.equal(config.mode, "test");
  });
});

Deno.test("loadConfig() reads a relative path from cwd and an absolute path as is", async () => {
  await inDir(async (dir) => {
    const absolute = await loadConfig({ path: `${dir}/due.toml`, env: {} });
    assert.equal(absolute.config.cluster.gate.addr, ":7000");
    assert.equal(absolute.source, `${dir}/due.toml`);
    const relative = await loadConfig({ path: "due.toml", cwd: `${dir}/`, env: {} });
    assert.equal(relative.config.cluster.gate.addr, ":7000");
  });
});

Deno.test("loadConfig() reads Deno.env when no env is given", async () => {
  const before = Deno.env.get("DUE_CLUSTER_MESH_NAME");
  Deno.env.set("DUE_CLUSTER_MESH_NAME", "mesh-from-env");
  try {
    const { config } = await loadConfig();
    assert.equal(config.cluster.mesh.name, "mesh-from-env");
  } finally {
    if (before === undefined) Deno.env.delete("DUE_CLUSTER_MESH_NAME");
    else Deno.env.set("DUE_CLUSTER_MESH_NAME", before);
  }
});
