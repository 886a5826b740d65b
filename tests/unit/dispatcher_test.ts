import { assert, assertEquals } from "../_helpers/assert.ts";
import { DEFAULT_ROUTE_METADATA, Dispatcher } from "../../core/dispatcher.ts";
import type { DispatchStrategy } from "../../core/dispatcher.ts";
import type { ServiceInstance, StateName } from "../../core/cluster.ts";

function node(
  id: string,
  options: { weight?: number; state?: StateName; alias?: string; stateful?: boolean } = {},
) {
  return {
    id,
    name: "node",
    kind: "node",
    alias: options.alias ?? "game",
    state: options.state ?? "work",
    events: [1],
    routes: [{ i: 1 }, { i: 2, s: options.stateful ?? false }],
    services: [],
    endpoint: `inproc://${id}`,
    weight: options.weight ?? 1,
    metadata: {},
  } satisfies ServiceInstance;
}

function dispatcher(strategy: DispatchStrategy, nodes: ServiceInstance[]) {
  const unlinked: string[] = [];
  const d = new Dispatcher<string>({
    strategy,
    link: (ins) => `link:${ins.id}`,
    unlink: (ins) => unlinked.push(ins.id),
  });
  d.replace(nodes);
  return { d, unlinked };
}

function picks(d: Dispatcher<string>, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = d.route(1)!.pick()!.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

Deno.test("Dispatcher rr cycles through the work nodes in turn", () => {
  const { d } = dispatcher("rr", [node("a"), node("b"), node("c")]);
  assertEquals([1, 2, 3, 4, 5, 6].map(() => d.route(1)!.pick()!.id), ["a", "b", "c", "a", "b", "c"]);
});

Deno.test("Dispatcher wrr interleaves nodes in proportion to their weights", () => {
  const { d } = dispatcher("wrr", [
    node("a", { weight: 1 }),
    node("b", { weight: 2 }),
    node("c", { weight: 3 }),
  ]);
  const sequence = Array.from({ length: 6 }, () => d.route(1)!.pick()!.id);
  assertEquals(sequence.filter((id) => id === "c").length, 3);
  assertEquals(sequence.filter((id) => id === "b").length, 2);
  assert(sequence[0] === "c" && sequence[1] !== "c", `not interleaved: ${sequence}`);
  assertEquals(Object.fromEntries(picks(d, 600)), { a: 100, b: 200, c: 300 });
});

Deno.test("Dispatcher random spreads picks over every work node", () => {
  const { d } = dispatcher("random", [node("a"), node("b"), node("c")]);
  const counts = picks(d, 3000);
  for (const id of ["a", "b", "c"]) {
    const got = counts.get(id) ?? 0;
    assert(got > 850 && got < 1150, `${id}: ${got} of 3000`);
  }
});

Deno.test("Dispatcher picks work nodes, falls back to busy, and never hang or shut", () => {
  const { d } = dispatcher("rr", [node("w"), node("b", { state: "busy" }), node("h", { state: "hang" })]);
  assertEquals(Object.fromEntries(picks(d, 4)), { w: 4 });
  d.replace([node("b", { state: "busy" }), node("h", { state: "hang" }), node("s", { state: "shut" })]);
  assertEquals(Object.fromEntries(picks(d, 4)), { b: 4 });
  d.replace([node("h", { state: "hang" })]);
  assertEquals(d.route(1)!.pick(), undefined);
  assertEquals(d.node("h")?.id, "h", "direct lookup finds a node in any state");
});

Deno.test("Dispatcher markDown takes a node out at once and markUp restores it", () => {
  const { d } = dispatcher("rr", [node("a"), node("b")]);
  d.markDown("a");
  assertEquals(Object.fromEntries(picks(d, 4)), { b: 4 });
  assert(d.isDown("a"));
  d.markUp("a");
  assertEquals(Object.fromEntries(picks(d, 4)), { a: 2, b: 2 });
});

Deno.test("Dispatcher keeps links across rebuilds and unlinks nodes that left", () => {
  const { d, unlinked } = dispatcher("rr", [node("a"), node("b")]);
  const link = d.node("a")!.link;
  d.replace([node("a")]);
  assertEquals(d.node("a")!.link, link);
  assertEquals(unlinked, ["b"]);
  assertEquals(d.eventTargets(1).map((e) => e.id), ["a"]);
});

Deno.test("Dispatcher sends unknown routes to nodes with a default handler", () => {
  const fallback = { ...node("f"), routes: [], metadata: { [DEFAULT_ROUTE_METADATA]: "true" } };
  const { d } = dispatcher("rr", [node("a"), fallback]);
  assertEquals(d.route(999)?.pick()?.id, "f");
  assertEquals(d.route(1)?.nodes.map((e) => e.id), ["a"]);
});

Deno.test("Dispatcher keeps the first node name of a stateful route registered by two names", () => {
  const { d } = dispatcher("rr", [
    node("x", { alias: "zeta", stateful: true }),
    node("y", { alias: "alpha", stateful: true }),
  ]);
  assertEquals(d.route(2)?.group, "alpha");
  assertEquals(d.route(2)?.nodes.map((e) => e.id), ["y"]);
});
