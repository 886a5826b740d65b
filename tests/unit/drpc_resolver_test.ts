/**
 * `createDrpcLinks()`: one shared pooled client per endpoint and caller, released when
 * unused, endpoint schemes, and the onDown/onUp hooks driving a real `Dispatcher` as a gate wires them.
 */
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { createFakeNode, waitFor } from "../_helpers/drpc_fakes.ts";
import { freePort } from "../_helpers/processes.ts";
import { Kind, State } from "../../core/cluster.ts";
import type { ServiceInstance } from "../../core/cluster.ts";
import { Dispatcher } from "../../core/dispatcher.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { createInprocLinks } from "../../core/inproc_links.ts";
import { InprocHub } from "../../core/link.ts";
import type { NodeLink, Peer } from "../../core/link.ts";
import type { LinkClient } from "../../core/drpc/client.ts";
import { createDrpcLinks } from "../../core/drpc/resolver.ts";
import { createLinkServer } from "../../core/drpc/server.ts";

const GATE: Peer = { kind: Kind.Gate, id: "g1" };
const PACKET = Uint8Array.of(0, 0, 0, 6, 0, 0, 1, 0, 7, 0x2a);

function nodeRecord(id: string, endpoint: string): ServiceInstance {
  return {
    id,
    name: "node",
    kind: "node",
    alias: "game",
    state: "work",
    events: [],
    routes: [{ i: 1 }],
    services: [],
    endpoint,
    weight: 1,
    metadata: {},
  };
}

Deno.test("createDrpcLinks() shares one pooled client per endpoint and caller, and releases it when unused", async () => {
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node: createFakeNode() });
  const links = createDrpcLinks({ self: GATE, heartbeatIntervalMs: 0, connNum: 2 });
  try {
    const n1 = { id: "n1", endpoint: server.endpoint };
    const a = links.node(n1, GATE);
    assert(a === links.node(n1, GATE), "the same client for the same endpoint and caller");
    assert(a !== links.node(n1, { kind: Kind.Node, id: "n2" }), "another caller gets its own handshake");
    assertEquals(links.clients().length, 2);
    links.release({ id: "n1", endpoint: "drpc://127.0.0.1:1?is_secure=false" });
    assertEquals(links.clients().length, 2, "another endpoint's release leaves these alone");
    links.release(n1);
    assertEquals(links.clients().length, 0);
  } finally {
    await links.close();
    await server.close();
  }
});

Deno.test("createDrpcLinks() refuses endpoints that are not drpc://host:port or ask for TLS", async () => {
  const links = createDrpcLinks({ self: GATE });
  try {
    for (
      const endpoint of ["inproc://n1", "drpc://nohost", "drpc://10.0.0.1:9000?is_secure=true", "garbage"]
    ) {
      const err = assertThrows(() => links.gate({ id: "x", endpoint }), DueError, "Cannot link to gate x");
      assertEquals((err as DueError).code, ErrorCode.Unavailable, endpoint);
    }
  } finally {
    await links.close();
  }
});

Deno.test("createDrpcLinks() reads IPv4, IPv6 and host-name endpoints with or without is_secure=false", async () => {
  const links = createDrpcLinks({ self: GATE, heartbeatIntervalMs: 0, connNum: 1, dialRetryTimes: 0 });
  try {
    links.gate({ id: "a", endpoint: "drpc://10.0.0.7:9000?is_secure=false" });
    links.gate({ id: "b", endpoint: "drpc://[::1]:9001" });
    links.gate({ id: "c", endpoint: "drpc://localhost:9002?is_secure=false" });
    assertEquals(links.clients().map((c) => c.addr), ["10.0.0.7:9000", "[::1]:9001", "localhost:9002"]);
  } finally {
    await links.close();
  }
});

Deno.test("a Dispatcher fed by createDrpcLinks() drops a node from dispatch at once when its link dies and takes it back", async () => {
  const port = freePort();
  const addr = `127.0.0.1:${port}`;
  const node = createFakeNode();
  let server = createLinkServer({ addr, kind: Kind.Node, id: "n1", node });
  const events: string[] = [];
  const links = createDrpcLinks({
    self: GATE,
    heartbeatIntervalMs: 0,
    onDown: (peer, endpoint) => {
      events.push(`down ${peer.kind} ${peer.id} ${endpoint}`);
      if (peer.kind === Kind.Node) dispatcher.markDown(peer.id);
    },
    onUp: (peer) => {
      events.push(`up ${peer.id}`);
      if (peer.kind === Kind.Node) dispatcher.markUp(peer.id);
    },
  });
  const dispatcher: Dispatcher<NodeLink> = new Dispatcher<NodeLink>({
    link: (instance) => links.node(instance, GATE),
    unlink: (instance) => links.release(instance),
  });
  const record = nodeRecord("n1", `drpc://${addr}?is_secure=false`);
  try {
    dispatcher.replace([record]);
    dispatcher.route(1)!.pick()!.link.deliver(3, 0, PACKET);
    await waitFor(() => node.delivered.length === 1, "the first deliver");
    assertEquals(node.delivered[0].from, GATE);

    await server.close();
    await waitFor(() => dispatcher.isDown("n1"), "markDown");
    assertEquals(dispatcher.route(1)!.pick(), undefined, "no node to pick while n1 is down");
    assertEquals(dispatcher.node("n1")!.state, State.Shut);

    server = createLinkServer({ addr, kind: Kind.Node, id: "n1", node });
    await waitFor(() => !dispatcher.isDown("n1"), "markUp", 4000);
    dispatcher.route(1)!.pick()!.link.deliver(4, 0, PACKET);
    await waitFor(() => node.delivered.length === 2, "a deliver after the node is back");
    assertEquals(events, ["up n1", `down 2 n1 drpc://${addr}?is_secure=false`, "up n1"]);

    dispatcher.clear();
    assertEquals(links.clients().length, 0, "unlink released the client");
  } finally {
    await links.close();
    await server.close();
  }
});

Deno.test("close() of the resolver closes every client and later lookups throw", async () => {
  const server = createLinkServer({ addr: "127.0.0.1:0", kind: Kind.Node, id: "n1", node: createFakeNode() });
  const links = createDrpcLinks({ self: GATE, heartbeatIntervalMs: 0 });
  const client = links.node({ id: "n1", endpoint: server.endpoint }, GATE) as LinkClient;
  await client.getState();
  assertEquals(client.state, "up");
  await links.close();
  try {
    assertEquals(client.state, "closed");
    assertEquals(links.clients().length, 0);
    assertThrows(
      () => links.gate({ id: "g", endpoint: server.endpoint }),
      DueError,
      "the resolver is closed",
    );
  } finally {
    await server.close();
  }
});
