/**
 * Private helper shared by the Nacos backends (registry, config source): a small client of Nacos's v1 HTTP open
 * API over `fetch`, as served by Nacos 1.x and 2.x. It knows a list of servers (`urls`, each
 * `[scheme://]host:port[/context]`, context `/nacos` when none is given), tries them in order starting with the
 * last one that answered, moves on after a connection error, a timeout or a 5xx answer, and names every server
 * it tried when all fail. With a username it logs in (`POST /v1/auth/login`), sends the `accessToken` query
 * parameter with every request, logs in again before the token's `tokenTtl` runs out and once more after a 403.
 *
 * Hand-written because no usable Nacos client exists for Deno: the npm `nacos` SDK is callback-era Node code
 * (its naming client also listens for UDP pushes) and the official SDKs speak gRPC on Nacos 2.x; the few HTTP
 * requests used here need nothing but `fetch` with an `AbortSignal`. Nacos 3.x serves these v1 paths only with
 * its legacy adapter.
 *
 * @module
 */
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import { checkPositive } from "./_options.ts";

/** Server used when none is given, as due's. */
export const DEFAULT_NACOS_URLS: readonly string[] = ["http://127.0.0.1:8848/nacos"];
/** Deadline of one request, in ms (due's `timeout`, 3 s). */
export const DEFAULT_NACOS_TIMEOUT_MS = 3_000;
/** Token lifetime assumed when a login answer has no `tokenTtl`, in seconds (Nacos's default). */
const DEFAULT_TOKEN_TTL_S = 18_000;

/** How to reach Nacos. */
export interface NacosConnectionOptions {
  /** Server URLs, `[scheme://]host:port[/context]`; the context defaults to `/nacos`. @default ["http://127.0.0.1:8848/nacos"] */
  urls?: readonly string[];
  /** Username for Nacos auth; empty = no login. */
  username?: string;
  /** Password for Nacos auth. */
  password?: string;
  /** Deadline of each request, in ms. @default 3000 */
  timeoutMs?: number;
}

/** Options of {@linkcode NacosClient.request}. */
export interface NacosRequest {
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, string | undefined>;
  /** Form body (`application/x-www-form-urlencoded`); `undefined` values are left out. */
  form?: Record<string, string | undefined>;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** How long the server may hold this request before answering (a long poll), added to the client's deadline. */
  holdMs?: number;
  /** Ends the request early (it then rejects with the signal's reason). */
  signal?: AbortSignal;
  /** HTTP statuses below 500 that are answers rather than errors (200 always is). @default [] */
  accept?: number[];
}

/** One answer of a server. */
export interface NacosResponse {
  /** HTTP status. */
  status: number;
  /** The body as text. */
  text: string;
  /** The server that answered, as given in `urls`. */
  server: string;
}

interface Server {
  /** As given, for messages. */
  name: string;
  /** `scheme://host:port/context`, without a trailing slash. */
  base: string;
}

/** Parses `urls`; throws a `TypeError` naming the bad one. */
function parseServers(urls: unknown, what: string): Server[] {
  if (!Array.isArray(urls) || urls.length === 0) {
    throw new TypeError(
      `Cannot create ${what} as 'urls' must be a non-empty list of Nacos server URLs: current value is ${
        JSON.stringify(urls)
      }`,
    );
  }
  return urls.map((raw) => {
    let url: URL | undefined;
    if (typeof raw === "string" && raw !== "") {
      try {
        url = new URL(raw.includes("://") ? raw : `http://${raw}`);
      } catch { /* reported below */ }
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
      throw new TypeError(
        `Cannot create ${what} as each of 'urls' must be an http(s) URL like http://127.0.0.1:8848/nacos: current value is ${
          JSON.stringify(raw)
        }`,
      );
    }
    const path = url.pathname.replace(/\/+$/, "");
    return { name: raw as string, base: `${url.origin}${path === "" ? "/nacos" : path}` };
  });
}

/** Whether an HTTP status means "this server is in trouble, ask another one". */
const failsOver = (status: number) => status >= 500;

/** A thin client of a Nacos cluster, failing over between its servers. */
export class NacosClient {
  /** Every server as given, comma-separated, for messages and error context. */
  readonly addr: string;
  readonly #servers: Server[];
  readonly #timeoutMs: number;
  readonly #what: string;
  readonly #username: string;
  readonly #password: string;
  /** Index of the server that answered last: the first one tried next time. */
  #preferred = 0;
  #token: { value: string; refreshAt: number } | undefined;
  #login: Promise<string> | undefined;

