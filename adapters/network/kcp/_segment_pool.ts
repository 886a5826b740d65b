/**
 * Private to `kcp/`: the segment record and one free-list of segments shared by every endpoint in the process.
 *
 * Sharing matters for a server: a busy session reuses what others freed, an idle session holds no spare
 * segments, and the spare memory of the whole process is bounded by {@linkcode POOL_MAX_BYTES}. A segment's
 * `data` is always written before it is read, so no bytes leak from one session to another.
 *
 * @module
 */

/**
 * One KCP segment as kept by an endpoint. Only the fields the state machine reads are stored: `conv`, `cmd`,
 * `wnd` and `una` are written at flush time from the endpoint's own state. `data` has room for at least `len`
 * bytes; its capacity is usually the endpoint's mss so the object can be pooled and reused.
 */
export class Segment {
  /** Sequence number. */
  sn = 0;
  /** Fragments that follow in the message. */
  frg = 0;
  /** Time of the last transmission. */
  ts = 0;
  /** Data bytes in use at the start of `data`. */
  len = 0;
  /** When the segment is due for a timeout resend. */
  resendts = 0;
  /** This segment's retransmission timeout. */
  rto = 0;
  /** ACKs of later segments seen since the last transmission. */
  fastack = 0;
  /** Transmissions so far. */
  xmit = 0;
  /** Payload storage. */
  data: Uint8Array;

  /** Makes a segment with room for `capacity` data bytes. */
  constructor(capacity: number) {
    this.data = new Uint8Array(capacity);
  }
}

/** Spare segment data the process keeps for reuse, in bytes. */
const POOL_MAX_BYTES = 8 * 1024 * 1024;

const pool: Segment[] = [];
let pooledBytes = 0;

/**
 * A segment with room for at least `size` data bytes, from the pool when possible.
 *
 * @param size Bytes the caller is about to write.
 * @param capacity Room to give a new segment's data when `size` is smaller (the endpoint's mss).
 * @returns A segment whose fields the caller must set.
 */
export function acquireSegment(size: number, capacity: number): Segment {
  const seg = pool.pop();
  if (seg === undefined) return new Segment(size > capacity ? size : capacity);
  pooledBytes -= seg.data.length;
  if (seg.data.length < size) seg.data = new Uint8Array(size > capacity ? size : capacity);
  return seg;
}

/**
 * Returns a segment that is in no queue any more; it is dropped when the pool's byte budget is spent.
 *
 * @param seg The segment.
 */
export function releaseSegment(seg: Segment): void {
  const bytes = seg.data.length;
  if (pooledBytes + bytes > POOL_MAX_BYTES) return;
  pooledBytes += bytes;
  pool.push(seg);
}
