/**
 * The NATS mesh transport (`transport.driver = "nats"`): mesh calls as core NATS request/reply, one connection.
 *
 * A mesh instance subscribes each service it hosts on the subject `<prefix>.<service>` in the queue group of the
 * same name, so every instance hosting a service shares its calls and each call reaches one of them. A node sends
 * a request on that subject and waits up to `timeoutMs` for the reply. Request and reply carry the small binary
 * envelope of `_envelope.ts`:
 *
 * ```text
 * request: | version u8 = 1 | method length u8 | method | codec length u8 | codec | args (rest) |
 * reply:   | 0 | result (rest) |    or    | 1 | code length u8 | due error code | message (rest) |
 * ```
 *
 * An error the mesh answers crosses as {code, message} and becomes a `DueError` with that code again. "No
 * responders" (nobody subscribed the subject) is `no_node`; no reply within `timeoutMs` is a `TimeoutError`.
 *
 * nats.js reconnects for ever with a capped wait and re-sends every subscription, queue groups included, so a
 * mesh keeps serving after a NATS server restart. Calls made while disconnected are buffered by nats.js and
 * time out if the server does not come back within `timeoutMs`.
 *
 * One file of about 400 lines: the serving and the calling half share one connection, its option checks and its
 * error mapping; the envelope itself lives in `_envelope.ts`, the connection in `../_nats.ts`.
 *
 * @module
 */
import {
  ClosedConnectionError,
  type Msg,
  NoRespondersError,
  RequestError,
  type Subscription,
  TimeoutError as NatsTimeoutError,
} from "@nats-io/transport-node";
import { ClosedError, DueError, ErrorCode, errorMessage, TimeoutError } from "../../core/errors.ts";
import type { MeshLink } from "../../core/link.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import { connectNats, natsServers, watchNatsStatus } from "../_nats.ts";
import {
  decodeError,
  encodeError,
  encodeRequest,
  encodeResult,
  ENVELOPE_VERSION,
  ReplyStatus,
  replyStatus,
  requestArgsOffset,
  requestCodec,
  requestMethod,
} from "./_envelope.ts";
import type { MeshTransport, MeshTransportStats, Unserve } from "./types.ts";

/** Default server, as `transport.nats.url`. */
export const DEFAULT_NATS_TRANSPORT_URL = "nats://127.0.0.1:4222";
/** Default request timeout (and first-connect timeout), as `transport.nats.timeout`. */
export const DEFAULT_NATS_TRANSPORT_TIMEOUT_MS = 3_000;
/** Default subject prefix: services are served on `due.mesh.<service>`. */
export const DEFAULT_NATS_TRANSPORT_PREFIX = "due.mesh";
/** Default wait between two reconnect attempts to one server. */
export const DEFAULT_NATS_TRANSPORT_RECONNECT_WAIT_MS = 1_000;

/** Options of {@linkcode createNatsTransport}: the keys of `[transport.nats]`. */
export interface NatsTransportOptions {
  /** Server URL(s). @default "nats://127.0.0.1:4222" */
  url?: string | readonly string[];
  /** How long a call waits for its reply, and the first connection for the server, in milliseconds. @default 3000 */
  timeoutMs?: number;
  /**
   * Subject prefix: a service is served on `<prefix>.<service>`, in the queue group of that name. Every node and
   * mesh of one cluster must use the same prefix; clusters sharing a NATS server need different ones.
   * @default "due.mesh"
   */
  prefix?: string;
  /** Wait between reconnect attempts, in milliseconds. @default 1000 */
  reconnectWaitMs?: number;
  /** Connection name shown by the server's monitoring. @default "due-mesh" */
  name?: string;
  /** Where connection trouble, malformed requests and failed replies are logged. @default a console logger */
  logger?: Logger;
}

/** A NATS subject: dot-separated non-empty tokens without whitespace or wildcards. */
const SUBJECT_REGEXP = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/;
/** The error codes a reply may carry; any other becomes `internal`. */
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
/** Longest timeout or wait a timer can hold (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** Most service subjects a caller remembers (services are few; this only bounds a caller inventing names). */
const MAX_CACHED_SUBJECTS = 1_024;

