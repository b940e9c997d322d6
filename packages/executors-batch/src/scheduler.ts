/**
 * The scheduler adapter: everything that differs between Slurm, PBS, LSF, Cobalt and Flux, and
 * nothing else. A scheduler package implements {@link SchedulerAdapter}; the batch base does the
 * rest (script, staging, submission, polling, attach, cancel).
 * @module
 */
import type { CustomAttributeValue, JobSpec, JobState } from '@exaworks/jpsi-core';

/** A scheduler command to run: argv (no shell), optional stdin text and extra environment. */
export interface SchedulerCommand {
  /** Program and arguments; run without a shell. */
  readonly argv: readonly string[];
  /** Text written to the command's standard input. */
  readonly stdin?: string;
  /** Variables added to the executor's environment for this command. */
  readonly env?: Readonly<Record<string, string>>;
}

/** How a scheduler command ended. */
export interface CommandResult {
  /** Exit status (128 + N when killed by signal N). */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Machine-readable reasons a scheduler gives for a job's end, carried in `status.metadata.reason`.
 * `walltime` is the one rule every scheduler shares: a job killed at its walltime ends FAILED
 * with this reason.
 */
export type SchedulerEndReason =
  | 'walltime'
  | 'node_fail'
  | 'preempted'
  | 'out_of_memory'
  | 'boot_fail'
  | 'deadline'
  | 'canceled'
  | 'scheduler_failed'
  | (string & {});

/** What one query says about one job. */
export interface SchedulerJobInfo {
  /**
   * The job's state in PSI/J terms. Batch schedulers only know QUEUED, ACTIVE and the final ones;
   * the base refines ACTIVE into STAGE_IN/ACTIVE/STAGE_OUT/CLEANUP from the job's state file.
   */
  readonly state: JobState;
  /** The scheduler's own state word, e.g. `PENDING`, `R`, `TIMEOUT`. */
  readonly nativeState: string;
  /** Why, in the scheduler's words (its reason field). */
  readonly message?: string;
  /** The exit code the scheduler reports, when it reports one. */
  readonly exitCode?: number;
  /** A machine-readable end reason. */
  readonly reason?: SchedulerEndReason;
}

/** One entry of a scheduler's state map. */
export interface StateMapping {
  readonly state: JobState;
  readonly reason?: SchedulerEndReason;
}

/** What a directive generator gets. */
export interface DirectiveContext {
  /** The validated spec. */
  readonly spec: JobSpec;
  /** The job's name as the scheduler should show it (already reduced to safe characters). */
  readonly jobName: string;
  /** Walltime in whole seconds (from `attributes.duration`). */
  readonly walltimeSeconds: number;
  /** Where the scheduler should write the batch script's own stdout and stderr (not the job's). */
  readonly schedulerOutput: string;
  /** The job's submit directory (the executor's work directory). */
  readonly workDirectory: string;
}

/** Environment variables the scheduler sets inside a job, for the submit script and launchers. */
export interface SchedulerEnvironment {
  /** Variable holding the job's native id, e.g. `SLURM_JOB_ID`, `PBS_JOBID`. */
  readonly jobId: string;
  /**
   * Variable naming a file of allocated hosts, one per slot, when the scheduler writes one
   * (`PBS_NODEFILE`, `LSB_DJOB_HOSTFILE`, `COBALT_NODEFILE`).
   */
  readonly nodeFile?: string;
  /**
   * Shell lines (bash) that write one host name per process slot to the file named by
   * `$_xw_nodefile`, for schedulers without a node file (Slurm: `scontrol show hostnames`).
   * Used when {@link SchedulerEnvironment.nodeFile} is not set in the job. Must not fail the
   * script: a fallback of `hostname` is written when it leaves the file empty.
   */
  readonly nodeFileScript?: string;
}

/**
 * What a batch scheduler package implements. Pure: builds commands and reads their output; the
 * base runs them (with timeouts) and owns every decision about job state.
 */
export interface SchedulerAdapter {
  /** Executor and registry name, and the custom-attribute prefix (`slurm` reads `slurm.*`). */
  readonly name: string;
  /** The directive prefix at the start of each directive line, e.g. `#SBATCH`, `#PBS`, `#BSUB`, `#COBALT`, `#FLUX:`. */
  readonly directivePrefix: string;
  /** Variables the scheduler sets in the job. */
  readonly environment: SchedulerEnvironment;
  /** Native state word → PSI/J state (and end reason). Unknown words are reported as QUEUED/ACTIVE by the parser. */
  readonly stateMap: Readonly<Record<string, StateMapping>>;

  /**
   * Directive bodies (without the prefix) from the spec's resources and attributes: nodes,
   * processes, walltime, queue, account, reservation, job name, output files, exclusivity,
   * memory, GPUs. One string per line; the base writes `${directivePrefix} ${body}` and rejects
   * bodies with line breaks.
   */
  directives(context: DirectiveContext): string[];
  /**
   * The directive body for one custom attribute with this scheduler's prefix removed
   * (`slurm.constraint: "haswell"` → `constraint`, `"haswell"` → `--constraint=haswell`).
   */
  customDirective(key: string, value: CustomAttributeValue): string;

  /** The command that submits the script at `scriptPath` (run with the work directory as cwd). */
  submitCommand(scriptPath: string): SchedulerCommand;
  /**
   * The native id from a submit command's result.
   * @throws {@link @exaworks/jpsi-core!SubmitError} carrying the scheduler's own message when it refused the job.
   */
  parseSubmit(result: CommandResult): string;

  /** ONE command asking about all of `nativeIds` (never one per job). */
  queryCommand(nativeIds: readonly string[]): SchedulerCommand;
  /**
   * Reads the query's output: an entry per job the scheduler still knows. Jobs it does not list
   * are treated as gone from the queue by the base.
   * @throws {@link @exaworks/jpsi-core!BackendError} when the output (or exit status) cannot be trusted;
   * the base then keeps every job's last state and backs off.
   */
  parseQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo>;

  /**
   * Optional second source for jobs gone from the queue (Slurm's `sacct` when accounting is on):
   * one command for all of them. Return undefined when there is none.
   */
  historyCommand?(nativeIds: readonly string[]): SchedulerCommand | undefined;
  /** Reads {@link SchedulerAdapter.historyCommand}'s output like {@link SchedulerAdapter.parseQuery}. */
  parseHistory?(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo>;

  /** The command that cancels a job, queued or running. */
  cancelCommand(nativeId: string): SchedulerCommand;
  /**
   * Whether a cancel command's result means success (true), a job already gone (`'gone'`), or a failure (a message).
   * @default exit status 0 → true, else the stderr text
   */
  parseCancel?(result: CommandResult): true | 'gone' | string;

  /** The command that lists this user's jobs. */
  listCommand(): SchedulerCommand;
  /** Native ids from the list command's output. */
  parseList(result: CommandResult): string[];

  /**
   * Optional: ONE command listing this user's jobs with the file their batch output goes to
   * ({@link DirectiveContext.schedulerOutput}), so the base can find a job whose submit answer a
   * crash lost. Without it such a job is found only once its script has run.
   */
  recoverCommand?(): SchedulerCommand;
  /** Reads {@link SchedulerAdapter.recoverCommand}'s output: batch output path → native id. */
  parseRecover?(result: CommandResult): Map<string, string>;

  /**
   * Optional: an id as a user may type it in the form the adapter uses (Flux: `ƒ2bB3uJ9d` →
   * `f2bB3uJ9d`). Applied by `attach` before anything else.
   * @default the id unchanged
   */
  canonicalId?(nativeId: string): string;
}
