/**
 * The Job: a spec, the native id an executor gave it, and its status history as seen through the
 * one state machine.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AbortedError, InvalidJobStateError } from './errors.js';
import { createJobSpec, type JobSpec, type JobSpecInput } from './spec.js';
import {
  JobState,
  advanceStatus,
  freezeStatus,
  isFinalState,
  stateOrder,
  type JobStatus,
  type JobStatusUpdate,
} from './state.js';
import type { JobExecutor } from './executor.js';
import { parseWith } from './validation.js';

/** Called once for every state a job enters, in order. */
export type JobStatusListener = (job: Job, status: JobStatus) => void;

/** Options of {@link Job.wait}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (0 or more; `Infinity` = never); `wait` then resolves to `undefined`. */
  timeout?: number;
  /**
   * Return once the job is in one of these states or any later one (or a final state).
   * Default: the final states.
   */
  targetStates?: readonly JobState[];
  /** Abort the wait (rejects with {@link AbortedError}; the job is not affected). */
  signal?: AbortSignal;
}

/** Options of the {@link Job} constructor. */
export interface JobOptions {
  /** The client-side id; default a random UUID. Executors pass one back when they restore a job. */
  id?: string;
}

const JobOptionsSchema = z.strictObject({
  id: z.string().min(1, 'id cannot be empty').optional(),
});

const jobStateName = z.enum(Object.values(JobState) as [JobState, ...JobState[]], {
  error: `must be a job state (${Object.values(JobState).join(', ')})`,
});

// Checked at run time because a NaN or negative timeout would otherwise silently mean "now".
const WaitOptionsSchema = z.strictObject({
  timeout: z
    .union([z.number().min(0, 'timeout must be 0 or more milliseconds'), z.literal(Number.POSITIVE_INFINITY)], {
      error: 'timeout must be a number of milliseconds',
    })
    .optional(),
  targetStates: z.array(jobStateName, { error: 'targetStates must be an array of job states' }).optional(),
  signal: z.instanceof(AbortSignal, { error: 'signal must be an AbortSignal' }).optional(),
});

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  done(status: JobStatus): boolean;
}

/** Reports a throwing listener without letting it break the state machine. */
function reportListenerError(err: unknown): void {
  process.emitWarning(`A job status listener threw: ${err instanceof Error ? err.message : String(err)}`, {
    code: 'EXAWORKS_LISTENER_ERROR',
  });
}

/** True when a job in `current` satisfies a wait for `targets`. */
export function isWaitSatisfied(current: JobState, targets: readonly JobState[] | undefined): boolean {
  if (isFinalState(current)) return true;
  if (!targets || targets.length === 0) return false;
  return targets.some((t) => t === current || stateOrder(current) > stateOrder(t));
}

/**
 * A job: what to run ({@link JobSpec}) and what became of it ({@link JobStatus}).
 *
 * Create one, hand it to an executor's `submit`, then `wait` for it or listen with `onStatus`.
 * A Job without a spec can be bound to an existing native id with `executor.attach(job, id)`.
 *
 * @example
 * ```ts
 * const job = new Job({ executable: '/bin/echo', arguments: ['hi'] });
 * await executor.submit(job);
 * const status = await job.wait();
 * ```
 */
export class Job {
  /** A client-side id, unique per Job object (not the backend's id: see {@link Job.nativeId}). */
  readonly id: string;
  #spec: JobSpec | undefined;
  #nativeId: string | undefined;
  #executor: JobExecutor | undefined;
  #status: JobStatus;
  readonly #history: JobStatus[] = [];
  readonly #listeners = new Set<JobStatusListener>();
  readonly #waiters = new Set<Waiter>();

  /**
   * @param spec what to run; validated here (throws {@link ValidationError} naming the field).
   * @param options see {@link JobOptions}; validated too.
   */
  constructor(spec?: JobSpecInput | JobSpec, options: JobOptions = {}) {
    const o = parseWith(JobOptionsSchema, options ?? {}, 'job options');
    this.#spec = spec === undefined ? undefined : createJobSpec(spec);
    this.id = o.id ?? randomUUID();
    this.#status = freezeStatus({ state: JobState.NEW, time: new Date() });
    this.#history.push(this.#status);
  }

  /** What to run; undefined only for a Job made to be attached. */
  get spec(): JobSpec | undefined {
    return this.#spec;
  }

  /** The backend's id, set by `submit` or `attach`. */
  get nativeId(): string | undefined {
    return this.#nativeId;
  }

