/**
 * The NATS mesh transport against a real NATS server: a fake mesh (a {@linkcode MeshLink} written here) is served
 * on one connection and called from another.
 */
import { connect } from "@nats-io/transport-node";
import { createNatsTransport, type NatsTransportOptions } from "../../adapters/transport/nats.ts";
import { createMeshTransport, hasMeshTransport } from "../../adapters/transport/mod.ts";
import type { MeshTransport } from "../../adapters/transport/types.ts";
import { ClosedError, DueError, ErrorCode, TimeoutError } from "../../core/errors.ts";
import type { MeshLink } from "../../core/link.ts";
import { silentLogger } from "../../core/logger.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { freePort, hasCommand, spawnNatsServer, stopChild, waitForPort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";

const ignore = await skipUnless("nats");
const addr = serviceAddr("nats");
const url = addr.includes("://") ? addr : `nats://${addr}`;
const RUN = crypto.randomUUID().slice(0, 8);
let prefixes = 0;
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A subject prefix no other test (or earlier run) uses. */
function uniquePrefix(): string {
  return `due.test.${RUN}.${++prefixes}`;
}

/** One recorded call of the fake mesh. */
interface FakeCall {
  service: string;
  method: string;
  args: Uint8Array;
  codec: string;
}

/**
 * A fake mesh hosting the service "rank". Methods: `echo` (answers its args), `whoami` (answers the fake's name),
 * `big` (answers as many zero bytes as its args say), `fail` (rejects with the `DueError` code named by its args),
 * `crash` (throws a plain Error), `stall` (answers once {@linkcode FakeMeshLink.release} is called). Anything else is `route_not_found`, as a real mesh says.
 */
class FakeMeshLink implements MeshLink {
  readonly calls: FakeCall[] = [];
  readonly #name: string;
  readonly #stalled: (() => void)[] = [];

  constructor(name: string) {
    this.#name = name;
  }

  async call(service: string, method: string, args: Uint8Array, codec: string): Promise<Uint8Array> {
    this.calls.push({ service, method, args: args.slice(), codec });
    if (service !== "rank") {
      throw new DueError(
        ErrorCode.RouteNotFound,
        `Cannot call mesh service ${service}.${method}: no such service`,
      );
    }
    switch (method) {
      case "echo":
        return args;
      case "whoami":
        return utf8.encode(this.#name);
      case "fail":
        throw new DueError(text.decode(args) as ErrorCode, `fake failure ${text.decode(args)}`);
      case "crash":
        throw new Error("the fake mesh crashed");
      case "big":
        return new Uint8Array(Number(text.decode(args)));
      case "stall":
        await new Promise<void>((resolve) => this.#stalled.push(resolve));
        return utf8.encode("late");
      default:
        throw new DueError(
          ErrorCode.RouteNotFound,
          `Cannot call mesh service ${service}.${method}: no such method`,
        );
    }
  }

  /** Lets every stalled call answer. */
  release(): void {
    for (const resolve of this.#stalled.splice(0)) resolve();
  }
}

/** Runs `fn` with transports created on `url`; closes them all whatever happens. */
async function withTransports(
  count: number,
  options: NatsTransportOptions,
  fn: (...transports: MeshTransport[]) => Promise<void>,
): Promise<void> {
  const transports: MeshTransport[] = [];
  try {
    for (let i = 0; i < count; i++) {
      transports.push(await createNatsTransport({ url, logger: silentLogger, ...options }));
    }
    await fn(...transports);
  } finally {
    await Promise.all(transports.map((t) => t.close()));
  }
}

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let off = 0; off < length; off += 65_536) crypto.getRandomValues(out.subarray(off, off + 65_536));
  return out;
}

Deno.test({
  name: "createNatsTransport() serves a fake mesh and a caller on another connection calls it",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix() }, async (server, client) => {
      const fake = new FakeMeshLink("m1");
      const unserve = await server.serve(["rank"], fake);
      const result = await client.caller().call("rank", "echo", utf8.encode("[3]"), "json");
      assertEquals(text.decode(result), "[3]");
      assertEquals(fake.calls, [{
        service: "rank",
        method: "echo",
        args: utf8.encode("[3]"),
        codec: "json",
      }]);
      assertEquals(server.stats, { served: 1, failed: 0, dropped: 0 });
      assert(client.caller() === client.caller(), "caller() returns one link");
      await unserve();
      await unserve();
    }),
});

