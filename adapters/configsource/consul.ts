/**
 * The Consul config source (due's `config/consul`): every KV key under `path` whose name ends in `.toml`,
 * `.json`, `.yaml`/`.yml` or `.xml` is one file (`config/game.toml` → `game`), watched for hot reload with
 * blocking queries on the prefix.
 *
 * @module
 */
import { stringifyConfig } from "../../config/format.ts";
import { ConsulClient, type ConsulConnectionOptions, nextConsulIndex } from "../_consul.ts";
import { backoffDelayMs, sleep } from "../_retry.ts";
import {
  assertReadable,
  assertWritable,
  type ChangeFeed,
  checkFileName,
  checkSourceOptions,
  filesOrThrow,
  keysDirectlyUnder,
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

/** The key prefix used when none is given (due's `config.consul.path`). */
export const DEFAULT_CONSUL_CONFIG_PATH = "config";
/** Longest wait of one blocking query of a watch, in seconds. */
const WATCH_WAIT_S = 60;

/** Options of {@linkcode createConsulConfigSource}. */
export interface ConsulConfigSourceOptions extends ConsulConnectionOptions {
  /** The KV prefix; each key below it is one file. @default "config" */
  path?: string;
  /** What the application may do. @default "read-only" */
  mode?: ConfigSourceMode;
  /** Quiet time after a change before the keys are read again, in ms. @default 100 */
  debounceMs?: number;
}

/** One entry of `GET /v1/kv/<prefix>?recurse`. */
interface KvEntry {
  Key: string;
  /** Base64; `null` for an empty value. */
  Value: string | null;
}

const utf8 = new TextDecoder();

function decodeValue(value: string | null): string {
  if (!value) return "";
  return utf8.decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
}

/**
 * Creates a config source over the keys under a Consul KV prefix. Nothing is sent before the first call.
 *
 * @example
 * ```ts ignore
 * import { createConsulConfigSource } from "./consul.ts";
 * const source = createConsulConfigSource({ addr: "127.0.0.1:8500", path: "config", mode: "read-write" });
 * await source.store("game.json", { maxPlayers: 4 }); // key config/game.json
 * await source.close();
 * ```
 */
export function createConsulConfigSource(options: ConsulConfigSourceOptions = {}): ConfigSource {
  const { path = DEFAULT_CONSUL_CONFIG_PATH, mode = "read-only", debounceMs = DEFAULT_WATCH_DEBOUNCE_MS } =
    options;
  checkSourceOptions("consul", { path, mode, debounceMs });
  const client = new ConsulClient(options, "consul config source");
  const prefix = `${path.replace(/^\/+|\/+$/g, "")}/`;
  const kvPath = (key: string) => `/v1/kv/${key.split("/").map(encodeURIComponent).join("/")}`;
  const closing = new AbortController();
  const watches = new WatchSet("consul", debounceMs, () => readAll());
  let closed = false;

  /** Lists the keys under the prefix (a blocking query when `index` is given). */
  async function list(index?: number, signal = closing.signal) {
    const res = await client.request("GET", kvPath(prefix), {
      query: { recurse: "true" },
      index,
      waitS: WATCH_WAIT_S,
      signal,
      accept: [404], // no key under the prefix
    });
    const entries = res.status === 404 || !Array.isArray(res.body) ? [] : res.body as KvEntry[];
    return { entries, index: res.index };
  }

  async function readAll(name?: string): Promise<ConfigSourceChange> {
    const values = new Map((await list()).entries.map((e) => [e.Key, e.Value] as const));
    return await readConfigFiles(
      keysDirectlyUnder(prefix, values.keys()),
      name,
      (key) => Promise.resolve({ text: decodeValue(values.get(key) ?? null), label: `consul key ${key}` }),
    );
  }

  async function load(name?: string): Promise<ConfigFile[]> {
    assertReadable("consul", mode, `load config from consul ${prefix}`);
    return filesOrThrow(await readAll(name));
  }

  async function store(file: string, content: Record<string, unknown>): Promise<void> {
    assertWritable("consul", mode, `store ${file} in consul ${prefix}`);
    const { format } = checkFileName("consul", file);
    await client.request("PUT", kvPath(prefix + file), {
      body: stringifyConfig(content, format),
      signal: closing.signal,
    });
  }

  function watchKeys(changed: () => void, report: (err: unknown) => void): ChangeFeed {
    const stop = new AbortController();
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => markReady = resolve);
    const loop = (async () => {
      let index: number | undefined;
      let resync = false;
      for (let failures = 0; !stop.signal.aborted;) {
        try {
          const result = await list(index, stop.signal);
          // Consul answers a blocking query also when nothing changed (its wait ended): only a new index is news,
          // or any answer after a failure, when anything may have changed meanwhile.
          if (resync || (index !== undefined && result.index !== index)) changed();
          resync = false;
          index = nextConsulIndex(index ?? 0, result.index);
          failures = 0;
          markReady();
        } catch (err) {
          if (stop.signal.aborted) break;
          failures++;
          report(err);
          // A failed query may mean a restarted agent, whose index starts again lower: a blocking query with the
          // old index would wait out its whole wait. Read at once next time.
          if (index !== undefined) resync = true;
          index = undefined;
          markReady();
          await sleep(backoffDelayMs(failures, 200, 5_000), stop.signal);
        }
      }
    })();
    return {
      ready,
      async stop() {
        stop.abort();
        await loop;
      },
    };
  }

  function watch(
    onChange: (change: ConfigSourceChange) => void,
    onError?: (err: Error) => void,
  ): ConfigWatcher {
    assertReadable("consul", mode, `watch consul ${prefix}`);
    return watches.watch(watchKeys, onChange, onError);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    closing.abort();
    await watches.close();
  }

  return { name: "consul", mode, load, store, watch, close } satisfies ConfigSource;
}
