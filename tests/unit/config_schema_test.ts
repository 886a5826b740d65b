import assert from "node:assert/strict";
import { type DueConfig, dueSchema } from "../../config/schema.ts";
import * as s from "../../config/schema_dsl.ts";
import { envName } from "../../config/env.ts";
import { loadConfig } from "../../config/load.ts";

// ---- the inferred type, checked by `deno check` ------------------------------------------------------------------

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

type TcpServer = {
  addr: string;
  keyFile: string;
  certFile: string;
  maxConnNum: number;
  writeTimeout: s.Milliseconds;
  writeQueueSize: number;
  heartbeatInterval: s.Milliseconds;
  heartbeatMechanism: "resp" | "tick";
  authorizeTimeout: s.Milliseconds;
};
type Gate = {
  id: string;
  name: string;
  addr: string;
  expose: boolean;
  connNum: number;
  callTimeout: s.Milliseconds;
  dialTimeout: s.Milliseconds;
  dialRetryTimes: number;
  writeTimeout: s.Milliseconds;
  writeQueueSize: number;
  faultRecoveryTime: s.Milliseconds;
  metadata: Record<string, string>;
  dispatch: "random" | "rr" | "wrr";
  networks: ("tcp" | "ws" | "kcp")[];
  replyUnknownRoute: boolean;
  duplicateLogin: "kick" | "unbind";
  frameLimit: s.Bytes;
};
const tcpServerTypeMatches: Equals<DueConfig["network"]["tcp"]["server"], TcpServer> = true;
const gateTypeMatches: Equals<DueConfig["cluster"]["gate"], Gate> = true;
const packetTypeMatches: Equals<DueConfig["packet"]["routeBytes"], 1 | 2 | 4> = true;
const modeTypeMatches: Equals<DueConfig["mode"], "debug" | "test" | "release"> = true;

Deno.test("DueConfig is inferred from the schema with literal unions and ms/bytes numbers", () => {
  assert.ok(tcpServerTypeMatches && gateTypeMatches && packetTypeMatches && modeTypeMatches);
});

// ---- defaults ----------------------------------------------------------------------------------------------------

Deno.test("dueSchema defaults follow due except where due for Deno differs on purpose", () => {
  const config = s.defaults(dueSchema);
  assert.equal(config.mode, "debug");
  assert.equal(config.pid, "");
  assert.equal(config.shutdownMaxWaitTime, 30_000);
  assert.deepEqual(config.cluster.gate, {
    id: "",
    name: "gate",
    addr: ":0",
    expose: false,
    connNum: 5,
    callTimeout: 3_000,
    dialTimeout: 3_000,
    dialRetryTimes: 3,
    writeTimeout: 0,
    writeQueueSize: 2048,
    faultRecoveryTime: 5_000,
    metadata: {},
    dispatch: "random",
    networks: ["tcp", "ws"],
    replyUnknownRoute: false,
    duplicateLogin: "kick",
    frameLimit: 4 * 1024 * 1024,
  });
  assert.equal(config.cluster.node.codec, "json");
  assert.equal(config.cluster.node.weight, 1);
  assert.equal(config.cluster.node.requestQueueSize, 256);
  assert.equal(config.cluster.node.encryptor, "");
  assert.equal("dispatch" in config.cluster.node, false);
  assert.equal(config.cluster.mesh.name, "mesh");
  assert.equal(config.cluster.client.codec, "json");
  assert.deepEqual(config.packet, {
    byteOrder: "big",
    routeBytes: 2,
    seqBytes: 2,
    bufferBytes: 5000,
    heartbeatTime: false,
  });
});

