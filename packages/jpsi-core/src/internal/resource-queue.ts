/**
 * A FIFO queue of work items that each need some amount of a resource (cores, nodes) out of a
 * fixed capacity: the local executor's core queue, and the pilot's placement queue.
 * @module
 */

/** How a {@link ResourceQueue} sizes and starts its items. */
export interface ResourceQueueOptions<T> {
  /** Units available at once (cores, nodes); at least 1. */
  readonly capacity: number;
  /** Units `item` holds while it runs. */
  readonly cost: (item: T) => number;
  /** Called when `item` leaves the queue holding its units; it must not throw. */
  readonly start: (item: T) => void;
}

/**
 * Strict FIFO: the head starts as soon as its units are free, and nothing overtakes it (a wide job
 * is never starved by narrow ones). An item wider than the whole capacity starts alone once nothing
 * else holds units, so it runs rather than waiting forever. Items already running elsewhere (adopted
 * from a dead executor) are counted with {@link ResourceQueue.hold} without being started.
 * Enqueue, dequeue and withdraw are O(1); withdrawn items are skipped when their turn comes.
 */
export class ResourceQueue<T extends object> {
  readonly #options: ResourceQueueOptions<T>;
  // An array with a moving head: dequeue without shifting.
  #waiting: T[] = [];
  #head = 0;
  // Items in #waiting not yet started or skipped, and those of them withdrawn: O(1) withdraw and count.
  readonly #queued = new WeakSet<T>();
  readonly #withdrawn = new WeakSet<T>();
  #waitingCount = 0;
  readonly #holding = new Map<T, number>();
  #used = 0;
  #paused = false;
  #pumping = false;

  constructor(options: ResourceQueueOptions<T>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`ResourceQueue capacity must be a whole number ≥ 1, not ${options.capacity}`);
    }
    this.#options = options;
  }

  /** The capacity. */
  get capacity(): number {
    return this.#options.capacity;
  }

  /** Units held now (may exceed the capacity when adopted or oversized items run). */
  get used(): number {
    return this.#used;
  }

  /** Items holding units now. */
  get running(): number {
    return this.#holding.size;
  }

  /** Items waiting (withdrawn ones not counted). */
  get waiting(): number {
    return this.#waitingCount;
  }

  /** Appends `item` and starts what fits. A withdrawn item not yet skipped waits again at its old place. */
  enqueue(item: T): void {
    if (this.#holding.has(item)) return;
    if (this.#queued.has(item)) {
      if (this.#withdrawn.delete(item)) this.#waitingCount++;
      this.pump();
      return;
    }
    this.#queued.add(item);
    this.#waitingCount++;
    this.#waiting.push(item);
    this.pump();
  }

  /** Takes a waiting `item` out of the queue (it is skipped when its turn comes); true if it was waiting. */
  withdraw(item: T): boolean {
    if (!this.#queued.has(item) || this.#withdrawn.has(item)) return false;
    this.#withdrawn.add(item);
    this.#waitingCount--;
    return true;
  }

  /** Counts `item`, already running, against the capacity without starting it. */
  hold(item: T): void {
    if (this.#holding.has(item)) return;
    const cost = this.#options.cost(item);
    this.#holding.set(item, cost);
    this.#used += cost;
  }

  /** True while `item` holds units. */
  holds(item: T): boolean {
    return this.#holding.has(item);
  }

  /** Gives back `item`'s units (a no-op if it holds none) and starts what now fits. */
  release(item: T): void {
    const cost = this.#holding.get(item);
    if (cost === undefined) return;
    this.#holding.delete(item);
    this.#used -= cost;
    this.pump();
  }

  /** Stops starting items (they stay queued); for an executor that is closing. */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Starts waiting items, in order, while the head's units are free. Re-entrant calls (a `start`
   * that releases at once, as a failed spawn does) return at once: the running loop sees the change.
   */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.#drain();
    } finally {
      this.#pumping = false;
    }
    // Compact once the consumed prefix dominates, so memory follows what still waits.
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }

  #drain(): void {
    const q = this.#waiting;
    const capacity = this.#options.capacity;
    while (!this.#paused && this.#head < q.length) {
      const item = q[this.#head]!;
      if (this.#withdrawn.has(item)) {
        this.#withdrawn.delete(item);
        this.#queued.delete(item);
        this.#head++;
        continue;
      }
      const cost = this.#options.cost(item);
      const fits = cost <= capacity - this.#used || (cost > capacity && this.#holding.size === 0);
      if (!fits) break;
      this.#head++;
      this.#queued.delete(item);
      this.#waitingCount--;
      this.#holding.set(item, cost);
      this.#used += cost;
      this.#options.start(item);
    }
  }
}
