/**
 * Bookkeeping for exactly-once processing on top of at-least-once delivery.
 * @module
 */

/**
 * The sequence numbers seen from one sender: everything up to `floor`, plus a set above it.
 * Senders number consecutively, so the set stays small.
 */
export class SeqWindow {
  #floor = 0;
  readonly #above = new Set<number>();

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
}
