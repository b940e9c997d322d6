/**
 * BatchExecutor: submits generated (or handed-over) scripts to a batch scheduler through its
 * {@link SchedulerAdapter}, and tracks every active job with one query per poll.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  BackendError,
  BaseJobExecutor,
  Job,
  JobExecutorConfigSchema,
  JobNotFoundError,
  JobState,
  SubmitError,
  ValidationError,
  createJobSpec,
  defaultWorkDirectory,
  isFinalState,
  jobSpecToInput,
  parseWith,
  type JobSpec,
  type JobSpecInput,
  type JobStatusUpdate,
  type SubmitOptions,
} from '@exaworks/jpsi-core';
import {
  InsecureDirectoryError,
  Poller,
  ensurePrivateDirectory,
  throwIfAborted,
  writeFileAtomic,
} from '@exaworks/jpsi-core/internal';
import { parseJobResult } from '@exaworks/launcher';
import { firstLine, runCommand } from './commands.js';
import { isNativeId } from './ids.js';
import type { CommandResult, SchedulerAdapter, SchedulerCommand, SchedulerJobInfo } from './scheduler.js';
import { batchJobFiles, prepareScripts, type BatchJobFiles } from './script.js';

const ms = (what: string, min: number) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be whole milliseconds`)
    .min(min, `${what} must be at least ${min} ms`);

/** Configuration of a batch executor (on top of every executor's `workDirectory`, `keepFiles`, `logger`). */
export const BatchExecutorConfigSchema = z.strictObject({
  ...JobExecutorConfigSchema.shape,
  /** Milliseconds between two queue queries. @default 5000 */
  pollInterval: ms('pollInterval', 10).optional(),
  /** Milliseconds before the first query after a submission to an idle executor. @default 500 */
  initialPollDelay: ms('initialPollDelay', 0).optional(),
  /** Upper bound of the delay between queries while the scheduler's commands fail. @default 60000 */
  maxPollBackoff: ms('maxPollBackoff', 10).optional(),
  /** A scheduler command that has not answered after this long counts as failed. @default 30000 */
  commandTimeout: ms('commandTimeout', 100).optional(),
});

/** Configuration of a batch executor as given. */
export type BatchExecutorConfigInput = z.input<typeof BatchExecutorConfigSchema>;

/** Configuration of a batch executor with every default filled in. */
export interface BatchExecutorConfig extends BatchExecutorConfigInput {
  readonly workDirectory: string;
  readonly keepFiles: boolean;
  readonly pollInterval: number;
  readonly initialPollDelay: number;
  readonly maxPollBackoff: number;
  readonly commandTimeout: number;
}