Deno.test("dueSchema gives each client network its own port and due's queue sizes", () => {
  const { network } = s.defaults(dueSchema);
  assert.equal(network.tcp.server.addr, ":3553");
  assert.equal(network.ws.server.addr, ":3554");
  assert.equal(network.kcp.server.addr, ":3555");
  assert.equal(network.tcp.server.writeQueueSize, 512);
  assert.equal(network.ws.server.writeQueueSize, 1024);
  assert.equal(network.tcp.server.heartbeatInterval, 10_000);
  assert.equal(network.ws.server.path, "/");
  assert.deepEqual(network.ws.server.origins, ["*"]);
  assert.equal(network.tcp.client.addr, "127.0.0.1:3553");
  assert.equal(network.ws.client.url, "ws://127.0.0.1:3554");
  assert.equal(network.kcp.client.addr, "127.0.0.1:3555");
  assert.equal(network.kcp.client.timeout, 5_000);
  assert.deepEqual(network.kcp.server.noDelay, [1, 10, 2, 1]);
  assert.deepEqual(network.kcp.server.windowSize, [256, 256]);
  assert.equal(network.kcp.server.mtu, 1400);
  assert.equal(network.kcp.server.readBuffer, 4 * 1024 * 1024);
});

Deno.test("dueSchema defaults every pluggable to its in-process backend", () => {
  const config = s.defaults(dueSchema);
  assert.equal(config.registry.driver, "memory");
  assert.equal(config.locate.driver, "memory");
  assert.equal(config.transport.driver, "drpc");
  assert.equal(config.eventbus.driver, "memory");
  assert.equal(config.cache.driver, "memory");
  assert.equal(config.lock.driver, "memory");
  assert.equal(config.config.driver, "");
  assert.deepEqual(config.registry.etcd, {
    addrs: ["127.0.0.1:2379"],
    dialTimeout: 5_000,
    namespace: "services",
    username: "",
    password: "",
    timeout: 3_000,
    retryTimes: 3,
    retryInterval: 10_000,
  });
  assert.equal(config.locate.redis.prefix, "due:locate");
  assert.equal(config.eventbus.redis.prefix, "due:eventbus");
  assert.equal(config.eventbus.rabbitmq.exchange, "due.eventbus");
  assert.equal(config.transport.nats.timeout, 3_000);
  assert.equal(config.cache.nilValue, "cache@nil");
  assert.equal(config.cache.maxExpiration, 24 * 3_600_000);
  assert.deepEqual(config.cache.memcache.addrs, ["127.0.0.1:11211"]);
  assert.equal(config.lock.acquireInterval, 20);
  assert.equal(config.lock.acquireMaxRetries, 0);
  assert.equal(config.log.file.maxAge, 7 * 86_400_000);
  assert.equal(config.log.file.maxSize, 100 * 1024 * 1024);
  assert.deepEqual(config.log.terminals, ["console"]);
  assert.deepEqual(config.config.file, { path: "./config", mode: "read-only" });
  assert.equal(config.config.etcd.path, "/config");
  assert.equal(config.crypto.rsa.encryptor.hash, "SHA256");
  assert.deepEqual(config.codec.protobuf.files, []);
});

Deno.test("dueSchema documents every key and section in one line", () => {
  const missing: string[] = [];
  const walk = (spec: s.ObjectSpec, path: string) => {
    if (spec.doc.trim() === "" || spec.doc.includes("\n")) missing.push(path || "(root)");
    for (const [key, field] of Object.entries(spec.fields)) {
      const child = path ? `${path}.${key}` : key;
      if (s.isObjectSpec(field)) walk(field, child);
      else if (field.doc.trim() === "" || field.doc.includes("\n")) missing.push(child);
    }
  };
  walk(dueSchema, "");
  assert.deepEqual(missing, []);
});

Deno.test("envName() gives every key of dueSchema its own variable", () => {
  const names = new Map<string, string>();
  for (const { path } of s.leaves(dueSchema)) {
    const name = envName(path);
    assert.equal(names.get(name), undefined, `${path} and ${names.get(name)} share ${name}`);
    names.set(name, path);
  }
  assert.ok(names.size > 250, `only ${names.size} keys`);
});

Deno.test("defaults() returns a fresh copy each time", async () => {
  const first = await loadConfig({ env: {} });
  first.config.cluster.gate.networks.push("kcp");
  first.config.cluster.gate.metadata.region = "eu";
  const second = await loadConfig({ env: {} });
  assert.deepEqual(second.config.cluster.gate.networks, ["tcp", "ws"]);
  assert.deepEqual(second.config.cluster.gate.metadata, {});
});

