/**
 * `due dev` with platform components chosen in config — event bus, cache, lock on real Redis, NATS, RabbitMQ and
 * memcached, a file config centre — reached by game code through the node, and an encrypting client.
 */
import { generateKeyPairSync } from "node:crypto";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { FREE_PORTS, startDue } from "../_helpers/due_process.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { connectTcp } from "../../client/mod.ts";
import type { Client } from "../../client/mod.ts";
import { createRsaEncryptor } from "../../adapters/crypto/rsa.ts";

const app = new URL("../fixtures/platform_app.ts", import.meta.url).pathname;

async function exercise(client: Client, tag: string): Promise<void> {
  const first = await client.request<{ value: string; loads: number; counter: number }>(60, {
    key: `k-${tag}`,
  });
  const second = await client.request<{ value: string; loads: number; counter: number }>(60, {
    key: `k-${tag}`,
  });
  assertEquals(first.value, `loaded k-${tag}`);
  assertEquals(second.loads, first.loads, "getSet loaded a cached key again");
  assertEquals(second.counter, first.counter + 1);
  const pushed = new Promise<{ topic: string; payload: string }>((resolve) => client.on(210, resolve));
  await client.request(62, { text: `hello ${tag}` });
  assertEquals(await pushed, { topic: "announce", payload: `hello ${tag}` });
}

async function runWith(flags: string[], tag: string): Promise<void> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/game.toml`, `maxPlayers = 42\n[rooms]\nlobby = "open"\n`);
  const due = await startDue({
    args: [
      "dev",
      ...FREE_PORTS,
      `--app=${app}`,
      "--config.driver=file",
      `--config.file.path=${dir}`,
      ...flags,
    ],
  });
  // Requests of one connection run in order, so the lock is tested from several connections at once.
  const clients: Client[] = [];
  try {
    const client = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 });
    clients.push(client);
    assertEquals(await client.request(63, { key: "game.maxPlayers" }), { value: 42 });
    assertEquals(await client.request(63, { key: "game.rooms.lobby" }), { value: "open" });
    await exercise(client, tag);
    const others = await Promise.all(
      [1, 2, 3].map(() => connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 })),
    );
    clients.push(...others);
    const locked = await Promise.all(
      others.map((c) => c.request<{ overlaps: number }>(61, { name: `${tag}-x` })),
    );
    assert(locked.every((r) => r.overlaps === 0), "two handlers held the same lock at once");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    assertEquals(await due.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
}

const run = crypto.randomUUID().slice(0, 8);
const redisAddr = serviceAddr("redis");

Deno.test({
  name: "game code uses a Redis event bus, cache and lock and a file config centre through the node",
  ignore: await skipUnless("redis"),
  fn: () =>
    runWith([
      "--eventbus.driver=redis",
      `--eventbus.redis.addrs=["${redisAddr}"]`,
      `--eventbus.redis.prefix=duetest:${run}:eventbus`,
      "--cache.driver=redis",
      `--cache.redis.addrs=["${redisAddr}"]`,
      `--cache.prefix=duetest:${run}:cache`,
      "--lock.driver=redis",
      `--lock.redis.addrs=["${redisAddr}"]`,
      `--lock.prefix=duetest:${run}:lock`,
    ], "redis"),
});

Deno.test({
  name: "game code uses a NATS event bus and a memcached cache and lock through the node",
  ignore: (await skipUnless("nats")) || (await skipUnless("memcached")),
  fn: () =>
    runWith([
      "--eventbus.driver=nats",
      `--eventbus.nats.url=nats://${serviceAddr("nats")}`,
      `--eventbus.nats.prefix=duetest.${run}`,
      "--cache.driver=memcache",
      `--cache.memcache.addrs=["${serviceAddr("memcached")}"]`,
      `--cache.prefix=duetest:${run}:cache`,
      "--lock.driver=memcache",
      `--lock.memcache.addrs=["${serviceAddr("memcached")}"]`,
      `--lock.prefix=duetest:${run}:lock`,
    ], "nats"),
});

Deno.test({
  name: "game code uses a RabbitMQ event bus through the node",
  ignore: await skipUnless("amqp"),
  fn: () => runWith(["--eventbus.driver=rabbitmq", `--eventbus.rabbitmq.url=${serviceAddr("amqp")}`], "amqp"),
});

Deno.test("a backend that cannot be reached fails the start with exit 5 and names its address", async () => {
  const due = await startDue({
    args: ["dev", ...FREE_PORTS, "--cache.driver=redis", '--cache.redis.addrs=["127.0.0.1:1"]'],
    waitReady: false,
  });
  const code = await due.child.status.then((s) => s.code);
  await due.stop();
  assertEquals(code, 5);
  assert(due.lines.some((l) => l.includes("127.0.0.1:1")), due.lines.join("\n"));
});

Deno.test("an RSA-encrypting client talks to a node with cluster.node.encryptor = rsa", async () => {
  const dir = await Deno.makeTempDir();
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pub = publicKey.export({ type: "spki", format: "pem" }) as string;
  const priv = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  await Deno.writeTextFile(`${dir}/public.pem`, pub);
  await Deno.writeTextFile(`${dir}/private.pem`, priv);
  const due = await startDue({
    args: [
      "dev",
      ...FREE_PORTS,
      "--cluster.node.encryptor=rsa",
      `--crypto.rsa.encryptor.publicKey=${dir}/public.pem`,
      `--crypto.rsa.decryptor.privateKey=${dir}/private.pem`,
    ],
  });
  const encryptor = createRsaEncryptor({ publicKey: pub, privateKey: priv });
  const client = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0, encryptor });
  const plain = await connectTcp({ addr: due.addrs.tcp, heartbeatIntervalMs: 0 });
  try {
    assertEquals(await client.request(1, { message: "secret" }), { message: "secret" });
    const raw = await client.requestRaw(1, { message: "secret" });
    assertEquals(raw.payload.length % 256, 0, "the reply is not RSA blocks");
    assert(!new TextDecoder().decode(raw.payload).includes("secret"), "the reply travels in clear text");
    // a client without the key gets nothing useful: its plain request does not decrypt on the node
    let answered = true;
    await plain.request(1, { message: "plain" }, { timeoutMs: 300 }).catch(() => answered = false);
    assert(!answered, "a plain request was answered by an encrypting node");
  } finally {
    await client.close();
    await plain.close();
    assertEquals(await due.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});
