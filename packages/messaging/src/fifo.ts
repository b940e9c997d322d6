/**
 * A first-in first-out queue with O(1) `shift`: `Array.prototype.shift` copies the whole array,
 * which made waking one of thousands of waiting publishes quadratic.
 * @module
 */

/** A FIFO queue; entries can be removed out of order by {@link Fifo.delete} (left as holes). */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #size = 0;

  /** Entries queued. */
  get size(): number {
    return this.#size;
  }

  /** Appends `item`. */
  push(item: T): void {
    this.#items.push(item);
    this.#size += 1;
  }

  /** Removes and returns the oldest entry. */
  shift(): T | undefined {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (item !== undefined) {
        this.#size -= 1;
        this.#compact();
        return item;
      }
    }
    return undefined;
  }

  /** Removes `item` wherever it is (rare: an aborted wait). */
  delete(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0) return false;
    this.#items[i] = undefined;
    this.#size -= 1;
    return true;
  }

  /** Removes and returns every entry, oldest first. */
  drain(): T[] {
    const out = this.#items.slice(this.#head).filter((x): x is T => x !== undefined);
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
    return out;
  }

  #compact(): void {
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
