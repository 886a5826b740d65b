/**
 * The gate's session table: connections by cid, bound users by uid, and gate-local channels.
 *
 * @module
 */

import { SessionKind } from "../core/cluster.ts";
import type { Conn } from "../adapters/network/types.ts";

/** Connections and users of one gate. */
export class Sessions {
  readonly #byCid = new Map<number, Conn>();
  readonly #byUid = new Map<number, Conn>();
  readonly #channels = new Map<string, Set<Conn>>();
  readonly #channelsOf = new Map<Conn, Set<string>>();

  /** Open connections. */
  get connCount(): number {
    return this.#byCid.size;
  }

  /** Bound users. */
  get userCount(): number {
    return this.#byUid.size;
  }

  /** Adds a new connection. */
  add(conn: Conn): void {
    this.#byCid.set(conn.id, conn);
  }

  /** Removes a closed connection and its channel memberships; returns whether it still held its uid. */
  remove(conn: Conn): boolean {
    this.#byCid.delete(conn.id);
    const channels = this.#channelsOf.get(conn);
    if (channels) {
      for (const name of channels) this.#leave(name, conn);
      this.#channelsOf.delete(conn);
    }
    if (conn.uid !== 0 && this.#byUid.get(conn.uid) === conn) {
      this.#byUid.delete(conn.uid);
      return true;
    }
    return false;
  }

  /** The connection `cid`. */
  conn(cid: number): Conn | undefined {
    return this.#byCid.get(cid);
  }

  /** The connection of user `uid`. */
  user(uid: number): Conn | undefined {
    return this.#byUid.get(uid);
  }

  /** The session a target names. */
  find(kind: SessionKind, target: number): Conn | undefined {
    return kind === SessionKind.User ? this.#byUid.get(target) : this.#byCid.get(target);
  }

  /** Every connection (`Conn`) or every bound connection (`User`). */
  all(kind: SessionKind): IterableIterator<Conn> {
    return kind === SessionKind.User ? this.#byUid.values() : this.#byCid.values();
  }

  /** Records `uid` → `conn`; returns the connection that held `uid` before, if another. */
  bind(conn: Conn, uid: number): Conn | undefined {
    const previous = this.#byUid.get(uid);
    if (conn.uid !== 0 && conn.uid !== uid && this.#byUid.get(conn.uid) === conn) {
      this.#byUid.delete(conn.uid);
    }
    this.#byUid.set(uid, conn);
    conn.bind(uid);
    return previous !== conn ? previous : undefined;
  }

  /** Forgets the binding of `uid`; returns the connection that held it. */
  unbind(uid: number): Conn | undefined {
    const conn = this.#byUid.get(uid);
    if (!conn) return undefined;
    this.#byUid.delete(uid);
    conn.unbind();
    return conn;
  }

  /**
   * Forgets the binding of `uid` but leaves the connection's uid set, so its disconnect event still names the user
   * (a connection closed because the user logged in elsewhere).
   */
  release(uid: number): Conn | undefined {
    const conn = this.#byUid.get(uid);
    this.#byUid.delete(uid);
    return conn;
  }

  /** Subscribes a connection to a channel. */
  subscribe(conn: Conn, channel: string): void {
    let members = this.#channels.get(channel);
    if (!members) this.#channels.set(channel, members = new Set());
    members.add(conn);
    let names = this.#channelsOf.get(conn);
    if (!names) this.#channelsOf.set(conn, names = new Set());
    names.add(channel);
  }

  /** Unsubscribes a connection from a channel. */
  unsubscribe(conn: Conn, channel: string): void {
    this.#leave(channel, conn);
    this.#channelsOf.get(conn)?.delete(channel);
  }

  /** Subscribers of a channel. */
  subscribers(channel: string): ReadonlySet<Conn> | undefined {
    return this.#channels.get(channel);
  }

  #leave(channel: string, conn: Conn): void {
    const members = this.#channels.get(channel);
    if (!members) return;
    members.delete(conn);
    if (members.size === 0) this.#channels.delete(channel);
  }
}