/**
 * Connects a NATS mesh transport.
 *
 * @throws {TypeError} when `url`, `prefix` or `name` is malformed
 * @throws {RangeError} when `timeoutMs` or `reconnectWaitMs` is not a whole timer delay (1 ms to about 24.8 days)
 * @throws {DueError} `unavailable` (with `addr`) when no server answers within `timeoutMs`
 *
 * @example Serve a mesh's services, call them from a node
 * ```ts ignore
 * import { createNatsTransport } from "./nats.ts";
 * const transport = await createNatsTransport({ url: "nats://127.0.0.1:4222", timeoutMs: 3_000 });
 * const unserve = await transport.serve(mesh.instance.services, mesh.link); // on a mesh instance
 * const link = transport.caller(); // on a node: use it instead of the registry-discovered link
 * const top = codec.decode(await link.call("rank", "top", codec.encode([3]), codec.name));
 * await unserve();
 * await transport.close();
 * ```
 */
export async function createNatsTransport(options: NatsTransportOptions = {}): Promise<MeshTransport> {
  const { url = DEFAULT_NATS_TRANSPORT_URL, timeoutMs = DEFAULT_NATS_TRANSPORT_TIMEOUT_MS } = options;
  const { prefix = DEFAULT_NATS_TRANSPORT_PREFIX, name = "due-mesh" } = options;
  const { reconnectWaitMs = DEFAULT_NATS_TRANSPORT_RECONNECT_WAIT_MS } = options;
  const { logger = createLogger({ attrs: { component: "transport.nats" } }) } = options;
  const servers = natsServers(url, "nats transport");
  if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new RangeError(
      `Cannot create nats transport as 'timeoutMs' must be >= 1 and <= ${MAX_TIMEOUT_MS}: current value is ${timeoutMs}`,
    );
  }
  if (!(reconnectWaitMs >= 1 && reconnectWaitMs <= MAX_TIMEOUT_MS)) {
    throw new RangeError(
      `Cannot create nats transport as 'reconnectWaitMs' must be >= 1 and <= ${MAX_TIMEOUT_MS}: current value is ${reconnectWaitMs}`,
    );
  }
  if (typeof prefix !== "string" || !SUBJECT_REGEXP.test(prefix)) {
    throw new TypeError(
      `Cannot create nats transport as 'prefix' must be a NATS subject (dot-separated tokens without spaces, '*' or '>'): current value is ${
        JSON.stringify(prefix)
      }`,
    );
  }
  if (typeof name !== "string") {
    throw new TypeError(`Cannot create nats transport as 'name' must be a string: current value is ${name}`);
  }
  const addr = servers.join(",");

  const nc = await connectNats(servers, "nats transport", {
    timeoutMs,
    reconnectWaitMs,
    name,
    // Our errors carry their own stack; this saves an Error (and its stack trace) per request.
    noAsyncTraces: true,
  });
  const watching = watchNatsStatus(nc, logger, addr);
  const stats: MeshTransportStats = { served: 0, failed: 0, dropped: 0 };
  const unserves = new Set<Unserve>();
  const callSubjects = new Map<string, string>();
  let closed = false;

  function subjectOf(service: string): string {
    const subject = `${prefix}.${service}`;
    if (typeof service !== "string" || !SUBJECT_REGEXP.test(subject)) {
      throw new TypeError(
        `Cannot use mesh service name on nats as it must be a non-empty NATS subject without spaces, '*' or '>': current value is ${
          JSON.stringify(service)
        }`,
      );
    }
    return subject;
  }

  function maxPayload(): number {
    return nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
  }

  function failure(code: string, message: string): Uint8Array {
    stats.failed++;
    return encodeError(code, message);
  }

  /** Answers one request. Never rejects: every failure is an error reply, or logged and counted. */
  async function answer(service: string, msg: Msg, link: MeshLink): Promise<void> {
    if (!msg.reply) {
      stats.dropped++;
      logger.warn("nats mesh message without a reply subject dropped", { service, addr });
      return;
    }
    const data = msg.data;
    const off = requestArgsOffset(data);
    const method = off < 0 ? undefined : requestMethod(data);
    const codec = off < 0 ? undefined : requestCodec(data);
    let reply: Uint8Array;
    if (method === undefined || codec === undefined) {
      logger.warn("nats mesh request malformed", { service, addr, bytes: data.length });
      reply = failure(
        ErrorCode.InvalidPacket,
        `Cannot call mesh service ${service}: the request is not a version ${ENVELOPE_VERSION} mesh call`,
      );
    } else {
      try {
        reply = encodeResult(await link.call(service, method, view(data, off), codec));
        if (reply.length > maxPayload()) {
          reply = failure(
            ErrorCode.PacketTooLarge,
            `Cannot answer mesh call ${service}.${method}: result of ${
              reply.length - 1
            } bytes is above the NATS max_payload of ${maxPayload()} bytes`,
          );
        }
      } catch (err) {
        reply = failure(DueError.is(err) ? err.code : ErrorCode.Internal, errorMessage(err));
      }
    }
    try {
      msg.respond(reply);
      stats.served++;
    } catch (err) {
      stats.dropped++;
      logger.warn("nats mesh reply failed", { service, addr, error: errorMessage(err) });
    }
  }

  async function serve(services: readonly string[], link: MeshLink): Promise<Unserve> {
    if (closed) {
      throw new ClosedError(`Cannot serve mesh services on nats at ${addr}: the transport is closed`);
    }
    if (!Array.isArray(services)) {
      throw new TypeError(
        `Cannot serve mesh services on nats as 'services' must be an array of names: current value is ${services}`,
      );
    }
    if (typeof link?.call !== "function") {
      throw new TypeError(
        "Cannot serve mesh services on nats as 'link' must be a MeshLink with a call method",
      );
    }
    const subjects = services.map(subjectOf);
    let inflight = 0;
    let idle: (() => void) | undefined;
    const settled = () => {
      if (--inflight === 0) idle?.();
    };
    const crashed = (err: unknown) => {
      stats.dropped++;
      logger.error("nats mesh answer crashed", { addr, error: errorMessage(err) });
      settled();
    };
    const subs: Subscription[] = subjects.map((subject, i) => {
      const service = services[i];
      return nc.subscribe(subject, {
        queue: subject,
        callback: (err, msg) => {
          if (err) {
            logger.warn("nats mesh subscription error", { service, addr, error: err.message });
            return;
          }
          inflight++;
          answer(service, msg, link).then(settled, crashed);
        },
      });
    });
    let stopped = false;
    const unserve: Unserve = async () => {
      if (stopped) return;
      stopped = true;
      unserves.delete(unserve);
      await bounded(Promise.allSettled(subs.map((s) => s.drain())), timeoutMs);
      if (inflight > 0) await bounded(new Promise<void>((resolve) => idle = resolve), timeoutMs);
    };
    unserves.add(unserve);
    // The server knows the subscriptions once it answered a PING sent after the SUBs.
    const flushed = nc.flush();
    let failed: unknown;
    try {
      if (!await bounded(flushed, timeoutMs)) failed = new Error(`no answer within ${timeoutMs} ms`);
    } catch (err) {
      failed = err;
    }
    if (failed !== undefined) {
      stopped = true;
      unserves.delete(unserve);
      for (const sub of subs) sub.unsubscribe();
      if (closed) {
        throw new ClosedError(`Cannot serve mesh services on nats at ${addr}: the transport closed`);
      }
      throw new DueError(
        ErrorCode.Unavailable,
        `Cannot serve mesh services ${services.join(",")} on nats at ${addr}: ${errorMessage(failed)}`,
        { addr, cause: failed },
      );
    }
    logger.debug("nats mesh services served", { services: services.join(","), addr });
    return unserve;
  }

  function callSubject(service: string): string {
    let subject = callSubjects.get(service);
    if (subject === undefined) {
      subject = subjectOf(service);
      if (callSubjects.size < MAX_CACHED_SUBJECTS) callSubjects.set(service, subject);
    }
    return subject;
  }

  function requestFailed(err: unknown, service: string, method: string): DueError {
    const what = `Cannot call mesh service ${service}.${method}`;
    if (closed || err instanceof ClosedConnectionError || err instanceof RequestError && isClosedCause(err)) {
      return new ClosedError(`${what}: the nats transport is closed`, { addr, cause: err });
    }
    if (err instanceof NatsTimeoutError) {
      return new TimeoutError(`${what}: no answer within ${timeoutMs} ms`, { addr, cause: err });
    }
    if (err instanceof NoRespondersError || err instanceof RequestError && err.isNoResponders()) {
      return new DueError(ErrorCode.NoNode, `${what}: no instance serves it`, { addr, cause: err });
    }
    return new DueError(ErrorCode.Unavailable, `${what} on nats at ${addr}: ${errorMessage(err)}`, {
      addr,
      cause: err,
    });
  }

  async function call(service: string, method: string, args: Uint8Array, codec: string): Promise<Uint8Array> {
    if (closed) {
      throw new ClosedError(`Cannot call mesh service ${service}.${method}: the nats transport is closed`, {
        addr,
      });
    }
    const subject = callSubject(service);
    const payload = encodeRequest(method, codec, args);
    if (payload.length > maxPayload()) {
      throw new DueError(
        ErrorCode.PacketTooLarge,
        `Cannot call mesh service ${service}.${method}: request of ${payload.length} bytes is above the NATS max_payload of ${maxPayload()} bytes`,
        { addr },
      );
    }
    let msg: Msg;
    try {
      msg = await nc.request(subject, payload, { timeout: timeoutMs });
    } catch (err) {
      throw requestFailed(err, service, method);
    }
    const data = msg.data;
    const status = replyStatus(data);
    if (status === ReplyStatus.Ok) return view(data, 1);
    const error = status === ReplyStatus.Error ? decodeError(data) : undefined;
    if (error === undefined) {
      throw new DueError(
        ErrorCode.InvalidPacket,
        `Cannot call mesh service ${service}.${method}: the answer is not a mesh reply (${data.length} bytes)`,
        { addr },
      );
    }
    const code = ERROR_CODES.has(error.code) ? error.code as ErrorCode : ErrorCode.Internal;
    const message = error.message ||
      `Cannot call mesh service ${service}.${method}: the mesh answered ${code}`;
    if (code === ErrorCode.Timeout) throw new TimeoutError(message, { addr });
    if (code === ErrorCode.Closed) throw new ClosedError(message, { addr });
    throw new DueError(code, message, { addr });
  }

  const link: MeshLink = { call };

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.all([...unserves].map((unserve) => unserve()));
    await nc.close();
    await watching;
  }

  return {
    serve,
    caller: () => link,
    get stats(): Readonly<MeshTransportStats> {
      return stats;
    },
    close,
  } satisfies MeshTransport;
}

/**
 * `bytes` from `start` on as a plain `Uint8Array` view: nats.js hands out Node `Buffer`s, whose `slice` does not
 * copy, and our callers expect `Uint8Array` semantics.
 */
function view(bytes: Uint8Array, start: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
}

/** Whether a request failed because the connection closed under it. */
function isClosedCause(err: RequestError): boolean {
  return err.cause instanceof ClosedConnectionError || err.message === "connection closed";
}

/** Waits for `promise` at most `ms`; resolves `true` when it settled in time. Clears its timer either way. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = promise.then(() => true);
  done.catch(() => {}); // a rejection after the deadline is nobody's business
  try {
    return await Promise.race([
      done,
      new Promise<boolean>((resolve) => timer = setTimeout(resolve, ms, false)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
