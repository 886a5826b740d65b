/**
 * Private helper shared by the Consul backends (registry, config source): a small client of Consul's HTTP API
 * over `fetch`, with per-request deadlines, the ACL token header, blocking-query indexes and errors that name the
 * agent. Hand-written because the npm `consul` client is callback-era code around the same few requests, and
 * `fetch` with an `AbortSignal` is all Deno needs.
 *
 * @module
 */
import { DueError, ErrorCode, errorMessage } from "../core/errors.ts";
import { checkPositive } from "./_options.ts";

/** Consul agent address used when none is given, as due's. */
export const DEFAULT_CONSUL_ADDR = "127.0.0.1:8500";
/** Deadline of one non-blocking request, in ms. */
export const DEFAULT_CONSUL_TIMEOUT_MS = 5_000;

/** How to reach a Consul agent. */
export interface ConsulConnectionOptions {
  /** Agent address, `host:port` or an `http(s)://` URL. @default "127.0.0.1:8500" */
  addr?: string;
  /** ACL token sent as `X-Consul-Token`; empty = none. */
  token?: string;
  /** Deadline of each non-blocking request, in ms. @default 5000 */
  timeoutMs?: number;
}

/** One answer of the agent. */
export interface ConsulResponse {
  /** HTTP status. */
  status: number;
  /** `X-Consul-Index` (0 when absent): pass it back as `index` to block until something changes. */
  index: number;
  /** The body parsed as JSON (`undefined` when empty). */
  body: unknown;
}

/** Options of {@linkcode ConsulClient.request}. */
export interface ConsulRequest {
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, string | undefined>;
  /** JSON body (objects) or raw text. */
  body?: unknown;
  /** Blocking query: wait until the index passes this one, or `waitS` seconds. */
  index?: number;
  /** Longest wait of a blocking query, in seconds. @default 60 */
  waitS?: number;
  /** Ends the request early (it then rejects with the signal's reason). */
  signal?: AbortSignal;
  /** HTTP statuses that are answers rather than errors (200 always is). @default [] */
  accept?: number[];
}

/** A thin client of one Consul agent. */
export class ConsulClient {
  /** The agent as given, for messages. */
  readonly addr: string;
  #base: string;
  #headers: Record<string, string>;
  #timeoutMs: number;
  #what: string;

  /**
   * @param options how to reach the agent
   * @param what who uses it, for messages ("consul registry")
   */
  constructor(options: ConsulConnectionOptions, what: string) {
    const { addr = DEFAULT_CONSUL_ADDR, token = "", timeoutMs = DEFAULT_CONSUL_TIMEOUT_MS } = options;
    if (typeof addr !== "string" || addr === "") {
      throw new TypeError(
        `Cannot create ${what} as 'addr' must be a non-empty host:port or URL: current value is ${
          JSON.stringify(addr)
        }`,
      );
    }
    if (typeof token !== "string") throw new TypeError(`Cannot create ${what} as 'token' must be a string`);
    checkPositive(timeoutMs, "timeoutMs", what);
    this.addr = addr;
    this.#base = (addr.includes("://") ? addr : `http://${addr}`).replace(/\/+$/, "");
    this.#headers = token === "" ? {} : { "X-Consul-Token": token };
    this.#timeoutMs = timeoutMs;
    this.#what = what;
  }

  /**
   * Sends one request. A blocking query (`index` given) gets `waitS` plus the usual deadline.
   *
   * @throws {DueError} `unavailable` naming the agent when it cannot be reached, times out or answers an
   *   unexpected status
   */
  async request(method: string, path: string, options: ConsulRequest = {}): Promise<ConsulResponse> {
    const { query = {}, body, index, waitS = 60, signal, accept = [] } = options;
    const url = new URL(`${this.#base}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    if (index !== undefined) {
      url.searchParams.set("index", String(index));
      url.searchParams.set("wait", `${waitS}s`);
    }
    const deadline = new AbortController();
    const timeoutMs = this.#timeoutMs + (index !== undefined ? waitS * 1_000 : 0);
    const timer = setTimeout(
      () => deadline.abort(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => deadline.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const action = `${method} ${url.pathname}`;
    try {
      signal?.throwIfAborted();
      const response = await fetch(url, {
        method,
        headers: body === undefined
          ? this.#headers
          : { ...this.#headers, "Content-Type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        signal: deadline.signal,
      });
      const text = await response.text();
      if (response.status !== 200 && !accept.includes(response.status)) {
        throw new Error(`HTTP ${response.status}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ""}`);
      }
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = text;
      }
      return {
        status: response.status,
        index: Number(response.headers.get("X-Consul-Index") ?? 0),
        body: parsed,
      };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot ${action} on Consul at ${this.addr} for ${this.#what}: ${
          errorMessage(deadline.signal.aborted ? deadline.signal.reason : err)
        }`,
        { addr: this.addr, cause: err },
      );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Asks the agent for the cluster leader: proves it answers (and that the token may read).
   *
   * @throws {DueError} `unavailable` naming the agent
   */
  async ping(): Promise<void> {
    await this.request("GET", "/v1/status/leader");
  }
}

/**
 * The next index of a blocking-query loop, as Consul's documentation asks: start again from 0 when the index went
 * backwards (the agent restarted or the raft log was reset), and never wait on an index below 1.
 */
export function nextConsulIndex(previous: number, received: number): number {
  if (!(received > 0)) return 1;
  return received < previous ? 0 : received;
}
