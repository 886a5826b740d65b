/**
 * The Nacos config source on FakeNacos (no Nacos server can run here; see `tests/_helpers/fake_nacos.ts`), and the
 * same tests on a real server when `DUE_TEST_NACOS` names one (`http://127.0.0.1:8848/nacos`; with auth on, set
 * `DUE_TEST_NACOS_USERNAME` and `DUE_TEST_NACOS_PASSWORD`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  createNacosConfigSource,
  type NacosConfigSourceOptions,
  nacosConfigSourceOptionsFromConfig,
} from "../../adapters/configsource/nacos.ts";
import { createConfigSourceFromConfig } from "../../adapters/configsource/mod.ts";
import { type ConfigChange, createConfigCenter } from "../../config/center.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { FakeNacos } from "../_helpers/fake_nacos.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { type ConfigArea, runConfigSourceConformance } from "./configsource_conformance.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Publishes, reads and deletes configs as an operator would, with Nacos's open API. */
class ConfigAdmin {
  #token: string | undefined;
  constructor(readonly url: string, readonly credentials?: { username: string; password: string }) {}
  async #auth(): Promise<string> {
    if (!this.credentials) return "";
    if (this.#token === undefined) {
      const res = await fetch(`${this.url}/v1/auth/login`, {
        method: "POST",
        body: new URLSearchParams(this.credentials),
      });
      this.#token = (await res.json()).accessToken;
    }
    return `&accessToken=${this.#token}`;
  }
  async publish(dataId: string, group: string, content: string, tenant = ""): Promise<void> {
    const res = await fetch(`${this.url}/v1/cs/configs?x=1${await this.#auth()}`, {
      method: "POST",
      body: new URLSearchParams({ dataId, group, content, tenant }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  async get(dataId: string, group: string, tenant = ""): Promise<string | undefined> {
    const query = new URLSearchParams({ dataId, group, tenant });
    const res = await fetch(`${this.url}/v1/cs/configs?${query}${await this.#auth()}`);
    const text = await res.text();
    return res.status === 200 ? text : undefined;
  }
  async delete(dataId: string, group: string, tenant = ""): Promise<void> {
    const query = new URLSearchParams({ dataId, group, tenant });
    const res = await fetch(`${this.url}/v1/cs/configs?${query}${await this.#auth()}`, { method: "DELETE" });
    await res.body?.cancel();
  }
  async deleteGroup(group: string, tenant = ""): Promise<void> {
    const query = new URLSearchParams({
      search: "accurate",
      dataId: "",
      group,
      tenant,
      pageNo: "1",
      pageSize: "500",
    });
    const res = await fetch(`${this.url}/v1/cs/configs?${query}${await this.#auth()}`);
    const page = await res.json() as { pageItems?: { dataId: string }[] };
    for (const item of page.pageItems ?? []) await this.delete(item.dataId, group, tenant);
  }
}

const realCredentials = Deno.env.get("DUE_TEST_NACOS_USERNAME")
  ? {
    username: Deno.env.get("DUE_TEST_NACOS_USERNAME")!,
    password: Deno.env.get("DUE_TEST_NACOS_PASSWORD") ?? "",
  }
  : undefined;

/**
 * A fresh group on the server at `url` as the conformance suite's area; `fake` when it is a FakeNacos of this test
 * alone. The group plays the key prefix: messages name configs `nacos key <group>/<dataId>`.
 */
function nacosArea(
  url: string,
  fake?: FakeNacos,
  credentials?: { username: string; password: string },
): ConfigArea {
  const admin = new ConfigAdmin(url, credentials);
  const group = `due-test-${crypto.randomUUID().slice(0, 8)}`;
  const options = { urls: [url], groupName: group, listIntervalMs: 100, ...credentials };
  return {
    path: group,
    // Nacos has no paths: a dataId cannot hold '/', so a config below the group's "path" cannot exist.
    put: (file, text) => file.includes("/") ? Promise.resolve() : admin.publish(file, group, text),
    get: (file) => admin.get(file, group),
    delete: (file) => admin.delete(file, group),
    putBeside: (file, text) => admin.publish(file, `${group}-other`, text),
    source: (more) => createNacosConfigSource({ ...options, ...more }),
    emptySource: () => createNacosConfigSource({ ...options, groupName: `${group}-none` }),
    configInput: () => ({ driver: "nacos", nacos: { urls: [url], groupName: group, ...credentials } }),
    // The listener request must be held before the change, or the change is read as the starting state.
    watchSettled: () =>
      fake
        ? waitFor(() => fake.listeners > 0, "a held listener request")
        : new Promise((r) => setTimeout(r, 300)),
    async close() {
      await admin.deleteGroup(group);
      await admin.deleteGroup(`${group}-other`);
      await fake?.close();
    },
  };
}

runConfigSourceConformance({
  origin: "nacos",
  label: "createNacosConfigSource() on FakeNacos",
  ignore: false,
  open: () => {
    const fake = FakeNacos.start();
    return Promise.resolve(nacosArea(fake.url, fake));
  },
});

runConfigSourceConformance({
  origin: "nacos",
  label: "createNacosConfigSource() on a real server",
  ignore: await skipUnless("nacos"),
  open: () => Promise.resolve(nacosArea(serviceAddr("nacos"), undefined, realCredentials)),
});

const servers: {
  label: string;
  ignore: boolean;
  start: () => {
    url: string;
    credentials?: { username: string; password: string };
    close: () => Promise<void>;
  };
}[] = [
  {
    label: "on FakeNacos",
    ignore: false,
    start: () => {
      const fake = FakeNacos.start();
      return { url: fake.url, close: () => fake.close() };
    },
  },
  {
    label: "on a real server",
    ignore: await skipUnless("nacos"),
    start: () => ({
      url: serviceAddr("nacos"),
      credentials: realCredentials,
      close: () => Promise.resolve(),
    }),
  },
];

for (const server of servers) {
  /** Runs `fn` with a fresh group, deleting everything in it afterwards. */
  const withGroup = (
    fn: (options: NacosConfigSourceOptions, group: string, admin: ConfigAdmin) => Promise<void>,
  ) =>
  async () => {
    const { url, credentials, close } = server.start();
    const admin = new ConfigAdmin(url, credentials);
    const group = `due-test-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await fn({ urls: [url], groupName: group, ...credentials }, group, admin);
    } finally {
      await admin.deleteGroup(group);
      await admin.deleteGroup(`${group}-other`);
      await close();
    }
  };

  Deno.test({
    name:
      `createNacosConfigSource() ${server.label} refuses, before sending, what Nacos refuses: empty content and other dataId characters`,
    ignore: server.ignore,
    fn: withGroup(async (options, group, admin) => {
      const source = createNacosConfigSource({ ...options, mode: "read-write" });
      try {
        await source.store("game.toml", { maxPlayers: 4 });
        assert.match((await admin.get("game.toml", group))!, /^maxPlayers = 4$/m);
        await assert.rejects(() => source.store("my game.toml", { a: 1 }), /Nacos dataIds/);
        await assert.rejects(() => source.store("empty.toml", {}), /content is empty/);
        assert.equal(await admin.get("empty.toml", group), undefined);
      } finally {
        await source.close();
      }
    }),
  });

  Deno.test({
    name:
      `createConfigCenter() over a Nacos source ${server.label} hot-reloads changed and deleted configs through the long-polling listener`,
    ignore: server.ignore,
    fn: withGroup(async (options, group, admin) => {
      await admin.publish("game.toml", group, "maxPlayers = 4\n");
      await admin.publish("shop.json", group, '{"open": true}');
      // The group is listed again only after a minute: what arrives sooner came through the listener.
      const source = createNacosConfigSource({ ...options, debounceMs: 30, listIntervalMs: 60_000 });
      const center = createConfigCenter({ sources: [source], logger: silentLogger });
      try {
        await center.load();
        assert.equal(center.get("game.maxPlayers"), 4);
        const changes: ConfigChange[] = [];
        center.watch((change) => changes.push(change));
        await new Promise((resolve) => setTimeout(resolve, 200)); // the listener request is held
        await admin.publish("game.toml", group, "maxPlayers = 6\n");
        await waitFor(() => center.get("game.maxPlayers") === 6, "game.maxPlayers = 6");
        await admin.delete("shop.json", group);
        await waitFor(() => !center.has("shop"), "shop removed");
        assert.deepEqual(changes.map(({ name, origin }) => [name, origin]), [
          ["game", "nacos"],
          ["shop", "nacos"],
        ]);
      } finally {
        await center.close();
      }
    }),
  });

  Deno.test({
    name: `createNacosConfigSource() ${server.label} reads and writes the configs of its namespace only`,
    ignore: server.ignore || server.label !== "on FakeNacos", // a real server needs the namespace created first
    fn: withGroup(async (options, group, admin) => {
      const dev = createNacosConfigSource({ ...options, namespaceId: "dev", mode: "read-write" });
      try {
        await dev.store("game.json", { maxPlayers: 2 });
        assert.equal(await admin.get("game.json", group, "dev"), '{\n  "maxPlayers": 2\n}\n');
        assert.equal(await admin.get("game.json", group), undefined);
        assert.deepEqual(await createNacosConfigSource(options).load(), []);
        assert.deepEqual((await dev.load()).map((file) => file.content), [{ maxPlayers: 2 }]);
      } finally {
        await dev.close();
        await admin.deleteGroup(group, "dev");
      }
    }),
  });
}

Deno.test("createNacosConfigSource() watch keeps following a server that restarted empty", async () => {
  const fake = FakeNacos.start();
  const admin = new ConfigAdmin(fake.url);
  const center = createConfigCenter({
    sources: [createNacosConfigSource({ urls: [fake.url], debounceMs: 30, listIntervalMs: 100 })],
    logger: silentLogger,
  });
  try {
    await admin.publish("game.toml", "DEFAULT_GROUP", "maxPlayers = 4\n");
    await center.load();
    center.watch(() => {});
    await waitFor(() => fake.listeners > 0, "a held listener request");
    fake.restart();
    await waitFor(() => !center.has("game"), "game gone with the server's data");
    await admin.publish("game.toml", "DEFAULT_GROUP", "maxPlayers = 8\n");
    await waitFor(() => center.get("game.maxPlayers") === 8, "game.maxPlayers = 8");
  } finally {
    await center.close();
    await fake.close();
  }
});

Deno.test("createNacosConfigSource() listens with each file's MD5 and the Long-Pulling-Timeout, logs in first and ends its request on stop", async () => {
  const fake = FakeNacos.start({ auth: { username: "due", password: "secret" } });
  const admin = new ConfigAdmin(fake.url, { username: "due", password: "secret" });
  const source = createNacosConfigSource({
    urls: [fake.url],
    username: "due",
    password: "secret",
    longPollTimeoutMs: 20_000,
  });
  try {
    await admin.publish("game.toml", "DEFAULT_GROUP", "maxPlayers = 4\n");
    const watcher = source.watch(() => {});
    await watcher.ready;
    await waitFor(() => fake.listeners > 0, "a held listener request");
    const listen = fake.requests.find((r) => r.startsWith("POST /nacos/v1/cs/configs/listener"))!;
    assert.match(listen, /[?&]accessToken=[\w-]+/);
    const probe = new URLSearchParams(listen.slice(listen.indexOf("|") + 1)).get("Listening-Configs");
    // MD5 of the UTF-8 content in lower-case hex, as Nacos computes it; no tenant in the default namespace.
    const hash = createHash("md5").update("maxPlayers = 4\n").digest("hex");
    assert.equal(probe, `game.toml\x02DEFAULT_GROUP\x02${hash}\x01`);
    // Stopping the watch ends the held request instead of leaving it to the server's timeout.
    await watcher.stop();
    await waitFor(() => fake.listeners === 0, "the listener request to go away", 2_000);
  } finally {
    await source.close();
    await fake.close();
  }
});

Deno.test("nacosConfigSourceOptionsFromConfig() maps due's config.nacos keys", () => {
  const { config } = resolveConfig({
    config: {
      driver: "nacos",
      nacos: { urls: ["http://10.0.0.1:8848/nacos"], groupName: "cfg", namespaceId: "dev", timeout: "2s" },
    },
  });
  const options = nacosConfigSourceOptionsFromConfig(config.config.nacos);
  assert.deepEqual(
    [options.urls, options.groupName, options.namespaceId, options.timeoutMs, options.mode],
    [["http://10.0.0.1:8848/nacos"], "cfg", "dev", 2_000, "read-only"],
  );
});

Deno.test("nacosConfigSourceOptionsFromConfig() refuses the keys it cannot honour, naming the key", async () => {
  const defaults = resolveConfig({}).config.config.nacos;
  nacosConfigSourceOptionsFromConfig(defaults);
  for (
    const [key, value] of [
      ["accessKey", "ak"],
      ["openKMS", true],
      ["endpoint", "acm.aliyun.com"],
      ["cacheDir", "/tmp/nacos"],
      ["clusterName", "east"],
      ["logLevel", "debug"],
    ] as const
  ) {
    assert.throws(
      () => nacosConfigSourceOptionsFromConfig({ ...defaults, [key]: value }),
      (err: unknown) =>
        err instanceof TypeError && err.message.includes(`config.nacos.${key} = ${JSON.stringify(value)}`),
    );
  }
  const { config } = resolveConfig({ config: { driver: "nacos", nacos: { secretKey: "sk" } } });
  await assert.rejects(() => createConfigSourceFromConfig(config.config), /config\.nacos\.secretKey/);
});

Deno.test("createNacosConfigSource() fails with an unavailable error naming the server when nothing answers", async () => {
  const url = `http://127.0.0.1:${freePort()}/nacos`;
  const source = createNacosConfigSource({ urls: [url], timeoutMs: 500 });
  try {
    await assert.rejects(() => source.load(), (err: unknown) => {
      assert.ok(DueError.is(err, ErrorCode.Unavailable));
      assert.ok(err.message.includes(url), err.message);
      assert.equal(err.context.addr, url);
      return true;
    });
  } finally {
    await source.close();
  }
  assert.throws(() => createNacosConfigSource({ groupName: "a/b" }), /'groupName'/);
  assert.throws(() => createNacosConfigSource({ listIntervalMs: 0 }), /'listIntervalMs'/);
});
