/**
 * FakeConsul: a stand-in for a Consul agent, because no Consul server can be installed on these machines (not in
 * Debian, no download). It serves the part of Consul's HTTP API the Consul backends use, with Consul's semantics
 * as documented: agent service registration with TCP and TTL checks (checks start critical unless given a
 * `Status`; a TTL check not passed within its TTL turns critical; an instance critical for longer than
 * `DeregisterCriticalServiceAfter` is removed — Consul itself reaps only every 30 s, the fake at once),
 * `/v1/health/service/<name>` with `passing`, the KV store with `recurse` and `raw`, and blocking queries on
 * `X-Consul-Index` for both. `restart()` forgets everything and starts the index again, as an agent restarted
 * without its data directory does.
 *
 * Tests against a real agent run when `DUE_TEST_CONSUL` names one.
 *
 * @module
 */

interface Check {
  id: string;
  status: "passing" | "critical";
  ttlMs?: number;
  tcp?: string;
  intervalMs?: number;
  deregisterAfterMs?: number;
  /** TTL expiry, TCP probe and reaping timers. */
  timers: Set<ReturnType<typeof setTimeout>>;
  criticalSince?: number;
}

interface Service {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  TaggedAddresses?: Record<string, unknown>;
  checks: Map<string, Check>;
}

interface KvEntry {
  value: Uint8Array;
  createIndex: number;
  modifyIndex: number;
}