/** A job's final status as its record keeps it (JSON-safe). */
export interface BatchFinalStatus {
  readonly state: JobState;
  /** When the executor decided it (ISO 8601). */
  readonly time: string;
  readonly exitCode?: number;
  readonly message?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * What the executor keeps on disk per job, `<nativeId>.job` in the work directory (JSON). It is
 * written as `<key>.intent` before the job is submitted and renamed once the scheduler answered.
 */
export interface BatchJobRecord {
  /** Record format version. */
  readonly format: 1;
  readonly executor: string;
  /** The job's id (a record written before submission has none in the file: its name gives it). */
  readonly nativeId: string;
  /** Names the job's files (`<key>.submit`, `<key>.ec`, …). */
  readonly key: string;
  /** The spec in input form; absent for a script handed over with `submitScript`. */
  readonly spec?: JobSpecInput;
  /** For `submitScript`: the script as handed over. */
  readonly script?: string;
  readonly submittedAt: string;
  /** Set once the job is final, by whichever process decided it first. */
  readonly final?: BatchFinalStatus;
}

/** One entry of {@link BatchExecutor.listJobs}. */
export interface BatchListEntry {
  readonly nativeId: string;
  /**
   * The job's state: final as recorded, else as the scheduler or this executor last saw it;
   * undefined for a job of this user the executor knows nothing more about.
   */
  readonly state?: JobState;
  /** The recorded final status, for a job that is over. */
  readonly final?: BatchFinalStatus;
  /** Whether the scheduler still lists it. */
  readonly listedByScheduler: boolean;
}

/** Options of {@link BatchExecutor.submitScript}. */
export interface SubmitScriptOptions extends SubmitOptions {
  /** The Job to bind (default a new one, without a spec). */
  job?: Job;
  /** Working directory of the submit command (the scheduler's default job directory). Default: the current directory. */
  cwd?: string;
}

/** How the executor is tracking a job right now, for `exaworks status` and diagnosis. */
export interface TrackingInfo {
  /** The scheduler's last answer about the job. */
  readonly last?: SchedulerJobInfo;
  /** When that answer came. */
  readonly lastAt?: Date;
  /** Set while the scheduler cannot be queried: why (the job keeps its last state meanwhile). */
  readonly problem?: string;
}

interface Tracked {
  readonly job: Job;
  readonly nativeId: string;
  readonly files?: BatchJobFiles;
  /** The on-disk record, rewritten with the final status. */
  readonly record?: BatchJobRecord;
  /** Polls in a row that found the job final or gone without its exit-code file. */
  graceRounds: number;
}

const SPEC_STATES: readonly JobState[] = [JobState.STAGE_IN, JobState.ACTIVE, JobState.STAGE_OUT, JobState.CLEANUP];
// Rounds to wait for an exit-code file once the scheduler says the job is over (a shared file system may lag).
const EC_GRACE_ROUNDS = 2;

const exitCodeOf = (info: SchedulerJobInfo | undefined) => (info?.exitCode === undefined ? {} : { exitCode: info.exitCode });

/**
 * A PSI/J executor for one batch scheduler, given as a {@link SchedulerAdapter}.
 *
 * - `submit` writes a submit script (directives, staging, the launcher's job script, exit-code
 *   file) into the work directory (mode 0700) and runs the adapter's submit command.
 * - One query command per poll covers every active job; when the command fails or times out the
 *   jobs keep their last state (see {@link BatchExecutor.tracking}) and polling backs off.
 * - A job's end is decided from its exit-code file: 0 → COMPLETED, else FAILED with the code;
 *   a walltime kill → FAILED with `metadata.reason = 'walltime'`; a cancel → CANCELED.
 */
export class BatchExecutor extends BaseJobExecutor<BatchExecutorConfig> {
  /** The scheduler this executor drives. */
  readonly adapter: SchedulerAdapter;
  readonly #jobs = new Map<string, Tracked>();
  readonly #poller: Poller<SchedulerJobInfo>;
  #dirReady: Promise<void> | undefined;

  /**
   * @param adapter the scheduler.
   * @param config validated here.
   * @param version the scheduler package's version.
   * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
   */
  constructor(adapter: SchedulerAdapter, config: BatchExecutorConfigInput = {}, version = '0.0.0') {
    const c = parseWith(BatchExecutorConfigSchema, config ?? {}, `${adapter.name} executor config`);
    const full: BatchExecutorConfig = {
      ...c,
      workDirectory: path.resolve(c.workDirectory ?? defaultWorkDirectory(adapter.name)),
      keepFiles: c.keepFiles ?? false,
      pollInterval: c.pollInterval ?? 5000,
      initialPollDelay: c.initialPollDelay ?? 500,
      maxPollBackoff: c.maxPollBackoff ?? 60_000,
      commandTimeout: c.commandTimeout ?? 30_000,
    };
    super(adapter.name, version, full);
    this.adapter = adapter;
    this.#poller = new Poller<SchedulerJobInfo>(
      {
        query: (ids, signal) => this.#query(ids, signal),
        onResult: (id, info) => this.#onInfo(id, info),
        onMissing: (id) => this.#onInfo(id, undefined),
        onError: (error, n, next) =>
          this.logger.warn(`${adapter.name} queue query failed; jobs keep their last state`, {
            error,
            consecutiveFailures: n,
            nextPollMs: next,
          }),
      },
      {
        intervalMs: full.pollInterval,
        initialDelayMs: full.initialPollDelay,
        maxBackoffMs: Math.max(full.maxPollBackoff, full.pollInterval),
      },
    );
  }

