/**
 * A real UDP relay for the KCP tests and benchmark: clients send to the relay, the relay forwards to the target
 * from one upstream socket per client address (so the server sees one peer per client), and back. Each direction
 * drops, duplicates, delays (base + uniform jitter) and reorders datagrams with a seeded PRNG, so a failing run can
 * be replayed. One timer delivers every delayed datagram.
 *
 * @module
 */
import { parseAddr } from "../../client/_addr.ts";
import { createRandom } from "./kcp.ts";

/** Options of {@linkcode startLossyUdpRelay}. */
export interface LossyUdpRelayOptions {
  /** Where datagrams go: `host:port` of the server. */
  target: string;
  /** PRNG seed. @default 1 */
  seed?: number;
  /** Probability that a datagram is dropped, each direction. @default 0 */
  loss?: number;
  /** Probability that a forwarded datagram is sent twice (each copy with its own delay). @default 0 */
  duplicate?: number;
  /** Smallest one-way delay in ms. @default 0 */
  delayMs?: number;
  /** Extra one-way delay, uniform in [0, jitterMs]; it reorders datagrams. @default 0 */
  jitterMs?: number;
  /** Probability that a datagram is held back `reorderDelayMs` more, behind later ones. @default 0 */
  reorder?: number;
  /** Extra hold of a reordered datagram. @default 2 × jitterMs + 5 */
  reorderDelayMs?: number;
}

/** Counters of a relay, both directions together. */
export interface LossyUdpRelayStats {
  /** Datagrams received from either side. */
  received: number;
  /** Datagrams dropped. */
  dropped: number;
  /** Extra copies sent. */
  duplicated: number;
  /** Datagrams held back on purpose. */
  heldBack: number;
  /** Datagrams delivered after one that was received after them. */
  reordered: number;
  /** Datagrams sent on. */
  sent: number;
  /** Client addresses seen. */
  clients: number;
}

/** A running relay. */
export interface LossyUdpRelay {
  /** `127.0.0.1:<port>`: where clients send. */
  readonly addr: string;
  /** Counters. */
  readonly stats: LossyUdpRelayStats;
  /** Changes the loss probability of both directions from now on. */
  setLoss(loss: number): void;
  /** Closes every socket and drops what is in flight. */
  close(): Promise<void>;
}

interface Scheduled {
  at: number;
  order: number;
  data: Uint8Array;
  send: (data: Uint8Array) => void;
  /** Per-direction arrival number, to count reordering. */
  seq: number;
  direction: Direction;
}

interface Direction {
  arrived: number;
  delivered: number;
}

/**
 * Starts a relay on a free loopback port.
 *
 * @param options Target and impairments.
 * @returns The running relay.
 */
export function startLossyUdpRelay(options: LossyUdpRelayOptions): Promise<LossyUdpRelay> {
  const {
    target,
    seed = 1,
    duplicate = 0,
    delayMs = 0,
    jitterMs = 0,
    reorder = 0,
    reorderDelayMs = 2 * jitterMs + 5,
  } = options;
  let loss = options.loss ?? 0;
  const targetAddr: Deno.NetAddr = { transport: "udp", ...parseAddr(target, "start lossy UDP relay") };
  const random = createRandom(seed);
  const stats: LossyUdpRelayStats = {
    received: 0,
    dropped: 0,
    duplicated: 0,
    heldBack: 0,
    reordered: 0,
    sent: 0,
    clients: 0,
  };
  const front = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const upstreams = new Map<string, Deno.DatagramConn>();
  const loops: Promise<void>[] = [];
  const queue: Scheduled[] = [];
  let order = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  let closed = false;

  function deliver(item: Scheduled): void {
    if (item.seq < item.direction.delivered) stats.reordered++;
    else item.direction.delivered = item.seq;
    stats.sent++;
    item.send(item.data);
  }

  function onTimer(): void {
    timer = undefined;
    timerAt = Infinity;
    const now = performance.now();
    while (queue.length > 0 && queue[0].at <= now) deliver(queue.shift()!);
    arm();
  }

  function arm(): void {
    if (closed || queue.length === 0) return;
    const at = queue[0].at;
    if (timer !== undefined && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(onTimer, Math.max(0, at - performance.now()));
  }

  function schedule(item: Scheduled): void {
    let i = queue.length;
    while (
      i > 0 && (queue[i - 1].at > item.at || (queue[i - 1].at === item.at && queue[i - 1].order > item.order))
    ) {
      i--;
    }
    queue.splice(i, 0, item);
    arm();
  }

  /** Applies the impairments to one datagram going through `send`. */
  function forward(data: Uint8Array, direction: Direction, send: (data: Uint8Array) => void): void {
    stats.received++;
    const seq = ++direction.arrived;
    if (random() < loss) {
      stats.dropped++;
      return;
    }
    const copies = random() < duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      let delay = delayMs + (jitterMs > 0 ? random() * jitterMs : 0);
      if (reorder > 0 && random() < reorder) {
        stats.heldBack++;
        delay += reorderDelayMs;
      }
      const item: Scheduled = { at: performance.now() + delay, order: order++, data, send, seq, direction };
      if (delay <= 0 && queue.length === 0) deliver(item);
      else schedule(item);
    }
  }

  function sendSafely(socket: Deno.DatagramConn, data: Uint8Array, to: Deno.NetAddr): void {
    if (closed) return;
    socket.send(data, to).catch(() => {});
  }

  async function readLoop(
    socket: Deno.DatagramConn,
    onDatagram: (data: Uint8Array, from: Deno.NetAddr) => void,
  ) {
    for (;;) {
      let data: Uint8Array;
      let from: Deno.Addr;
      try {
        [data, from] = await socket.receive();
      } catch {
        return;
      }
      if (!closed) onDatagram(data, from as Deno.NetAddr);
    }
  }

  const toServer: Direction = { arrived: 0, delivered: 0 };
  const toClients: Direction = { arrived: 0, delivered: 0 };

  loops.push(readLoop(front, (data, from) => {
    const key = `${from.hostname}|${from.port}`;
    let upstream = upstreams.get(key);
    if (upstream === undefined) {
      stats.clients++;
      const up = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      upstream = up;
      upstreams.set(key, up);
      const client: Deno.NetAddr = { transport: "udp", hostname: from.hostname, port: from.port };
      const toClient = (bytes: Uint8Array) => sendSafely(front, bytes, client);
      loops.push(readLoop(up, (reply) => forward(reply, toClients, toClient)));
    }
    const up = upstream;
    forward(data, toServer, (bytes) => sendSafely(up, bytes, targetAddr));
  }));

  const local = front.addr as Deno.NetAddr;
  return Promise.resolve({
    addr: `127.0.0.1:${local.port}`,
    stats,
    setLoss(value: number) {
      loss = value;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      queue.length = 0;
      front.close();
      for (const up of upstreams.values()) up.close();
      await Promise.all(loops);
    },
  });
}
