/**
 * Private to `kcp/`: an indexed binary min-heap of items by due time, so one timer can drive every KCP session of
 * a server. Each item stores its own position, so moving or removing it is O(log n) and nothing is allocated per
 * operation once the array has grown.
 *
 * @module
 */

/** What the heap orders: a due time, and the item's index in the heap (-1 when not in it). */
export interface DueItem {
  /** When the item is due, in ms on the caller's clock. */
  dueAt: number;
  /** Position in the heap; -1 when not in it. Only the heap writes it. */
  heapIndex: number;
}

/** A min-heap of {@linkcode DueItem}s keyed by `dueAt`. */
export class DueHeap<T extends DueItem> {
  readonly #items: T[] = [];

  /** Items in the heap. */
  get size(): number {
    return this.#items.length;
  }

  /** The item due first, or `undefined`. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Inserts `item` due at `dueAt`, or moves it there if it is already in the heap. */
  set(item: T, dueAt: number): void {
    if (item.heapIndex >= 0) {
      const earlier = dueAt < item.dueAt;
      item.dueAt = dueAt;
      if (earlier) this.#up(item.heapIndex);
      else this.#down(item.heapIndex);
      return;
    }
    item.dueAt = dueAt;
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  /** Removes `item` if it is in the heap. */
  delete(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const last = this.#items.pop()!;
    if (i === this.#items.length) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  /** Removes and returns the item due first, or `undefined`. */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.delete(top);
    return top;
  }

  /** Removes every item. */
  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (p.dueAt <= item.dueAt) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && items[child + 1].dueAt < items[child].dueAt) child++;
      const c = items[child];
      if (c.dueAt >= item.dueAt) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
