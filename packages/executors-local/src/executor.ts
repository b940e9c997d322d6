/**
 * The local executor: jobs run as real, detached process groups on this machine, with a
 * resource-aware FIFO queue, one deadline timer, and the work directory as the source of truth.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  BaseJobExecutor,
  InvalidJobStateError,
  Job,
  JobExecutorConfigSchema,
  JobNotFoundError,
  JobState,
  ValidationError,
  createJobSpec,
  defaultWorkDirectory,
  getLauncher,
  ignoredAttributesWarning,
  jobSpecToInput,
  parseWith,
  statusFromJson,
  statusToJson,
  type ExecutorProvider,
  type HonouredAttributes,
  type JobSpec,
  type JobSpecInput,
  type JobStatus,
  type JobStatusJson,
  type JobStatusUpdate,
  type LaunchCommand,
  type Launcher,
  type SubmitOptions,
} from '@exaworks/jpsi-core';
import {
  DeadlineHeap,
  type HeapItem,
  ResourceQueue,
  StorageError,
  throwIfAborted,
  writeFileExclusiveSync,
} from '@exaworks/jpsi-core/internal';
import { CLEAN_ENVIRONMENT_PATH, jobScriptFor, parseJobResult, type JobResult } from '@exaworks/launcher';
import { finalUpdate } from './outcome.js';
import {
  findProcessRunning,
  groupExists,
  isAlive,
  processStartTime,
  selfIdentity,
  signalGroup,
  signalProcess,
  type ProcessIdentity,
} from './proc.js';
import { ExecAgents, readExecAgentJournal, type ExecRequest } from './exec-agent.js';
import { SpawnAgents, readAgentJournal, type AgentInfo } from './spawner.js';
import { cleanup, stageIn, stageOut, type Outcome } from './staging.js';
import {
  JobStore,
  RECORD_FORMAT,
  exitedBeforeCancel,
  type JobFile,
  type JobRecord,
  type LocalJobPaths,
  type LogLine,
  type OwnerInfo,
  type SpawnMarker,
} from './store.js';

/** The package version, reported as `executor.version`. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The attributes the local executor acts on: the walltime, and custom attributes prefixed `local.`
 * (none is defined yet, so any is accepted silently). Queue, account and reservation mean nothing here.
 */
export const LOCAL_HONOURED_ATTRIBUTES: HonouredAttributes = Object.freeze({
  executor: 'local',
  standard: ['duration'] as const,
});

/** The QUEUED status message that carries a job's warnings (none without warnings). */
function queuedMessage(warnings: readonly string[] | undefined): { message?: string } {
  return warnings !== undefined && warnings.length > 0 ? { message: `Warning: ${warnings.join('; ')}.` } : {};
}

/** Configuration of the local executor (on top of every executor's `workDirectory`, `keepFiles`, `logger`). */
export const LocalExecutorConfigSchema = z.strictObject({
  ...JobExecutorConfigSchema.shape,
  /** Cores jobs may use at once. Default: `os.availableParallelism()`. */
  maxCores: z
    .number({ error: 'maxCores must be a number' })
    .int('maxCores must be a whole number')
    .positive('maxCores must be at least 1')
    .optional(),
  /** Milliseconds between SIGTERM and SIGKILL when a job is canceled or runs out of time. Default 5000. */
  killGracePeriod: z
    .number({ error: 'killGracePeriod must be a number' })
    .int('killGracePeriod must be whole milliseconds')
    .nonnegative('killGracePeriod cannot be negative')
    .optional(),
  /** Milliseconds between checks of jobs this executor watches but did not start itself. Default 1000. */
  pollInterval: z
    .number({ error: 'pollInterval must be a number' })
    .int('pollInterval must be whole milliseconds')
    .positive('pollInterval must be at least 1')
    .optional(),
  /** fsync records and status lines, so that accepted jobs survive power loss too. Default false. */
  fsync: z.boolean().optional(),
  /** Adopt jobs of dead executors in the work directory when this one starts. Default true. */
  recover: z.boolean().optional(),
  /**
   * `attach` and the poll adopt a job whose executor is gone (start it if it never started, track
   * it if it runs). False: they only watch such jobs; `cancel` still decides them, never starting
   * one. Default true.
   */
  adopt: z.boolean().optional(),
  /**
   * Start jobs through a long-lived `/bin/sh` spawn agent (cheaper than forking Node per job).
   * Default true; it falls back to `child_process.spawn` where the agent cannot work.
   */
  spawnAgent: z.boolean().optional(),
});

/** Configuration of the local executor as given. */
export type LocalExecutorConfigInput = z.input<typeof LocalExecutorConfigSchema>;

/** Configuration of the local executor with every default filled in. */
export interface LocalExecutorConfig extends LocalExecutorConfigInput {
  readonly workDirectory: string;
  readonly keepFiles: boolean;
  readonly maxCores: number;
  readonly killGracePeriod: number;
  readonly pollInterval: number;
  readonly fsync: boolean;
  readonly recover: boolean;
  readonly adopt: boolean;
  readonly spawnAgent: boolean;
}

type Phase = 'queued' | 'starting' | 'running' | 'finishing' | 'done' | 'watching';

/** What the executor keeps in memory per job: small, since thousands may be queued. */
interface Tracked extends HeapItem {
  readonly id: string;
  readonly job: Job;
  readonly spec: JobSpec;
  readonly cwd: string;
  readonly cores: number;
  readonly recordOwner: OwnerInfo;
  phase: Phase;
  /** True when this executor is responsible for starting, killing and finishing the job. */
  owned: boolean;
  child: ChildProcess | undefined;
  /** True while the spawn agent runs the job for this executor (the counterpart of `child`). */
  viaAgent: boolean;
  pid: number | undefined;
  startTime: string | undefined;
  activeAt: number | undefined;
  cancelRequested: boolean;
  timedOut: boolean;
  /** What the heap entry means when it comes due. */
  timer: 'walltime' | 'escalate';
  /** Status lines already replayed (for jobs watched through the log). */
  applied: number;
  /** The job script while the job waits to start (dropped once it runs); built only when needed. */
  script: string | undefined;
  /** The launch command and node file, kept to build the script late (a job the exec agent runs needs none). */
  launch: LaunchCommand | undefined;
  nodeFile: string | undefined;
  /** The exec agent that runs (or ran) the job, while its journal holds the job's end. */
  execAgent: AgentInfo | undefined;
  /** True while the exec agent runs the job for this executor. */
  viaExec: boolean;
  /** True once the script was written to `<id>.sh` (too long for argv, or `keepFiles`). */
  scriptFile: boolean;
  /**
   * True once no other process can decide this job any more: its STAGE_IN line was appended
   * and no cancel request was there after it (or the job is known to have run). Until then,
   * a final status goes through the O_EXCL `<id>.unstarted` decision.
   */
  spawnCleared: boolean;
  /** Taken over from a dead executor. */
  adopted: boolean;
  /** The job's files, computed when it starts (queued jobs do not keep them). */
  paths: LocalJobPaths | undefined;
  /** Adopted while its start is undecided (the dead owner's spawn agent may still start it): looked at again each poll. */
  deferred: boolean;
}

// A script up to this size fits in an empty pipe (Linux's default capacity) in one write, so the
// job's shell gets all of it even if this process dies right after: longer scripts run from a file.
const PIPE_CAPACITY = 65536;

/**
 * Writes a job's script to a new file private to its user (0600), replacing whatever was at its
 * path without following it (an adopted job's script from a dead owner).
 */
function writePrivateFile(file: string, data: string): void {
  rmSync(file, { force: true });
  if (!writeFileExclusiveSync(file, data, { mode: 0o600 })) {
    throw new StorageError(`Could not create ${file}: something else created it at the same time.`);
  }
}

/** The exit code of a job whose program succeeded but whose stage-out failed. */
const STAGE_OUT_FAILED_EXIT_CODE = 1;

/** The name a job's shell runs under (`$0`), which recovery looks for in /proc/<pid>/cmdline. */
function processName(nativeId: string): string {
  return `exaworks-job:${nativeId}`;
}

/** The interpreter of a job script, from its #! line. */
function interpreterOf(script: string): string {
  return script.startsWith('#!') ? script.slice(2, script.indexOf('\n')).trim() : '/bin/sh';
}

let instances = 0;

const noop = (): void => undefined;

