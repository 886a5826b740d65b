import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { closestKey, levenshtein } from "../../config/_suggest.ts";

async function load(text: string, name = "due.toml") {
  const dir = await Deno.makeTempDir({ prefix: "due-config-" });
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    return await loadConfig({ path: name, cwd: dir, env: {} });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() warns about an unknown key and suggests the closest one", async () => {
  const { config, warnings } = await load('[network.tcp.server]\nadr = ":1"\nmaxConnNum = 7\n');
  assert.deepEqual(warnings, [
    "Unknown config key 'network.tcp.server.adr' in due.toml is ignored: did you mean 'network.tcp.server.addr'?",
  ]);
  assert.equal(config.network.tcp.server.addr, ":3553");
  assert.equal(config.network.tcp.server.maxConnNum, 7);
});

Deno.test("loadConfig() suggests keys that differ in case or by underscores", async () => {
  const { warnings } = await load('[cluster.gate]\nconnnum = 2\ndial_timeout = "1s"\n');
  assert.deepEqual(warnings, [
    "Unknown config key 'cluster.gate.connnum' in due.toml is ignored: did you mean 'cluster.gate.connNum'?",
    "Unknown config key 'cluster.gate.dial_timeout' in due.toml is ignored: did you mean 'cluster.gate.dialTimeout'?",
  ]);
});

Deno.test("loadConfig() warns once for an unknown section, suggesting the closest section", async () => {
  const { warnings } = await load('[netwrk.tcp.server]\naddr = ":1"\nmaxConnNum = 2\n');
  assert.deepEqual(warnings, ["Unknown config key 'netwrk' in due.toml is ignored: did you mean 'network'?"]);
});

Deno.test("loadConfig() suggests the right section for a key put one level too high", async () => {
  const { warnings } = await load('[network.tcp]\nheartbeatInterval = "5s"\n');
  assert.deepEqual(warnings, [
    "Unknown config key 'network.tcp.heartbeatInterval' in due.toml is ignored: " +
    "did you mean 'network.tcp.server.heartbeatInterval'?",
  ]);
});

Deno.test("loadConfig() warns without a suggestion when nothing is close", async () => {
  const { warnings } = await load('timezone = "Local"\n[pprof]\naddr = ":0"\n');
  assert.deepEqual(warnings, [
    "Unknown config key 'timezone' in due.toml is ignored",
    "Unknown config key 'pprof' in due.toml is ignored",
  ]);
});

Deno.test("loadConfig() validates backend sections of drivers not chosen", async () => {
  await assert.rejects(() => load('[registry]\ndriver = "memory"\n[registry.etcd]\ndialTimeout = "soon"\n'), {
    message:
      `Invalid config in due.toml: 'registry.etcd.dialTimeout' must be a duration like "10s": current value is "soon"`,
  });
  const { warnings, config } = await load('[cache]\ndriver = "memory"\n[cache.redis]\ndb = 3\n');
  assert.deepEqual(warnings, []);
  assert.equal(config.cache.redis.db, 3);
});

Deno.test("loadConfig() warns about unknown keys in JSON and YAML files too", async () => {
  const json = await load('{"cluster": {"gate": {"dispath": "rr"}}}', "due.json");
  assert.deepEqual(json.warnings, [
    "Unknown config key 'cluster.gate.dispath' in due.json is ignored: did you mean 'cluster.gate.dispatch'?",
  ]);
  const yaml = await load("cluster:\n  node:\n    wieght: 2\n", "due.yaml");
  assert.deepEqual(yaml.warnings, [
    "Unknown config key 'cluster.node.wieght' in due.yaml is ignored: did you mean 'cluster.node.weight'?",
  ]);
});

Deno.test("resolveConfig() returns unknown-key warnings for embedders", () => {
  const { warnings } = resolveConfig({ packet: { seqbytes: 4 } } as never, { file: "createNode()" });
  assert.deepEqual(warnings, [
    "Unknown config key 'packet.seqbytes' in createNode() is ignored: did you mean 'packet.seqBytes'?",
  ]);
});

Deno.test("levenshtein() counts insertions, deletions and substitutions", () => {
  assert.equal(levenshtein("addr", "adr"), 1);
  assert.equal(levenshtein("kitten", "sitting"), 3);
  assert.equal(levenshtein("", "abc"), 3);
  assert.equal(levenshtein("same", "same"), 0);
});

Deno.test("closestKey() returns nothing for a far-off key", () => {
  assert.equal(closestKey("zzzzzz", ["mode", "pid"]), undefined);
  assert.equal(closestKey("mdoe", ["mode", "pid"]), "mode");
});
