/**
 * The JobExecutor contract, its base configuration, and an abstract base class that does the
 * bookkeeping every executor shares (binding, the state machine, listeners) exactly once.
 * @module
 */
import { z } from 'zod';
import { ExecutorClosedError, InvalidJobStateError } from './errors.js';
import { Job, type JobStatusListener } from './job.js';
import { createLogger, type Logger } from './logger.js';
import { isJobSpec, type JobSpec, type JobSpecInput } from './spec.js';
import { JobState, type JobStatus, type JobStatusUpdate } from './state.js';

/** Options of {@link JobExecutor.submit}. */
export interface SubmitOptions {
  /** Aborts the submission if it has not been accepted yet. */
  signal?: AbortSignal;
}

/**
 * A backend that runs jobs: the local machine, a batch scheduler, a pilot.
 *
 * Every implementation moves jobs through the same state machine, so listeners see the same
 * sequence of states whatever the backend.
 */
export interface JobExecutor {
  /** Registry name, e.g. `local`, `slurm`. */
  readonly name: string;
  /** Version of the package implementing it. */
  readonly version: string;
  /** The validated configuration. */
  readonly config: Readonly<JobExecutorConfig>;
  /**
   * Submits a job (or a spec, wrapped in a new Job). Resolves once the backend has accepted it
   * and `job.nativeId` is set; the job is then at least QUEUED.
   */
  submit(job: Job | JobSpecInput | JobSpec, options?: SubmitOptions): Promise<Job>;
  /** Cancels a job. A no-op for a job already in a final state. */
  cancel(job: Job): Promise<void>;
  /** Native ids of the jobs this executor knows about (for durable executors, across restarts). */
  list(): Promise<string[]>;
  /** Binds `job` to an existing native id (from this or another process) and resumes tracking it. */
  attach(job: Job, nativeId: string): Promise<void>;
  /** Calls `listener` for every state change of every job of this executor. Returns an unsubscribe function. */
  onStatus(listener: JobStatusListener): () => void;
  /** Stops background work (pollers, watchers). Jobs keep running where the backend allows. */
  close(): Promise<void>;
}

/** Configuration every executor accepts. Executors extend it with their own fields. */
export const JobExecutorConfigSchema = z.object({
  /** Where the executor keeps job state. Default `~/.exaworks/work/<executor>`. */
  workDirectory: z.string().min(1, 'workDirectory cannot be empty').optional(),
  /** Keep generated scripts and state files after jobs finish. */
  keepFiles: z.boolean().optional(),
  /** Where the executor logs. Default: JSON lines on stderr at `EXAWORKS_LOG_LEVEL` (default warn). */
  logger: z
    .custom<Logger>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
      'logger must have debug, info, warn and error methods',
    )
    .optional(),
});

/** Configuration every executor accepts. */
export type JobExecutorConfig = z.input<typeof JobExecutorConfigSchema>;

/**
 * Shared bookkeeping for executors: turns `submit` arguments into Jobs, binds native ids, and
 * drives every status change through the state machine to job and executor listeners.
 */
export abstract class BaseJobExecutor<C extends JobExecutorConfig = JobExecutorConfig> implements JobExecutor {
  readonly name: string;
  readonly version: string;
  readonly config: Readonly<C>;
  /** The configured logger (or the default quiet one). */
  protected readonly logger: Logger;
  readonly #listeners = new Set<JobStatusListener>();
  // The job table: every Job bound to a native id, the first one primary.
  readonly #table = new Map<string, { primary: Job; extra: Job[] }>();
  #closed = false;

  protected constructor(name: string, version: string, config: C) {
    this.name = name;
    this.version = version;
    this.config = Object.freeze({ ...config });
    this.logger = config.logger ?? createLogger({ component: `executor:${name}` });
  }

  abstract submit(job: Job | JobSpecInput | JobSpec, options?: SubmitOptions): Promise<Job>;
  abstract cancel(job: Job): Promise<void>;
  abstract list(): Promise<string[]>;
  abstract attach(job: Job, nativeId: string): Promise<void>;
  abstract close(): Promise<void>;

  onStatus(listener: JobStatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Normalises `submit`'s argument to a fresh Job with a spec.
   * @throws {@link InvalidJobStateError} for a job that was already submitted or has no spec.
   */
  protected jobForSubmit(job: Job | JobSpecInput | JobSpec): Job & { spec: JobSpec } {
    const j = job instanceof Job ? job : new Job(isJobSpec(job) ? job : (job as JobSpecInput));
    if (j.executor !== undefined || j.status.state !== JobState.NEW) {
      throw new InvalidJobStateError(
        `Job ${j.id} was already submitted (state ${j.status.state}); create a new Job to run it again.`,
      );
    }
    if (!j.spec) throw new InvalidJobStateError(`Job ${j.id} has no spec: give one to new Job(spec) before submitting.`);
    return j as Job & { spec: JobSpec };
  }

  /** True once {@link BaseJobExecutor.markClosed} was called: the executor refuses new work. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /** Marks the executor closed; `close()` implementations call it first. */
  protected markClosed(): void {
    this.#closed = true;
  }

  /**
   * Throws once the executor is closed: every public method but `close` and `onStatus` starts with it.
   * @throws {@link ExecutorClosedError} after {@link BaseJobExecutor.markClosed}.
   */
  protected checkOpen(): void {
    if (this.#closed) throw new ExecutorClosedError(this.name);
  }

  /**
   * Binds a job to this executor and a native id, and enters it in the job table. The first Job
   * bound to a native id is its primary one: executor listeners hear about it. Further Jobs bound
   * to the same id (another `attach`) replay the primary's history at once and then follow it,
   * with job events only, so a status is reported once per job however many handles exist.
   */
  protected bindJob(job: Job, nativeId: string, spec?: JobSpec): void {
    job._bind(this, nativeId, spec);
    const entry = this.#table.get(nativeId);
    if (!entry) {
      this.#table.set(nativeId, { primary: job, extra: [] });
      return;
    }
    if (entry.primary === job || entry.extra.includes(job)) return;
    entry.extra.push(job);
    for (const status of entry.primary.history.slice(1)) job._update(status);
  }

  /** The Job objects bound to `nativeId` in this executor, primary first (empty if none). */
  protected jobsFor(nativeId: string): readonly Job[] {
    const entry = this.#table.get(nativeId);
    return entry ? [entry.primary, ...entry.extra] : [];
  }

  /** Drops `nativeId` from the job table (once it is final and no longer watched): the table stays small. */
  protected forgetJob(nativeId: string): void {
    this.#table.delete(nativeId);
  }

  /**
   * Reports a backend status for a job, through the one state machine: regressions and repeats are
   * ignored, skipped states are filled in. Every Job bound to the same native id moves with it;
   * executor listeners hear about the primary one. Returns the statuses the given job entered.
   */
  protected updateJobStatus(job: Job, update: JobStatusUpdate): JobStatus[] {
    const entry = job.nativeId === undefined ? undefined : this.#table.get(job.nativeId);
    const entered = job._update(update, (status) => {
      if (entry && entry.primary !== job) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener(job, status);
        } catch (err) {
          this.logger.warn('executor status listener threw', { error: err });
        }
      }
    });
    if (entry && entry.primary === job) for (const other of entry.extra) other._update(update);
    return entered;
  }
}