  /** Query counters of the poller (for tests and benchmarks). */
  get pollStats(): { queries: number; failures: number; consecutiveFailures: number } {
    return this.#poller.stats;
  }

  /** What the poller knows about a job (undefined once it is final or if it is not tracked). */
  tracking(job: Job): TrackingInfo | undefined {
    return job.nativeId === undefined ? undefined : this.#poller.entry(job.nativeId);
  }

  /** Runs a query round now and waits for it (a normal round otherwise comes every `pollInterval`). */
  pollNow(): Promise<void> {
    return this.#poller.pollNow();
  }

  // ------------------------------------------------------------------------------------------
  // submit

  async submit(input: Job | JobSpecInput | JobSpec, options: SubmitOptions = {}): Promise<Job> {
    this.checkOpen();
    const job = this.jobForSubmit(input);
    const spec = job.spec;
    throwIfAborted(options.signal);
    await this.#workDirectory();
    const key = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const files = batchJobFiles(this.config.workDirectory, key);
    const { jobScript, submitScript, jobScriptFile } = await prepareScripts(this.adapter, spec, files, {
      workDirectory: this.config.workDirectory,
      cwd: process.cwd(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (jobScriptFile) await writeFile(files.jobScript, jobScript, { mode: 0o700 });
    await writeFile(files.submitScript, submitScript, { mode: 0o700 });
    throwIfAborted(options.signal);
    // The record exists before the scheduler knows the job: a crash before its answer arrives
    // leaves this intent, which list/attach resolve later (see #recoverIntents).
    const intent = {
      format: 1 as const,
      executor: this.name,
      key,
      spec: jobSpecToInput(spec),
      submittedAt: new Date().toISOString(),
    };
    await writeFile(files.intent, `${JSON.stringify(intent)}\n`, { mode: 0o600 });
    const nativeId = await this.#submitFile(files.submitScript, this.config.workDirectory, key);
    await this.#promoteIntent(files.intent, nativeId, key);
    this.bindJob(job, nativeId, spec);
    this.updateJobStatus(job, { state: JobState.QUEUED, metadata: { nativeId } });
    this.#track(job, nativeId, files, { ...intent, nativeId });
    return job;
  }

  /**
   * Hands an existing batch script to the scheduler as it is (its own directives, no staging, no
   * exit-code file) and tracks it through the same Job API. Its end state comes from the
   * scheduler alone (its state and exit code).
   * @throws {@link @exaworks/jpsi-core!SubmitError} with the scheduler's message if it refuses the script.
   */
  async submitScript(scriptPath: string, options: SubmitScriptOptions = {}): Promise<Job> {
    this.checkOpen();
    if (typeof scriptPath !== 'string' || scriptPath === '') {
      throw new ValidationError('submitScript arguments', [{ path: 'scriptPath', message: 'must be a non-empty path' }]);
    }
    const script = path.resolve(scriptPath);
    try {
      await readFile(script);
    } catch (cause) {
      throw new SubmitError(`Cannot read the batch script ${script}: ${(cause as Error).message}`, { cause });
    }
    throwIfAborted(options.signal);
    await this.#workDirectory();
    const job = options.job ?? new Job();
    if (job.executor !== undefined || job.status.state !== JobState.NEW) {
      throw new ValidationError('submitScript options', [{ path: 'job', message: 'must be a new Job that was never submitted' }]);
    }
    const nativeId = await this.#submitFile(script, path.resolve(options.cwd ?? process.cwd()));
    const key = `ext-${nativeId}`;
    const record: BatchJobRecord = {
      format: 1,
      executor: this.name,
      nativeId,
      key,
      script,
      submittedAt: new Date().toISOString(),
    };
    await this.#writeRecord(record);
    this.bindJob(job, nativeId);
    this.updateJobStatus(job, { state: JobState.QUEUED, metadata: { nativeId } });
    this.#track(job, nativeId, undefined, record);
    return job;
  }

  async #submitFile(script: string, cwd: string, key?: string): Promise<string> {
    let result: CommandResult;
    try {
      result = await this.#run(this.adapter.submitCommand(script), cwd);
    } catch (cause) {
      throw new SubmitError(`${this.name}: the submit command failed: ${(cause as Error).message}`, { cause });
    }
    try {
      return this.adapter.parseSubmit(result);
    } catch (err) {
      if (key !== undefined) {
        const files = batchJobFiles(this.config.workDirectory, key);
        // Refused: no job, so no intent to recover.
        await rm(files.intent, { force: true }).catch(() => undefined);
        if (!this.config.keepFiles) await this.#removeFiles(files);
      }
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------
  // cancel, list, attach, close

  async cancel(job: Job): Promise<void> {
    if (isFinalState(job.status.state)) return;
    const nativeId = job.nativeId;
    if (nativeId === undefined) {
      await job.cancel();
      return;
    }
    this.checkOpen();
    const files = this.#jobs.get(nativeId)?.files;
    // The script reads this to tell a cancel from a walltime kill (both arrive as SIGTERM).
    if (files) await writeFile(files.cancelMarker, '', { mode: 0o600 }).catch(() => undefined);
    const result = await this.#run(this.adapter.cancelCommand(nativeId), this.config.workDirectory);
    const verdict = this.adapter.parseCancel
      ? this.adapter.parseCancel(result)
      : result.exitCode === 0
        ? true
        : firstLine(result);
    if (typeof verdict === 'string') {
      throw new BackendError(`${this.name} could not cancel job ${nativeId}: ${verdict}`);
    }
    void this.#poller.pollNow();
  }

  /**
   * Native ids of this user's jobs as the scheduler lists them, the jobs this executor tracks, and
   * the jobs recorded in its work directory (also those the scheduler has forgotten), once each.
   */
  async list(): Promise<string[]> {
    return (await this.listJobs()).map((e) => e.nativeId);
  }

  /**
   * {@link BatchExecutor.list} with what is known of each job: the final status recorded in the
   * work directory (by this or another process), else the state last seen. Resolves records of
   * submissions a crash interrupted first (see {@link BatchExecutor.attach}).
   */
  async listJobs(): Promise<BatchListEntry[]> {
    this.checkOpen();
    const result = await this.#run(this.adapter.listCommand(), this.config.workDirectory);
    const listed = new Set(this.adapter.parseList(result));
    await this.#recoverIntents();
    const out = new Map<string, BatchListEntry>();
    for (const id of listed) {
      const t = this.#jobs.get(id);
      out.set(id, { nativeId: id, listedByScheduler: true, ...(t ? { state: t.job.status.state } : {}) });
    }
    for (const [id, t] of this.#jobs) {
      if (!out.has(id)) out.set(id, { nativeId: id, listedByScheduler: false, state: t.job.status.state });
    }
    for (const record of await this.#readRecords()) {
      const seen = out.get(record.nativeId);
      if (record.final) {
        out.set(record.nativeId, {
          nativeId: record.nativeId,
          listedByScheduler: seen?.listedByScheduler ?? false,
          state: record.final.state,
          final: record.final,
        });
      } else if (!seen) {
        out.set(record.nativeId, { nativeId: record.nativeId, listedByScheduler: false });
      }
    }
    return [...out.values()];
  }

  /**
   * Binds `job` to a native id: one this or another process submitted (its record in the work
   * directory gives the spec and files), or any job the scheduler knows (tracked from the
   * scheduler's answers alone). Resolves after one query, so `job.status` is current.
   * @throws {@link @exaworks/jpsi-core!JobNotFoundError} if neither the work directory nor the scheduler knows it.
   */
  async attach(job: Job, givenId: string): Promise<void> {
    this.checkOpen();
    const nativeId = isNativeId(givenId) ? (this.adapter.canonicalId?.(givenId) ?? givenId) : undefined;
    if (nativeId === undefined || !isNativeId(nativeId)) {
      throw new ValidationError('attach arguments', [
        { path: 'nativeId', message: `${JSON.stringify(givenId)} is not a valid ${this.name} job id` },
      ]);
    }
    const existing = this.#jobs.get(nativeId);
    if (existing) {
      // A further handle on a job this executor tracks: the core replays its history and keeps it in step.
      this.bindJob(job, nativeId, existing.job.spec);
      return;
    }
    let record = await this.#readRecord(nativeId);
    if (!record && (await this.#recoverIntents()).includes(nativeId)) record = await this.#readRecord(nativeId);
    let info: SchedulerJobInfo | undefined;
    try {
      info = (await this.#query([nativeId], undefined)).get(nativeId);
    } catch (err) {
      if (!record) throw err;
      this.logger.warn('attach: the scheduler could not be queried; the job keeps its recorded state', { error: err });
    }
    if (!record && !info) throw new JobNotFoundError(nativeId, this.name);
    const spec = record?.spec ? createJobSpec(record.spec) : undefined;
    this.bindJob(job, nativeId, spec);
    if (record?.final && (!info || isFinalState(info.state))) {
      // Decided before (by this or another process): the recorded end, not a second guess.
      const { state, exitCode, message, metadata } = record.final;
      this.updateJobStatus(job, {
        state,
        ...(exitCode !== undefined ? { exitCode } : {}),
        ...(message !== undefined ? { message } : {}),
        metadata: { ...metadata, nativeId },
      });
      return;
    }
    if (job.status.state === JobState.NEW) this.updateJobStatus(job, { state: JobState.QUEUED, metadata: { nativeId } });
    const files = record?.spec ? batchJobFiles(this.config.workDirectory, record.key) : undefined;
    this.#track(job, nativeId, files, record);
    if (info) await this.#onInfo(nativeId, info);
    else await this.#onInfo(nativeId, undefined);
  }

  async close(): Promise<void> {
    this.markClosed();
    await this.#poller.close();
    this.#jobs.clear();
  }

  // ------------------------------------------------------------------------------------------
  // tracking

  #track(job: Job, nativeId: string, files: BatchJobFiles | undefined, record: BatchJobRecord | undefined): void {
    const tracked: Tracked = { job, nativeId, graceRounds: 0 };
    if (files) Object.assign(tracked, { files });
    if (record) Object.assign(tracked, { record });
    this.#jobs.set(nativeId, tracked);
    this.#poller.add(nativeId);
  }

  /** One queue query for all ids; the history source only for ids the queue no longer lists. */
  async #query(ids: readonly string[], signal: AbortSignal | undefined): Promise<Map<string, SchedulerJobInfo>> {
    const result = await this.#run(this.adapter.queryCommand(ids), this.config.workDirectory, signal);
    const answer = this.adapter.parseQuery(result, ids);
    const gone = ids.filter((id) => !answer.has(id));
    const history = gone.length > 0 ? this.adapter.historyCommand?.(gone) : undefined;
    if (history && this.adapter.parseHistory) {
      try {
        const h = this.adapter.parseHistory(await this.#run(history, this.config.workDirectory, signal), gone);
        for (const [id, info] of h) answer.set(id, info);
      } catch (err) {
        // Without history a gone job is decided from its exit-code file: nothing false follows.
        this.logger.debug('history query failed', { error: err });
      }
    }
    return answer;
  }

  async #onInfo(nativeId: string, info: SchedulerJobInfo | undefined): Promise<void> {
    const t = this.#jobs.get(nativeId);
    if (!t) return;
    const meta = (extra: Record<string, unknown> = {}) => ({
      nativeId,
      ...(info ? { nativeState: info.nativeState } : {}),
      ...(info?.reason ? { reason: info.reason } : {}),
      ...extra,
    });
    const stillListed = info !== undefined && !isFinalState(info.state);
    if (stillListed && info.state === JobState.QUEUED) {
      // No file is read for a queued job: thousands may wait in the queue.
      this.updateJobStatus(t.job, { state: JobState.QUEUED, metadata: meta() });
      return;
    }
    const { reached, signaled } = t.files ? await this.#scriptStates(t.files) : { reached: [], signaled: false };
    // The exit-code file is the script's last act: once it is there (and no signal cut the job
    // short, whose cause only the scheduler knows) the job is over, whatever the queue says yet.
    const ec =
      t.files && (!stillListed || (reached.includes(JobState.CLEANUP) && !signaled)) ? await this.#exitCode(t.files) : undefined;
    // A code above 128 is a death by signal (a TERM at walltime or cancel may reach the program
    // before the script): while the job is listed, only the scheduler can say which it was.
    const early = ec !== undefined && !signaled && ec.exitCode <= 128;
    if (stillListed && !early) {
      // Running: the script's state file says how far it got (a script not started yet is staging in).
      if (!t.files) this.updateJobStatus(t.job, { state: JobState.ACTIVE, metadata: meta() });
      for (const s of reached.length > 0 ? reached : [JobState.STAGE_IN])
        this.updateJobStatus(t.job, { state: s, metadata: meta() });
      return;
    }
    // The scheduler says it is over, no longer knows it, or the exit code is in: decide.
    // A cancel from any process: its marker, or (once that process decided and removed the
    // marker) the final state it recorded.
    let canceledByUs = t.files ? await exists(t.files.cancelMarker) : false;
    if (t.files && !canceledByUs && ec?.exitCode !== 0 && t.record) {
      canceledByUs = (await this.#readRecord(nativeId))?.final?.state === JobState.CANCELED;
    }
    if (t.files && !ec && t.graceRounds < EC_GRACE_ROUNDS && info?.state !== JobState.CANCELED && info?.reason === undefined) {
      t.graceRounds++;
      return;
    }
    let update: JobStatusUpdate;
    const schedulerSays = info?.message ? ` (${this.name}: ${info.message})` : '';
    if (info?.state === JobState.CANCELED || (canceledByUs && ec?.exitCode !== 0)) {
      update = { state: JobState.CANCELED, message: `Canceled${schedulerSays}.`, ...exitCodeOf(info), metadata: meta() };
    } else if (info?.reason === 'walltime') {
      const limit = t.job.spec ? ` of ${t.job.spec.attributes.duration} s` : '';
      update = {
        state: JobState.FAILED,
        message: `Killed by ${this.name} at its walltime${limit}${schedulerSays}.`,
        ...(ec ? { exitCode: ec.exitCode } : exitCodeOf(info)),
        metadata: meta({ reason: 'walltime' }),
      };
    } else if (ec) {
      update =
        ec.exitCode === 0 && info?.reason === undefined
          ? { state: JobState.COMPLETED, exitCode: 0, metadata: meta() }
          : {
              state: JobState.FAILED,
              exitCode: ec.exitCode,
              ...(ec.failure || info?.reason
                ? {
                    message: [ec.failure, info?.reason ? `${this.name}: ${info.nativeState}${schedulerSays}` : '']
                      .filter(Boolean)
                      .join('; '),
                  }
                : {}),
              metadata: meta(),
            };
    } else if (info) {
      // A handed-over script (no exit-code file), or an SDK job whose file never appeared.
      const why = t.files ? ' The job wrote no exit-code file, so its end is the scheduler’s word alone.' : '';
      const failed = info.state !== JobState.COMPLETED || t.files !== undefined;
      update = failed
        ? {
            state: JobState.FAILED,
            message: `${this.name} reports ${info.nativeState}${info.message ? `: ${info.message}` : ''}.${why}`,
            ...exitCodeOf(info),
            metadata: meta(),
          }
        : { state: JobState.COMPLETED, exitCode: info.exitCode ?? 0, metadata: meta() };
    } else {
      update = {
        state: JobState.FAILED,
        message: `Job ${nativeId} left the ${this.name} queue without recording an exit code: its outcome is unknown (killed before its script ran, or its files are not visible here).`,
        metadata: meta({ reason: 'unknown' }),
      };
    }
    // Recorded before anyone is told, so whoever sees the end can find it on disk.
    if (t.record) await this.#recordFinal(t.record, update);
    // Listeners see the states the script went through before the final one.
    if (update.state !== JobState.CANCELED) for (const s of reached) this.updateJobStatus(t.job, { state: s, metadata: meta() });
    this.updateJobStatus(t.job, update);
    this.#poller.delete(nativeId);
    this.#jobs.delete(nativeId);
    this.forgetJob(nativeId);
    // Only now that the end is recorded may the cancel marker go (another process may still decide).
    if (t.files && !this.config.keepFiles) await this.#removeFiles(t.files);
  }

  /** Writes the job's final status into its record (first writer wins; later ones keep it). */
  async #recordFinal(record: BatchJobRecord, s: JobStatusUpdate): Promise<void> {
    try {
      const current = (await this.#readRecord(record.nativeId)) ?? record;
      if (current.final) return;
      const final: BatchFinalStatus = {
        state: s.state,
        time: new Date().toISOString(),
        ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
        ...(s.message !== undefined ? { message: s.message } : {}),
        ...(s.metadata !== undefined ? { metadata: { ...s.metadata } } : {}),
      };
      await writeFileAtomic(this.#recordPath(record.nativeId), `${JSON.stringify({ ...current, final })}\n`, { mode: 0o600 });
    } catch (error) {
      this.logger.warn('could not record the final state of a job; list() will show it without', {
        nativeId: record.nativeId,
        error,
      });
    }
  }

  /** States the submit script recorded, in order, and whether a signal reached it. */
  async #scriptStates(files: BatchJobFiles): Promise<{ reached: JobState[]; signaled: boolean }> {
    let text: string;
    try {
      text = await readFile(files.stateFile, 'utf8');
    } catch {
      return { reached: [], signaled: false };
    }
    const reached: JobState[] = [];
    let signaled = false;
    for (const line of text.split('\n')) {
      const word = line.split(' ')[0] ?? '';
      if (word === 'SIGNALED') signaled = true;
      else if ((SPEC_STATES as readonly string[]).includes(word) && !reached.includes(word as JobState))
        reached.push(word as JobState);
    }
    return { reached, signaled };
  }

  async #exitCode(files: BatchJobFiles): Promise<{ exitCode: number; failure?: string } | undefined> {
    try {
      return parseJobResult(await readFile(files.exitCodeFile, 'utf8'));
    } catch {
      return undefined;
    }
  }

  // ------------------------------------------------------------------------------------------
  // files and commands

  #workDirectory(): Promise<void> {
    this.#dirReady ??= (async () => {
      // Created 0700; an existing one another user owns or can write is refused (its scripts would run as us).
      ensurePrivateDirectory(this.config.workDirectory);
    })().catch((cause) => {
      this.#dirReady = undefined;
      if (cause instanceof InsecureDirectoryError) throw cause;
      throw new SubmitError(`Cannot prepare the work directory ${this.config.workDirectory}: ${(cause as Error).message}`, {
        cause,
      });
    });
    return this.#dirReady;
  }

  #recordPath(nativeId: string): string {
    if (!isNativeId(nativeId)) {
      throw new BackendError(`${this.name} returned an unusable native id ${JSON.stringify(nativeId)}.`);
    }
    return path.join(this.config.workDirectory, `${nativeId}.job`);
  }

  async #writeRecord(record: BatchJobRecord): Promise<void> {
    // One plain write (one inode): a torn record reads as none, and the native id is new.
    await writeFile(this.#recordPath(record.nativeId), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }

  async #readRecord(nativeId: string): Promise<BatchJobRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.#recordPath(nativeId), 'utf8')) as BatchJobRecord;
      // A record renamed from its intent names its id by its file name only.
      return r.format === 1 && (r.nativeId ?? nativeId) === nativeId ? { ...r, nativeId } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Renames a submitted job's intent to its record. A `list()` or `attach()` (here or in another
   * process) may have recovered it first; any other failure leaves the intent for recovery, since
   * the job is submitted either way.
   */
  async #promoteIntent(intent: string, nativeId: string, key: string): Promise<void> {
    try {
      await rename(intent, this.#recordPath(nativeId));
    } catch (error) {
      if ((await this.#readRecord(nativeId))?.key === key) return;
      this.logger.warn('could not write the record of a submitted job; list() or attach() will recover it', {
        nativeId,
        error,
      });
    }
  }

  /** Every record in the work directory (unreadable or torn ones are skipped). */
  async #readRecords(): Promise<BatchJobRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.config.workDirectory);
    } catch {
      return [];
    }
    const ids = names.filter((n) => n.endsWith('.job')).map((n) => n.slice(0, -'.job'.length));
    const records = await Promise.all(ids.filter(isNativeId).map((id) => this.#readRecord(id)));
    return records.filter((r): r is BatchJobRecord => r !== undefined && r.executor === this.name);
  }

  /**
   * Turns intents (records of submissions whose answer a crash lost) into records: the job is
   * found by its batch output path in the adapter's recover listing, or by the id its script
   * wrote to its state file once it started. Returns the native ids recovered.
   */
  async #recoverIntents(): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.config.workDirectory)).filter((n) => n.endsWith('.intent'));
    } catch {
      return [];
    }
    if (names.length === 0) return [];
    let byOutput = new Map<string, string>();
    if (this.adapter.recoverCommand && this.adapter.parseRecover) {
      try {
        byOutput = this.adapter.parseRecover(await this.#run(this.adapter.recoverCommand(), this.config.workDirectory));
      } catch (error) {
        this.logger.warn('could not list jobs to recover interrupted submissions', { error });
      }
    }
    const recovered: string[] = [];
    for (const name of names) {
      const key = name.slice(0, -'.intent'.length);
      const files = batchJobFiles(this.config.workDirectory, key);
      let nativeId = byOutput.get(files.schedulerOutput);
      if (nativeId === undefined) {
        const text = await readFile(files.stateFile, 'utf8').catch(() => '');
        const written = /^ID (\S+)$/m.exec(text)?.[1];
        if (written !== undefined) nativeId = this.adapter.canonicalId?.(written) ?? written;
      }
      if (nativeId === undefined || !isNativeId(nativeId) || this.#jobs.has(nativeId)) continue;
      try {
        await rename(files.intent, this.#recordPath(nativeId));
        recovered.push(nativeId);
        this.logger.info('recovered the record of a job whose submission was interrupted', { nativeId, key });
      } catch {
        // Another process recovered it first.
      }
    }
    return recovered;
  }

  async #removeFiles(files: BatchJobFiles): Promise<void> {
    // The record and exit-code file stay, so a later attach can still report how the job ended.
    const remove = [files.submitScript, files.jobScript, files.jobResult, files.nodeFile, files.cancelMarker];
    await Promise.all(remove.map((f) => rm(f, { force: true }).catch(() => undefined)));
  }

  #run(command: SchedulerCommand, cwd: string, signal?: AbortSignal): Promise<CommandResult> {
    return runCommand(command, { timeoutMs: this.config.commandTimeout, cwd, ...(signal ? { signal } : {}) });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await readFile(file);
    return true;
  } catch {
    return false;
  }
}