  /** The executor the job was submitted to or attached through. */
  get executor(): JobExecutor | undefined {
    return this.#executor;
  }

  /** The current status. */
  get status(): JobStatus {
    return this.#status;
  }

  /** Every status the job has been in, oldest first. */
  get history(): readonly JobStatus[] {
    return [...this.#history];
  }

  /** Calls `listener` for every later state change; returns a function that removes it. */
  onStatus(listener: JobStatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Waits until the job is in one of `targetStates`, a state after one of them, or a final state.
   * Resolves to that status, or to `undefined` if `timeout` (ms) passes first.
   * Rejects with {@link ValidationError} for bad options (a NaN timeout, an unknown state name).
   */
  wait(options: WaitOptions = {}): Promise<JobStatus | undefined> {
    let parsed: WaitOptions;
    try {
      parsed = parseWith(WaitOptionsSchema, options ?? {}, 'wait options');
    } catch (err) {
      return Promise.reject(err);
    }
    const { timeout, targetStates, signal } = parsed;
    if (signal?.aborted) return Promise.reject(new AbortedError('wait was aborted', { cause: signal.reason }));
    if (isWaitSatisfied(this.#status.state, targetStates)) return Promise.resolve(this.#status);
    return new Promise<JobStatus | undefined>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        this.#waiters.delete(waiter);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        done: (status) => {
          if (!isWaitSatisfied(status.state, targetStates)) return false;
          finish();
          resolve(status);
          return true;
        },
      };
      const onAbort = () => {
        finish();
        reject(new AbortedError('wait was aborted', { cause: signal?.reason }));
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined && Number.isFinite(timeout)) {
        const deadline = Date.now() + timeout;
        // setTimeout fires at once for delays over 2^31-1 ms (~24.8 days), so long waits re-arm.
        const arm = () => {
          const left = deadline - Date.now();
          timer = setTimeout(
            () => {
              if (deadline - Date.now() > 0) return arm();
              finish();
              resolve(undefined);
            },
            Math.min(Math.max(0, left), MAX_TIMER_MS),
          );
        };
        arm();
      }
    });
  }

  /** Asks the executor to cancel the job. A job never submitted is marked CANCELED at once. */
  async cancel(): Promise<void> {
    if (this.#executor) return this.#executor.cancel(this);
    this._update({ state: JobState.CANCELED, message: 'Canceled before submission.' });
  }

  /**
   * Binds the job to an executor and native id. Executors call this; users do not.
   * @internal
   */
  _bind(executor: JobExecutor, nativeId: string, spec?: JobSpec): void {
    if (this.#executor && (this.#executor !== executor || this.#nativeId !== nativeId)) {
      throw new InvalidJobStateError(
        `Job ${this.id} is already bound to native id ${this.#nativeId} of the ${this.#executor.name} executor.`,
      );
    }
    this.#executor = executor;
    this.#nativeId = nativeId;
    if (spec && !this.#spec) this.#spec = spec;
  }

  /**
   * Moves the job through the state machine. Executors call this; users do not.
   * Returns the statuses entered (filled-in states first); `each` is called for each after the
   * job's own listeners.
   * @internal
   */
  _update(update: JobStatusUpdate, each?: (status: JobStatus) => void): JobStatus[] {
    const entered = advanceStatus(this.#status, update);
    for (const status of entered) {
      this.#status = status;
      this.#history.push(status);
      for (const listener of [...this.#listeners]) {
        try {
          listener(this, status);
        } catch (err) {
          reportListenerError(err);
        }
      }
      if (each) {
        try {
          each(status);
        } catch (err) {
          reportListenerError(err);
        }
      }
    }
    if (entered.length) for (const waiter of [...this.#waiters]) waiter.done(this.#status);
    return entered;
  }

  /** A JSON-safe summary: what `--json` output and logs carry. */
  toJSON(): {
    id: string;
    nativeId: string | null;
    executor: string | null;
    name: string | null;
    state: JobState;
    exitCode: number | null;
    message: string | null;
    time: string;
  } {
    return {
      id: this.id,
      nativeId: this.#nativeId ?? null,
      executor: this.#executor?.name ?? null,
      name: this.#spec?.name ?? null,
      state: this.#status.state,
      exitCode: this.#status.exitCode ?? null,
      message: this.#status.message ?? null,
      time: this.#status.time.toISOString(),
    };
  }
}
