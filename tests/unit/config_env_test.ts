import assert from "node:assert/strict";
import { envName, toUpperSnake } from "../../config/env.ts";
import { loadConfig } from "../../config/load.ts";
import { ConfigError } from "../../config/config_error.ts";

Deno.test("envName() joins the key's segments in UPPER_SNAKE after DUE_", () => {
  assert.equal(envName("network.tcp.server.maxConnNum"), "DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM");
  assert.equal(envName("cluster.gate.addr"), "DUE_CLUSTER_GATE_ADDR");
  assert.equal(envName("mode"), "DUE_MODE");
  assert.equal(envName("shutdownMaxWaitTime"), "DUE_SHUTDOWN_MAX_WAIT_TIME");
  assert.equal(envName("log.aliyun.accessKeyID"), "DUE_LOG_ALIYUN_ACCESS_KEY_ID");
  assert.equal(envName("crypto.ecc.encryptor.s1"), "DUE_CRYPTO_ECC_ENCRYPTOR_S1");
});

Deno.test("toUpperSnake() splits acronyms from the next word", () => {
  assert.equal(toUpperSnake("openKMS"), "OPEN_KMS");
  assert.equal(toUpperSnake("XMLParser"), "XML_PARSER");
  assert.equal(toUpperSnake("topicID"), "TOPIC_ID");
  assert.equal(toUpperSnake("addr"), "ADDR");
});

Deno.test("loadConfig() applies DUE_ env variables with values read from text", async () => {
  const { config } = await loadConfig({
    env: {
      DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM: "100",
      DUE_CLUSTER_GATE_ADDR: ":9000",
      DUE_MODE: "release",
      DUE_NETWORK_TCP_SERVER_HEARTBEAT_INTERVAL: "1m30s",
      DUE_CLUSTER_GATE_FRAME_LIMIT: "1M",
      DUE_PACKET_HEARTBEAT_TIME: "true",
      DUE_PACKET_ROUTE_BYTES: "4",
    },
  });
  assert.equal(config.network.tcp.server.maxConnNum, 100);
  assert.equal(config.cluster.gate.addr, ":9000");
  assert.equal(config.mode, "release");
  assert.equal(config.network.tcp.server.heartbeatInterval, 90_000);
  assert.equal(config.cluster.gate.frameLimit, 1024 * 1024);
  assert.equal(config.packet.heartbeatTime, true);
  assert.equal(config.packet.routeBytes, 4);
});

Deno.test("loadConfig() reads lists and tables from env as comma-separated text or JSON", async () => {
  const { config } = await loadConfig({
    env: {
      DUE_CLUSTER_GATE_NETWORKS: "tcp, kcp",
      DUE_REGISTRY_ETCD_ADDRS: '["10.0.0.1:2379","10.0.0.2:2379"]',
      DUE_NETWORK_KCP_SERVER_NO_DELAY: "0,20,0,0",
      DUE_CLUSTER_NODE_METADATA: "region=eu,zone=a",
      DUE_CLUSTER_GATE_METADATA: '{"tier":"free"}',
    },
  });
  assert.deepEqual(config.cluster.gate.networks, ["tcp", "kcp"]);
  assert.deepEqual(config.registry.etcd.addrs, ["10.0.0.1:2379", "10.0.0.2:2379"]);
  assert.deepEqual(config.network.kcp.server.noDelay, [0, 20, 0, 0]);
  assert.deepEqual(config.cluster.node.metadata, { region: "eu", zone: "a" });
  assert.deepEqual(config.cluster.gate.metadata, { tier: "free" });
});

Deno.test("loadConfig() ignores DUE_ variables that name no key, and empty ones", async () => {
  const { config, warnings } = await loadConfig({
    env: {
      DUE_TEST_REDIS: "127.0.0.1:6379",
      DUE_ETC: "./etc",
      DUE_MODE: "",
      HOME: "/root",
      DUE_PID: undefined,
    },
  });
  assert.equal(config.mode, "debug");
  assert.deepEqual(warnings, []);
});

Deno.test("loadConfig() rejects a bad env value naming the variable and the key", async () => {
  await assert.rejects(() => loadConfig({ env: { DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM: "many" } }), {
    name: "ConfigError",
    message: "Invalid config in env DUE_NETWORK_TCP_SERVER_MAX_CONN_NUM: " +
      `'network.tcp.server.maxConnNum' must be an integer >= 1: current value is "many"`,
  });
  await assert.rejects(() => loadConfig({ env: { DUE_MODE: "prod" } }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, "env DUE_MODE");
    assert.equal(err.key, "mode");
    assert.equal(err.expected, 'one of "debug", "test", "release"');
    assert.equal(err.value, "prod");
    return true;
  });
});
