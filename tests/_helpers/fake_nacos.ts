/**
 * FakeNacos: a stand-in for a Nacos server, because no Nacos can be installed on these machines (no JVM package,
 * no download). It serves the part of Nacos's v1 HTTP open API the Nacos backends use, with the semantics of
 * Nacos 2.x's code as read (InstanceController, InstanceOperatorClientImpl.handleBeat, ConfigController,
 * LongPollingService, DefaultParamChecker):
 *
 * - naming: `POST/DELETE /v1/ns/instance`, `PUT /v1/ns/instance/beat`, `GET /v1/ns/instance/list`. Services are
 *   `<group>@@<name>` (the group from `groupName`, default `DEFAULT_GROUP`) per namespace (default `public`);
 *   instances are keyed by `ip:port` and cluster. Ephemeral instances turn unhealthy `heartbeatTimeoutMs` after
 *   their last beat and are removed `deleteTimeoutMs` after it (Nacos: 15 s, 30 s; checked by a sweep, as
 *   Nacos's own periodic check). A beat for an unknown instance registers it from its `beat` body, or answers
 *   code 20404 when it has none (a light beat); the fake keys this by instance, as Nacos 1.x does, where Nacos
 *   2.x keys it by the client's ip:port. `healthyOnly` lists healthy instances; disabled ones are never
 *   listed. Metadata longer than `maxMetadataLength` in total (keys and values, Nacos ≥ 2.3) is refused with
 *   HTTP 400 and Nacos's message.
 * - config: `GET /v1/cs/configs` (one config, or a page with `search=accurate|blur`), `POST` (publish, blank
 *   content refused), `DELETE`, and the long-polling `POST /v1/cs/configs/listener`: it answers at once with the
 *   configs whose MD5 differs from the client's, else holds the request up to `Long-Pulling-Timeout` − 500 ms
 *   (at least `minLongPollMs`, 10 s in Nacos) and answers early when a listened config changes.
 * - auth (when `auth` is given): `POST /v1/auth/login` hands out tokens that expire after `tokenTtlS`; every
 *   other request needs a valid `accessToken` parameter, else HTTP 403.
 *
 * `restart()` forgets every instance and config (a server restarted on an empty embedded store) and answers the
 * held listeners; `failWith` answers every request with an HTTP status (a server in trouble); `expireTokens()`
 * invalidates every token handed out. Tests against a real server run when `DUE_TEST_NACOS` names one.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Options of {@linkcode FakeNacos.start}. */
export interface FakeNacosOptions {
  /** An instance without beats for this long turns unhealthy, in ms. @default 15000 */
  heartbeatTimeoutMs?: number;
  /** An instance without beats for this long is removed, in ms. @default 30000 */
  deleteTimeoutMs?: number;
  /** `clientBeatInterval` told to clients, in ms. @default 5000 */
  clientBeatIntervalMs?: number;
  /** `lightBeatEnabled` told to clients. @default true */
  lightBeatEnabled?: boolean;
  /** Longest metadata (keys and values), as Nacos ≥ 2.3; 0 = no check. @default 1024 */
  maxMetadataLength?: number;
  /** Shortest hold of a listener request, in ms (Nacos: 10 s). @default 10000 */
  minLongPollMs?: number;
  /** Require a login with these credentials. @default none */
  auth?: { username: string; password: string; tokenTtlS?: number };
}

/** One registered instance. */
export interface FakeInstance {
  ip: string;
  port: number;
  clusterName: string;
  weight: number;
  healthy: boolean;
  enabled: boolean;
  ephemeral: boolean;
  metadata: Record<string, string>;
  lastBeat: number;
}

/** One stored config. */
export interface FakeConfig {
  dataId: string;
  group: string;
  tenant: string;
  content: string;
  md5: string;
  type: string;
  id: number;
}

const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");
const ID_REGEXP = /^[A-Za-z0-9_.:-]*$/;
const WORD = "\x02";
const LINE = "\x01";

class BadRequest extends Error {}