Deno.test({
  name: "createNatsTransport() shares the calls of a service between the instances serving it (queue group)",
  ignore,
  fn: () =>
    withTransports(3, { prefix: uniquePrefix() }, async (a, b, client) => {
      const fakeA = new FakeMeshLink("a");
      const fakeB = new FakeMeshLink("b");
      await a.serve(["rank"], fakeA);
      await b.serve(["rank"], fakeB);
      const link = client.caller();
      const answers = await Promise.all(
        Array.from({ length: 60 }, () => link.call("rank", "whoami", new Uint8Array(0), "json")),
      );
      const names = answers.map((bytes) => text.decode(bytes));
      assertEquals(fakeA.calls.length + fakeB.calls.length, 60, "each call reaches exactly one instance");
      assert(
        fakeA.calls.length > 0 && fakeB.calls.length > 0,
        `both served: a ${fakeA.calls.length}, b ${fakeB.calls.length}`,
      );
      assertEquals(names.filter((n) => n === "a").length, fakeA.calls.length);
    }),
});

Deno.test({
  name: "createNatsTransport() turns an error the mesh answers back into a DueError with the same code",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix() }, async (server, client) => {
      await server.serve(["rank", "shop"], new FakeMeshLink("m1"));
      const link = client.caller();
      const unknown = await assertRejects(
        () => link.call("rank", "nope", utf8.encode("[]"), "json"),
        DueError,
        "Cannot call mesh service rank.nope: no such method",
      ) as DueError;
      assertEquals(unknown.code, ErrorCode.RouteNotFound);
      const noService = await assertRejects(
        () => link.call("shop", "buy", new Uint8Array(0), "json"),
        DueError,
      );
      assertEquals((noService as DueError).code, ErrorCode.RouteNotFound);
      const coded = await assertRejects(
        () => link.call("rank", "fail", utf8.encode(ErrorCode.NotFoundSession), "json"),
        DueError,
        "fake failure not_found_session",
      );
      assertEquals((coded as DueError).code, ErrorCode.NotFoundSession);
      const crash = await assertRejects(
        () => link.call("rank", "crash", new Uint8Array(0), "json"),
        DueError,
        "the fake mesh crashed",
      );
      assertEquals((crash as DueError).code, ErrorCode.Internal);
      // A remote timeout is a TimeoutError here too, so callers catch one class.
      await assertRejects(
        () => link.call("rank", "fail", utf8.encode(ErrorCode.Timeout), "json"),
        TimeoutError,
      );
      assertEquals(server.stats, { served: 5, failed: 5, dropped: 0 });
      // The subscription survived every failure.
      assertEquals(text.decode(await link.call("rank", "echo", utf8.encode("ok"), "json")), "ok");
    }),
});

Deno.test({
  name: "createNatsTransport() rejects with no_node when no instance serves the service",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix() }, async (server, client) => {
      const link = client.caller();
      const err = await assertRejects(
        () => link.call("rank", "top", utf8.encode("[3]"), "json"),
        DueError,
        "Cannot call mesh service rank.top: no instance serves it",
      ) as DueError;
      assertEquals(err.code, ErrorCode.NoNode);
      const unserve = await server.serve(["rank"], new FakeMeshLink("m1"));
      await link.call("rank", "echo", new Uint8Array(0), "json");
      await unserve();
      const after = await assertRejects(() => link.call("rank", "echo", new Uint8Array(0), "json"), DueError);
      assertEquals((after as DueError).code, ErrorCode.NoNode);
    }),
});

Deno.test({
  name: "createNatsTransport() rejects with a TimeoutError when the mesh answers too late, and leaks nothing",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix(), timeoutMs: 300 }, async (server, client) => {
      const fake = new FakeMeshLink("m1");
      await server.serve(["rank"], fake);
      const link = client.caller();
      const started = Date.now();
      const err = await assertRejects(
        () => link.call("rank", "stall", new Uint8Array(0), "json"),
        TimeoutError,
        "Cannot call mesh service rank.stall: no answer within 300 ms",
      ) as TimeoutError;
      assertEquals(err.code, ErrorCode.Timeout);
      assert(Date.now() - started < 2_000, "the timeout is timeoutMs");
      // The late answer reaches nobody and confuses no later call.
      fake.release();
      assertEquals(text.decode(await link.call("rank", "echo", utf8.encode("next"), "json")), "next");
      assertEquals(server.stats.dropped, 0);
    }),
});

