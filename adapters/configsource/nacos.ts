/**
 * The Nacos config source (due's `config/nacos`), over Nacos's v1 HTTP open API (Nacos 1.x and 2.x; see
 * `../_nacos.ts`). Every config of `groupName` in namespace `namespaceId` whose dataId ends in `.toml`, `.json`,
 * `.yaml`/`.yml` or `.xml` is one file (`game.toml` → `game`).
 *
 * - The files are found by listing the group (`GET /v1/cs/configs?search=accurate` with an empty dataId, paged),
 *   as due's Go source does (it lists every 3 s). Listing needs read permission on the namespace when auth is on.
 * - Hot reload: a long-polling listener (`POST /v1/cs/configs/listener`, `Listening-Configs` with each file's MD5)
 *   answers as soon as a known file changes or is deleted; files added to the group are found by listing again
 *   every `listIntervalMs`. A server that restarted empty answers the listener at once (every MD5 changed).
 * - `store()` publishes one config (`POST /v1/cs/configs`) with its type from the extension. Nacos refuses empty
 *   content and dataIds other than letters, digits and `-_.:`; both are refused here first.
 * - Messages name a config as other sources name a key: `nacos key [<namespace>/]<group>/<dataId>`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { DueConfig } from "../../config/schema.ts";
import { stringifyConfig } from "../../config/format.ts";
import { NacosClient, type NacosConnectionOptions, refuseUnsupportedNacosKeys } from "../_nacos.ts";
import { backoffDelayMs, sleep } from "../_retry.ts";
import {
  assertReadable,
  assertWritable,
  type ChangeFeed,
  checkFileName,
  checkSourceOptions,
  filesOrThrow,
  isConfigFileName,
  readConfigFiles,
  WatchSet,
} from "./_common.ts";
import {
  type ConfigFile,
  type ConfigSource,
  type ConfigSourceChange,
  type ConfigSourceMode,
  type ConfigWatcher,
  DEFAULT_WATCH_DEBOUNCE_MS,
} from "./types.ts";
import { checkPositive } from "../_options.ts";

/** Group of the configs when none is given, as due's. */
export const DEFAULT_NACOS_CONFIG_GROUP = "DEFAULT_GROUP";
/** How often a watch lists the group for added files, in ms (due's Go source: 3 s). */
export const DEFAULT_NACOS_LIST_INTERVAL_MS = 3_000;
/** How long the server may hold a listener request, in ms (Nacos's clients: 30 s). */
export const DEFAULT_NACOS_LONG_POLL_TIMEOUT_MS = 30_000;
/** Configs per page when listing the group. */
const PAGE_SIZE = 100;
/** Group names and dataIds Nacos accepts (its default parameter check). */
const NACOS_ID_REGEXP = /^[A-Za-z0-9_.:-]+$/;
const WORD = "\x02";
const LINE = "\x01";

/** Options of {@linkcode createNacosConfigSource}. */
export interface NacosConfigSourceOptions extends NacosConnectionOptions {
  /** Namespace id (Nacos's `tenant`); empty = the default namespace. @default "" */
  namespaceId?: string;
  /** Group of the configs; each config in it is one file. @default "DEFAULT_GROUP" */
  groupName?: string;
  /** What the application may do. @default "read-only" */
  mode?: ConfigSourceMode;
  /** Quiet time after a change before the configs are read again, in ms. @default 100 */
  debounceMs?: number;
  /** How often a watch lists the group for added files, in ms. @default 3000 */
  listIntervalMs?: number;
  /** How long the server may hold a listener request, in ms (Nacos holds at least 10 s). @default 30000 */
  longPollTimeoutMs?: number;
}

/** The `config.nacos` section of the startup config (due's key names). */
export type NacosConfigSourceConfig = DueConfig["config"]["nacos"];

/**
 * Maps the `config.nacos` config section to {@linkcode NacosConfigSourceOptions}.
 *
 * @throws {TypeError} naming a key this source cannot honour: the Go SDK's `endpoint`, `regionId`, `accessKey`,
 *   `secretKey`, `openKMS`, `cacheDir`, `logDir` set to anything but their do-nothing defaults, and
 *   `clusterName` or `logLevel` set to anything but their defaults (configs have no cluster; the source writes no
 *   log lines of its own)
 */
export function nacosConfigSourceOptionsFromConfig(
  section: Partial<NacosConfigSourceConfig>,
): NacosConfigSourceOptions {
  refuseUnsupportedNacosKeys(section, "config.nacos", {
    clusterName: {
      accepted: ["DEFAULT"],
      why: "Nacos configs have no cluster (the key is for the registry)",
    },
    logLevel: {
      accepted: ["info"],
      why: "the config source writes no log lines of its own (the config centre reports its errors)",
    },
  });
  return {
    urls: section.urls,
    namespaceId: section.namespaceId,
    groupName: section.groupName,
    timeoutMs: section.timeout,
    username: section.username,
    password: section.password,
    mode: section.mode,
  };
}