/** A fake Nacos server on 127.0.0.1 (see the module doc). */
export class FakeNacos {
  /** `http://127.0.0.1:<port>/nacos`, as `urls` take it. */
  readonly url: string;
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** Services by `<namespace>|<group>@@<name>`, each a map of instances by `<ip>:<port>#<cluster>`. */
  readonly services = new Map<string, Map<string, FakeInstance>>();
  /** Configs by `<tenant>|<group>|<dataId>`. */
  readonly configs = new Map<string, FakeConfig>();
  /** Every request as `METHOD /path?query` (form fields appended after `|`), for assertions. */
  readonly requests: string[] = [];
  /** Logins answered with a token. */
  logins = 0;
  /** Answer every request with this status (a server in trouble); 0 = serve normally. */
  failWith = 0;
  readonly #options: Required<Omit<FakeNacosOptions, "auth">> & Pick<FakeNacosOptions, "auth">;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #tokens = new Map<string, number>();
  readonly #listeners = new Set<{ keys: Set<string>; wake: () => void }>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #configId = 0;
  #closed = false;

  private constructor(options: FakeNacosOptions) {
    this.#options = {
      heartbeatTimeoutMs: 15_000,
      deleteTimeoutMs: 30_000,
      clientBeatIntervalMs: 5_000,
      lightBeatEnabled: true,
      maxMetadataLength: 1024,
      minLongPollMs: 10_000,
      ...options,
    };
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.addr = `127.0.0.1:${this.#server.addr.port}`;
    this.url = `http://${this.addr}/nacos`;
    const every = Math.max(10, Math.min(this.#options.heartbeatTimeoutMs, this.#options.deleteTimeoutMs) / 5);
    this.#sweep = setInterval(() => this.#expire(), every);
  }

  /** Starts a fake server on a free port. */
  static start(options: FakeNacosOptions = {}): FakeNacos {
    return new FakeNacos(options);
  }

  /** Listener requests held now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** The instances of `name` in `group` and `namespace`, by `<ip>:<port>#<cluster>`. */
  instances(name: string, group = "DEFAULT_GROUP", namespace = "public"): Map<string, FakeInstance> {
    return this.services.get(`${namespace}|${group}@@${name}`) ?? new Map();
  }

  /** Forgets every instance and config (a server restarted empty); held listeners see their configs gone. */
  restart(): void {
    this.services.clear();
    this.configs.clear();
    this.#wakeAll();
  }

  /** Invalidates every token handed out (they then answer 403, as expired tokens do). */
  expireTokens(): void {
    this.#tokens.clear();
  }

  /** Stops the server and its sweep; held listeners are answered first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#wakeAll();
    await this.#server.shutdown();
  }

  #wakeAll(): void {
    for (const listener of [...this.#listeners]) listener.wake();
  }

  #changed(groupKey: string): void {
    for (const listener of [...this.#listeners]) if (listener.keys.has(groupKey)) listener.wake();
  }

  #expire(): void {
    const now = Date.now();
    for (const instances of this.services.values()) {
      for (const [key, instance] of instances) {
        if (!instance.ephemeral) continue;
        const silent = now - instance.lastBeat;
        if (silent > this.#options.deleteTimeoutMs) instances.delete(key);
        else if (silent > this.#options.heartbeatTimeoutMs) instance.healthy = false;
      }
    }
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const params = new URLSearchParams(url.search);
    let formText = "";
    if (request.headers.get("content-type")?.includes("application/x-www-form-urlencoded")) {
      formText = await request.text();
      for (const [key, value] of new URLSearchParams(formText)) params.set(key, value);
    } else {
      await request.body?.cancel();
    }
    this.requests.push(`${request.method} ${url.pathname}${url.search}${formText ? `|${formText}` : ""}`);
    if (this.failWith) return new Response("fake failure", { status: this.failWith });
    const path = url.pathname.replace(/^\/nacos/, "");
    try {
      if (path === "/v1/auth/login" && request.method === "POST") return this.#login(params);
      if (this.#options.auth) {
        const token = params.get("accessToken") ?? request.headers.get("accessToken");
        const expires = token === null ? undefined : this.#tokens.get(token);
        if (expires === undefined || expires < Date.now()) {
          return new Response("token invalid!", { status: 403 });
        }
      }
      switch (`${request.method} ${path}`) {
        case "POST /v1/ns/instance":
          return this.#register(params);
        case "DELETE /v1/ns/instance":
          return this.#deregister(params);
        case "PUT /v1/ns/instance/beat":
          return this.#beat(params);
        case "GET /v1/ns/instance/list":
          return this.#list(params);
        case "GET /v1/cs/configs":
          return params.has("search") ? this.#search(params) : this.#getConfig(params);
        case "POST /v1/cs/configs":
          return this.#publish(params);
        case "DELETE /v1/cs/configs":
          return this.#deleteConfig(params);
        case "POST /v1/cs/configs/listener":
          return this.#listen(params, request);
      }
      return new Response(`fake nacos: no such endpoint ${request.method} ${url.pathname}`, { status: 404 });
    } catch (err) {
      if (err instanceof BadRequest) return new Response(err.message, { status: 400 });
      throw err;
    }
  }

  #login(params: URLSearchParams): Response {
    const auth = this.#options.auth;
    if (auth && (params.get("username") !== auth.username || params.get("password") !== auth.password)) {
      return new Response("unknown user!", { status: 403 });
    }
    const ttl = auth?.tokenTtlS ?? 18_000;
    const token = crypto.randomUUID();
    this.#tokens.set(token, Date.now() + ttl * 1_000);
    this.logins++;
    return Response.json({ accessToken: token, tokenTtl: ttl, globalAdmin: true, username: auth?.username });
  }

  /** `<namespace>|<group>@@<name>` of a naming request, with Nacos's parameter checks. */
  #serviceKey(params: URLSearchParams): string {
    const name = params.get("serviceName")?.trim();
    if (!name) throw new BadRequest("Param 'serviceName' is required.");
    const group = params.get("groupName") || "DEFAULT_GROUP";
    if (!ID_REGEXP.test(group)) {
      throw new BadRequest("Param 'group' is illegal, illegal characters should not appear in the param.");
    }
    const grouped = name.includes("@@") ? name : `${group}@@${name}`;
    return `${params.get("namespaceId") || "public"}|${grouped}`;
  }

