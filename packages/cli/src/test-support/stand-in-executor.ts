/**
 * A STAND-IN executor for the CLI's in-process tests only (never shipped): it runs each job as a
 * real child process (no shell, no launcher) and keeps its records in memory, so `attach` works
 * within one process. The CLI reaches it exactly as it reaches real executors: by name through
 * the registry. Cross-process behaviour is tested against the real local executor (e2e tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import {
  BaseJobExecutor,
  type Job,
  JobNotFoundError,
  JobState,
  registerExecutor,
  type JobExecutorConfig,
  type JobSpec,
  type JobSpecInput,
  type SubmitOptions,
} from '@exaworks/jpsi-core';

interface StandInRecord {
  spec: JobSpec;
  jobs: Set<Job>;
  child?: ChildProcess;
  canceled: boolean;
  final?: { state: JobState; exitCode?: number; message?: string };
}

/** Jobs of every stand-in executor instance, by native id (shared: each CLI command opens a new instance). */
export const standInJobs = new Map<string, StandInRecord>();
let counter = 0;

/** The configs the stand-in was created with (tests check `--work-dir` / `--executor-config`). */
export const standInConfigs: JobExecutorConfig[] = [];

class StandInExecutor extends BaseJobExecutor {
  constructor(config: JobExecutorConfig) {
    super('standin', '0.0.0', config);
  }

  #report(rec: StandInRecord, update: { state: JobState; exitCode?: number; message?: string }): void {
    for (const job of rec.jobs) this.updateJobStatus(job, update);
  }

  async submit(input: Job | JobSpecInput | JobSpec, _options?: SubmitOptions): Promise<Job> {
    const job = this.jobForSubmit(input);
    const id = `standin-${process.pid}-${++counter}`;
    const rec: StandInRecord = { spec: job.spec, jobs: new Set([job]), canceled: false };
    standInJobs.set(id, rec);
    this.bindJob(job, id);
    this.#report(rec, { state: JobState.QUEUED });
    const spec = job.spec;
    const out = spec.stdoutPath ? openSync(spec.stdoutPath, 'w') : 'ignore';
    const err = spec.stderrPath ? openSync(spec.stderrPath, 'w') : 'ignore';
    const child = spawn(spec.executable, [...spec.arguments], {
      cwd: spec.directory,
      env: { ...(spec.inheritEnvironment ? process.env : {}), ...spec.environment },
      stdio: ['ignore', out, err],
    });
    rec.child = child;
    for (const fd of [out, err]) if (typeof fd === 'number') closeSync(fd);
    child.on('spawn', () => this.#report(rec, { state: JobState.ACTIVE }));
    child.on('error', (e) => {
      rec.final = { state: JobState.FAILED, message: e.message };
      this.#report(rec, rec.final);
    });
    child.on('exit', (code, signal) => {
      if (rec.canceled)
        rec.final = { state: JobState.CANCELED, message: 'Canceled by the user.', ...(code !== null ? { exitCode: code } : {}) };
      else if (code === 0) rec.final = { state: JobState.COMPLETED, exitCode: 0 };
      else rec.final = { state: JobState.FAILED, ...(code !== null ? { exitCode: code } : { message: `killed by ${signal}` }) };
      this.#report(rec, rec.final);
    });
    return job;
  }

  async cancel(job: Job): Promise<void> {
    const rec = job.nativeId === undefined ? undefined : standInJobs.get(job.nativeId);
    if (!rec || rec.final) return;
    rec.canceled = true;
    rec.child?.kill('SIGTERM');
  }

  async list(): Promise<string[]> {
    return [...standInJobs.keys()];
  }

  async attach(job: Job, nativeId: string): Promise<void> {
    const rec = standInJobs.get(nativeId);
    if (!rec) throw new JobNotFoundError(nativeId, this.name);
    this.bindJob(job, nativeId, rec.spec);
    rec.jobs.add(job);
    this.updateJobStatus(job, { state: JobState.QUEUED });
    if (rec.child && rec.child.pid !== undefined && !rec.final) this.updateJobStatus(job, { state: JobState.ACTIVE });
    if (rec.final) this.updateJobStatus(job, rec.final);
  }

  async close(): Promise<void> {}
}

/** Registers the stand-in as executor `standin`. */
export function registerStandInExecutor(): void {
  registerExecutor({
    name: 'standin',
    create: (config?: unknown) => {
      const c = (config ?? {}) as JobExecutorConfig;
      standInConfigs.push(c);
      return new StandInExecutor(c);
    },
  });
}
