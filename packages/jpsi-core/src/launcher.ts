/**
 * The Launcher contract: how one JobSpec becomes the command that starts all of its processes.
 * @module
 */
import type { JobExecutor } from './executor.js';
import type { JobSpec } from './spec.js';

/** What an executor knows at launch time. */
export interface LaunchContext {
  /** A file with one host name per process slot (exported to the job as `PSIJ_NODEFILE`). */
  readonly nodeFile?: string;
  /** Aborts work the launcher does to prepare (such as probing the MPI flavour). */
  readonly signal?: AbortSignal;
}

/** The command that starts every process of a job. */
export interface LaunchCommand {
  /** The full argv: launcher program and its flags, then the executable and its arguments. */
  readonly argv: readonly string[];
  /** Environment variables the launcher needs on top of the job's own. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Things the launcher could not do as the spec asked (for example more than one process under
   * `single`, or a node placement relaxed to the one host there is). The executor logs each at
   * warn level and puts them in the job's QUEUED status message. Default: none.
   */
  readonly warnings?: readonly string[];
  /**
   * True if `argv` reports its own (launcher) failures by writing them, as one line of text, to the
   * file named by the `EXAWORKS_LAUNCH_FAILURE_FILE` environment variable, which the job script then
   * sets; the job's FAILED message quotes it. Default false.
   */
  readonly reportsFailures?: boolean;
}

/**
 * Turns a spec into its launch command. Launchers never run pre/post-launch scripts: the job
 * script does, once per job.
 */
export interface Launcher {
  /** Registry name, e.g. `single`, `mpirun`. */
  readonly name: string;
  /** The launch command for `spec`. */
  launchCommand(spec: JobSpec, context?: LaunchContext): Promise<LaunchCommand>;
}

/** A factory the registry uses to create a launcher by name. */
export interface LauncherProvider {
  readonly name: string;
  create(config?: unknown): Launcher | Promise<Launcher>;
}

/** A factory the registry uses to create an executor by name. */
export interface ExecutorProvider {
  readonly name: string;
  create(config?: unknown): JobExecutor | Promise<JobExecutor>;
}