  /**
   * @param options how to reach Nacos
   * @param what who uses it, for messages ("nacos registry")
   */
  constructor(options: NacosConnectionOptions, what: string) {
    const {
      urls = DEFAULT_NACOS_URLS,
      username = "",
      password = "",
      timeoutMs = DEFAULT_NACOS_TIMEOUT_MS,
    } = options;
    this.#servers = parseServers(urls, what);
    if (typeof username !== "string" || typeof password !== "string") {
      throw new TypeError(`Cannot create ${what} as 'username' and 'password' must be strings`);
    }
    checkPositive(timeoutMs, "timeoutMs", what);
    this.addr = this.#servers.map((s) => s.name).join(",");
    this.#timeoutMs = timeoutMs;
    this.#what = what;
    this.#username = username;
    this.#password = password;
  }

  /**
   * Sends one request to the first server that answers it.
   *
   * @param method HTTP method
   * @param path API path below the context, e.g. `/v1/ns/instance`
   * @throws {DueError} `unavailable` naming the server(s) when none answers, or one answers an unexpected status
   */
  async request(method: string, path: string, options: NacosRequest = {}): Promise<NacosResponse> {
    const { signal } = options;
    const action = `${method} ${path}`;
    const failures: string[] = [];
    const count = this.#servers.length;
    const start = this.#preferred;
    for (let n = 0; n < count; n++) {
      const index = (start + n) % count;
      const server = this.#servers[index];
      signal?.throwIfAborted();
      let response: NacosResponse;
      try {
        response = await this.#attempt(server, method, path, options);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (err instanceof DueError) throw err; // an answer that is an error: no other server would differ
        failures.push(`${server.name}: ${errorMessage(err)}`);
        continue;
      }
      if (failsOver(response.status)) {
        failures.push(`${server.name}: ${httpError(response)}`);
        continue;
      }
      this.#preferred = index;
      if (response.status !== 200 && !(options.accept ?? []).includes(response.status)) {
        throw new DueError(
          ErrorCode.Unavailable,
          `Cannot ${action} on Nacos at ${server.name} for ${this.#what}: ${httpError(response)}`,
          { addr: server.name },
        );
      }
      return response;
    }
    throw new DueError(
      ErrorCode.Unavailable,
      `Cannot ${action} on Nacos for ${this.#what}: ${count === 1 ? "" : `no server of ${count} answered: `}${
        failures.join("; ")
      }`,
      { addr: this.addr },
    );
  }