Deno.test({
  name: "createNatsTransport() carries binary args and results byte for byte, up to about 1 MB",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix(), timeoutMs: 10_000 }, async (server, client) => {
      const fake = new FakeMeshLink("m1");
      await server.serve(["rank"], fake);
      const link = client.caller();
      const every = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
      const large = randomBytes(1_000_000);
      for (const args of [new Uint8Array(0), every, large]) {
        const result = await link.call("rank", "echo", args, "msgpack");
        assertEquals(result.length, args.length);
        assert(result.every((b, i) => b === args[i]), `${args.length} bytes round-trip exactly`);
      }
      assertEquals(fake.calls.at(-1)?.codec, "msgpack");
      assertEquals(fake.calls.at(-1)?.args.length, 1_000_000);
    }),
});

Deno.test({
  name: "createNatsTransport() rejects a call over the server's max_payload with packet_too_large",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix() }, async (server, client) => {
      await server.serve(["rank"], new FakeMeshLink("m1"));
      const err = await assertRejects(
        () => client.caller().call("rank", "echo", new Uint8Array(2 * 1024 * 1024), "json"),
        DueError,
        "max_payload",
      ) as DueError;
      assertEquals(err.code, ErrorCode.PacketTooLarge);
      assertEquals(server.stats.served, 0);
      // A result over the limit comes back as the mesh's error, and the service keeps serving.
      const big = await assertRejects(
        () => client.caller().call("rank", "big", utf8.encode(String(2 * 1024 * 1024)), "json"),
        DueError,
        "Cannot answer mesh call rank.big: result of 2097152 bytes is above the NATS max_payload",
      ) as DueError;
      assertEquals(big.code, ErrorCode.PacketTooLarge);
      assertEquals(server.stats, { served: 1, failed: 1, dropped: 0 });
    }),
});

Deno.test({
  name: "createNatsTransport() refuses service names that are not NATS subjects, and bad options",
  ignore,
  fn: async () => {
    await assertRejects(() => createNatsTransport({ url, prefix: "due.*" }), TypeError, "'prefix'");
    await assertRejects(
      () => createNatsTransport({ url, timeoutMs: 0 }),
      RangeError,
      "'timeoutMs' must be >= 1",
    );
    await assertRejects(() => createNatsTransport({ url: [] }), TypeError, "'url'");
    await withTransports(1, { prefix: uniquePrefix() }, async (transport) => {
      await assertRejects(() => transport.serve(["rank top"], new FakeMeshLink("m1")), TypeError, "rank top");
      await assertRejects(() => transport.serve(["rank.>"], new FakeMeshLink("m1")), TypeError, "rank.>");
      await assertRejects(() => transport.caller().call("", "top", new Uint8Array(0), "json"), TypeError);
      await assertRejects(
        () => transport.caller().call("rank", "m".repeat(256), new Uint8Array(0), "json"),
        RangeError,
        "at most 255",
      );
    });
  },
});

Deno.test({
  name:
    "createNatsTransport() close() stops serving, rejects later calls with a ClosedError and is idempotent",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    await withTransports(1, { prefix }, async (client) => {
      const server = await createNatsTransport({ url, prefix, logger: silentLogger });
      await server.serve(["rank"], new FakeMeshLink("m1"));
      await client.caller().call("rank", "echo", new Uint8Array(0), "json");
      await server.close();
      await server.close();
      const gone = await assertRejects(
        () => client.caller().call("rank", "echo", new Uint8Array(0), "json"),
        DueError,
      );
      assertEquals((gone as DueError).code, ErrorCode.NoNode);
      await assertRejects(() => server.caller().call("rank", "echo", new Uint8Array(0), "json"), ClosedError);
      await assertRejects(() => server.serve(["rank"], new FakeMeshLink("m2")), ClosedError);
    });
  },
});

