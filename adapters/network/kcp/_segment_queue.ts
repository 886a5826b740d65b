/**
 * Private to `kcp/`: the ring-buffer deque that holds the four KCP queues (`snd_queue`, `snd_buf`, `rcv_buf`,
 * `rcv_queue`). ikcp.c links segments into intrusive lists; here each queue is a
 * power-of-two ring of references, so push/shift are O(1), the rare middle insert/remove (an out-of-order PUSH,
 * a selective ACK) shifts at most a window's worth of references, and nothing is allocated once the ring has grown
 * to the window size.
 *
 * @module
 */

import type { Segment } from "./_segment_pool.ts";

/** A double-ended queue of segments on a ring buffer that grows by doubling and never shrinks. */
export class SegmentQueue {
  #items: (Segment | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;

  /** Makes an empty queue; `capacity` is rounded up to a power of two. */
  constructor(capacity = 8) {
    let size = 8;
    while (size < capacity) size *= 2;
    this.#items = new Array<Segment | undefined>(size).fill(undefined);
    this.#mask = size - 1;
  }

  /** Segments in the queue. */
  get length(): number {
    return this.#length;
  }

  /** The segment at index `i` (0 = front). The caller guarantees `0 <= i < length`. */
  at(i: number): Segment {
    return this.#items[(this.#head + i) & this.#mask]!;
  }

  /** Appends `seg` at the back. */
  push(seg: Segment): void {
    if (this.#length > this.#mask) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = seg;
    this.#length++;
  }

  /** Removes and returns the front segment, or `undefined` when empty. */
  shift(): Segment | undefined {
    if (this.#length === 0) return undefined;
    const i = this.#head;
    const seg = this.#items[i];
    this.#items[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#length--;
    return seg;
  }

  /** Inserts `seg` so that it ends up at index `i` (`0 <= i <= length`), moving the later ones back. */
  insert(i: number, seg: Segment): void {
    if (this.#length > this.#mask) this.#grow();
    const items = this.#items;
    const mask = this.#mask;
    const head = this.#head;
    for (let j = this.#length; j > i; j--) items[(head + j) & mask] = items[(head + j - 1) & mask];
    items[(head + i) & mask] = seg;
    this.#length++;
  }

  /** Removes and returns the segment at index `i` (`0 <= i < length`), moving the later ones forward. */
  removeAt(i: number): Segment {
    const items = this.#items;
    const mask = this.#mask;
    const head = this.#head;
    const seg = items[(head + i) & mask]!;
    const last = this.#length - 1;
    for (let j = i; j < last; j++) items[(head + j) & mask] = items[(head + j + 1) & mask];
    items[(head + last) & mask] = undefined;
    this.#length = last;
    return seg;
  }

  #grow(): void {
    const old = this.#items;
    const size = old.length * 2;
    const items = new Array<Segment | undefined>(size).fill(undefined);
    for (let j = 0; j < this.#length; j++) items[j] = old[(this.#head + j) & this.#mask];
    this.#items = items;
    this.#mask = size - 1;
    this.#head = 0;
  }
}