/** The message of an error, for status messages. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `%j` in an output path: the job's native id (as in Slurm's `slurm-%j.out`). */
const NATIVE_ID_PATTERN = '%j';

/** The spec with `%j` in `stdoutPath`/`stderrPath` replaced by `nativeId` (the same spec if there is none). */
export function withNativeId(spec: JobSpec, nativeId: string): JobSpec {
  const has = (p: string | undefined): p is string => p?.includes(NATIVE_ID_PATTERN) === true;
  if (!has(spec.stdoutPath) && !has(spec.stderrPath)) return spec;
  const input = jobSpecToInput(spec);
  if (has(spec.stdoutPath)) input.stdoutPath = spec.stdoutPath.replaceAll(NATIVE_ID_PATTERN, nativeId);
  if (has(spec.stderrPath)) input.stderrPath = spec.stderrPath.replaceAll(NATIVE_ID_PATTERN, nativeId);
  return createJobSpec(input);
}

/**
 * For a job run through a launcher (`mpirun`, `srun`, …) that failed without a word: the end of
 * its standard error file, where the launcher writes its own error (Open MPI's "not enough
 * slots", a missing executable). Undefined for `single`, or when stderr went nowhere readable.
 */
function launcherError(spec: JobSpec, exitCode: number): string | undefined {
  if (spec.launcher === undefined || spec.launcher === 'single' || spec.stderrPath === undefined) return undefined;
  let tail: string;
  try {
    const fd = openSync(spec.stderrPath, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(size, 4096));
      readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      tail = buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = tail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^-+$/.test(l))
    .slice(-6);
  if (lines.length === 0) return undefined;
  const text = lines.join(' ');
  return `The ${spec.launcher} launch exited with status ${exitCode}; its standard error ends: ${text.length > 400 ? `…${text.slice(-400)}` : text}`;
}

/** What the files say about whether a job past its STAGE_IN line was started (see {@link startFate}). */
type StartFate =
  | { readonly kind: 'never' }
  | { readonly kind: 'pending' }
  | { readonly kind: 'running'; readonly identity: ProcessIdentity }
  | {
      readonly kind: 'ran';
      readonly exit?: { code: number | null; signal: NodeJS.Signals | null };
      readonly result?: JobResult;
    }
  | { readonly kind: 'maybe'; readonly exit?: undefined };

/**
 * For a job with a STAGE_IN line, no ACTIVE line and no live process: was it started? No spawn
 * marker: it never got that far. A spawn agent's job: its start journal says, once the agent
 * itself (the only reader of the request) is gone; while it or one of its watchers lives, the
 * answer may still change ('pending'). A direct spawn's job: it may have run ('maybe').
 */
function startFate(id: string, marker: SpawnMarker | undefined, paths: LocalJobPaths): StartFate {
  if (marker === undefined) return { kind: 'never' };
  if (marker.spawn === 'direct') return { kind: 'maybe' };
  if (marker.spawn === 'exec') return execFate(id, marker.agent);
  const agentAlive = isAlive(marker.agent);
  const entry = readAgentJournal(marker.agent.journal, id);
  if (!entry.started) return agentAlive ? { kind: 'pending' } : { kind: 'never' };
  if (entry.noCwd) return { kind: 'never' };
  if (entry.status !== undefined) {
    const signal = entry.status > 128 ? signalName(entry.status - 128) : undefined;
    return { kind: 'ran', exit: signal ? { code: null, signal } : { code: entry.status, signal: null } };
  }
  // Started and not ended: between the agent's fork and the job's exec a watcher is all there is.
  if (existsSync(paths.exitCode)) return { kind: 'ran' };
  if (agentAlive || findProcessRunning(marker.agent.journal)) return { kind: 'pending' };
  return { kind: 'ran' };
}

/**
 * For a job handed to an exec agent: its journal says. No `S` line: never started once the agent
 * (its only reader) is gone. An `E` line: how it ended. A live pid: it runs. Otherwise, while the
 * agent lives its end is still to be journaled ('pending'); once it is gone, it ran and the end is lost.
 */
function execFate(id: string, agent: AgentInfo): StartFate {
  const agentAlive = isAlive(agent);
  const entry = readExecAgentJournal(agent.journal, id);
  if (!entry.started) return agentAlive ? { kind: 'pending' } : { kind: 'never' };
  if (entry.status !== undefined) {
    const signal = entry.failure === undefined && entry.status > 128 ? signalName(entry.status - 128) : undefined;
    return {
      kind: 'ran',
      exit: signal ? { code: null, signal } : { code: entry.status, signal: null },
      result: { exitCode: entry.status, ...(entry.failure !== undefined ? { failure: entry.failure } : {}) },
    };
  }
  const identity =
    entry.pid !== undefined && entry.startTime !== undefined ? { pid: entry.pid, startTime: entry.startTime } : undefined;
  if (identity && isAlive(identity)) return { kind: 'running', identity };
  if (agentAlive) return { kind: 'pending' };
  return identity ? { kind: 'ran' } : { kind: 'maybe' };
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);
function signalName(n: number): NodeJS.Signals | undefined {
  return SIGNAL_NAMES.get(n);
}

/** Cores a job occupies: processes × cores per process. */
export function coresFor(spec: JobSpec): number {
  return spec.resources.computedProcessCount * (spec.resources.cpuCoresPerProcess ?? 1);
}

/**
 * The embedded default executor: runs each job's script (from `@exaworks/launcher`) as a
 * detached process group on this machine.
 *
 * - **Resource-aware FIFO.** At most `maxCores` cores are in use; a job needs
 *   `computedProcessCount × (cpuCoresPerProcess ?? 1)`. Jobs start in submission order: the
 *   first waiting job blocks those behind it (no backfilling). A job needing more than
 *   `maxCores` runs alone once nothing else runs (oversubscription, e.g. `mpirun -n 4` on 2 cores).
 * - **Durable.** `submit` resolves after the job's record is on disk; states are appended to a
 *   JSON-lines log; jobs survive the executor (they are not its children's children in any way
 *   that ties them to it), and a later executor on the same work directory adopts them.
 * - **Cheap.** One timer for all walltimes and kill escalations, one poll timer for all jobs
 *   watched through the disk.
 *
 * @example
 * ```ts
 * const executor = createLocalExecutor({ maxCores: 4 });
 * const job = await executor.submit({ executable: '/bin/echo', arguments: ['hello'] });
 * console.log((await job.wait())?.state); // COMPLETED
 * await executor.close();
 * ```
 */
export class LocalExecutor extends BaseJobExecutor<LocalExecutorConfig> {
  readonly #store: JobStore;
  readonly #owner: OwnerInfo;
  readonly #tracked = new Map<string, Tracked>();
  readonly #watched = new Set<Tracked>();
  readonly #launchers = new Map<string, Promise<Launcher>>();
  readonly #heap: DeadlineHeap<Tracked>;
  readonly #submitting = new WeakSet<Job>();
  // The core's FIFO of jobs waiting for cores (adopted running jobs are held in it too).
  readonly #cores: ResourceQueue<Tracked>;
  #submitTail: Promise<unknown> = Promise.resolve();
  /** Stage-ins in flight: close() lets them end in a spawn before it lets go of the jobs. */
  readonly #stagingIn = new Set<Promise<void>>();
  // Jobs handed to the spawn agent whose pid has not come back yet: close() waits for them.
  readonly #awaitingPid = new Set<Tracked>();
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
  #agents: SpawnAgents | undefined;
  #exec: ExecAgents | undefined;
  /** True once a started job's ACTIVE line could not be written: its agent's start journal must stay. */
  #keepJournals = false;
  readonly #ready: Promise<void>;

  /**
   * Test hook: the `setsid` and `env` commands the spawn agents of executors created from now on
   * use (tests name a missing one to force the fallback to direct spawns).
   */
  static agentOptions: { setsid?: string; env?: string; python?: string } = {};

