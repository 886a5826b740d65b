/**
 * The Consul config source on FakeConsul (no Consul agent can run here; see `tests/_helpers/fake_consul.ts`), and
 * the same tests on a real agent when `DUE_TEST_CONSUL` names one.
 */
import assert from "node:assert/strict";
import { createConsulConfigSource } from "../../adapters/configsource/consul.ts";
import { createConfigCenter } from "../../config/center.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import { silentLogger } from "../../core/logger.ts";
import { FakeConsul } from "../_helpers/fake_consul.ts";
import { freePort } from "../_helpers/processes.ts";
import { serviceAddr, skipUnless } from "../_helpers/services.ts";
import { type ConfigArea, runConfigSourceConformance } from "./configsource_conformance.ts";
import { waitFor } from "../_helpers/wait.ts";

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

/** A fresh key prefix on the agent at `addr`; `fake` when it is a FakeConsul of this test alone. */
function consulArea(addr: string, fake?: FakeConsul): ConfigArea {
  const admin = new KvAdmin(addr);
  const path = `due-test/config-${crypto.randomUUID()}`;
  return {
    path,
    put: (file, text) => admin.put(`${path}/${file}`, text),
    get: (file) => admin.get(`${path}/${file}`),
    delete: (file) => admin.delete(`${path}/${file}`),
    putBeside: (file, text) => admin.put(`${path}-other/${file}`, text),
    source: (options) => createConsulConfigSource({ addr, path, ...options }),
    emptySource: () => createConsulConfigSource({ addr, path: `${path}-none` }),
    configInput: () => ({ driver: "consul", consul: { addr, path } }),
    // The watch's first blocking query must be in place before the change, or it reads the change as the start.
    watchSettled: () =>
      fake ? waitFor(() => fake.blocked > 0, "a blocking query") : new Promise((r) => setTimeout(r, 100)),
    async close() {
      await admin.delete(path, true); // the -other sibling too
      await fake?.close();
    },
  };
}

runConfigSourceConformance({
  origin: "consul",
  label: "createConsulConfigSource() on FakeConsul",
  ignore: false,
  open: () => {
    const fake = FakeConsul.start();
    return Promise.resolve(consulArea(fake.addr, fake));
  },
});

runConfigSourceConformance({
  origin: "consul",
  label: "createConsulConfigSource() on a real agent",
  ignore: await skipUnless("consul"),
  open: () => Promise.resolve(consulArea(serviceAddr("consul"))),
});

for (const abrupt of [false, true]) {
  Deno.test(
    `createConsulConfigSource() watch keeps following an agent that restarted empty${
      abrupt ? ", its blocking query cut by the restart" : ""
    }`,
    async () => {
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
        await waitFor(() => fake.blocked > 0, "a blocking query");
        fake.restart({ abrupt });
        await waitFor(() => !center.has("game"), "game gone with the agent's data");
        await admin.put("cfg/game.toml", "maxPlayers = 8\n");
        await waitFor(() => center.get("game.maxPlayers") === 8, "game.maxPlayers = 8");
      } finally {
        await center.close();
        await fake.close();
      }
    },
  );
}

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
