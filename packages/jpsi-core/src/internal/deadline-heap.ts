/**
 * One timer for many deadlines: an indexed binary min-heap, so thousands of jobs cost one
 * setTimeout and O(log n) per insert/remove instead of one timer each.
 * @module
 */

/** Something that can sit in a {@link DeadlineHeap}. The heap owns `heapIndex`. */
export interface HeapItem {
  /** Epoch milliseconds when the item is due. */
  deadline: number;
  /** Position in the heap, -1 when not in it. */
  heapIndex: number;
}

/** A min-heap of deadlines driving a single timer. */
export class DeadlineHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  readonly #onDue: (item: T) => void;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #stopped = false;
  #firing = false;

  /** @param onDue called once for each item whose deadline passed (the item is already removed). */
  constructor(onDue: (item: T) => void) {
    this.#onDue = onDue;
  }

  /** Number of items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Inserts `item` due at `deadline`, or moves it there if it is already in. */
  schedule(item: T, deadline: number): void {
    if (item.heapIndex >= 0) this.remove(item);
    item.deadline = deadline;
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
    this.#arm();
  }

  /** Removes `item` if it is in the heap. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.#items[i] !== item) return;
    const last = this.#items.pop()!;
    item.heapIndex = -1;
    if (last !== item) {
      this.#items[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
    this.#arm();
  }

  /** Clears the timer for good; items stay but never fire. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Re-arms the timer only when the earliest deadline moved earlier, or the heap emptied (so an
   * idle executor holds no timer). When the head is removed the armed timer stays: it may fire
   * early, finds nothing due and re-arms. That saves a clearTimeout + setTimeout per job, since
   * jobs mostly end in the order they started (each end removes the head).
   */
  #arm(): void {
    if (this.#stopped || this.#firing) return;
    const head = this.#items[0];
    const at = head ? head.deadline : Infinity;
    if (at === this.#armedFor || (head && at > this.#armedFor)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = at;
    if (at === Infinity) return;
    // setTimeout's limit is 2^31-1 ms; a later deadline just re-arms when that fires.
    this.#timer = setTimeout(() => this.#fire(), Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = Date.now();
    this.#firing = true; // re-arm once at the end, not once per item
    try {
      while (!this.#stopped && this.#items.length > 0 && this.#items[0]!.deadline <= now) {
        const item = this.#items[0]!;
        this.remove(item);
        this.#onDue(item);
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  }

  #up(i: number): void {
    const a = this.#items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.deadline <= a[i]!.deadline) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const a = this.#items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]!.deadline < a[m]!.deadline) m = l;
      if (r < a.length && a[r]!.deadline < a[m]!.deadline) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(i: number, j: number): void {
    const a = this.#items;
    const x = a[i]!;
    const y = a[j]!;
    a[i] = y;
    a[j] = x;
    x.heapIndex = j;
    y.heapIndex = i;
  }
}