  /**
   * Creates a local executor. Prefer {@link createLocalExecutor} or `getExecutor('local')`.
   * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
   * @throws {@link @exaworks/jpsi-core!StorageError} if the work directory cannot be created.
   */
  constructor(config: LocalExecutorConfigInput = {}) {
    const c = parseWith(LocalExecutorConfigSchema, config, 'local executor config');
    const resolved: LocalExecutorConfig = {
      ...c,
      workDirectory: path.resolve(c.workDirectory ?? defaultWorkDirectory('local')),
      keepFiles: c.keepFiles ?? false,
      maxCores: c.maxCores ?? os.availableParallelism(),
      killGracePeriod: c.killGracePeriod ?? 5000,
      pollInterval: c.pollInterval ?? 1000,
      fsync: c.fsync ?? false,
      recover: c.recover ?? true,
      adopt: c.adopt ?? true,
      spawnAgent: c.spawnAgent ?? true,
    };
    super('local', VERSION, resolved);
    this.#store = new JobStore(resolved.workDirectory, resolved.fsync);
    const self = selfIdentity();
    this.#owner = { ...self, id: `${self.pid}-${self.startTime}-${instances++}` };
    this.#store.registerOwner(this.#owner);
    this.#heap = new DeadlineHeap<Tracked>((t) => this.#onDeadline(t));
    this.#cores = new ResourceQueue<Tracked>({
      capacity: resolved.maxCores,
      cost: (t) => t.cores,
      // A job that left the queue some other way (it was canceled) gives its cores straight back.
      start: (t) => (t.phase === 'queued' ? this.#start(t) : this.#cores.release(t)),
    });
    this.#ready = resolved.recover
      ? this.#recoverAll().catch((err: unknown) => this.logger.error('recovery of orphaned jobs failed', { error: reason(err) }))
      : Promise.resolve();
  }

  /** The work directory (resolved). */
  get workDirectory(): string {
    return this.#store.workDirectory;
  }

  /** Cores in use by running jobs now. */
  get usedCores(): number {
    return this.#cores.used;
  }

  /** Jobs waiting for cores now. */
  get queuedCount(): number {
    return this.#cores.waiting;
  }

  /** Resolves once jobs left behind by dead executors have been adopted (started at construction). */
  ready(): Promise<void> {
    return this.#ready;
  }

  // ------------------------------------------------------------------------------------------
  // submit

  /**
   * Accepts a job: writes its script and record into the work directory, then queues it.
   * Resolves with the job QUEUED (or later) and `nativeId` set.
   * @throws {@link @exaworks/jpsi-core!ValidationError} for an invalid spec, {@link @exaworks/jpsi-core!UnknownLauncherError} for an
   *   unknown launcher, {@link @exaworks/jpsi-core!AbortedError} if `signal` aborts first, {@link @exaworks/jpsi-core!StorageError} if
   *   the work directory cannot be written, {@link @exaworks/jpsi-core!ExecutorClosedError} after `close()`.
   */
  submit(job: Job | JobSpecInput | JobSpec, options: SubmitOptions = {}): Promise<Job> {
    try {
      this.checkOpen();
      throwIfAborted(options.signal);
      const j = this.jobForSubmit(job);
      if (this.#submitting.has(j)) throw new InvalidJobStateError(`Job ${j.id} is already being submitted.`);
      this.#submitting.add(j);
      // Accept in call order, so FIFO order is submission order even for concurrent submits.
      const turn = this.#submitTail.then(() => this.#accept(j, options.signal)).finally(() => this.#submitting.delete(j));
      this.#submitTail = turn.then(noop, noop);
      return turn;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #accept(job: Job & { spec: JobSpec }, signal: AbortSignal | undefined): Promise<Job> {
    await this.#ready;
    this.checkOpen();
    throwIfAborted(signal);
    const spec = job.spec;
    const launcher = await this.#launcher(spec.launcher ?? 'single');
    const nodeFile = this.#store.nodeFile(spec.resources.computedProcessCount);
    const launch = await launcher.launchCommand(spec, signal ? { nodeFile, signal } : { nodeFile });
    const inputSpec = jobSpecToInput(spec);
    const cwd = process.cwd();
    const cores = coresFor(spec);
    const warnings = this.#warningsFor(spec, launch);
    const id = this.#store.newNativeId();
    const specForId = withNativeId(spec, id);
    // Everything that can fail is done before the record exists: the record is the commit point.
    // A job the exec agent can run needs no script (built later if it falls back to one).
    const script = this.#execEligible(specForId) ? undefined : this.#scriptFor(id, specForId, launch, nodeFile);
    throwIfAborted(signal);
    const submittedAt = new Date();
    const record: JobRecord = {
      format: RECORD_FORMAT,
      nativeId: id,
      jobId: job.id,
      submittedAt: submittedAt.toISOString(),
      cwd,
      cores,
      owner: this.#owner,
      spec: specForId === spec ? inputSpec : jobSpecToInput(specForId),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    this.#store.createRecord(record);
    this.bindJob(job, id);
    const t = this.#newTracked(id, job, specForId, record, true);
    t.script = script;
    t.launch = launch;
    t.nodeFile = nodeFile;
    this.#tracked.set(id, t);
    for (const warning of warnings) this.logger.warn(warning, { nativeId: id, jobId: job.id });
    this.#update(t, { state: JobState.QUEUED, time: submittedAt, ...queuedMessage(warnings) });
    this.#enqueue(t);
    return job;
  }

  /** What this job asked for that will not happen as asked: the launcher's warnings and ignored attributes. */
  #warningsFor(spec: JobSpec, launch: LaunchCommand): string[] {
    const ignored = ignoredAttributesWarning(spec.attributes, LOCAL_HONOURED_ATTRIBUTES);
    return [...(launch.warnings ?? []), ...(ignored === undefined ? [] : [ignored])];
  }

  /** The job script of job `id` (no default stdout/stderr files: /dev/null, as psij-python; the CLI names `<id>.out`/`.err`). */
  #scriptFor(id: string, spec: JobSpec, launch: LaunchCommand, nodeFile: string): string {
    const paths = this.#store.paths(id);
    // The job keeps its own walltime (and the SIGKILL after a SIGTERM), executor or not.
    const deadline = {
      seconds: spec.attributes.duration,
      graceSeconds: this.config.killGracePeriod / 1000,
      marker: paths.walltime,
    };
    return jobScriptFor(spec, launch, { resultFile: paths.exitCode, nodeFile, deadline, exclusiveResult: true });
  }

  /** Regenerates the script of an adopted job that never started (the submitter kept it in memory only). */
  async #prepare(t: Tracked): Promise<boolean> {
    try {
      const launcher = await this.#launcher(t.spec.launcher ?? 'single');
      const nodeFile = this.#store.nodeFile(t.spec.resources.computedProcessCount);
      t.launch = await launcher.launchCommand(t.spec, { nodeFile });
      t.nodeFile = nodeFile;
      t.script = this.#execEligible(t.spec) ? undefined : this.#scriptFor(t.id, t.spec, t.launch, nodeFile);
      return true;
    } catch (err) {
      await this.#finish(
        t,
        { state: JobState.FAILED, message: `Could not prepare the job script: ${reason(err)}`, reason: 'launch-failed' },
        'error',
        false,
      );
      return false;
    }
  }

  #paths(t: Tracked): LocalJobPaths {
    if (t.paths === undefined) t.paths = this.#store.paths(t.id);
    return t.paths;
  }

  #launcher(name: string): Promise<Launcher> {
    let l = this.#launchers.get(name);
    if (!l) {
      l = getLauncher(name);
      l.catch(() => this.#launchers.delete(name));
      this.#launchers.set(name, l);
    }
    return l;
  }

  #newTracked(id: string, job: Job, spec: JobSpec, record: JobRecord, owned: boolean): Tracked {
    return {
      id,
      job,
      spec,
      cwd: record.cwd,
      cores: record.cores,
      recordOwner: record.owner,
      phase: owned ? 'queued' : 'watching',
      owned,
      child: undefined,
      viaAgent: false,
      pid: undefined,
      startTime: undefined,
      activeAt: undefined,
      cancelRequested: false,
      timedOut: false,
      timer: 'walltime',
      applied: 0,
      script: undefined,
      launch: undefined,
      nodeFile: undefined,
      execAgent: undefined,
      viaExec: false,
      scriptFile: false,
      spawnCleared: false,
      adopted: false,
      paths: undefined,
      deferred: false,
      deadline: 0,
      heapIndex: -1,
    };
  }

  // ------------------------------------------------------------------------------------------
  // queue and start

  #enqueue(t: Tracked): void {
    t.phase = 'queued';
    this.#cores.enqueue(t);
  }

  #release(t: Tracked): void {
    this.#cores.release(t);
  }

  /**
   * Starts a job. The STAGE_IN line appended here is the start claim: only the owner appends it
   * (ownership is exclusive), and a canceller in another process that still sees no such line
   * after writing its cancel request may decide the job itself. So the owner appends first and
   * checks for a request after (in #spawn): of the two, at least one sees the other.
   */
  #start(t: Tracked): void {
    const paths = this.#paths(t);
    t.phase = 'starting';
    // No look for a cancel request before the claim (a stat per job for a rare case): a request
    // that came first is seen right after it, and readers ignore lines after a final one.
    const time = new Date();
    // One write for the claims of every job started in this turn; the job goes on once its claim is on disk.
    const claimed = this.#store.appendSoon(t.id, [{ state: JobState.STAGE_IN, time: time.toISOString() }]).then(
      () => this.#claimed(t, paths, time),
      (err: unknown) => {
        this.#release(t);
        void this.#finish(
          t,
          { state: JobState.FAILED, message: `Could not start the job: ${reason(err)}`, reason: 'launch-failed' },
          'error',
          false,
        );
      },
    );
    this.#stagingIn.add(claimed);
    void claimed.finally(() => this.#stagingIn.delete(claimed));
  }

  /** The job's start claim is on disk: stage in, then start it. */
  #claimed(t: Tracked, paths: LocalJobPaths, time: Date): void {
    this.#update(t, { state: JobState.STAGE_IN, time });
    if (t.spec.stageIn.length === 0) {
      this.#spawn(t, paths);
      return;
    }
    const staging: Promise<void> = stageIn(t.spec, this.#jobDirectory(t), t.cwd).then(
      () => this.#spawn(t, paths),
      (err: unknown) => {
        this.#release(t);
        void this.#finish(
          t,
          { state: JobState.FAILED, message: `Stage-in failed, the job was not run: ${reason(err)}`, reason: 'launch-failed' },
          'error',
          false,
        );
      },
    );
    this.#stagingIn.add(staging);
    void staging.finally(() => this.#stagingIn.delete(staging));
  }

  /** Where relative staging paths point: the spec's directory, else the submitter's. */
  #jobDirectory(t: Tracked): string {
    return path.resolve(t.cwd, t.spec.directory ?? '.');
  }

  #spawn(t: Tracked, paths: LocalJobPaths): void {
    if (t.cancelRequested || existsSync(paths.cancel)) {
      this.#release(t);
      void this.#finish(
        t,
        { state: JobState.CANCELED, message: 'Canceled before it started.', reason: 'canceled' },
        'cancel',
        false,
      );
      return;
    }
    // From here on a canceller sees the STAGE_IN line and only signals: the owner decides.
    t.spawnCleared = true;
    let viaExec: boolean;
    try {
      viaExec = t.script === undefined && this.#spawnViaExec(t, paths);
    } catch (err) {
      // Its spawn marker could not be queued: nothing was sent, so it never ran.
      this.#release(t);
      void this.#finish(
        t,
        { state: JobState.FAILED, message: `Could not start the job: ${reason(err)}`, reason: 'launch-failed' },
        'error',
        false,
      );
      return;
    }
    if (!viaExec) this.#spawnScript(t, paths);
  }

  /** Starts the job's script: through the sh spawn agent, else directly from Node. */
  #spawnScript(t: Tracked, paths: LocalJobPaths): void {
    let script: string;
    try {
      script = t.script ?? this.#scriptFor(t.id, t.spec, t.launch!, t.nodeFile!);
    } catch (err) {
      this.#release(t);
      void this.#finish(
        t,
        { state: JobState.FAILED, message: `Could not prepare the job script: ${reason(err)}`, reason: 'launch-failed' },
        'error',
        false,
      );
      return;
    }
    t.script = undefined;
    // No script file: `sh -s <name>` reads the script from a pipe, which costs no file creation
    // and keeps it (and the environment in it) out of argv; <name> lets recovery find the process
    // in /proc. A script too long for one pipe write runs from a private file.
    const name = processName(t.id);
    const interpreter = interpreterOf(script);
    let args = ['-s', name];
    let input: string | undefined = script;
    let cwd: string;
    try {
      let viaFile = false;
      if (this.config.keepFiles || Buffer.byteLength(script) >= PIPE_CAPACITY) {
        writePrivateFile(paths.script, script);
        t.scriptFile = true;
        if (!this.config.keepFiles) {
          args = [paths.script, name];
          input = undefined;
          viaFile = true;
        }
      }
      // An absolute spec.directory does not depend on the submitter's directory still existing.
      cwd = t.spec.directory !== undefined && path.isAbsolute(t.spec.directory) ? paths.dir : t.cwd;
      if (!viaFile && this.#spawnViaAgent(t, paths, { id: t.id, interpreter, cwd, script })) return;
    } catch (err) {
      this.#release(t);
      void this.#finish(
        t,
        { state: JobState.FAILED, message: `Could not start the job script: ${reason(err)}`, reason: 'launch-failed' },
        'error',
        false,
      );
      return;
    }
    this.#spawnDirect(t, paths, interpreter, args, cwd, input);
  }

  /**
   * True if the job needs no shell: the `single` launcher and no pre/post-launch script. The exec
   * agent runs such a job as one vfork+exec (no script, no result file); `keepFiles` wants a script.
   */
  #execEligible(spec: JobSpec): boolean {
    return (
      this.config.spawnAgent &&
      !this.config.keepFiles &&
      (spec.launcher ?? 'single') === 'single' &&
      spec.preLaunch === undefined &&
      spec.postLaunch === undefined
    );
  }

  /** What the job script would set up, as an exec agent request: program, directory, environment, streams, walltime. */
  #execRequest(t: Tracked, paths: LocalJobPaths): ExecRequest {
    const spec = t.spec;
    const launch = t.launch!;
    // As the job script: launcher variables first, then the spec's, then the node file.
    const env: Record<string, string> = { ...launch.env, ...spec.environment };
    if (t.nodeFile !== undefined) env.PSIJ_NODEFILE = t.nodeFile;
    if (!spec.inheritEnvironment && env.PATH === undefined) env.PATH = CLEAN_ENVIRONMENT_PATH;
    return {
      id: t.id,
      argv: launch.argv,
      cwd: path.resolve(t.cwd, spec.directory ?? '.'),
      inherit: spec.inheritEnvironment,
      env,
      ...(spec.stdinPath !== undefined ? { stdin: spec.stdinPath } : {}),
      ...(spec.stdoutPath !== undefined ? { stdout: spec.stdoutPath } : {}),
      ...(spec.stderrPath !== undefined ? { stderr: spec.stderrPath } : {}),
      walltime: spec.attributes.duration,
      grace: this.config.killGracePeriod / 1000,
      marker: paths.walltime,
    };
  }

  /**
   * Hands a shell-free job to the exec agent (python3). Its spawn marker is queued with the
   * agent's name and written (with the whole turn's batch) before the request reaches the agent.
   * False when the agent cannot take it: the caller starts the job's script instead.
   */
  #spawnViaExec(t: Tracked, paths: LocalJobPaths): boolean {
    if (!this.config.spawnAgent || this.closed) return false;
    this.#exec ??= new ExecAgents({
      ...(LocalExecutor.agentOptions.python !== undefined ? { python: LocalExecutor.agentOptions.python } : {}),
      journalDirectory: this.#store.agentsDirectory,
      journalTag: this.#owner.id,
      onUnavailable: (why) =>
        this.logger.info('the exec agent is not usable here; jobs run through their scripts', { reason: why }),
      beforeWrite: () => this.#store.flush(),
    });
    if (!this.#exec.available) return false;
    const req = this.#execRequest(t, paths);
    this.#awaitingPid.add(t);
    let sent = false;
    try {
      sent = this.#exec.run(
        req,
        {
          started: (pid, startTime) => {
            const handedOver = this.#awaitingPid.delete(t);
            if (this.closed && !handedOver) return; // no longer ours: an adopter finds it in the agent's journal
            t.viaExec = true;
            this.#started(t, paths, pid, startTime);
          },
          exited: (result, signal) => {
            this.#awaitingPid.delete(t);
            t.viaExec = false;
            if (this.closed) return; // no longer ours: an adopter reads the end in the agent's journal
            this.#onExecExit(t, result, signal);
          },
          failed: (why, message) => {
            this.#awaitingPid.delete(t);
            t.viaExec = false;
            if (this.closed) return;
            if (why === 'unavailable') {
              // It read no request: the job never ran; its script runs it instead.
              t.execAgent = undefined;
              this.#spawnScript(t, paths);
              return;
            }
            if (why === 'norecord') {
              this.#release(t);
              void this.#finish(
                t,
                { state: JobState.FAILED, message: `Could not start the job: ${message}`, reason: 'launch-failed' },
                'error',
                false,
              );
              return;
            }
            this.logger.warn('the exec agent died while it ran a job; checking its journal', { nativeId: t.id });
            void this.#afterExecAgentDied(t, paths);
          },
        },
        (agent) => {
          t.execAgent = agent;
          this.#store.enqueue(t.id, [{ spawn: 'exec', agent }]);
        },
      );
    } finally {
      if (!sent) this.#awaitingPid.delete(t);
    }
    if (!sent) t.execAgent = undefined;
    return sent;
  }

  /** The exec agent died with the job sent: its journal says whether the job started and how it ended. */
  async #afterExecAgentDied(t: Tracked, paths: LocalJobPaths): Promise<void> {
    const entry = readExecAgentJournal(t.execAgent!.journal, t.id);
    if (!entry.started) {
      // Never started, and the agent that could have is gone: start it here, once.
      t.execAgent = undefined;
      this.#spawnScript(t, paths);
      return;
    }
    if (entry.status !== undefined) {
      this.#onExecExit(t, { exitCode: entry.status, ...(entry.failure ? { failure: entry.failure } : {}) }, null);
      return;
    }
    if (entry.pid !== undefined && entry.startTime !== undefined && isAlive({ pid: entry.pid, startTime: entry.startTime })) {
      if (t.pid === undefined) this.#started(t, paths, entry.pid, entry.startTime);
      this.#watch(t); // its end is unknown now (nobody reaps it for us): the poll sees it go
      return;
    }
    this.#release(t);
    await this.#complete(t, undefined, true);
  }

  #onExecExit(t: Tracked, result: JobResult, signal: NodeJS.Signals | null): void {
    // Keep a pending SIGKILL if some of the job's processes outlived the leader.
    if (!(t.timer === 'escalate' && t.pid !== undefined && groupExists(t.pid))) this.#heap.remove(t);
    this.#release(t);
    void this.#complete(t, { code: signal ? null : result.exitCode, signal }, true, result);
  }

  /** Spawns directly from Node (the fallback of the spawn agent, and for scripts run from a file). */
  #spawnDirect(t: Tracked, paths: LocalJobPaths, interpreter: string, args: string[], cwd: string, input?: string): void {
    let child: ChildProcess;
    try {
      // Recorded whole before the fork: without it an adopter knows the job never started.
      const marker: SpawnMarker = { spawn: 'direct' };
      this.#store.append(t.id, [marker]);
      // node:child_process rather than execa: we need a detached group leader with no pipes but
      // the script's (stdin, ended at once) and no kill-on-parent-exit cleanup.
      child = spawn(interpreter, args, {
        cwd,
        detached: true,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'],
      });
      if (input !== undefined) {
        child.stdin!.on('error', noop); // EPIPE: the shell ended before reading it all (its exit says how)
        child.stdin!.end(input);
      }
    } catch (err) {
      this.#release(t);
      void this.#finish(
        t,
        { state: JobState.FAILED, message: `Could not start the job script: ${reason(err)}`, reason: 'launch-failed' },
        'error',
        false,
      );
      return;
    }
    if (child.pid === undefined) {
      child.once('error', (err) => {
        this.#release(t);
        void this.#finish(
          t,
          { state: JobState.FAILED, message: `Could not start the job script: ${reason(err)}`, reason: 'launch-failed' },
          'error',
          false,
        );
      });
      return;
    }
    child.once('error', (err) => this.logger.warn('job process error', { nativeId: t.id, error: reason(err) }));
    child.once('exit', (code, signal) => this.#onChildExit(t, code, signal));
    t.child = child;
    this.#started(t, paths, child.pid);
  }

  /**
   * Hands the job to the spawn agent, which forks it from a small shell instead of this (large)
   * Node process. False when the agent cannot take it: the caller spawns directly.
   */
  #spawnViaAgent(
    t: Tracked,
    paths: LocalJobPaths,
    req: { id: string; interpreter: string; cwd: string; script: string },
  ): boolean {
    if (!this.config.spawnAgent || this.closed) return false;
    this.#agents ??= new SpawnAgents({
      ...LocalExecutor.agentOptions,
      journalDirectory: this.#store.agentsDirectory,
      journalTag: this.#owner.id,
      onUnavailable: (why) => this.logger.info('the spawn agent is not usable here; spawning jobs directly', { reason: why }),
    });
    this.#awaitingPid.add(t);
    let agentInfo: AgentInfo | undefined;
    // Which agent may start it, recorded whole before a byte of the request is sent: an adopter
    // asks that agent's start journal instead of guessing (see AGENT_SCRIPT).
    const beforeSend = (agent: AgentInfo): void => {
      this.#store.append(t.id, [{ spawn: 'agent', agent }]);
    };
    let sent: boolean;
    try {
      sent = this.#agents.run(
        req,
        {
          started: (pid) => {
            const handedOver = this.#awaitingPid.delete(t);
            if (this.closed && !handedOver) return; // no longer ours: an adopter finds it in /proc by its name
            t.viaAgent = true;
            this.#started(t, paths, pid);
          },
          exited: (code, signal) => {
            this.#awaitingPid.delete(t);
            t.viaAgent = false;
            this.#onChildExit(t, code, signal);
          },
          failed: (why, message) => {
            this.#awaitingPid.delete(t);
            if (this.closed) return;
            t.viaAgent = false;
            if (why === 'nocwd' || why === 'norecord') {
              this.#release(t);
              void this.#finish(
                t,
                {
                  state: JobState.FAILED,
                  message: `Could not start the job script: ${message} (${req.cwd})`,
                  reason: 'launch-failed',
                },
                'error',
                false,
              );
              return;
            }
            if (why === 'unavailable') {
              // The agent read no request: the job never ran, so it can be spawned directly.
              this.#spawnDirect(t, paths, req.interpreter, ['-s', processName(t.id)], req.cwd, req.script);
              return;
            }
            this.logger.warn('the spawn agent died while it ran a job; checking the process', { nativeId: t.id });
            if (t.pid === undefined) {
              const identity = findProcessRunning(processName(t.id));
              if (identity) this.#started(t, paths, identity.pid);
              else if (agentInfo && !readAgentJournal(agentInfo.journal, t.id).started) {
                // The agent is gone and never recorded it: it never started, so start it here, once.
                this.#spawnDirect(t, paths, req.interpreter, ['-s', processName(t.id)], req.cwd, req.script);
                return;
              }
            }
            // Like an adopted running job: the shared poll timer sees it end, the result file says how.
            if (t.pid !== undefined) {
              this.#watch(t);
            } else {
              this.#release(t);
              void this.#complete(t, undefined, true);
            }
          },
        },
        (agent) => {
          agentInfo = agent;
          beforeSend(agent);
        },
      );
    } catch (err) {
      this.#awaitingPid.delete(t);
      throw err;
    }
    if (!sent) this.#awaitingPid.delete(t);
    return sent;
  }

  /** A job's process runs: record ACTIVE (pid and start time), arm its walltime, honour a cancel. */
  #started(t: Tracked, paths: LocalJobPaths, pid: number, startTime?: string): void {
    t.pid = pid;
    t.startTime = startTime ?? processStartTime(pid, { zombies: true }) ?? '';
    t.phase = 'running';
    const time = new Date();
    t.activeAt = time.getTime();
    this.#store
      .appendSoon(t.id, [{ state: JobState.ACTIVE, time: time.toISOString(), pid, startTime: t.startTime }])
      .catch((err: unknown) => {
        // The job runs regardless; recovery finds it by its name in /proc/<pid>/cmdline, or in the agent's journal.
        this.#keepJournals = true;
        this.logger.error('could not record that a job started', { nativeId: t.id, error: reason(err) });
      });
    this.#update(t, { state: JobState.ACTIVE, time, metadata: { pid } });
    t.timer = 'walltime';
    this.#heap.schedule(t, t.activeAt + t.spec.attributes.duration * 1000);
    if (t.cancelRequested || existsSync(paths.cancel)) {
      t.cancelRequested = true;
      this.#terminate(t);
    }
  }

  #onChildExit(t: Tracked, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return; // no longer ours: an adopter records it
    t.child = undefined;
    // Keep a pending SIGKILL if some of the job's processes outlived the leader.
    if (!(t.timer === 'escalate' && t.pid !== undefined && groupExists(t.pid))) this.#heap.remove(t);
    this.#release(t);
    void this.#complete(t, { code, signal });
  }

  // ------------------------------------------------------------------------------------------
  // ending

  /** Works out how a job that has stopped running ended, then stages out, cleans up and records. */
  async #complete(
    t: Tracked,
    exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
    ran = true,
    known?: JobResult,
  ): Promise<void> {
    t.phase = 'finishing';
    const paths = this.#paths(t);
    let text: string | undefined;
    if (known === undefined && t.execAgent !== undefined) {
      // Run by the exec agent: its journal, not a result file, holds how it ended.
      const entry = readExecAgentJournal(t.execAgent.journal, t.id);
      if (entry.status !== undefined) known = { exitCode: entry.status, ...(entry.failure ? { failure: entry.failure } : {}) };
    }
    if (known !== undefined) {
      text = undefined;
    } else if (exit?.code === 0) {
      // Our own child exited 0: the script writes a failure line only with a non-zero code, so
      // the result can only say "0" and reading it would be one more open per job.
      text = '0\n';
    } else {
      try {
        text = readFileSync(paths.exitCode, 'utf8');
      } catch {
        text = undefined;
      }
    }
    const result = known ?? (text === undefined ? undefined : parseJobResult(text));
    // A cancel that landed after the job had already exited does not make it CANCELED.
    const canceled = (t.cancelRequested || existsSync(paths.cancel)) && !(result && this.#exitedBeforeCancel(t, paths));
    // Killed for its walltime by its own watchdog (maybe while no executor lived), or by us.
    const timedOut = t.timedOut || (exit?.code !== 0 && existsSync(paths.walltime));
    let update = finalUpdate({
      result,
      canceled,
      timedOut,
      duration: t.spec.attributes.duration,
      exit,
      ran,
    });
    if (update.state === JobState.FAILED && update.message === undefined && update.exitCode !== undefined) {
      const quoted = launcherError(t.spec, update.exitCode);
      if (quoted !== undefined) update = { ...update, message: quoted };
    }
    const outcome: Outcome = canceled ? 'cancel' : update.state === JobState.COMPLETED ? 'success' : 'error';
    await this.#finish(t, update, outcome, ran);
  }

  /** True if the job ended no later than its cancel request came (its exit then wins over the cancel). */
  #exitedBeforeCancel(t: Tracked, paths: LocalJobPaths): boolean {
    if (t.execAgent === undefined) return exitedBeforeCancel(paths);
    const endedAt = readExecAgentJournal(t.execAgent.journal, t.id).endedAt;
    try {
      return endedAt !== undefined && endedAt <= statSync(paths.cancel).mtimeMs;
    } catch {
      return false;
    }
  }

  /**
   * Stage-out and cleanup (when the job ran), then the final state: claimed exclusively in the
   * work directory, appended to the log, and only then reported.
   */
  async #finish(t: Tracked, update: JobStatusUpdate, outcome: Outcome, staging: boolean): Promise<void> {
    t.phase = 'finishing';
    this.#unwatch(t);
    const paths = this.#paths(t);
    const lines: LogLine[] = [];
    let final = update;
    if (staging) {
      const stageOutStatus = this.#update(t, { state: JobState.STAGE_OUT });
      if (t.spec.stageOut.length) {
        const failure = await stageOut(t.spec, this.#jobDirectory(t), t.cwd, outcome).catch((err: unknown) => reason(err));
        if (failure !== undefined) {
          final =
            final.state === JobState.COMPLETED
              ? // The program exited 0, but the job failed: FAILED carries a non-zero code, as in psij-python.
                { ...final, state: JobState.FAILED, message: failure, exitCode: STAGE_OUT_FAILED_EXIT_CODE }
              : { ...final, message: [final.message, failure].filter(Boolean).join('; ') };
        }
      }
      const cleanupStatus = this.#update(t, { state: JobState.CLEANUP });
      if (t.spec.cleanup.length) {
        const failure = await cleanup(t.spec, this.#jobDirectory(t), outcome).catch((err: unknown) => reason(err));
        if (failure !== undefined) {
          this.logger.warn('cleanup failed', { nativeId: t.id, error: failure });
          final = { ...final, message: [final.message, `cleanup: ${failure}`].filter(Boolean).join('; ') };
        }
      }
      for (const s of [...stageOutStatus, ...cleanupStatus]) lines.push(statusToJson(s));
    }
    const wanted: JobStatusJson = statusToJson({ ...final, time: new Date() });
    let decided = await this.#recordFinal(t, paths, lines, wanted);
    // Not recorded (a full disk): a final state only this process knew would read differently
    // after a restart, so none is reported; try again each poll interval while open. Once
    // closed, an adopter decides from the facts on disk.
    while (decided === undefined) {
      if (this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, this.config.pollInterval));
      if (this.closed) return;
      decided = await this.#recordFinal(t, paths, lines, wanted);
    }
    this.#update(t, statusFromJson(decided));
    this.#done(t);
    if (!this.config.keepFiles && (t.scriptFile || t.adopted)) rmSync(paths.script, { force: true });
  }

  /** Appends the final line (or decides a never-started job); undefined if it could not be written. */
  async #recordFinal(
    t: Tracked,
    paths: LocalJobPaths,
    lines: readonly LogLine[],
    decided: JobStatusJson,
  ): Promise<JobStatusJson | undefined> {
    try {
      if (t.spawnCleared) {
        // Only the owner decides a job that may have run: one append, final line last.
        await this.#store.appendSoon(t.id, [...lines, decided]);
        return decided;
      }
      // Never started: a canceller in another process may be deciding it too; one wins.
      return await this.#store.decideUnstarted(paths, decided);
    } catch (err) {
      this.logger.error('could not record the final state of a job; it stays unreported until it can be', {
        nativeId: t.id,
        error: reason(err),
      });
      return undefined;
    }
  }

  #done(t: Tracked): void {
    t.phase = 'done';
    this.#unwatch(t);
    if (!(t.timer === 'escalate' && t.heapIndex >= 0)) this.#heap.remove(t);
    if (this.#tracked.get(t.id) === t) {
      this.#tracked.delete(t.id);
      this.forgetJob(t.id);
    }
  }

  // ------------------------------------------------------------------------------------------
  // signals and deadlines

  /** SIGTERM to the job's process group, SIGKILL after the grace period. */
  #terminate(t: Tracked): void {
    if (t.pid === undefined) return;
    if (!t.child && !t.viaAgent && !t.viaExec && !(t.startTime !== undefined && isAlive({ pid: t.pid, startTime: t.startTime })))
      return;
    // The exec agent escalates to SIGKILL itself, also once this executor is gone.
    if (t.viaExec) this.#exec?.terminate(t.id);
    // An agent's job is its own group only once setsid ran: just before, the process alone is it.
    if (!signalGroup(t.pid, 'SIGTERM') && t.viaAgent) signalProcess(t.pid, 'SIGTERM');
    t.timer = 'escalate';
    this.#heap.schedule(t, Date.now() + this.config.killGracePeriod);
  }

  #onDeadline(t: Tracked): void {
    if (t.timer === 'walltime') {
      if (t.phase !== 'running' || !t.owned) return;
      t.timedOut = true;
      try {
        this.#store.claim(this.#paths(t).walltime, ''); // what the job's own watchdog writes too
      } catch {
        // in memory it is known; an adopter would see the job killed by SIGTERM
      }
      this.#terminate(t);
    } else if (t.pid !== undefined && groupExists(t.pid)) {
      signalGroup(t.pid, 'SIGKILL');
    }
  }

  // ------------------------------------------------------------------------------------------
  // cancel

  /**
   * Cancels a job. Queued: removed from the queue, never started. Running: SIGTERM to its
   * process group, SIGKILL after `killGracePeriod`; it ends CANCELED. Final: nothing happens.
   * Works for jobs owned by another process too (through a cancel request in the work directory
   * and the recorded process group).
   */
  async cancel(job: Job): Promise<void> {
    if (job.executor !== this || job.nativeId === undefined) {
      throw new InvalidJobStateError(`Job ${job.id} does not belong to this local executor; submit or attach it first.`);
    }
    if (job.status.state === JobState.COMPLETED || job.status.state === JobState.FAILED || job.status.state === JobState.CANCELED)
      return;
    const t = this.#tracked.get(job.nativeId);
    const paths = this.#store.paths(job.nativeId);
    if (!t || this.closed) {
      await this.#cancelOnDisk(job.nativeId);
      return;
    }
    if (t.phase === 'done' || t.phase === 'finishing') return;
    t.cancelRequested = true;
    if (t.phase === 'queued' && t.owned) {
      t.phase = 'finishing';
      this.#cores.withdraw(t);
      // Never started: decided through `<id>.unstarted`, in case another process cancels it too.
      await this.#finish(
        t,
        { state: JobState.CANCELED, message: 'Canceled while queued; it was never started.', reason: 'canceled' },
        'cancel',
        false,
      );
      return;
    }
    if (t.phase === 'starting') return; // checked again just before the process is started
    if (t.owned) {
      this.#store.claim(paths.cancel, this.#owner.id); // an adopter must know too, should we die
      this.#terminate(t);
      return;
    }
    // Watching a job whose executor is gone: take it over to decide it, never to start it.
    const paths2 = this.#paths(t);
    const current = this.#store.readOwner(paths2, { owner: t.recordOwner } as JobRecord);
    if (!this.#store.ownerAlive(current.owner) && (await this.#store.adopt(paths2, current, this.#owner))) {
      this.#unwatch(t);
      t.owned = true;
      t.cancelRequested = true;
      this.#store.claim(paths2.cancel, this.#owner.id);
      await this.#resume(t);
      return;
    }
    // Watching a job another live executor owns.
    if (await this.#cancelOnDisk(t.id)) await this.#pollOne(t, new Map());
  }

  /**
   * Cancels through the work directory, for a job this executor does not own: a cancel request
   * first, then a fresh look at the log. No STAGE_IN line yet: the owner will see the request
   * before it starts the job (it appends that line first, then checks), so the job never runs,
   * and this process decides it CANCELED through `<id>.unstarted` (the owner may race for the
   * same decision; one wins). Otherwise only the owner decides: this signals the recorded
   * process group. True if the job has a final state now.
   */
  async #cancelOnDisk(nativeId: string): Promise<boolean> {
    const paths = this.#store.paths(nativeId);
    if (this.#store.readJob(nativeId)?.final) return true;
    this.#store.claim(paths.cancel, this.#owner.id);
    const file = this.#store.readJob(nativeId);
    if (!file) return false;
    if (file.final) return true;
    if (!file.starting) {
      await this.#store.decideUnstarted(
        paths,
        statusToJson({
          state: JobState.CANCELED,
          time: new Date(),
          message: 'Canceled while queued; it was never started.',
          reason: 'canceled',
        }),
      );
      return true;
    }
    const active = file.lines.findLast((l) => l.pid !== undefined && l.startTime !== undefined);
    if (!active) return false; // being started: the starter checks the request right after starting it
    const identity: ProcessIdentity = { pid: active.pid!, startTime: active.startTime! };
    if (!isAlive(identity)) return false;
    // A job from a spawn agent leads its group only once setsid ran: just before, signal it alone.
    if (!signalGroup(identity.pid, 'SIGTERM')) signalProcess(identity.pid, 'SIGTERM');
    // Stay until the group is gone or the grace period is over, so a short-lived caller (the
    // CLI) still delivers the SIGKILL.
    const until = Date.now() + this.config.killGracePeriod;
    while (Date.now() < until && groupExists(identity.pid)) await new Promise((r) => setTimeout(r, 25));
    if (groupExists(identity.pid)) signalGroup(identity.pid, 'SIGKILL');
    return false;
  }

  // ------------------------------------------------------------------------------------------
  // attach, recovery, watching

  /**
   * Binds `job` to an existing native id of this work directory (from this or another process),
   * replays its recorded states, and tracks it to its end. A job whose owner is gone is adopted:
   * started if it never was, tracked (walltime included) if it runs, finished from its result
   * file if it ended.
   * @throws {@link @exaworks/jpsi-core!JobNotFoundError} if the work directory has no such job.
   */
  async attach(job: Job, nativeId: string): Promise<void> {
    this.checkOpen();
    if (typeof nativeId !== 'string' || !/^[A-Za-z0-9._-]+$/.test(nativeId) || nativeId === '.' || nativeId === '..') {
      throw new ValidationError('attach', [
        { path: 'nativeId', message: `"${String(nativeId)}" is not a local executor native id` },
      ]);
    }
    await this.#ready;
    const existing = this.#tracked.get(nativeId);
    if (existing) {
      // A further handle on a job this executor tracks: the core replays its history and keeps it in step.
      this.bindJob(job, nativeId, existing.spec);
      return;
    }
    const file = this.#store.readJob(nativeId);
    if (!file) throw new JobNotFoundError(nativeId, this.name);
    const record = file.record;
    const spec = createJobSpec(record.spec);
    this.bindJob(job, nativeId, spec);
    const t = this.#newTracked(nativeId, job, spec, record, false);
    this.#tracked.set(nativeId, t);
    this.#replay(t, file);
    if (file.final) {
      this.#done(t);
      return;
    }
    const paths = this.#store.paths(nativeId);
    const current = this.#store.readOwner(paths, record);
    if (this.config.adopt && !this.#store.ownerAlive(current.owner) && (await this.#store.adopt(paths, current, this.#owner))) {
      t.owned = true;
      await this.#resume(t);
      return;
    }
    this.#watch(t);
  }

  /** Native ids of the jobs in the work directory, oldest first. */
  async list(): Promise<string[]> {
    return this.#store.list();
  }

  /** Adopts every unfinished job whose owner is gone. */
  async #recoverAll(): Promise<void> {
    for (const id of this.#store.list()) {
      const paths = this.#store.paths(id);
      let file: JobFile | undefined;
      try {
        file = this.#store.readJob(id);
      } catch (err) {
        this.logger.warn('skipping an unreadable job record', { nativeId: id, error: reason(err) });
        continue;
      }
      if (!file || file.final) continue;
      const record = file.record;
      const current = this.#store.readOwner(paths, record);
      if (this.#store.ownerAlive(current.owner)) continue;
      if (!(await this.#store.adopt(paths, current, this.#owner))) continue;
      let spec: JobSpec;
      try {
        spec = createJobSpec(record.spec);
      } catch (err) {
        const status = statusToJson({
          state: JobState.FAILED,
          time: new Date(),
          message: `The job's record cannot be read back: ${reason(err)}`,
        });
        if (file.starting) this.#store.append(id, [status]);
        else await this.#store.decideUnstarted(paths, status);
        continue;
      }
      const job = new Job(spec, { id: record.jobId });
      this.bindJob(job, id);
      const t = this.#newTracked(id, job, spec, record, true);
      t.adopted = true;
      this.#tracked.set(id, t);
      this.logger.info('adopting a job whose executor is gone', { nativeId: id, previousOwner: current.owner.id });
      this.#replay(t, file);
      await this.#resume(t);
    }
  }

  /** Replays QUEUED (implied by the record) and the status lines. */
  #replay(t: Tracked, file: JobFile): void {
    this.#update(t, { state: JobState.QUEUED, time: new Date(file.record.submittedAt), ...queuedMessage(file.record.warnings) });
    this.#applyLines(t, file);
  }

  /** Re-reads the job's file and applies the status lines not applied yet. */
  #applyLog(t: Tracked): JobFile | undefined {
    const file = this.#store.readJob(t.id);
    if (file) this.#applyLines(t, file);
    return file;
  }

  #applyLines(t: Tracked, file: JobFile): void {
    const lines = file.lines;
    for (const line of lines.slice(t.applied)) {
      const { pid, startTime, ...status } = line;
      if (pid !== undefined) {
        t.pid = pid;
        t.startTime = startTime;
        t.activeAt = new Date(status.time).getTime();
      }
      this.#update(t, statusFromJson(status));
    }
    t.applied = lines.length;
  }

  /** Continues a job this executor just adopted, from what the work directory says. */
  async #resume(t: Tracked): Promise<void> {
    const paths = this.#paths(t);
    t.adopted = true;
    t.deferred = false;
    const file = this.#applyLog(t);
    if (!file || file.final) {
      this.#done(t);
      return;
    }
    if (!file.starting) {
      if (await this.#canceledUnstarted(t, paths, false)) return;
      // Never started: start it through the same claim-then-check protocol as any job.
      if (await this.#prepare(t)) this.#enqueue(t);
      return;
    }
    t.execAgent = file.spawn?.spawn === 'exec' ? file.spawn.agent : undefined;
    let identity: ProcessIdentity | undefined =
      t.pid !== undefined && t.startTime ? { pid: t.pid, startTime: t.startTime } : undefined;
    // An ACTIVE line whose process was gone before its start time was read still says it ran.
    const ranBefore = t.pid !== undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let known: JobResult | undefined;
    let ran = ranBefore;
    if (!ranBefore) {
      // STAGE_IN without ACTIVE: the job may have been started; look for it among live processes
      // (an exec agent's job carries no name of ours: its agent's journal has its pid).
      identity = t.execAgent ? undefined : findProcessRunning(processName(t.id), paths.script);
      const fate = identity ? undefined : startFate(t.id, file.spawn, paths);
      if (fate?.kind === 'running') identity = fate.identity;
      if (identity) {
        t.pid = identity.pid;
        t.startTime = identity.startTime;
        t.activeAt = Date.now();
        this.#store.append(t.id, [
          { state: JobState.ACTIVE, time: new Date().toISOString(), pid: identity.pid, startTime: identity.startTime },
        ]);
        this.#update(t, { state: JobState.ACTIVE, metadata: { pid: identity.pid } });
      } else if (fate) {
        if (fate.kind === 'pending') {
          // The dead owner's agent may still start it: decide only once it is gone (exclusive).
          t.deferred = true;
          this.#watch(t);
          return;
        }
        if (fate.kind === 'never') {
          // Only we (its owner) can start it now: a cancel decides it, else it starts, once.
          if (await this.#canceledUnstarted(t, paths, true)) return;
          if (await this.#prepare(t)) this.#enqueue(t);
          return;
        }
        ran = fate.kind !== 'maybe';
        if (fate.kind === 'ran') {
          exit = fate.exit;
          known = fate.result;
        }
      }
    } else if (t.execAgent && identity && !isAlive(identity)) {
      // It ran and its process is gone: its end is in its agent's journal, or soon will be.
      const fate = execFate(t.id, t.execAgent);
      if (fate.kind === 'pending') {
        t.deferred = true;
        this.#watch(t);
        return;
      }
      if (fate.kind === 'ran') {
        exit = fate.exit;
        known = fate.result;
      }
    }
    if (identity && isAlive(identity)) {
      t.spawnCleared = true;
      t.phase = 'running';
      t.timer = 'walltime';
      // It runs on this machine's cores: count it against maxCores like a job started here.
      this.#cores.hold(t);
      this.#heap.schedule(t, (t.activeAt ?? Date.now()) + t.spec.attributes.duration * 1000);
      this.#watch(t);
      if (existsSync(paths.cancel)) {
        t.cancelRequested = true;
        this.#terminate(t);
      }
      return;
    }
    ran = ran || identity !== undefined || existsSync(paths.exitCode);
    // A job known to have run was cleared to start by its owner: only its owner (now us) decides.
    t.spawnCleared = true;
    await this.#complete(t, exit, ran, known);
  }

  /**
   * An adopted job that never started and has a cancel request ends CANCELED without starting.
   * `owned`: its STAGE_IN line is there, so only its owner (we) decides; else through `<id>.unstarted`.
   */
  async #canceledUnstarted(t: Tracked, paths: LocalJobPaths, owned: boolean): Promise<boolean> {
    if (!t.cancelRequested && !existsSync(paths.cancel)) return false;
    t.cancelRequested = true;
    t.spawnCleared = owned;
    await this.#finish(
      t,
      { state: JobState.CANCELED, message: 'Canceled while queued; it was never started.', reason: 'canceled' },
      'cancel',
      false,
    );
    return true;
  }

  #watch(t: Tracked): void {
    if (t.phase !== 'running') t.phase = 'watching';
    this.#watched.add(t);
    if (!this.#pollTimer && !this.closed) {
      this.#pollTimer = setInterval(() => void this.#poll(), this.config.pollInterval);
    }
  }

  #unwatch(t: Tracked): void {
    this.#watched.delete(t);
    if (this.#watched.size === 0 && this.#pollTimer) {
      clearInterval(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }

  /** One pass over every watched job: one timer for all of them. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    const owners = new Map<string, boolean>();
    try {
      for (const t of [...this.#watched]) {
        if (this.closed) break;
        try {
          await this.#pollOne(t, owners);
        } catch (err) {
          this.logger.warn('checking a watched job failed', { nativeId: t.id, error: reason(err) });
        }
      }
    } finally {
      this.#polling = false;
    }
  }

  async #pollOne(t: Tracked, owners: Map<string, boolean>): Promise<void> {
    if (!this.#watched.has(t)) return;
    const paths = this.#paths(t);
    if (t.owned && t.deferred) {
      this.#unwatch(t);
      await this.#resume(t);
      return;
    }
    if (t.owned) {
      // Adopted while running: we have no child handle, so check the process itself.
      if (t.pid !== undefined && t.startTime !== undefined && isAlive({ pid: t.pid, startTime: t.startTime })) return;
      // Gone, and its exec agent has yet to journal how it ended: look again next poll.
      if (t.execAgent && isAlive(t.execAgent) && readExecAgentJournal(t.execAgent.journal, t.id).status === undefined) return;
      this.#unwatch(t);
      this.#release(t); // a job whose spawn agent died still held its cores
      await this.#complete(t, undefined, true);
      return;
    }
    const file = this.#applyLog(t);
    if (file?.final) {
      this.#done(t);
      return;
    }
    const record = { owner: t.recordOwner } as JobRecord;
    const current = this.#store.readOwner(paths, record);
    let alive = owners.get(current.owner.id);
    if (alive === undefined) {
      alive = this.#store.ownerAlive(current.owner);
      owners.set(current.owner.id, alive);
    }
    if (alive || !this.config.adopt) return;
    if (await this.#store.adopt(paths, current, this.#owner)) {
      this.#unwatch(t);
      t.owned = true;
      await this.#resume(t);
    }
  }

  // ------------------------------------------------------------------------------------------

  /** Moves a job (and, through the core's job table, every other handle on it) through the state machine. */
  #update(t: Tracked, update: JobStatusUpdate): JobStatus[] {
    return this.updateJobStatus(t.job, update);
  }

  /**
   * Stops this executor's timers and lets go of its jobs: running jobs keep running (they are
   * detached), queued jobs stay in the work directory, and the next local executor on it adopts
   * them. Job objects of this executor get no more updates.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.markClosed();
    this.#cores.pause(); // queued jobs stay queued, in the work directory, for the next executor
    await this.#ready.catch(noop);
    // A job past its start claim is started now (and unref'd below), not after this returns.
    while (this.#stagingIn.size > 0) await Promise.all([...this.#stagingIn]);
    // A job already handed to the spawn agent gets its ACTIVE line (pid) before we let go of it,
    // so an adopter never mistakes it for lost; bounded, in case the agent is wedged.
    for (const until = Date.now() + 5000; this.#awaitingPid.size > 0 && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.#heap.stop();
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    for (const t of this.#tracked.values()) {
      t.child?.unref();
      t.viaAgent = false;
      t.viaExec = false;
    }
    this.#agents?.close();
    this.#exec?.close();
    // Every job sent to our agents has its ACTIVE line: their start journals are not needed any more.
    if (this.#awaitingPid.size === 0 && !this.#keepJournals) this.#agents?.removeJournals();
    // The exec agents' journals hold the ends of the jobs they still run: kept until none runs.
    if (this.#awaitingPid.size === 0 && ![...this.#tracked.values()].some((t) => t.execAgent !== undefined))
      this.#exec?.removeJournals();
    this.#store.unregisterOwner(this.#owner);
  }
}

/**
 * Creates a local executor.
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export function createLocalExecutor(config: LocalExecutorConfigInput = {}): LocalExecutor {
  return new LocalExecutor(config);
}

/** Registry entry: `getExecutor('local', config)` creates a {@link LocalExecutor}. */
export const executorProvider: ExecutorProvider = {
  name: 'local',
  create: (config?: unknown) => new LocalExecutor((config ?? {}) as LocalExecutorConfigInput),
};