/** One item of a `search` page, as far as it is read here. */
interface PageItem {
  dataId?: unknown;
  group?: unknown;
  content?: unknown;
}

/** Nacos's `md5` of a config: MD5 of its UTF-8 text, lower-case hex. */
function md5(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

/** The type Nacos shows for a config, from its format. */
const TYPES: Record<string, string> = { toml: "toml", json: "json", yaml: "yaml", xml: "xml" };

/**
 * Creates a config source over the configs of a Nacos group. Nothing is sent before the first call.
 *
 * @example
 * ```ts ignore
 * import { createNacosConfigSource } from "./nacos.ts";
 * const source = createNacosConfigSource({ urls: ["http://127.0.0.1:8848/nacos"], mode: "read-write" });
 * await source.store("game.json", { maxPlayers: 4 }); // dataId game.json in DEFAULT_GROUP
 * await source.close();
 * ```
 */
export function createNacosConfigSource(options: NacosConfigSourceOptions = {}): ConfigSource {
  const what = "nacos config source";
  const {
    namespaceId = "",
    groupName = DEFAULT_NACOS_CONFIG_GROUP,
    mode = "read-only",
    debounceMs = DEFAULT_WATCH_DEBOUNCE_MS,
    listIntervalMs = DEFAULT_NACOS_LIST_INTERVAL_MS,
    longPollTimeoutMs = DEFAULT_NACOS_LONG_POLL_TIMEOUT_MS,
  } = options;
  if (typeof groupName !== "string" || !NACOS_ID_REGEXP.test(groupName)) {
    throw new TypeError(
      `Cannot create ${what} as 'groupName' must be letters, digits, '_', '-', '.' or ':': current value is ${
        JSON.stringify(groupName)
      }`,
    );
  }
  if (typeof namespaceId !== "string" || (namespaceId !== "" && !/^[\w-]+$/.test(namespaceId))) {
    throw new TypeError(
      `Cannot create ${what} as 'namespaceId' must be letters, digits, '_' or '-': current value is ${
        JSON.stringify(namespaceId)
      }`,
    );
  }
  checkSourceOptions("nacos", { path: groupName, mode, debounceMs });
  checkPositive(listIntervalMs, "listIntervalMs", what);
  checkPositive(longPollTimeoutMs, "longPollTimeoutMs", what);
  const client = new NacosClient(options, what);
  const tenant = namespaceId === "" ? undefined : namespaceId;
  /** How messages name the source's place, as other sources name a key prefix: `[<namespace>/]<group>`. */
  const path = tenant ? `${tenant}/${groupName}` : groupName;
  const where = `nacos ${path}/`;
  const closing = new AbortController();
  const watches = new WatchSet("nacos", debounceMs, () => readAll());
  let closed = false;

  /** Every config of the group: its dataId and, when the listing carries it, its content. */
  async function listGroup(signal: AbortSignal): Promise<Map<string, string | undefined>> {
    const found = new Map<string, string | undefined>();
    for (let pageNo = 1;; pageNo++) {
      const res = await client.request("GET", "/v1/cs/configs", {
        query: {
          search: "accurate",
          dataId: "",
          group: groupName,
          tenant: namespaceId,
          pageNo: String(pageNo),
          pageSize: String(PAGE_SIZE),
        },
        signal,
      });
      const page = client.json<{ pageItems?: unknown; pagesAvailable?: unknown }>(res, `list ${where}`);
      const items = Array.isArray(page?.pageItems) ? page.pageItems as PageItem[] : [];
      for (const item of items) {
        if (typeof item?.dataId !== "string" || (item.group !== undefined && item.group !== groupName)) {
          continue;
        }
        found.set(item.dataId, typeof item.content === "string" ? item.content : undefined);
      }
      const pages = typeof page?.pagesAvailable === "number" ? page.pagesAvailable : 1;
      if (items.length === 0 || pageNo >= pages) return found;
    }
  }

  /** The content of one config, or `undefined` when it does not exist. */
  async function getConfig(dataId: string, signal: AbortSignal): Promise<string | undefined> {
    const res = await client.request("GET", "/v1/cs/configs", {
      query: { dataId, group: groupName, tenant },
      signal,
      accept: [404],
    });
    return res.status === 404 ? undefined : res.text;
  }

  /** The config files of the group with their content (configs deleted meanwhile are left out). */
  async function readContents(signal: AbortSignal): Promise<Map<string, string>> {
    const listed = await listGroup(signal);
    const contents = new Map<string, string>();
    for (const dataId of [...listed.keys()].sort()) {
      if (!isConfigFileName(dataId)) continue;
      const content = listed.get(dataId) ?? await getConfig(dataId, signal);
      if (content !== undefined) contents.set(dataId, content);
    }
    return contents;
  }

  async function readAll(name?: string): Promise<ConfigSourceChange> {
    const contents = await readContents(closing.signal);
    return await readConfigFiles(
      [...contents.keys()],
      name,
      (dataId) => Promise.resolve({ text: contents.get(dataId)!, label: `nacos key ${path}/${dataId}` }),
    );
  }

  async function load(name?: string): Promise<ConfigFile[]> {
    assertReadable("nacos", mode, `load config from ${where}`);
    return filesOrThrow(await readAll(name));
  }

  async function store(file: string, content: Record<string, unknown>): Promise<void> {
    assertWritable("nacos", mode, `store ${file} in ${where}`);
    const { format } = checkFileName("nacos", file);
    if (!NACOS_ID_REGEXP.test(file) || file.length > 256) {
      throw new TypeError(
        `Cannot store config in nacos source as Nacos dataIds are up to 256 letters, digits, '_', '-', '.' or ':': current value is ${
          JSON.stringify(file)
        }`,
      );
    }
    const text = stringifyConfig(content, format);
    if (text.trim() === "") {
      throw new RangeError(
        `Cannot store ${file} in ${where} as its content is empty, which Nacos refuses: store at least one key`,
      );
    }
    await client.request("POST", "/v1/cs/configs", {
      form: { dataId: file, group: groupName, tenant, content: text, type: TYPES[format] },
      signal: closing.signal,
    });
  }

  /** Holds a listener request until one of `md5s`' configs differs from its MD5; resolves with the dataIds. */
  async function listen(md5s: Map<string, string>, signal: AbortSignal): Promise<string[]> {
    let probe = "";
    for (const [dataId, hash] of md5s) {
      probe += `${dataId}${WORD}${groupName}${WORD}${hash}${tenant ? `${WORD}${tenant}` : ""}${LINE}`;
    }
    const res = await client.request("POST", "/v1/cs/configs/listener", {
      form: { "Listening-Configs": probe },
      headers: { "Long-Pulling-Timeout": String(longPollTimeoutMs) },
      holdMs: longPollTimeoutMs,
      signal,
    });
    const text = res.text.trim();
    if (text === "") return [];
    return decodeURIComponent(text.replace(/\+/g, " "))
      .split(LINE)
      .filter((line) => line !== "")
      .map((line) => line.split(WORD)[0]);
  }

  function watchGroup(changed: () => void, report: (err: unknown) => void): ChangeFeed {
    const stop = new AbortController();
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => markReady = resolve);
    /** MD5 of each config file as last read; `undefined` until the first listing. */
    let known: Map<string, string> | undefined;
    /** Aborted when the set of files changed, so the listener starts again with the new set. */
    let restartListen = new AbortController();
    let refreshing: Promise<unknown> = Promise.resolve();

    /** Reads the group again (one read at a time); reports a change to the files seen before. */
    function refresh(): Promise<void> {
      const run = refreshing.then(async () => {
        const next = new Map<string, string>();
        for (const [dataId, content] of await readContents(stop.signal)) next.set(dataId, md5(content));
        const previous = known;
        known = next;
        if (previous === undefined) return;
        const sameKeys = previous.size === next.size && [...next.keys()].every((k) => previous.has(k));
        if (!sameKeys) restartListen.abort();
        if (!sameKeys || [...next].some(([k, hash]) => previous.get(k) !== hash)) changed();
      });
      refreshing = run.catch(() => {});
      return run;
    }

    const listing = (async () => {
      try {
        await refresh();
      } catch (err) {
        if (!stop.signal.aborted) report(err);
      }
      markReady();
      while (!stop.signal.aborted) {
        await sleep(listIntervalMs, stop.signal);
        if (stop.signal.aborted) break;
        try {
          await refresh();
        } catch (err) {
          if (!stop.signal.aborted) report(err);
        }
      }
    })();

    const listening = (async () => {
      await ready;
      for (let failures = 0; !stop.signal.aborted;) {
        const restart = restartListen;
        if (restart.signal.aborted) {
          restartListen = new AbortController();
          continue;
        }
        const md5s = known;
        if (!md5s || md5s.size === 0) {
          // Nothing to listen to: wait for the listing to find a file.
          await sleep(listIntervalMs, AbortSignal.any([stop.signal, restart.signal]));
          continue;
        }
        try {
          const changedIds = await listen(md5s, AbortSignal.any([stop.signal, restart.signal]));
          failures = 0;
          if (changedIds.length > 0) await refresh();
        } catch (err) {
          if (stop.signal.aborted) break;
          if (restart.signal.aborted) continue;
          failures++;
          report(err);
          await sleep(backoffDelayMs(failures, 200, 5_000), stop.signal);
        }
      }
    })();

    return {
      ready,
      async stop() {
        stop.abort();
        await Promise.all([listing, listening, refreshing]);
      },
    };
  }

  function watch(
    onChange: (change: ConfigSourceChange) => void,
    onError?: (err: Error) => void,
  ): ConfigWatcher {
    assertReadable("nacos", mode, `watch ${where}`);
    return watches.watch(watchGroup, onChange, onError);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    closing.abort();
    await watches.close();
  }

  return { name: "nacos", mode, load, store, watch, close } satisfies ConfigSource;
}
