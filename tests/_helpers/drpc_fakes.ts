/**
 * Fakes of what a cluster link server serves — a gate, a node provider, a mesh — that record every call and
 * answer fixed values, plus a raw TCP peer for tests that must put exact (or broken) bytes on the wire.
 *
 * @module
 */

import { SessionKind, State } from "../../core/cluster.ts";
import type { ClusterEvent } from "../../core/cluster.ts";
import { DueError, ErrorCode } from "../../core/errors.ts";
import type { GateLink, MeshLink, NodeProvider, Peer, PushOptions } from "../../core/link.ts";

/** Bytes as lowercase hex pairs separated by spaces. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

export { waitFor } from "./wait.ts";

/** Sleeps `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A session target the fake gate does not know: calls about it fail with `not_found_session`. */
export const MISSING = 404;
/** The user the fake gate knows. */
export const ONLINE_UID = 10001;

/** A {@linkcode GateLink} that records calls and answers fixed values. */
export interface FakeGate extends GateLink {
  /** Every call: method name then arguments (client packets as hex). */
  readonly calls: unknown[][];
  /** When set, `bind` waits for this promise (call-timeout tests). */
  hold?: Promise<void>;
}

/** Creates a {@linkcode FakeGate}. */
export function createFakeGate(): FakeGate {
  const calls: unknown[][] = [];
  let state: State = State.Busy;
  const notFound = (target: number) =>
    new DueError(ErrorCode.NotFoundSession, `Cannot find session ${target} on the fake gate`);
  const gate: FakeGate = {
    calls,
    async bind(cid, uid) {
      calls.push(["bind", cid, uid]);
      if (gate.hold) await gate.hold;
      if (cid === MISSING) throw notFound(cid);
    },
    unbind(uid) {
      calls.push(["unbind", uid]);
      return Promise.resolve();
    },
    getIP(kind, target) {
      calls.push(["getIP", kind, target]);
      return Promise.resolve(target === ONLINE_UID ? "10.1.2.3" : target === 6 ? "::1" : undefined);
    },
    stat(kind) {
      calls.push(["stat", kind]);
      return Promise.resolve(kind === SessionKind.Conn ? 42 : 0);
    },
    isOnline(kind, target) {
      calls.push(["isOnline", kind, target]);
      return Promise.resolve(target === ONLINE_UID);
    },
    disconnect(kind, target, force) {
      calls.push(["disconnect", kind, target, force]);
      return target === MISSING ? Promise.reject(notFound(target)) : Promise.resolve();
    },
    push(kind, target, packet, options?: PushOptions) {
      calls.push(["push", kind, target, hex(packet), options?.disconnect === true]);
    },
    multicast(kind, targets, packet, options) {
      calls.push(["multicast", kind, targets.length, targets[0], hex(packet), options?.disconnect === true]);
      return Promise.resolve(targets.length);
    },
    broadcast(kind, packet, options) {
      calls.push(["broadcast", kind, hex(packet), options?.disconnect === true]);
      return Promise.resolve(7);
    },
    publish(channel, packet, options) {
      calls.push(["publish", channel, hex(packet), options?.disconnect === true]);
      return Promise.resolve(3);
    },
    subscribe(kind, targets, channel) {
      calls.push(["subscribe", kind, [...targets], channel]);
      return Promise.resolve();
    },
    unsubscribe(kind, targets, channel) {
      calls.push(["unsubscribe", kind, [...targets], channel]);
      return Promise.resolve();
    },
    getState() {
      calls.push(["getState"]);
      return Promise.resolve(state);
    },
    setState(next) {
      calls.push(["setState", next]);
      state = next;
      return Promise.resolve();
    },
  };
  return gate;
}

/** One delivery as the fake node saw it. */
export interface FakeDelivery {
  from: Peer;
  cid: number;
  uid: number;
  /** The packet object as handed over (to check it is a private copy). */
  packet: Uint8Array;
}

/** A {@linkcode NodeProvider} that records what it is given. */
export interface FakeNode extends NodeProvider {
  readonly delivered: FakeDelivery[];
  readonly triggered: { from: Peer; event: ClusterEvent; cid: number; uid: number }[];
  readonly states: State[];
}

/** Creates a {@linkcode FakeNode} in state `work`. */
export function createFakeNode(): FakeNode {
  let state: State = State.Work;
  const node: FakeNode = {
    delivered: [],
    triggered: [],
    states: [],
    deliver(from, cid, uid, packet) {
      node.delivered.push({ from, cid, uid, packet });
    },
    trigger(from, event, cid, uid) {
      node.triggered.push({ from, event, cid, uid });
    },
    getState: () => state,
    setState(next) {
      node.states.push(next);
      state = next;
    },
  };
  return node;
}

/** A {@linkcode MeshLink} hosting `rank.top(n)` (JSON) which answers `[1, …, n]`. */
export function createFakeMesh(): MeshLink & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    call(service, method, args, codec) {
      calls.push(`${service}.${method}:${codec}`);
      if (service !== "rank" || method !== "top") {
        return Promise.reject(
          new DueError(
            ErrorCode.RouteNotFound,
            `Cannot call mesh service ${service}.${method}: no such service`,
          ),
        );
      }
      const [n] = JSON.parse(new TextDecoder().decode(args)) as [number];
      if (n < 0) return Promise.reject(new Error("negative count"));
      return Promise.resolve(
        new TextEncoder().encode(JSON.stringify(Array.from({ length: n }, (_, i) => i + 1))),
      );
    },
  };
}

/** A raw TCP peer of a link server. */
export interface RawPeer {
  /** Writes bytes. */
  write(bytes: Uint8Array): Promise<void>;
  /** Reads until `n` bytes arrived; rejects on end of stream. */
  read(n: number): Promise<Uint8Array>;
  /** Resolves `true` when the server closed the connection within `timeoutMs`. */
  closedWithin(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Connects a raw TCP peer to `addr` (`host:port`). */
export async function connectRaw(addr: string): Promise<RawPeer> {
  const i = addr.lastIndexOf(":");
  const conn = await Deno.connect({ hostname: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
  let pending = new Uint8Array(0);
  let closed = false;
  let ended = false;
  /** Reads once: "data", "eof" (the server closed), or "timeout" (then the socket is closed by us). */
  const readMore = async (timeoutMs: number): Promise<"data" | "eof" | "timeout"> => {
    const buf = new Uint8Array(4096);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), timeoutMs)
    );
    const reading = conn.read(buf).catch(() => null);
    const n = await Promise.race([reading, timeout]);
    clearTimeout(timer);
    if (n === "timeout") {
      closed = true;
      conn.close();
      await reading;
      return "timeout";
    }
    if (n === null) {
      closed = true;
      ended = true;
      return "eof";
    }
    const merged = new Uint8Array(pending.length + n);
    merged.set(pending);
    merged.set(buf.subarray(0, n), pending.length);
    pending = merged;
    return "data";
  };
  return {
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
    async read(n) {
      while (pending.length < n) {
        if (closed || (await readMore(3000)) !== "data") {
          throw new Error(`stream ended after ${pending.length} of ${n} bytes`);
        }
      }
      const out = pending.slice(0, n);
      pending = pending.slice(n);
      return out;
    },
    async closedWithin(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (true) {
        if (ended) return true;
        if (closed) return false;
        const result = await readMore(Math.max(1, deadline - performance.now()));
        if (result === "eof") return true;
        if (result === "timeout") return false;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}
