/**
 * The etcd config source: every key under `path` whose name ends in `.toml`, `.json`, `.yaml`/`.yml` or `.xml`
 * is one file (`/config/game.toml` → `game`), watched for hot reload. Also {@linkcode readEtcdKey}, which reads
 * the startup config from `etcd://host:port/key`.
 *
 * @module
 */

import { Etcd3, type IOptions, type Watcher } from "etcd3";
import { DueError, ErrorCode, TimeoutError } from "../../core/errors.ts";
import { stringifyConfig } from "../../config/format.ts";
import { checkAddrs } from "../_options.ts";
import {
  assertReadable,
  assertWritable,
  type ChangeFeed,
  checkFileName,
  checkSourceOptions,
  filesOrThrow,
  isConfigFileName,
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

/** The etcd addresses used when none are given. */
export const DEFAULT_ETCD_CONFIG_ADDRS: readonly string[] = ["127.0.0.1:2379"];
/** The key prefix used when none is given (due's `config.etcd.path`). */
export const DEFAULT_ETCD_CONFIG_PATH = "/config";
/** Timeout of connecting to etcd and of each request, in ms. */
export const DEFAULT_ETCD_CONFIG_DIAL_TIMEOUT_MS = 5_000;

/** How to reach etcd. */
export interface EtcdConnectionOptions {
  /** etcd addresses, host:port. @default ["127.0.0.1:2379"] */
  addrs?: readonly string[];
  /** Username, if etcd has auth on. */
  username?: string;
  /** Password. */
  password?: string;
  /** Timeout of connecting and of each request, in ms. @default 5000 */
  dialTimeoutMs?: number;
}

/** Options of {@linkcode createEtcdConfigSource}. */
export interface EtcdConfigSourceOptions extends EtcdConnectionOptions {
  /** The key prefix; each key below it is one file. @default "/config" */
  path?: string;
  /** What the application may do. @default "read-only" */
  mode?: ConfigSourceMode;
  /** Quiet time after a change before the keys are read again, in ms. @default 100 */
  debounceMs?: number;
}

function connect(
  what: string,
  options: EtcdConnectionOptions,
): { client: Etcd3; addr: string; timeoutMs: number } {
  const {
    addrs = DEFAULT_ETCD_CONFIG_ADDRS,
    username = "",
    password = "",
    dialTimeoutMs = DEFAULT_ETCD_CONFIG_DIAL_TIMEOUT_MS,
  } = options;
  checkAddrs(addrs, what);
  if (!(dialTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot create ${what} as 'dialTimeoutMs' must be > 0: current value is ${dialTimeoutMs}`,
    );
  }
  const hosts = addrs.map((addr) => addr.includes("://") ? addr : `http://${addr}`);
  const etcdOptions: IOptions = { hosts, dialTimeout: dialTimeoutMs };
  if (username !== "") etcdOptions.auth = { username, password };
  return { client: new Etcd3(etcdOptions), addr: addrs.join(","), timeoutMs: dialTimeoutMs };
}

const utf8 = new TextDecoder();

/** Runs `call` but fails with a `TimeoutError` naming `addr` after `ms`. */
async function within<T>(ms: number, addr: string, action: string, call: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`Cannot ${action}: etcd did not answer within ${ms} ms`, { addr })),
      ms,
    );
  });
  try {
    return await Promise.race([call, timeout]);
  } catch (err) {
    if (err instanceof DueError) throw err;
    throw new DueError(ErrorCode.Unavailable, `Cannot ${action}: ${(err as Error).message}`, {
      addr,
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads one etcd key as text (the startup config from `etcd://…`), or `undefined` if it does not exist.
 *
 * @param key the key
 * @param options how to reach etcd
 * @throws a `DueError` (`timeout` or `unavailable`) naming the address when etcd cannot be read
 */
export async function readEtcdKey(
  key: string,
  options: EtcdConnectionOptions = {},
): Promise<string | undefined> {
  const { client, addr, timeoutMs } = connect("etcd config reader", options);
  try {
    const text = await within(timeoutMs, addr, `read etcd key ${key}`, client.get(key).string());
    return text ?? undefined;
  } finally {
    client.close();
  }
}

/**
 * Creates a config source over the keys under an etcd prefix.
 *
 * @example
 * ```ts ignore
 * import { createEtcdConfigSource } from "./etcd.ts";
 * const source = createEtcdConfigSource({ addrs: ["127.0.0.1:2379"], path: "/config", mode: "read-write" });
 * await source.store("game.json", { maxPlayers: 4 }); // key /config/game.json
 * await source.close();
 * ```
 */
export function createEtcdConfigSource(options: EtcdConfigSourceOptions = {}): ConfigSource {
  const { path = DEFAULT_ETCD_CONFIG_PATH, mode = "read-only", debounceMs = DEFAULT_WATCH_DEBOUNCE_MS } =
    options;
  checkSourceOptions("etcd", { path, mode, debounceMs });
  const { client, addr, timeoutMs } = connect("etcd config source", options);
  const prefix = path.endsWith("/") ? path : `${path}/`;
  const watches = new WatchSet("etcd", debounceMs, () => readAll());
  let closed = false;

  async function readAll(name?: string): Promise<ConfigSourceChange> {
    const all = await within(
      timeoutMs,
      addr,
      `read etcd keys under ${prefix}`,
      client.getAll().prefix(prefix).strings(),
    );
    return await readConfigFiles(
      keysDirectlyUnder(prefix, Object.keys(all)),
      name,
      (key) => Promise.resolve({ text: all[key], label: `etcd key ${key}` }),
    );
  }

  async function load(name?: string): Promise<ConfigFile[]> {
    assertReadable("etcd", mode, `load config from etcd ${prefix}`);
    return filesOrThrow(await readAll(name));
  }

  async function store(file: string, content: Record<string, unknown>): Promise<void> {
    assertWritable("etcd", mode, `store ${file} in etcd ${prefix}`);
    const { format } = checkFileName("etcd", file);
    const key = prefix + file;
    await within(
      timeoutMs,
      addr,
      `write etcd key ${key}`,
      client.put(key).value(stringifyConfig(content, format)).exec(),
    );
  }

  function watchKeys(changed: () => void, report: (err: unknown) => void): ChangeFeed {
    const onKey = (kv: { key: Uint8Array }) => {
      if (isConfigFileName(utf8.decode(kv.key))) changed();
    };
    const starting: Promise<Watcher | undefined> = client.watch().prefix(prefix).create().then(
      (etcdWatcher) => {
        etcdWatcher.on("put", onKey);
        etcdWatcher.on("delete", onKey);
        etcdWatcher.on("error", (err) => report(err));
        return etcdWatcher;
      },
      (err) => {
        report(err);
        return undefined;
      },
    );
    return {
      ready: starting.then(() => {}),
      async stop() {
        const etcdWatcher = await starting;
        await etcdWatcher?.cancel().catch(() => {});
      },
    };
  }

  function watch(
    onChange: (change: ConfigSourceChange) => void,
    onError?: (err: Error) => void,
  ): ConfigWatcher {
    assertReadable("etcd", mode, `watch etcd ${prefix}`);
    return watches.watch(watchKeys, onChange, onError);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await watches.close();
    client.close();
  }

  return { name: "etcd", mode, load, store, watch, close } satisfies ConfigSource;
}