Deno.test({
  name: "createNatsTransport() lets a call in flight answer before unserve() resolves",
  ignore,
  fn: () =>
    withTransports(2, { prefix: uniquePrefix() }, async (server, client) => {
      const fake = new FakeMeshLink("m1");
      const unserve = await server.serve(["rank"], fake);
      const pending = client.caller().call("rank", "stall", new Uint8Array(0), "json");
      pending.catch(() => {}); // awaited below; if an assertion fails first, it reports, not this rejection
      while (fake.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      let unserved = false;
      const stopping = unserve().then(() => (unserved = true));
      // Draining the subscription takes a round trip; an unserve() that did not wait for the call resolves now.
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(unserved, false, "unserve() resolved while a call was in flight");
      assertEquals(server.stats.served, 0);
      fake.release();
      await stopping;
      assertEquals(server.stats.served, 1, "the call was answered before unserve() resolved");
      assertEquals(text.decode(await pending), "late");
    }),
});

Deno.test({
  name:
    "createNatsTransport() answers a malformed request with invalid_packet and counts a message it cannot answer",
  ignore,
  fn: async () => {
    const prefix = uniquePrefix();
    const transport = await createNatsTransport({ url, prefix, logger: silentLogger });
    const raw = await connect({ servers: url });
    try {
      await transport.serve(["rank"], new FakeMeshLink("m1"));
      // Version 2 is not ours: the mesh refuses it loudly instead of misreading it.
      const reply = await raw.request(`${prefix}.rank`, Uint8Array.of(2, 0, 0), { timeout: 3_000 });
      assertEquals(reply.data[0], 1, "an error reply");
      assertEquals(text.decode(reply.data.subarray(2, 2 + reply.data[1])), ErrorCode.InvalidPacket);
      // A publish has nowhere to answer: dropped and counted, and the service goes on.
      raw.publish(`${prefix}.rank`, Uint8Array.of(1, 0, 0));
      await raw.flush();
      const ok = await raw.request(`${prefix}.rank`, Uint8Array.of(1, 4, ...utf8.encode("echo"), 0, 7), {
        timeout: 3_000,
      });
      assertEquals([...ok.data], [0, 7]);
      assertEquals(transport.stats, { served: 2, failed: 1, dropped: 1 });
    } finally {
      await raw.close();
      await transport.close();
    }
  },
});

Deno.test({
  name: "createNatsTransport() fails with an unavailable error naming the server when NATS is down",
  fn: async () => {
    const port = freePort();
    const err = await assertRejects(
      () => createNatsTransport({ url: `nats://127.0.0.1:${port}`, timeoutMs: 500, logger: silentLogger }),
      DueError,
      `127.0.0.1:${port}`,
    ) as DueError;
    assertEquals(err.code, ErrorCode.Unavailable);
    assertEquals(err.context.addr, `nats://127.0.0.1:${port}`);
  },
});

Deno.test({
  name: "createMeshTransport() loads the nats driver on first use and says drpc needs no transport",
  ignore,
  fn: async () => {
    assertEquals([hasMeshTransport("nats"), hasMeshTransport("drpc")], [true, false]);
    await assertRejects(
      () => createMeshTransport("drpc" as "nats", {}),
      TypeError,
      "drpc is the cluster link",
    );
    const prefix = uniquePrefix();
    const transport = await createMeshTransport("nats", { url, prefix, logger: silentLogger });
    try {
      await transport.serve(["rank"], new FakeMeshLink("m1"));
      assertEquals(
        text.decode(await transport.caller().call("rank", "whoami", new Uint8Array(0), "json")),
        "m1",
      );
    } finally {
      await transport.close();
    }
  },
});

const noServerBinary = !(await hasCommand("nats-server"));
if (noServerBinary) console.log("skipped: the NATS restart test needs the nats-server binary on PATH");

Deno.test({
  name: "createNatsTransport() serves and calls again after the NATS server restarts",
  ignore: noServerBinary,
  fn: async () => {
    const port = freePort();
    const start = () => spawnNatsServer(port);
    let server = start();
    try {
      await waitForPort(port);
      const options = { url: `nats://127.0.0.1:${port}`, prefix: uniquePrefix(), timeoutMs: 500 };
      const serving = await createNatsTransport({ ...options, reconnectWaitMs: 100, logger: silentLogger });
      const calling = await createNatsTransport({ ...options, reconnectWaitMs: 100, logger: silentLogger });
      try {
        const fake = new FakeMeshLink("m1");
        await serving.serve(["rank"], fake);
        const link = calling.caller();
        assertEquals(text.decode(await link.call("rank", "echo", utf8.encode("before"), "json")), "before");

        await stopChild(server, "SIGKILL");
        server = start();
        await waitForPort(port);

        // Until both connections are back (and the queue subscription re-sent) calls fail with a code.
        const deadline = Date.now() + 15_000;
        let answer: string | undefined;
        const failures = new Set<string>();
        while (answer === undefined && Date.now() < deadline) {
          try {
            answer = text.decode(await link.call("rank", "echo", utf8.encode("after"), "json"));
          } catch (err) {
            assert(DueError.is(err), `a DueError while reconnecting: ${err}`);
            failures.add(err.code);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        assertEquals(answer, "after");
        for (const code of failures) {
          assert(["timeout", "no_node", "unavailable"].includes(code), `unexpected code ${code}`);
        }
        assertEquals(fake.calls.at(-1)?.method, "echo");
      } finally {
        await serving.close();
        await calling.close();
      }
    } finally {
      await stopChild(server);
    }
  },
});
