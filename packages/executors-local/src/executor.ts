/**
 * The local executor: jobs run as real, detached process groups on this machine, with a
 * resource-aware FIFO queue, one deadline timer, and the work directory as the source of truth.
 * @module
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BaseJobExecutor,
  InvalidJobStateError,
  Job,
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
  type JobSpec,
  type JobSpecInput,
  type JobStatus,
  type JobStatusJson,
  type JobStatusUpdate,
  type LaunchCommand,
  type Launcher,
  type SubmitOptions,
} from '@exaworks/jpsi-core';
import { DeadlineHeap, ResourceQueue, throwIfAborted } from '@exaworks/jpsi-core/internal';
import { parseJobResult, type JobResult } from '@exaworks/launcher';
import {
  LOCAL_HONOURED_ATTRIBUTES,
  LocalExecutorConfigSchema,
  VERSION,
  coresFor,
  withNativeId,
  type LocalExecutorConfig,
  type LocalExecutorConfigInput,
} from './config.js';
import { execEndedBefore, execResult, readExecAgentJournal } from './exec-agent.js';
import { JobProcesses, type AgentToolOptions } from './job-process.js';
import { STAGE_OUT_FAILED_EXIT_CODE, finalUpdate, launcherError, queuedMessage } from './outcome.js';
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
import { execFate, processName, startFate } from './recovery.js';
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
} from './store.js';
import { newTracked, type Tracked } from './tracked.js';
import { cancelOnDisk } from './cancel-protocol.js';

let instances = 0;

const noop = (): void => undefined;

/** The message of an error, for status messages. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
  /** Its agents and the processes of its jobs. */
  readonly #processes: JobProcesses;
  readonly #ready: Promise<void>;

  /**
   * Test hook: the `setsid`, `env` and `python3` commands the agents of executors created from now
   * on use (tests name a missing one to force a fallback: the sh agent, or direct spawns).
   */
  static agentOptions: AgentToolOptions = {};

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
    const executor = this;
    this.#processes = new JobProcesses(
      {
        config: resolved,
        logger: this.logger,
        get closed() {
          return executor.closed;
        },
        started: (t, pid, startTime) => this.#started(t, this.#paths(t), pid, startTime),
        exited: (t, exit, result) => {
          if (this.closed) return; // no longer ours: an adopter records it
          t.child = undefined;
          // Keep a pending SIGKILL if some of the job's processes outlived the leader.
          if (!(t.timer === 'escalate' && t.pid !== undefined && groupExists(t.pid))) this.#heap.remove(t);
          this.#release(t);
          void this.#complete(t, exit, true, result);
        },
        notStarted: (t, message) => {
          this.#release(t);
          void this.#finish(t, { state: JobState.FAILED, message, reason: 'launch-failed' }, 'error', false);
        },
        watch: (t) => this.#watch(t),
        lost: (t) => {
          this.#release(t);
          void this.#complete(t, undefined, true);
        },
      },
      this.#store,
      this.#owner.id,
      LocalExecutor.agentOptions,
    );
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
    const script = this.#processes.execEligible(specForId)
      ? undefined
      : this.#processes.scriptFor(id, specForId, launch, nodeFile);
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
    const t = newTracked(id, job, specForId, record, true);
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

  /** Regenerates the script of an adopted job that never started (the submitter kept it in memory only). */
  async #prepare(t: Tracked): Promise<boolean> {
    try {
      const launcher = await this.#launcher(t.spec.launcher ?? 'single');
      const nodeFile = this.#store.nodeFile(t.spec.resources.computedProcessCount);
      t.launch = await launcher.launchCommand(t.spec, { nodeFile });
      t.nodeFile = nodeFile;
      t.script = this.#processes.execEligible(t.spec) ? undefined : this.#processes.scriptFor(t.id, t.spec, t.launch, nodeFile);
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
    this.#processes.start(t, paths);
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
        this.#processes.keepJournals = true;
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
      known = execResult(entry);
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
    let cancelAt: number | undefined;
    try {
      cancelAt = statSync(paths.cancel).mtimeMs;
    } catch {
      return false;
    }
    return execEndedBefore(readExecAgentJournal(t.execAgent.journal, t.id), cancelAt);
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
      // Closed meanwhile (its journal too): the next executor on this directory decides it from the facts.
      if (this.closed) return undefined;
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
    this.#processes.terminate(t);
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
      await cancelOnDisk(this.#store, job.nativeId, this.#owner.id, this.config.killGracePeriod);
      return;
    }
    if (t.phase === 'done' || t.phase === 'finishing') return;
    // Its exec agent has journaled its end already: the exit decides, not this cancel (an order, not two
    // clocks: the agent's fine clock can read later than the coarse one of the cancel request's mtime).
    if (t.owned && t.execAgent && readExecAgentJournal(t.execAgent.journal, t.id).status !== undefined) return;
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
    if (await cancelOnDisk(this.#store, t.id, this.#owner.id, this.config.killGracePeriod)) await this.#pollOne(t, new Map());
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
    const t = newTracked(nativeId, job, spec, record, false);
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
      const t = newTracked(id, job, spec, record, true);
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
    for (const until = Date.now() + 5000; this.#processes.awaitingPid.size > 0 && Date.now() < until; ) {
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
    this.#processes.close(this.#tracked.values());
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