  #checkMetadata(metadata: Record<string, string>): void {
    const limit = this.#options.maxMetadataLength;
    let total = 0;
    for (const [key, value] of Object.entries(metadata)) {
      if (key.trim() !== "") total += key.length;
      if (typeof value === "string" && value.trim() !== "") total += value.length;
    }
    if (limit > 0 && total > limit) {
      throw new BadRequest(`Param 'Metadata' is illegal, the param length should not exceed ${limit}.`);
    }
  }

  #put(key: string, instance: FakeInstance): void {
    this.#checkMetadata(instance.metadata);
    let instances = this.services.get(key);
    if (!instances) this.services.set(key, instances = new Map());
    instances.set(`${instance.ip}:${instance.port}#${instance.clusterName}`, instance);
  }

  #register(params: URLSearchParams): Response {
    const key = this.#serviceKey(params);
    const ip = params.get("ip");
    const port = Number(params.get("port"));
    if (!ip || !(port >= 0 && port <= 65535)) throw new BadRequest("Param 'ip' and 'port' are required.");
    let metadata: Record<string, string> = {};
    const raw = params.get("metadata");
    if (raw) {
      try {
        metadata = JSON.parse(raw);
      } catch {
        metadata = Object.fromEntries(raw.split(",").map((pair) => pair.split("=", 2) as [string, string]));
      }
    }
    const enabled = params.get("enabled") ?? params.get("enable") ?? "true";
    this.#put(key, {
      ip,
      port,
      clusterName: params.get("clusterName") || "DEFAULT",
      weight: Number(params.get("weight") ?? 1),
      healthy: (params.get("healthy") ?? "true") !== "false",
      enabled: enabled !== "false",
      ephemeral: (params.get("ephemeral") ?? "true") !== "false",
      metadata,
      lastBeat: Date.now(),
    });
    return new Response("ok");
  }

  #deregister(params: URLSearchParams): Response {
    const key = this.#serviceKey(params);
    const cluster = params.get("clusterName") || "DEFAULT";
    this.services.get(key)?.delete(`${params.get("ip")}:${params.get("port")}#${cluster}`);
    return new Response("ok");
  }

  #beat(params: URLSearchParams): Response {
    const key = this.#serviceKey(params);
    const raw = params.get("beat");
    const beat = raw ? JSON.parse(raw) as Record<string, unknown> : undefined;
    const ip = String(beat?.ip ?? params.get("ip") ?? "");
    const port = Number(beat?.port ?? params.get("port") ?? 0);
    const cluster = String(beat?.cluster || params.get("clusterName") || "DEFAULT");
    const answer = (code: number) =>
      Response.json({
        clientBeatInterval: this.#options.clientBeatIntervalMs,
        code,
        lightBeatEnabled: this.#options.lightBeatEnabled,
      });
    const instance = this.services.get(key)?.get(`${ip}:${port}#${cluster}`);
    if (!instance) {
      if (!beat) return answer(20404);
      this.#put(key, {
        ip,
        port,
        clusterName: cluster,
        weight: Number(beat.weight ?? 1),
        healthy: true,
        enabled: true,
        ephemeral: beat.ephemeral !== false,
        metadata: (beat.metadata ?? {}) as Record<string, string>,
        lastBeat: Date.now(),
      });
      return answer(10200);
    }
    instance.lastBeat = Date.now();
    instance.healthy = true;
    return answer(10200);
  }

  #list(params: URLSearchParams): Response {
    const key = this.#serviceKey(params);
    const grouped = key.slice(key.indexOf("|") + 1);
    const clusters = (params.get("clusters") ?? "").split(",").filter((c) => c !== "");
    const healthyOnly = params.get("healthyOnly") === "true";
    const hosts = [...(this.services.get(key)?.values() ?? [])]
      .filter((i) => i.enabled && (!healthyOnly || i.healthy))
      .filter((i) => clusters.length === 0 || clusters.includes(i.clusterName))
      .map((i) => ({
        instanceId: `${i.ip}#${i.port}#${i.clusterName}#${grouped}`,
        ip: i.ip,
        port: i.port,
        weight: i.weight,
        healthy: i.healthy,
        enabled: i.enabled,
        ephemeral: i.ephemeral,
        clusterName: i.clusterName,
        serviceName: grouped,
        metadata: i.metadata,
        instanceHeartBeatInterval: 5000,
        instanceHeartBeatTimeOut: 15000,
        ipDeleteTimeout: 30000,
      }));
    return Response.json({
      name: grouped,
      groupName: grouped.slice(0, grouped.indexOf("@@")),
      clusters: clusters.join(","),
      cacheMillis: 10000,
      hosts,
      lastRefTime: Date.now(),
      checksum: "",
      allIPs: false,
      reachProtectionThreshold: false,
      valid: true,
    });
  }

  #configKey(params: URLSearchParams): { key: string; dataId: string; group: string; tenant: string } {
    const dataId = params.get("dataId") ?? "";
    const group = params.get("group") ?? "";
    const tenant = params.get("tenant") ?? "";
    if (dataId === "" || !ID_REGEXP.test(dataId) || group === "" || !ID_REGEXP.test(group)) {
      throw new BadRequest("caused: invalid dataId or group");
    }
    return { key: `${tenant}|${group}|${dataId}`, dataId, group, tenant };
  }

  #getConfig(params: URLSearchParams): Response {
    const config = this.configs.get(this.#configKey(params).key);
    if (!config) return new Response("config data not exist", { status: 404 });
    return new Response(config.content, { headers: { "Content-MD5": config.md5 } });
  }

  #search(params: URLSearchParams): Response {
    const blur = params.get("search") === "blur";
    const dataId = params.get("dataId") ?? "";
    const group = params.get("group") ?? "";
    const tenant = params.get("tenant") ?? "";
    const pageNo = Number(params.get("pageNo"));
    const pageSize = Number(params.get("pageSize"));
    if (!(pageNo >= 1 && pageSize >= 1)) throw new BadRequest("pageNo and pageSize are required");
    const like = (pattern: string, value: string) =>
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(value);
    const matches = (pattern: string, value: string) =>
      pattern === "" ||
      (blur ? like(pattern.includes("*") ? pattern : `*${pattern}*`, value) : pattern === value);
    const all = [...this.configs.values()]
      .filter((c) => c.tenant === tenant && matches(dataId, c.dataId) && matches(group, c.group))
      .sort((a, b) => a.id - b.id);
    const items = all.slice((pageNo - 1) * pageSize, pageNo * pageSize).map((c) => ({
      id: String(c.id),
      dataId: c.dataId,
      group: c.group,
      content: c.content,
      tenant: c.tenant,
      appName: "",
      type: c.type,
    }));
    return Response.json({
      totalCount: all.length,
      pageNumber: pageNo,
      pagesAvailable: Math.ceil(all.length / pageSize),
      pageItems: items,
    });
  }

  #publish(params: URLSearchParams): Response {
    const { key, dataId, group, tenant } = this.#configKey(params);
    const content = params.get("content") ?? "";
    if (content.trim() === "") throw new BadRequest("caused: invalid content");
    const old = this.configs.get(key);
    this.configs.set(key, {
      dataId,
      group,
      tenant,
      content,
      md5: md5(content),
      type: params.get("type") || "text",
      id: old?.id ?? ++this.#configId,
    });
    this.#changed(key);
    return Response.json(true);
  }

  #deleteConfig(params: URLSearchParams): Response {
    const { key } = this.#configKey(params);
    if (this.configs.delete(key)) this.#changed(key);
    return Response.json(true);
  }

  /** The listened configs whose MD5 differs from the server's ("" for a config that does not exist). */
  #stale(probe: Map<string, string>): string[] {
    return [...probe].filter(([key, hash]) => (this.configs.get(key)?.md5 ?? "") !== hash).map(([key]) =>
      key
    );
  }

  #listen(params: URLSearchParams, request: Request): Response {
    const raw = params.get("Listening-Configs");
    if (!raw) throw new BadRequest("invalid probeModify");
    const probe = new Map<string, string>();
    for (const line of decodeURIComponent(raw).split(LINE)) {
      if (line === "") continue;
      const [dataId, group, hash, tenant = ""] = line.split(WORD);
      if (!dataId || !group || hash === undefined) throw new BadRequest("invalid probeModify");
      probe.set(`${tenant}|${group}|${dataId}`, hash);
    }
    const render = (keys: string[]) => {
      if (keys.length === 0) return "";
      const text = keys.map((key) => {
        const [tenant, group, dataId] = key.split("|");
        return `${dataId}${WORD}${group}${tenant ? `${WORD}${tenant}` : ""}${LINE}`;
      }).join("");
      return `${encodeURIComponent(text)}\n`;
    };
    const stale = this.#stale(probe);
    const timeout = request.headers.get("Long-Pulling-Timeout");
    if (
      stale.length > 0 || timeout === null || request.headers.get("Long-Pulling-Timeout-No-Hangup") === "true"
    ) {
      return new Response(render(stale));
    }
    // Held: the body is written when a listened config changes, the hold ends or the server closes. A client that
    // goes away cancels the body, which ends the hold.
    const holdMs = Math.max(this.#options.minLongPollMs, Number(timeout) - 500);
    let end = (_cancelled: boolean) => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let ended = false;
        const listener = { keys: new Set(probe.keys()), wake: () => end(false) };
        const timer = setTimeout(() => end(false), holdMs);
        end = (cancelled) => {
          if (ended) return;
          ended = true;
          clearTimeout(timer);
          this.#listeners.delete(listener);
          if (cancelled) return;
          const text = this.#closed ? "" : render(this.#stale(probe));
          if (text !== "") controller.enqueue(new TextEncoder().encode(text));
          controller.close();
        };
        this.#listeners.add(listener);
      },
      cancel: () => end(true),
    });
    return new Response(body);
  }
}
