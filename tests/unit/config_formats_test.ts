import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { formatOf, parseConfigText, stringifyConfig } from "../../config/format.ts";
import type { DueConfig } from "../../config/schema.ts";

const TOML = `
mode = "release"
shutdownMaxWaitTime = "1m"
[cluster.gate]
networks = ["tcp", "kcp"]
metadata = { region = "eu" }
frameLimit = "1M"
[network.tcp.server]
heartbeatInterval = 5000
`;

const JSON_TEXT = JSON.stringify({
  mode: "release",
  shutdownMaxWaitTime: "1m",
  cluster: { gate: { networks: ["tcp", "kcp"], metadata: { region: "eu" }, frameLimit: "1M" } },
  network: { tcp: { server: { heartbeatInterval: 5000 } } },
});

const YAML = `
mode: release
shutdownMaxWaitTime: 1m
cluster:
  gate:
    networks: [tcp, kcp]
    metadata:
      region: eu
    frameLimit: 1M
network:
  tcp:
    server:
      heartbeatInterval: 5000
`;

function assertLoaded(config: DueConfig): void {
  assert.equal(config.mode, "release");
  assert.equal(config.shutdownMaxWaitTime, 60_000);
  assert.deepEqual(config.cluster.gate.networks, ["tcp", "kcp"]);
  assert.deepEqual(config.cluster.gate.metadata, { region: "eu" });
  assert.equal(config.cluster.gate.frameLimit, 1024 * 1024);
  assert.equal(config.network.tcp.server.heartbeatInterval, 5000);
  assert.equal(config.network.tcp.server.addr, ":3553");
}

async function loadText(name: string, text: string) {
  const dir = await Deno.makeTempDir({ prefix: "due-config-" });
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    return await loadConfig({ path: name, cwd: dir, env: {} });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() reads a TOML file", async () => {
  const { config, warnings } = await loadText("due.toml", TOML);
  assertLoaded(config);
  assert.deepEqual(warnings, []);
});

Deno.test("loadConfig() reads a JSON file", async () => {
  const { config, warnings } = await loadText("due.json", JSON_TEXT);
  assertLoaded(config);
  assert.deepEqual(warnings, []);
});

Deno.test("loadConfig() reads a YAML file with either extension", async () => {
  for (const name of ["due.yaml", "due.yml"]) {
    const { config, warnings } = await loadText(name, YAML);
    assertLoaded(config);
    assert.deepEqual(warnings, []);
  }
});

Deno.test("loadConfig() treats an empty file as the defaults and an empty YAML key as unset", async () => {
  const empty = await loadText("due.toml", "");
  assert.equal(empty.config.cluster.gate.addr, ":0");
  const nulls = await loadText("due.yaml", "cluster:\n  gate:\n    addr:\n");
  assert.equal(nulls.config.cluster.gate.addr, ":0");
});

Deno.test("loadConfig() picks the format by extension, in any case", async () => {
  const { config } = await loadText("DUE.TOML", 'mode = "test"');
  assert.equal(config.mode, "test");
  await assert.rejects(() => loadText("due.xml", "<config><mode>test</mode></config>"), {
    message: "Cannot load config from due.xml: the name must end in .toml, .json, .yaml or .yml",
  });
});

Deno.test("formatOf() maps extensions to formats", () => {
  assert.equal(formatOf("a/b/due.toml"), "toml");
  assert.equal(formatOf("due.json"), "json");
  assert.equal(formatOf("due.yml"), "yaml");
  assert.equal(formatOf("game.XML"), "xml");
  assert.equal(formatOf("README"), undefined);
  assert.equal(formatOf(".toml"), undefined);
});

Deno.test("parseConfigText() unwraps the root element of XML and types its values", () => {
  const value = parseConfigText(
    '<?xml version="1.0"?>\n<config><maxPlayers>4</maxPlayers><name>arena</name><open>true</open><rooms><size>2</size></rooms></config>',
    "xml",
    "game.xml",
  );
  assert.deepEqual(value, { maxPlayers: 4, name: "arena", open: true, rooms: { size: 2 } });
  assert.throws(() => parseConfigText("<config><a>1</b></config>", "xml", "game.xml"), (err: unknown) => {
    assert.match((err as Error).message, /^Cannot parse game\.xml as XML at line 1, column \d+: /);
    return true;
  });
});

Deno.test("stringifyConfig() writes what parseConfigText() reads back in every format", () => {
  const value = { name: "arena", maxPlayers: 4, open: true, rooms: { size: 2, tags: ["a", "b"] } };
  for (const format of ["toml", "json", "yaml"] as const) {
    const text = stringifyConfig(value, format);
    assert.deepEqual(parseConfigText(text, format, `game.${format}`), value, format);
  }
  const xml = parseConfigText(stringifyConfig({ name: "arena", maxPlayers: 4 }, "xml"), "xml", "game.xml");
  assert.deepEqual(xml, { name: "arena", maxPlayers: 4 });
});