// ---- the DSL itself ----------------------------------------------------------------------------------------------

Deno.test("schema_dsl enum() accepts only its values, numbers read from text", () => {
  const routeBytes = s.enum([1, 2, 4], 2, "doc");
  assert.deepEqual(routeBytes.parse(4, false), { ok: true, value: 4 });
  assert.deepEqual(routeBytes.parse("4", true), { ok: true, value: 4 });
  assert.equal(routeBytes.parse("4", false).ok, false);
  assert.equal(routeBytes.parse(3, false).ok, false);
  assert.equal(routeBytes.expected, "one of 1, 2, 4");
  assert.equal(s.enum(["a", "b"]).default, "a");
});

Deno.test("schema_dsl int() enforces integers within its bounds", () => {
  const port = s.int(80, "doc", { min: 1, max: 65_535 });
  assert.equal(port.parse(0, false).ok, false);
  assert.equal(port.parse(65_536, false).ok, false);
  assert.equal(port.parse(1.5, false).ok, false);
  assert.equal(port.parse("80", false).ok, false);
  assert.deepEqual(port.parse("8080", true), { ok: true, value: 8080 });
  assert.equal(port.expected, "an integer from 1 to 65535");
  assert.equal(s.int().expected, "a non-negative integer");
  assert.equal(s.int(1, "", { min: 1 }).expected, "an integer >= 1");
});

Deno.test("schema_dsl list() reads comma-separated and JSON text and points at the bad item", () => {
  const ports = s.list(s.int(), [1], "doc");
  assert.deepEqual(ports.parse("1, 2,3", true), { ok: true, value: [1, 2, 3] });
  assert.deepEqual(ports.parse("[4,5]", true), { ok: true, value: [4, 5] });
  assert.deepEqual(ports.parse("", true), { ok: true, value: [] });
  assert.deepEqual(ports.parse([1, "x"], false), {
    ok: false,
    at: "[1]",
    expected: "a non-negative integer",
    value: "x",
  });
  const pair = s.list(s.int(), [1, 2], "doc", { length: 2 });
  assert.equal(pair.parse([1], false).ok, false);
  assert.equal(pair.expected, "a list of 2 integers");
  const unique = s.list(s.string(), [], "doc", { unique: true });
  assert.equal(unique.parse(["a", "a"], false).ok, false);
});

Deno.test("schema_dsl record() takes string values from tables, k=v text and JSON text", () => {
  const metadata = s.record({}, "doc");
  assert.deepEqual(metadata.parse({ a: "1" }, false), { ok: true, value: { a: "1" } });
  assert.deepEqual(metadata.parse("a=1, b = x=y", true), { ok: true, value: { a: "1", b: "x=y" } });
  assert.deepEqual(metadata.parse('{"a":"1"}', true), { ok: true, value: { a: "1" } });
  assert.deepEqual(metadata.parse({ a: 1 }, false), { ok: false, at: ".a", expected: "a string", value: 1 });
  assert.equal(metadata.parse("novalue", true).ok, false);
});

Deno.test("schema_dsl bool() reads true/false/1/0 from text only", () => {
  const flag = s.bool(false, "doc");
  assert.deepEqual(flag.parse("true", true), { ok: true, value: true });
  assert.deepEqual(flag.parse("0", true), { ok: true, value: false });
  assert.equal(flag.parse("true", false).ok, false);
  assert.equal(flag.parse("yes", true).ok, false);
});

Deno.test("schema_dsl rejects a default that its own type refuses", () => {
  assert.throws(() => s.duration("ten", "doc"), {
    name: "TypeError",
    message:
      'Cannot define duration key as its default must be a duration like "10s": current value is "ten"',
  });
  assert.throws(() => s.enum(["a", "b"], "c" as "a", "doc"), TypeError);
  assert.throws(() => s.int(0, "doc", { min: 1 }), TypeError);
});