/** Parses Consul's Go-style durations as the backends send them: `500ms`, `10s`, `1m`. */
function durationMs(text: unknown): number | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`bad duration ${JSON.stringify(text)}`);
  return Number(match[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/** A fake Consul agent on 127.0.0.1 (see the module doc). */
export class FakeConsul {
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** Registered services by id (tests read the stored registrations). */
  readonly services = new Map<string, Service>();
  /** KV entries by key. */
  readonly kv = new Map<string, KvEntry>();
  /** Answer every request with this status (simulates an agent in trouble); 0 = serve normally. */
  failWith = 0;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #index = 1;
  #waiters = new Set<() => void>();
  #closed = false;
  /** Bumped by restart(): blocked queries of the old agent are answered at once, with the new, lower index. */
  #generation = 0;
  /** Blocking queries of generations below this one were cut by an abrupt restart. */
  #cutBefore = 0;

  private constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.addr = `127.0.0.1:${this.#server.addr.port}`;
  }

  /** Starts a fake agent on a free port. */
  static start(): FakeConsul {
    return new FakeConsul();
  }

  /** Blocking queries waiting for a change now. */
  get blocked(): number {
    return this.#waiters.size;
  }

  /** The current `X-Consul-Index`. */
  get index(): number {
    return this.#index;
  }

  /**
   * Forgets every service and key and starts the index again from 1 (an agent restarted empty). Blocking queries
   * of the old agent are answered with the new index, or with `abrupt` fail (HTTP 500) as connections that a
   * restart cut would.
   */
  restart(options: { abrupt?: boolean } = {}): void {
    for (const service of this.services.values()) this.#dropChecks(service);
    this.services.clear();
    this.kv.clear();
    this.#index = 1;
    this.#generation++;
    if (options.abrupt) this.#cutBefore = this.#generation;
    this.#wake();
  }

  /** Stops the server and every timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const service of this.services.values()) this.#dropChecks(service);
    this.#wake();
    await this.#server.shutdown();
  }

  #bump(): void {
    this.#index++;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #dropChecks(service: Service): void {
    for (const check of service.checks.values()) for (const timer of check.timers) clearTimeout(timer);
  }

  #timer(check: Check, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      check.timers.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    check.timers.add(timer);
  }

  #setStatus(service: Service, check: Check, status: Check["status"]): void {
    if (check.status === status) return;
    check.status = status;
    if (status === "passing") {
      check.criticalSince = undefined;
    } else {
      check.criticalSince = Date.now();
      if (check.deregisterAfterMs !== undefined) {
        this.#timer(check, check.deregisterAfterMs, () => {
          const stillCritical = check.status === "critical" &&
            Date.now() - check.criticalSince! >= check.deregisterAfterMs!;
          if (stillCritical && this.services.get(service.ID) === service) {
            this.#dropChecks(service);
            this.services.delete(service.ID);
          }
          this.#bump();
        });
      }
    }
    this.#bump();
  }

  #armTtl(service: Service, check: Check): void {
    for (const timer of check.timers) clearTimeout(timer);
    check.timers.clear();
    this.#timer(check, check.ttlMs!, () => this.#setStatus(service, check, "critical"));
  }

  #probe(service: Service, check: Check): void {
    const [host, port] = [
      check.tcp!.slice(0, check.tcp!.lastIndexOf(":")),
      check.tcp!.slice(check.tcp!.lastIndexOf(":") + 1),
    ];
    Deno.connect({ hostname: host.replace(/^\[|\]$/g, ""), port: Number(port) }).then(
      (conn) => {
        conn.close();
        if (this.services.get(service.ID) === service) this.#setStatus(service, check, "passing");
      },
      () => {
        if (this.services.get(service.ID) === service) this.#setStatus(service, check, "critical");
      },
    ).finally(() => {
      if (!this.#closed && this.services.get(service.ID) === service) {
        this.#timer(check, check.intervalMs!, () => this.#probe(service, check));
      }
    });
  }

  #register(body: Record<string, unknown>): Response {
    const id = String(body.ID ?? body.Name);
    const old = this.services.get(id);
    if (old) this.#dropChecks(old);
    const service: Service = {
      ID: id,
      Service: String(body.Name),
      Address: String(body.Address ?? ""),
      Port: Number(body.Port ?? 0),
      Meta: (body.Meta ?? {}) as Record<string, string>,
      TaggedAddresses: body.TaggedAddresses as Record<string, unknown> | undefined,
      checks: new Map(),
    };
    const checks = (body.Checks ?? []) as Record<string, unknown>[];
    checks.forEach((c, i) => {
      const check: Check = {
        id: String(c.CheckID ?? `service:${id}${checks.length > 1 ? `:${i + 1}` : ""}`),
        status: c.Status === "passing" ? "passing" : "critical",
        ttlMs: durationMs(c.TTL),
        tcp: typeof c.TCP === "string" ? c.TCP : undefined,
        intervalMs: durationMs(c.Interval),
        deregisterAfterMs: durationMs(c.DeregisterCriticalServiceAfter),
        timers: new Set(),
      };
      service.checks.set(check.id, check);
    });
    this.services.set(id, service);
    for (const check of service.checks.values()) {
      if (check.ttlMs !== undefined) this.#armTtl(service, check);
      if (check.tcp !== undefined) {
        this.#timer(check, check.intervalMs ?? 10_000, () => this.#probe(service, check));
      }
    }
    this.#bump();
    return new Response("");
  }

  #pass(checkId: string): Response {
    for (const service of this.services.values()) {
      const check = service.checks.get(checkId);
      if (!check) continue;
      if (check.ttlMs === undefined) {
        return new Response("CheckID does not have associated TTL", { status: 500 });
      }
      this.#setStatus(service, check, "passing");
      this.#armTtl(service, check);
      return new Response("");
    }
    return new Response(`Unknown check ID "${checkId}"`, { status: 404 });
  }

  /**
   * Answers now, or once the index passes `index`, or after `wait`, as Consul does (a request whose client went
   * away is answered at the next change, the end of its wait, or `close()`).
   */
  async #blocking(url: URL, answer: () => Response): Promise<Response> {
    const index = Number(url.searchParams.get("index") ?? 0);
    const waitMs = durationMs(url.searchParams.get("wait") ?? "") ?? 300_000;
    const deadline = Date.now() + waitMs;
    const generation = this.#generation;
    while (
      index > 0 && index >= this.#index && generation === this.#generation && !this.#closed &&
      Date.now() < deadline
    ) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, deadline - Date.now());
        this.#waiters.add(done);
      });
    }
    if (generation < this.#cutBefore) return new Response("agent restarted", { status: 500 });
    const response = answer();
    response.headers.set("X-Consul-Index", String(this.#index));
    return response;
  }

  #health(name: string, passing: boolean): Response {
    const entries = [...this.services.values()]
      .filter((s) => s.Service === name)
      .filter((s) => !passing || [...s.checks.values()].every((c) => c.status === "passing"))
      .map((s) => ({
        Node: { Node: "fake-consul", Address: "127.0.0.1" },
        Service: {
          ID: s.ID,
          Service: s.Service,
          Address: s.Address,
          Port: s.Port,
          Meta: s.Meta,
          TaggedAddresses: s.TaggedAddresses,
        },
        Checks: [...s.checks.values()].map((c) => ({ CheckID: c.id, Status: c.status })),
      }));
    return Response.json(entries);
  }

  #kvGet(key: string, recurse: boolean, raw: boolean): Response {
    if (raw && !recurse) {
      const entry = this.kv.get(key);
      return entry ? new Response(entry.value.slice()) : new Response("", { status: 404 });
    }
    const hits = [...this.kv].filter(([k]) => recurse ? k.startsWith(key) : k === key).sort(([a], [b]) =>
      a < b ? -1 : 1
    );
    if (hits.length === 0) return new Response("", { status: 404 });
    return Response.json(hits.map(([k, e]) => ({
      Key: k,
      Value: base64(e.value),
      Flags: 0,
      CreateIndex: e.createIndex,
      ModifyIndex: e.modifyIndex,
      LockIndex: 0,
    })));
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = decodeURIComponent(url.pathname);
    if (this.failWith) {
      await request.body?.cancel();
      return new Response("fake failure", { status: this.failWith });
    }
    const { method } = request;
    let match: RegExpExecArray | null;
    if (method === "GET" && path === "/v1/status/leader") return Response.json("127.0.0.1:8300");
    if (method === "PUT" && path === "/v1/agent/service/register") {
      return this.#register(await request.json());
    }
    if (method === "PUT" && (match = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(path))) {
      const service = this.services.get(match[1]);
      if (!service) return new Response(`Unknown service ID "${match[1]}"`, { status: 404 });
      this.#dropChecks(service);
      this.services.delete(match[1]);
      this.#bump();
      return new Response("");
    }
    if (method === "PUT" && (match = /^\/v1\/agent\/check\/pass\/(.+)$/.exec(path))) {
      return this.#pass(match[1]);
    }
    if (method === "GET" && (match = /^\/v1\/health\/service\/(.+)$/.exec(path))) {
      const passing = url.searchParams.has("passing") && url.searchParams.get("passing") !== "false";
      return await this.#blocking(url, () => this.#health(match![1], passing));
    }
    if ((match = /^\/v1\/kv\/(.*)$/.exec(path))) {
      const key = match[1];
      if (method === "GET") {
        return await this.#blocking(
          url,
          () => this.#kvGet(key, url.searchParams.has("recurse"), url.searchParams.has("raw")),
        );
      }
      if (method === "PUT") {
        const value = new Uint8Array(await request.arrayBuffer());
        const old = this.kv.get(key);
        this.kv.set(key, {
          value,
          createIndex: old?.createIndex ?? this.#index + 1,
          modifyIndex: this.#index + 1,
        });
        this.#bump();
        return Response.json(true);
      }
      if (method === "DELETE") {
        const recurse = url.searchParams.has("recurse");
        for (const k of [...this.kv.keys()]) if (recurse ? k.startsWith(key) : k === key) this.kv.delete(k);
        this.#bump();
        return Response.json(true);
      }
    }
    await request.body?.cancel();
    return new Response(`fake consul: no such endpoint ${method} ${path}`, { status: 404 });
  }
}
