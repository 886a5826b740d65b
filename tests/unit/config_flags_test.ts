import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { ConfigError } from "../../config/config_error.ts";

Deno.test("loadConfig() applies flags by dotted key", async () => {
  const { config } = await loadConfig({
    env: {},
    flags: {
      "network.tcp.server.addr": ":3600",
      "cluster.gate.dispatch": "wrr",
      "--shutdownMaxWaitTime": "1m",
      "cluster.gate.networks": "ws",
      "cluster.node.replyUnknownRoute": "1",
    },
  });
  assert.equal(config.network.tcp.server.addr, ":3600");
  assert.equal(config.cluster.gate.dispatch, "wrr");
  assert.equal(config.shutdownMaxWaitTime, 60_000);
  assert.deepEqual(config.cluster.gate.networks, ["ws"]);
  assert.equal(config.cluster.node.replyUnknownRoute, true);
});

Deno.test("loadConfig() rejects a flag naming no key and suggests the closest key", async () => {
  await assert.rejects(() => loadConfig({ env: {}, flags: { "network.tcp.server.adr": ":3600" } }), {
    name: "ConfigError",
    message:
      "Invalid config in flag --network.tcp.server.adr: 'network.tcp.server.adr' is not a config key: " +
      "did you mean 'network.tcp.server.addr'?",
  });
  await assert.rejects(() => loadConfig({ env: {}, flags: { "nothing.like.this": "1" } }), {
    message: "Invalid config in flag --nothing.like.this: 'nothing.like.this' is not a config key",
  });
});

Deno.test("loadConfig() rejects a flag naming a section", async () => {
  await assert.rejects(() => loadConfig({ env: {}, flags: { "cluster.gate": ":1" } }), {
    message: "Invalid config in flag --cluster.gate: 'cluster.gate' is a section, not a key: " +
      "name one of its keys, e.g. 'cluster.gate.id'",
  });
});

Deno.test("loadConfig() rejects a bad flag value naming the flag, the key and the expected type", async () => {
  await assert.rejects(
    () => loadConfig({ env: {}, flags: { "network.tcp.server.heartbeatInterval": "ten" } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        "Invalid config in flag --network.tcp.server.heartbeatInterval: " +
          `'network.tcp.server.heartbeatInterval' must be a duration like "10s": current value is "ten"`,
      );
      assert.equal(err.file, "flag --network.tcp.server.heartbeatInterval");
      assert.equal(err.key, "network.tcp.server.heartbeatInterval");
      assert.equal(err.expected, 'a duration like "10s"');
      assert.equal(err.value, "ten");
      return true;
    },
  );
});

Deno.test("loadConfig() names the list item a flag got wrong", async () => {
  await assert.rejects(() => loadConfig({ env: {}, flags: { "cluster.gate.networks": "tcp,udp" } }), {
    message: "Invalid config in flag --cluster.gate.networks: " +
      `'cluster.gate.networks[1]' must be one of "tcp", "ws", "kcp": current value is "udp"`,
  });
  await assert.rejects(() => loadConfig({ env: {}, flags: { "network.kcp.server.windowSize": "1,2,3" } }), {
    message: "Invalid config in flag --network.kcp.server.windowSize: " +
      `'network.kcp.server.windowSize' must be a list of 2 integers: current value is "1,2,3"`,
  });
  await assert.rejects(() => loadConfig({ env: {}, flags: { "cluster.gate.networks": "tcp,tcp" } }), {
    message: "Invalid config in flag --cluster.gate.networks: " +
      `'cluster.gate.networks' must be a list of values from "tcp", "ws", "kcp", each once: current value is "tcp,tcp"`,
  });
});

Deno.test("loadConfig() keeps packet fields to their allowed sizes", async () => {
  await assert.rejects(() => loadConfig({ env: {}, flags: { "packet.seqBytes": "3" } }), {
    message:
      `Invalid config in flag --packet.seqBytes: 'packet.seqBytes' must be one of 0, 1, 2, 4: current value is "3"`,
  });
  await assert.rejects(() => loadConfig({ env: {}, flags: { "packet.byteOrder": "middle" } }), {
    message:
      `Invalid config in flag --packet.byteOrder: 'packet.byteOrder' must be one of "big", "little": current value is "middle"`,
  });
});
