/**
 * `due dev` with the msgpack and protobuf codecs, JSON logs, TLS on TCP and WebSocket, and the WebSocket origin
 * check.
 */
import { assert, assertEquals } from "../_helpers/assert.ts";
import { FREE_PORTS, startDue } from "../_helpers/due_process.ts";
import { selfSignedCert } from "../_helpers/packet_server.ts";
import { connectTcp, connectWs } from "../../client/mod.ts";
import { createMsgpackCodec } from "../../adapters/codec/msgpack.ts";
import { createProtobufCodec } from "../../adapters/codec/protobuf.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

Deno.test("due dev speaks msgpack when cluster.node.codec is msgpack", async () => {
  const due = await startDue({ args: ["dev", ...FREE_PORTS, "--cluster.node.codec=msgpack"] });
  const c = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0, codec: createMsgpackCodec() });
  try {
    assertEquals(await c.request(1, { message: "packed", n: [1, 2, 3] }), {
      message: "packed",
      n: [1, 2, 3],
    });
    const raw = await c.requestRaw(1, { message: "x" });
    const first = raw.payload[0];
    assert(
      (first & 0xf0) === 0x80 || first === 0xde || first === 0xdf,
      `not a msgpack map: first byte ${first}`,
    );
    assertEquals(createMsgpackCodec().decode(raw.payload), { message: "x" });
  } finally {
    await c.close();
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due dev speaks protobuf with the game's .proto when cluster.node.codec is protobuf", async () => {
  const proto = `${fixtures}proto/echo.proto`;
  const due = await startDue({
    args: [
      "dev",
      ...FREE_PORTS,
      "--cluster.node.codec=protobuf",
      `--codec.protobuf.files=${proto}`,
      `--app=${fixtures}proto_app.ts`,
    ],
  });
  const codec = await createProtobufCodec({ files: [proto] });
  const c = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0, codec });
  try {
    const reply = await c.request(1, { message: "ab", times: 3 }, {
      type: "game.EchoReq",
      replyType: "game.EchoRes",
    });
    assertEquals(reply, { message: "ababab", length: 6 });
  } finally {
    await c.close();
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due logs one JSON object per line with role and instance id when log.console.format is json", async () => {
  const due = await startDue({ args: ["dev", ...FREE_PORTS, "--log.console.format=json"] });
  assertEquals(await due.stop(), 0);
  const records = due.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const gate = records.find((r) => r.msg === "gate listening");
  assert(gate, "no gate listening record");
  assertEquals(gate.role, "gate");
  assert(typeof gate.id === "string" && gate.id.length > 0);
  assert(records.some((r) => r.role === "node" && r.msg === "node started"));
});

const tls = await selfSignedCert();
if (!tls) console.log("skipped: TLS tests need openssl on PATH");

Deno.test({
  name: "due serves TLS on TCP and wss on WebSocket when certFile and keyFile are set",
  ignore: !tls,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/cert.pem`, tls!.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, tls!.key);
    const due = await startDue({
      args: [
        "dev",
        ...FREE_PORTS,
        `--network.tcp.server.certFile=${dir}/cert.pem`,
        `--network.tcp.server.keyFile=${dir}/key.pem`,
        `--network.ws.server.certFile=${dir}/cert.pem`,
        `--network.ws.server.keyFile=${dir}/key.pem`,
      ],
    });
    try {
      const c = await connectTcp({
        addr: due.addrs.tcp,
        heartbeatIntervalMs: 0,
        tls: { caCerts: [tls!.cert] },
      });
      assertEquals(await c.request(1, { message: "over tls" }), { message: "over tls" });
      await c.close();
      const client = Deno.createHttpClient({ caCerts: [tls!.cert] });
      client.close();
      // Deno's WebSocket trusts only system roots, so check wss with a raw TLS upgrade request.
      const port = Number(due.addrs.ws.split(":").pop());
      const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [tls!.cert] });
      const key = btoa("0123456789abcdef");
      await conn.write(new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ));
      const buf = new Uint8Array(1024);
      const n = await conn.read(buf);
      conn.close();
      assert(
        new TextDecoder().decode(buf.subarray(0, n ?? 0)).startsWith("HTTP/1.1 101"),
        "wss upgrade failed",
      );
    } finally {
      assertEquals(await due.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function upgradeStatus(addr: string, origin: string | undefined): Promise<string> {
  const [hostname, port] = [
    addr.slice(0, addr.lastIndexOf(":")),
    Number(addr.slice(addr.lastIndexOf(":") + 1)),
  ];
  const conn = await Deno.connect({ hostname, port });
  const originHeader = origin ? `Origin: ${origin}\r\n` : "";
  await conn.write(new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: ${addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${originHeader}Sec-WebSocket-Key: ${
      btoa("0123456789abcdef")
    }\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buf = new Uint8Array(1024);
  const n = await conn.read(buf);
  conn.close();
  return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
}

Deno.test("the WebSocket gateway refuses upgrades from origins not listed in network.ws.server.origins", async () => {
  const due = await startDue({
    args: ["dev", ...FREE_PORTS, '--network.ws.server.origins=["https://game.example"]'],
  });
  try {
    assertEquals(
      await upgradeStatus(due.addrs.ws, "https://game.example"),
      "HTTP/1.1 101 Switching Protocols",
    );
    assertEquals(await upgradeStatus(due.addrs.ws, "https://evil.example"), "HTTP/1.1 403 Forbidden");
    // a client that sends no Origin (not a browser) is allowed
    assertEquals(await upgradeStatus(due.addrs.ws, undefined), "HTTP/1.1 101 Switching Protocols");
    const w = await connectWs({ url: `ws://${due.addrs.ws}/`, heartbeatIntervalMs: 0 });
    assertEquals(await w.request(1, { message: "no origin" }), { message: "no origin" });
    await w.close();
  } finally {
    assertEquals(await due.stop(), 0);
  }
});

Deno.test("due writes its log to a file when log.terminals lists file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const due = await startDue({
      args: [
        "dev",
        ...FREE_PORTS,
        '--log.terminals=["console","file"]',
        `--log.file.path=${dir}/due.log`,
        "--log.file.format=json",
      ],
    });
    assertEquals(await due.stop(), 0);
    const lines = (await Deno.readTextFile(`${dir}/due.log`)).trim().split("\n").map((l) => JSON.parse(l));
    assert(lines.some((r) => r.msg === "due ready"), "no ready line in the log file");
    assert(lines.some((r) => r.msg === "due stopped"), "the log file was not flushed at stop");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
