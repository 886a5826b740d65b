/**
 * The Consul config source on FakeConsul (no Consul agent can run here; see `tests/_helpers/fake_consul.ts`), and
 * the same tests on a real agent when `DUE_TEST_CONSUL` names one.
 */
import assert from "node:assert/strict";
import { createConsulConfigSource } from "../../adapters/configsource/consul.ts";
import { createConfigSourceFromConfig } from "../../adapters/configsource/mod.ts";
import { type ConfigChange, createConfigCenter } from "../../config/center.ts";
import { ConfigError } from "../../config/config_error.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { FakeConsul } from "../_helpers/fake_consul.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Writes or deletes KV keys as an operator would, with Consul's HTTP API. */
class KvAdmin {
  constructor(readonly addr: string) {}
  async put(key: string, text: string): Promise<void> {
    const res = await fetch(`http://${this.addr}/v1/kv/${key}`, { method: "PUT", body: text });
    assert.equal(res.status, 200, await res.text());
  }
  async get(key: string): Promise<string | undefined> {
    const res = await fetch(`http://${this.addr}/v1/kv/${key}?raw`);
    const text = await res.text();
    return res.status === 200 ? text : undefined;
  }
  async delete(key: string, recurse = false): Promise<void> {
    const res = await fetch(`http://${this.addr}/v1/kv/${key}${recurse ? "?recurse" : ""}`, {
      method: "DELETE",
    });
    await res.body?.cancel();
  }
}

const agents: {
  label: string;
  ignore: boolean;
  start: () => { addr: string; close: () => Promise<void> };
}[] = [
  {
    label: "on FakeConsul",
    ignore: false,
    start: () => {
      const fake = FakeConsul.start();
      return { addr: fake.addr, close: () => fake.close() };
    },
  },
  {
    label: "on a real agent",
    ignore: await skipUnless("consul"),
    start: () => ({ addr: serviceAddr("consul"), close: () => Promise.resolve() }),
  },
];

for (const agent of agents) {
  /** Runs `fn` with a fresh key prefix, deleting everything under it afterwards. */
  const withPrefix = (fn: (addr: string, prefix: string, admin: KvAdmin) => Promise<void>) => async () => {
    const { addr, close } = agent.start();
    const admin = new KvAdmin(addr);
    const prefix = `due-test/config-${crypto.randomUUID()}`;
    try {
      await fn(addr, prefix, admin);
    } finally {
      await admin.delete(prefix, true);
      await close();
    }
  };

  Deno.test({
    name:
      `createConsulConfigSource() ${agent.label} loads every key under its path as a file named by the key`,
    ignore: agent.ignore,
    fn: withPrefix(async (addr, prefix, admin) => {
      await admin.put(`${prefix}/game.toml`, "maxPlayers = 4\n");
      await admin.put(`${prefix}/shop.json`, '{"open": true}');
      await admin.put(`${prefix}/mail.yaml`, "from: admin\n");
      await admin.put(`${prefix}/level.xml`, "<level><max>99</max></level>");
      await admin.put(`${prefix}/README`, "not config");
      await admin.put(`${prefix}/nested/deep.toml`, "x = 1\n");
      await admin.put(`${prefix}-other/game.toml`, "maxPlayers = 1\n");
      const source = createConsulConfigSource({ addr, path: prefix });
      try {
        const files = await source.load();
        assert.deepEqual(files.map(({ name, content }) => [name, content]), [
          ["game", { maxPlayers: 4 }],
          ["level", { max: 99 }],
          ["mail", { from: "admin" }],
          ["shop", { open: true }],
        ]);
        assert.deepEqual((await source.load("mail")).map((file) => file.file), ["mail.yaml"]);
        assert.deepEqual(await createConsulConfigSource({ addr, path: `${prefix}-none` }).load(), []);
      } finally {
        await source.close();
        await admin.delete(`${prefix}-other`, true);
      }
    }),
  });

  Deno.test({
    name: `createConsulConfigSource() ${agent.label} names the key of a value it cannot parse`,
    ignore: agent.ignore,
    fn: withPrefix(async (addr, prefix, admin) => {
      await admin.put(`${prefix}/game.json`, '{"maxPlayers": }');
      const source = createConsulConfigSource({ addr, path: prefix });
      try {
        await assert.rejects(() => source.load(), (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, new RegExp(`^Cannot parse consul key ${prefix}/game.json as JSON`));
          return true;
        });
      } finally {
        await source.close();
      }
    }),
  });

  Deno.test({
    name:
      `createConsulConfigSource() ${agent.label} stores a file as a key in the extension's format and enforces its mode`,
    ignore: agent.ignore,
    fn: withPrefix(async (addr, prefix, admin) => {
      const readWrite = createConsulConfigSource({ addr, path: prefix, mode: "read-write" });
      const readOnly = createConsulConfigSource({ addr, path: prefix, mode: "read-only" });
      const writeOnly = createConsulConfigSource({ addr, path: prefix, mode: "write-only" });
      try {
        await readWrite.store("game.toml", { maxPlayers: 4, rules: { timeLimit: 60 } });
        assert.match((await admin.get(`${prefix}/game.toml`))!, /^maxPlayers = 4/m);
        assert.deepEqual((await readOnly.load()).map((file) => file.content), [{
          maxPlayers: 4,
          rules: { timeLimit: 60 },
        }]);
        await assert.rejects(() => readOnly.store("game.toml", {}), (err: unknown) => {
          assert.ok(DueError.is(err, ErrorCode.IllegalRequest));
          assert.equal(
            err.message,
            `Cannot store game.toml in consul ${prefix}/ as the consul config source is read-only`,
          );
          return true;
        });
        await writeOnly.store("shop.json", { open: true });
        assert.equal(await admin.get(`${prefix}/shop.json`), '{\n  "open": true\n}\n');
        await assert.rejects(
          () => writeOnly.load(),
          (err: unknown) => DueError.is(err, ErrorCode.IllegalRequest),
        );
        assert.throws(
          () => writeOnly.watch(() => {}),
          (err: unknown) => DueError.is(err, ErrorCode.IllegalRequest),
        );
        await assert.rejects(() => readWrite.store("../x.toml", {}), TypeError);
      } finally {
        await Promise.all([readWrite.close(), readOnly.close(), writeOnly.close()]);
      }
    }),
  });

  Deno.test({
    name: `createConfigCenter() over a Consul source ${agent.label} hot-reloads put and deleted keys`,
    ignore: agent.ignore,
    fn: withPrefix(async (addr, prefix, admin) => {
      await admin.put(`${prefix}/game.toml`, "maxPlayers = 4\n");
      const center = createConfigCenter({
        sources: [createConsulConfigSource({ addr, path: prefix, debounceMs: 30 })],
        logger: silentLogger,
      });
      try {
        await center.load();
        assert.equal(center.get("game.maxPlayers"), 4);
        const changes: ConfigChange[] = [];
        center.watch((change) => changes.push(change));
        await new Promise((resolve) => setTimeout(resolve, 100)); // the first blocking query is in place
        await admin.put(`${prefix}/game.toml`, "maxPlayers = 6\n");
        await waitFor("game.maxPlayers = 6", () => center.get("game.maxPlayers") === 6);
        await admin.put(`${prefix}/shop.json`, '{"open": true}');
        await waitFor("shop.open", () => center.get("shop.open") === true);
        await admin.delete(`${prefix}/shop.json`);
        await waitFor("shop removed", () => !center.has("shop"));
        assert.deepEqual(changes.map(({ name, origin }) => [name, origin]), [
          ["game", "consul"],
          ["shop", "consul"],
          ["shop", "consul"],
        ]);
      } finally {
        await center.close();
      }
    }),
  });
}

