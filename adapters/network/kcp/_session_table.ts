/**
 * Private to `kcp/`: the gateway's session table. Sessions are found by (conv, remote host, remote port) without
 * building a string per datagram (by conv, then a short chain of sessions of other peers that picked the same
 * conv); it counts sessions per remote IP, pending and lingering ones, and remembers the keys of closed sessions
 * for a quarantine, bounded in size.
 *
 * @module
 */

import type { KcpSession } from "./_session.ts";

function keyOf(hostname: string, port: number, conv: number): string {
  return `${hostname}|${port}|${conv}`;
}

/** Sessions by key, with the counts the server's limits need. */
export class SessionTable {
  /** Sessions held: pending, open and lingering. */
  size = 0;
  /** Sessions not admitted yet. */
  pending = 0;
  /** Sessions closed but still retransmitting. */
  lingering = 0;
  readonly #byConv = new Map<number, KcpSession>();
  readonly #perIp = new Map<string, number>();
  /** Key → when it leaves quarantine; insertion order is expiry order. */
  readonly #quarantine = new Map<string, number>();
  readonly #quarantineMs: number;
  readonly #quarantineCap: number;

  /**
   * @param quarantineMs how long a closed session's key stays quarantined; 0 = never
   * @param quarantineCap most keys kept (the oldest go first)
   */
  constructor(quarantineMs: number, quarantineCap: number) {
    this.#quarantineMs = quarantineMs;
    this.#quarantineCap = quarantineCap;
  }

  /** Keys in quarantine. */
  get quarantined(): number {
    return this.#quarantine.size;
  }

  /** The session of (conv, host, port), if any. */
  find(conv: number, hostname: string, port: number): KcpSession | undefined {
    let session = this.#byConv.get(conv);
    while (session !== undefined && (session.remotePort !== port || session.remoteIp !== hostname)) {
      session = session.nextSameConv;
    }
    return session;
  }

  /** Sessions held for `ip`. */
  countFrom(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /** Whether (conv, host, port) belongs to a session closed less than `quarantineMs` ago. */
  isQuarantined(conv: number, hostname: string, port: number): boolean {
    return this.#quarantine.size > 0 && this.#quarantine.has(keyOf(hostname, port, conv));
  }

  /** Adds a new, pending session. */
  add(session: KcpSession): void {
    session.nextSameConv = this.#byConv.get(session.conv);
    this.#byConv.set(session.conv, session);
    this.#perIp.set(session.remoteIp, this.countFrom(session.remoteIp) + 1);
    this.size++;
    this.pending++;
  }

  /** Removes `session` and quarantines its key from `now`. */
  remove(session: KcpSession, now: number): void {
    const conv = session.conv;
    const head = this.#byConv.get(conv);
    if (head === session) {
      if (session.nextSameConv === undefined) this.#byConv.delete(conv);
      else this.#byConv.set(conv, session.nextSameConv);
    } else {
      let prev = head;
      while (prev !== undefined && prev.nextSameConv !== session) prev = prev.nextSameConv;
      if (prev === undefined) return;
      prev.nextSameConv = session.nextSameConv;
    }
    session.nextSameConv = undefined;
    const ip = session.remoteIp;
    const count = this.countFrom(ip) - 1;
    if (count <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, count);
    this.size--;
    if (!session.promoted) this.pending--;
    if (this.#quarantineMs > 0) {
      const key = keyOf(ip, session.remotePort, conv);
      this.#quarantine.delete(key);
      this.#quarantine.set(key, now + this.#quarantineMs);
      if (this.#quarantine.size > this.#quarantineCap) {
        this.#quarantine.delete(this.#quarantine.keys().next().value!);
      }
    }
  }

  /** Ends the quarantines that are over at `now`. */
  expireQuarantine(now: number): void {
    for (const [key, until] of this.#quarantine) {
      if (until > now) break;
      this.#quarantine.delete(key);
    }
  }

  /** Forgets every quarantine. */
  clearQuarantine(): void {
    this.#quarantine.clear();
  }

  /** A snapshot of every session, safe to close them while walking it. */
  snapshot(): KcpSession[] {
    const out: KcpSession[] = [];
    for (const head of this.#byConv.values()) {
      for (let s: KcpSession | undefined = head; s !== undefined; s = s.nextSameConv) out.push(s);
    }
    return out;
  }
}
