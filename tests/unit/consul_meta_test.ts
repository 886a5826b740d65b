import {
  CONSUL_META_VALUE_MAX,
  fromConsulService,
  toConsulService,
} from "../../adapters/registry/_consul_meta.ts";
import { endpointHostPort } from "../../adapters/registry/_flat_record.ts";
import type { ServiceInstance } from "../../core/cluster.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

function node(overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    id: "n1",
    name: "node",
    kind: "node",
    alias: "game",
    state: "work",
    events: [1, 2, 3],
    routes: [],
    services: [],
    endpoint: "drpc://127.0.0.1:4100?is_secure=false",
    weight: 1,
    metadata: {},
    ...overrides,
  };
}

Deno.test("toConsulService() cuts 400 routes into routes-<n> values of at most 512 characters that read back in order", () => {
  const routes = Array.from({ length: 400 }, (_, i) => ({ i: 100_000 + i, s: i % 2 === 0, a: i % 3 === 0 }));
  const { Meta } = toConsulService(node({ routes }), "");
  const keys = Object.keys(Meta).filter((k) => k.startsWith("routes-"));
  assert(keys.length >= 8, `only ${keys.length} chunks for 400 routes of 10 characters`);
  for (const key of keys) {
    assert(Meta[key].length <= CONSUL_META_VALUE_MAX, `${key} is ${Meta[key].length} long`);
  }
  const back = fromConsulService({ Service: "node", Meta }, "");
  assertEquals(
    back.routes,
    routes.map((r) => ({ i: r.i, ...(r.s ? { s: true } : {}), ...(r.a ? { a: true } : {}) })),
  );
});

Deno.test("fromConsulService() reads chunks in index order, not key order (routes-10 after routes-9)", () => {
  const Meta: Record<string, string> = { id: "n1", kind: "node", endpoint: "drpc://h:1" };
  for (let n = 0; n <= 10; n++) Meta[`routes-${n}`] = `${n}-0`;
  assertEquals(fromConsulService({ Service: "node", Meta }, "").routes.map((r) => r.i), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
  ]);
});

Deno.test("fromConsulService() reads due's older layout: plain events and services keys, negative route ids", () => {
  const instance = fromConsulService({
    Service: "node",
    Meta: {
      id: "n1",
      kind: "node",
      alias: "game",
      state: "busy",
      endpoint: "drpc://10.0.0.1:4100",
      weight: "3",
      events: "[1,3]",
      services: '["mail","rank"]',
      "routes-0": "-5-7,12-0",
      _zone: "eu",
    },
  }, "");
  assertEquals(instance, {
    id: "n1",
    name: "node",
    kind: "node",
    alias: "game",
    state: "busy",
    events: [1, 3],
    routes: [{ i: -5, n: true, s: true, a: true }, { i: 12 }],
    services: ["mail", "rank"],
    endpoint: "drpc://10.0.0.1:4100",
    weight: 3,
    metadata: { zone: "eu" },
  });
});

Deno.test("fromConsulService() strips the namespace from the service name and refuses malformed meta", () => {
  const { Meta, Name } = toConsulService(node(), "blue");
  assertEquals(Name, "blue-node");
  assertEquals(fromConsulService({ Service: Name, Meta }, "blue").name, "node");
  assertThrows(
    () => fromConsulService({ Service: "node", Meta: { ...Meta, "routes-0": "x" } }, ""),
    TypeError,
    '"x"',
  );
  assertThrows(
    () => fromConsulService({ Service: "node", Meta: { ...Meta, "events-0": "{}" } }, ""),
    TypeError,
  );
  assertThrows(
    () => fromConsulService({ Service: "node", Meta: { ...Meta, kind: "toaster" } }, ""),
    TypeError,
    "kind",
  );
});

Deno.test("toConsulService() refuses a metadata value or a service name longer than Consul keeps", () => {
  assertThrows(
    () => toConsulService(node({ metadata: { long: "x".repeat(513) } }), ""),
    RangeError,
    "at most 512",
  );
  assertThrows(() => toConsulService(node({ services: ["s".repeat(600)] }), ""), RangeError, "'services'");
});

Deno.test("endpointHostPort() reads drpc endpoints, IPv6 included, and none from inproc ones", () => {
  assertEquals(endpointHostPort("drpc://10.0.0.1:4100?is_secure=false"), {
    scheme: "drpc",
    host: "10.0.0.1",
    port: 4100,
  });
  assertEquals(endpointHostPort("drpc://[::1]:4100"), { scheme: "drpc", host: "::1", port: 4100 });
  assertEquals(endpointHostPort("inproc://n1"), undefined);
  assertEquals(endpointHostPort("not a url"), undefined);
});