Deno.test("createConsulConfigSource() watch keeps following an agent that restarted empty", async () => {
  const fake = FakeConsul.start();
  const admin = new KvAdmin(fake.addr);
  const center = createConfigCenter({
    sources: [createConsulConfigSource({ addr: fake.addr, path: "cfg", debounceMs: 30 })],
    logger: silentLogger,
  });
  try {
    await admin.put("cfg/game.toml", "maxPlayers = 4\n");
    await center.load();
    center.watch(() => {});
    await waitFor("a blocking query", () => fake.blocked > 0);
    fake.restart();
    await waitFor("game gone with the agent's data", () => !center.has("game"));
    await admin.put("cfg/game.toml", "maxPlayers = 8\n");
    await waitFor("game.maxPlayers = 8", () => center.get("game.maxPlayers") === 8);
  } finally {
    await center.close();
    await fake.close();
  }
});

Deno.test("createConfigSourceFromConfig() builds the consul source config.driver names", async () => {
  const fake = FakeConsul.start();
  try {
    await new KvAdmin(fake.addr).put("config/game.json", '{"maxPlayers": 3}');
    const { config } = resolveConfig({ config: { driver: "consul", consul: { addr: fake.addr } } });
    const source = await createConfigSourceFromConfig(config.config);
    assert.ok(source);
    try {
      assert.equal(source.name, "consul");
      assert.equal(source.mode, "read-only");
      assert.deepEqual((await source.load()).map((file) => file.content), [{ maxPlayers: 3 }]);
    } finally {
      await source.close();
    }
  } finally {
    await fake.close();
  }
});

Deno.test("createConsulConfigSource() fails with an unavailable error naming the agent when nothing answers", async () => {
  const addr = `127.0.0.1:${freePort()}`;
  const source = createConsulConfigSource({ addr, timeoutMs: 500 });
  try {
    await assert.rejects(() => source.load(), (err: unknown) => {
      assert.ok(DueError.is(err, ErrorCode.Unavailable));
      assert.ok(err.message.includes(addr), err.message);
      assert.equal(err.context.addr, addr);
      return true;
    });
  } finally {
    await source.close();
  }
});
