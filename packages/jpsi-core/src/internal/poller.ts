/**
 * The poller contract every executor that watches a remote backend shares (batch schedulers, a
 * pilot's agent): one query per interval for all active keys, never one per key; on failure the
 * last known result is kept, a problem message is recorded and polling backs off. The poller never
 * invents a result: a key only changes when a query answered for it.
 * @module
 */

/** What one poll learns about one key. `undefined` in the answer map = the backend no longer knows the key. */
export type PollAnswer<R> = ReadonlyMap<string, R>;

/** Options of {@link Poller}. */
export interface PollerOptions {
  /** Time from the start of one query to the start of the next when they succeed, in ms. @default 5000 */
  intervalMs?: number;
  /** Delay before the first query after a key is added to an idle poller, in ms. @default 1000 */
  initialDelayMs?: number;
  /** Upper bound of the delay after consecutive failures, in ms. @default 60000 */
  maxBackoffMs?: number;
  /** Factor the delay grows by after each consecutive failure. @default 2 */
  backoffFactor?: number;
}

/** What the poller knows about one key. */
export interface PollerEntry<R> {
  /** The key (a native id). */
  readonly key: string;
  /** The last answer a successful query gave for the key; undefined before the first one. */
  readonly last?: R;
  /** When {@link PollerEntry.last} was received. */
  readonly lastAt?: Date;
  /** Set while the backend cannot be queried: why, in words (the last result is kept meanwhile). */
  readonly problem?: string;
}

/** Callbacks of a {@link Poller}. */
export interface PollerHandlers<R> {
  /**
   * One query for all `keys`: resolves to an answer per key it knows about. Keys missing from the
   * map are reported to {@link PollerHandlers.onMissing}. Rejecting marks a failed poll.
   */
  query(keys: readonly string[], signal: AbortSignal): Promise<PollAnswer<R>>;
  /** Called for each key the query answered for (every poll, so the handler must ignore repeats). */
  onResult(key: string, result: R): void | Promise<void>;
  /** Called for each key the query did not answer for (the backend forgot it: finished long ago, or never existed). */
  onMissing?(key: string): void | Promise<void>;
  /** Called after a failed query with the error, how many failed in a row and the delay before the next try. */
  onError?(error: unknown, consecutiveFailures: number, nextDelayMs: number): void;
}

/** Counters, for tests and benchmarks. */
export interface PollerStats {
  /** Queries started. */
  readonly queries: number;
  /** Queries that failed. */
  readonly failures: number;
  /** Failures in a row now (0 after a success). */
  readonly consecutiveFailures: number;
}

/**
 * Polls a backend for a changing set of keys with one query per round.
 *
 * Rounds never overlap. A key removed while a query is in flight gets no callback for it. While
 * keys are watched the timer keeps the process alive (a program awaiting a job must not exit).
 * Handler errors are kept from stopping the loop (they count as nothing: the next round retries).
 */
export class Poller<R> {
  readonly #handlers: PollerHandlers<R>;
  readonly #interval: number;
  readonly #initialDelay: number;
  readonly #maxBackoff: number;
  readonly #factor: number;
  readonly #entries = new Map<string, { last?: R; lastAt?: Date; problem?: string }>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #abort = new AbortController();
  #closed = false;
  #queries = 0;
  #failures = 0;
  #consecutive = 0;
  #wakeRequested = false;

  constructor(handlers: PollerHandlers<R>, options: PollerOptions = {}) {
    this.#handlers = handlers;
    this.#interval = options.intervalMs ?? 5000;
    this.#initialDelay = options.initialDelayMs ?? 1000;
    this.#maxBackoff = options.maxBackoffMs ?? 60_000;
    this.#factor = options.backoffFactor ?? 2;
  }

  /** Starts watching `key` (no-op if watched). The first poll comes after `initialDelayMs` if the poller was idle. */
  add(key: string): void {
    if (this.#closed || this.#entries.has(key)) return;
    this.#entries.set(key, {});
    if (!this.#timer && !this.#running) this.#schedule(this.#initialDelay);
  }

  /** Stops watching `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** True while `key` is watched. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Watched keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** What is known about `key`, or undefined if it is not watched. */
  entry(key: string): PollerEntry<R> | undefined {
    const e = this.#entries.get(key);
    return e === undefined ? undefined : { key, ...e };
  }

  /** Query counters. */
  get stats(): PollerStats {
    return { queries: this.#queries, failures: this.#failures, consecutiveFailures: this.#consecutive };
  }

  /** Runs a round now (or right after the one in flight) and resolves when it is done. */
  async pollNow(): Promise<void> {
    if (this.#closed) return;
    if (this.#running) {
      this.#wakeRequested = true;
      const first = this.#running;
      await first;
      // The requested round starts when the one in flight ends.
      const next = this.#running as Promise<void> | undefined;
      if (next && next !== first) await next;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round();
  }

  /** Stops polling; an in-flight query is aborted and awaited. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  #schedule(delay: number): void {
    if (this.#closed || this.#entries.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#round();
    }, delay);
  }

  #round(): Promise<void> {
    const started = Date.now();
    const run = this.#roundBody().finally(() => {
      this.#running = undefined;
      if (this.#wakeRequested) {
        this.#wakeRequested = false;
        void this.#round();
        return;
      }
      // Fixed rate while queries succeed (the interval counts from the start of a round, so a slow
      // round does not stretch the period); after failures, the backed-off delay from its end.
      const delay =
        this.#consecutive === 0
          ? Math.max(0, this.#interval - (Date.now() - started))
          : Math.min(this.#maxBackoff, this.#interval * this.#factor ** Math.min(this.#consecutive, 30));
      this.#schedule(delay);
    });
    this.#running = run;
    return run;
  }

  async #roundBody(): Promise<void> {
    const keys = [...this.#entries.keys()];
    if (keys.length === 0 || this.#closed) return;
    this.#queries++;
    let answer: PollAnswer<R>;
    try {
      answer = await this.#handlers.query(keys, this.#abort.signal);
    } catch (error) {
      if (this.#closed) return;
      this.#failures++;
      this.#consecutive++;
      const problem = error instanceof Error ? error.message : String(error);
      for (const key of keys) {
        const e = this.#entries.get(key);
        if (e) e.problem = problem;
      }
      const next = Math.min(this.#maxBackoff, this.#interval * this.#factor ** Math.min(this.#consecutive, 30));
      this.#handlers.onError?.(error, this.#consecutive, next);
      return;
    }
    this.#consecutive = 0;
    const now = new Date();
    for (const key of keys) {
      const e = this.#entries.get(key);
      if (!e) continue; // removed while the query ran
      delete e.problem;
      const r = answer.get(key);
      try {
        if (r === undefined) await this.#handlers.onMissing?.(key);
        else {
          e.last = r;
          e.lastAt = now;
          await this.#handlers.onResult(key, r);
        }
      } catch {
        // A handler failure must not stop the loop; the key is asked about again next round.
      }
    }
  }
}
