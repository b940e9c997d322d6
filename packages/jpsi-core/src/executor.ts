/**
 * The JobExecutor contract, its base configuration, and an abstract base class that does the
 * bookkeeping every executor shares (binding, the state machine, listeners) exactly once.
 * @module
 */
import { z } from 'zod';
import { InvalidJobStateError } from './errors.js';
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

  /** Binds a job to this executor and a native id. */
  protected bindJob(job: Job, nativeId: string, spec?: JobSpec): void {
    job._bind(this, nativeId, spec);
  }

  /**
   * Reports a backend status for a job. Regressions and repeats are ignored; skipped states
   * are filled in. Returns the statuses entered.
   */
  protected updateJobStatus(job: Job, update: JobStatusUpdate): JobStatus[] {
    return job._update(update, (status) => {
      for (const listener of [...this.#listeners]) {
        try {
          listener(job, status);
        } catch (err) {
          this.logger.warn('executor status listener threw', { error: err });
        }
      }
    });
  }
}