  /** The body of a JSON answer, or a `DueError` naming the server when it is not JSON. */
  json<T>(response: NacosResponse, action: string): T {
    try {
      return JSON.parse(response.text) as T;
    } catch {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot ${action} on Nacos at ${response.server} for ${this.#what}: the answer is not JSON: ${
          response.text.slice(0, 200)
        }`,
        { addr: response.server },
      );
    }
  }

  /** One server, with login and one retry after a 403 when auth is on. Network trouble rejects. */
  async #attempt(
    server: Server,
    method: string,
    path: string,
    options: NacosRequest,
  ): Promise<NacosResponse> {
    if (this.#username === "") return await this.#fetch(server, method, path, options, undefined);
    let token = await this.#currentToken(server, options.signal);
    let response = await this.#fetch(server, method, path, options, token);
    if (response.status === 403) {
      // The token expired early, or the server restarted with another secret: log in once more.
      if (this.#token?.value === token) this.#token = undefined;
      token = await this.#currentToken(server, options.signal);
      response = await this.#fetch(server, method, path, options, token);
    }
    return response;
  }

  /** A valid token, logging in on `server` when there is none or it is due for refresh (one login at a time). */
  async #currentToken(server: Server, signal: AbortSignal | undefined): Promise<string> {
    if (this.#token && Date.now() < this.#token.refreshAt) return this.#token.value;
    this.#login ??= this.#logIn(server, signal).finally(() => this.#login = undefined);
    return await this.#login;
  }

  async #logIn(server: Server, signal: AbortSignal | undefined): Promise<string> {
    const response = await this.#fetch(server, "POST", "/v1/auth/login", {
      form: { username: this.#username, password: this.#password },
      signal,
    }, undefined);
    if (failsOver(response.status)) throw new Error(`login: ${httpError(response)}`);
    if (response.status !== 200) {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot log in to Nacos at ${server.name} as ${JSON.stringify(this.#username)} for ${this.#what}: ${
          httpError(response)
        }`,
        { addr: server.name },
      );
    }
    let body: { accessToken?: unknown; tokenTtl?: unknown };
    try {
      body = JSON.parse(response.text);
    } catch {
      body = {};
    }
    if (typeof body.accessToken !== "string" || body.accessToken === "") {
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot log in to Nacos at ${server.name} for ${this.#what}: the answer has no accessToken: ${
          response.text.slice(0, 200)
        }`,
        { addr: server.name },
      );
    }
    const ttlS = typeof body.tokenTtl === "number" && body.tokenTtl > 0 ? body.tokenTtl : DEFAULT_TOKEN_TTL_S;
    // Refresh with a tenth of the lifetime left, as Nacos's own clients do.
    this.#token = { value: body.accessToken, refreshAt: Date.now() + ttlS * 900 };
    return body.accessToken;
  }

  async #fetch(
    server: Server,
    method: string,
    path: string,
    options: NacosRequest,
    token: string | undefined,
  ): Promise<NacosResponse> {
    const { query = {}, form, headers = {}, signal } = options;
    const timeoutMs = this.#timeoutMs + (options.holdMs ?? 0);
    const url = new URL(`${server.base}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    if (token !== undefined) url.searchParams.set("accessToken", token);
    let body: URLSearchParams | undefined;
    if (form) {
      body = new URLSearchParams();
      for (const [key, value] of Object.entries(form)) if (value !== undefined) body.set(key, value);
    }
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => deadline.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      const response = await fetch(url, { method, headers, body, signal: deadline.signal });
      return { status: response.status, text: await response.text(), server: server.name };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw deadline.signal.aborted ? deadline.signal.reason : err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

function httpError(response: NacosResponse): string {
  const text = response.text.trim();
  return `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
}

/** Keys of due's Nacos sections that only the Go SDK gives a meaning, with their accepted (do-nothing) values. */
const GO_SDK_ONLY: Record<string, { accepted: readonly unknown[]; why: string }> = {
  endpoint: {
    accepted: [""],
    why: "address-server discovery is not implemented: list the servers in 'urls'",
  },
  regionId: { accepted: [""], why: "Alibaba Cloud ACM/KMS is not supported by this client" },
  accessKey: { accepted: [""], why: "Alibaba Cloud request signing is not supported: use username/password" },
  secretKey: { accepted: [""], why: "Alibaba Cloud request signing is not supported: use username/password" },
  openKMS: { accepted: [false], why: "KMS config encryption is not supported by this client" },
  cacheDir: {
    accepted: ["", "./run/nacos/naming/cache", "./run/nacos/config/cache"],
    why: "there is no local failover cache (it belongs to the Go SDK)",
  },
  logDir: {
    accepted: ["", "./run/nacos/naming/log", "./run/nacos/config/log"],
    why: "there are no SDK log files: log lines go to due's logger",
  },
};

/**
 * Refuses the keys of a `registry.nacos` or `config.nacos` section that this client cannot honour: a key of the
 * Go SDK set to anything but its do-nothing default, or one of `extra` (a key that has no meaning for this
 * backend) set to anything but its default.
 *
 * @param section the config section
 * @param prefix the section's path for messages (`registry.nacos`)
 * @param extra more keys to refuse, with their accepted values and the reason
 * @throws {TypeError} naming the key, its value and why
 */
export function refuseUnsupportedNacosKeys(
  section: Record<string, unknown>,
  prefix: string,
  extra: Record<string, { accepted: readonly unknown[]; why: string }> = {},
): void {
  for (const [key, { accepted, why }] of Object.entries({ ...GO_SDK_ONLY, ...extra })) {
    const value = section[key];
    if (value === undefined || accepted.includes(value)) continue;
    throw new TypeError(
      `Cannot use ${prefix}.${key} = ${JSON.stringify(value)}: ${why}; remove the key or set it to ${
        JSON.stringify(accepted[0])
      }`,
    );
  }
}
