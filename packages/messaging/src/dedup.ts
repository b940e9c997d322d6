/**
 * Bookkeeping for exactly-once processing on top of at-least-once delivery.
 * @module
 */

/**
 * The sequence numbers seen from one sender: everything up to `floor`, plus a set above it.
 * A receiver sees gaps (publishes on topics it does not subscribe to, refused ones), so the floor
 * also moves up to the sender's hint ({@link SeqWindow.advance}): without that the set would grow
 * by one number per message for as long as the sender lives.
 */
export class SeqWindow {
  #floor = 0;
  #above = new Set<number>();
  /** Size of the set after the last pruning (pruning again once it doubles keeps `advance` O(1) amortised). */
  #kept = 0;

  /** Whether `seq` was seen. */
  has(seq: number): boolean {
    return seq <= this.#floor || this.#above.has(seq);
  }

  /** Records `seq`; returns false if it was already seen. */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    if (seq === this.#floor + 1) {
      this.#floor = seq;
      while (this.#above.delete(this.#floor + 1)) this.#floor += 1;
    } else {
      this.#above.add(seq);
    }
    return true;
  }

  /**
   * Counts every number up to `floor` as seen: the sender says everything below its lowest
   * unacknowledged number is done, so none of those can arrive (again).
   */
  advance(floor: number): void {
    if (floor <= this.#floor) return;
    this.#floor = floor;
    while (this.#above.delete(this.#floor + 1)) this.#floor += 1;
    if (this.#above.size > 64 && this.#above.size > 2 * this.#kept) {
      const kept = new Set<number>();
      for (const n of this.#above) if (n > this.#floor) kept.add(n);
      this.#above = kept;
      this.#kept = kept.size;
    }
  }

  /** Numbers held above the floor (for tests and memory bounds). */
  get spread(): number {
    return this.#above.size;
  }
}

/** A Map that forgets its least recently inserted entries beyond `limit`. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

/** Per-origin sequence windows, bounded in the number of origins remembered. */
export class Dedup {
  readonly #windows: BoundedMap<string, SeqWindow>;

  constructor(maxOrigins = 10_000) {
    this.#windows = new BoundedMap(maxOrigins);
  }

  /** Records (origin, seq); returns false if it was already seen. */
  add(origin: string, seq: number): boolean {
    let w = this.#windows.get(origin);
    if (!w) {
      w = new SeqWindow();
      this.#windows.set(origin, w);
    }
    return w.add(seq);
  }

  /** Whether (origin, seq) was seen. */
  has(origin: string, seq: number): boolean {
    return this.#windows.get(origin)?.has(seq) ?? false;
  }

  /** Records (origin, seq), after counting everything below `lo` as seen; returns false if it was already seen. */
  addAbove(origin: string, seq: number, lo: number | undefined): boolean {
    let w = this.#windows.get(origin);
    if (!w) {
      w = new SeqWindow();
      this.#windows.set(origin, w);
    }
    if (lo !== undefined && lo <= seq) w.advance(lo - 1);
    return w.add(seq);
  }

  /** Counts every number of `origin` below `lo` as seen. */
  advance(origin: string, lo: number): void {
    let w = this.#windows.get(origin);
    if (!w) {
      w = new SeqWindow();
      this.#windows.set(origin, w);
    }
    w.advance(lo - 1);
  }

  /** Numbers held above the floor for `origin` (for tests). */
  spread(origin: string): number {
    return this.#windows.get(origin)?.spread ?? 0;
  }
}

/** A map keyed by (origin, seq), without building a string key on every lookup of the hot path. */
export class PairMap<V> {
  readonly #byOrigin = new Map<string, Map<number, V>>();
  #size = 0;

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  get(origin: string, seq: number): V | undefined {
    return this.#byOrigin.get(origin)?.get(seq);
  }

  has(origin: string, seq: number): boolean {
    return this.#byOrigin.get(origin)?.has(seq) ?? false;
  }

  set(origin: string, seq: number, value: V): void {
    let m = this.#byOrigin.get(origin);
    if (!m) {
      m = new Map();
      this.#byOrigin.set(origin, m);
    }
    if (!m.has(seq)) this.#size += 1;
    m.set(seq, value);
  }

  /** Removes (origin, seq); returns whether it was there. */
  delete(origin: string, seq: number): boolean {
    const m = this.#byOrigin.get(origin);
    if (!m?.delete(seq)) return false;
    this.#size -= 1;
    if (m.size === 0) this.#byOrigin.delete(origin);
    return true;
  }

  /** Values, in insertion order within each origin. */
  *values(): IterableIterator<V> {
    for (const m of this.#byOrigin.values()) yield* m.values();
  }
}
