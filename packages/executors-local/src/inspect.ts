/**
 * `@exaworks/executors-local/inspect`: a read-only view of a local work directory, for tools
 * that only look (the CLI's `status`, `list`, `logs`), and {@link cleanFinishedJobs}. The
 * inspector never writes, claims, adopts or starts anything, and costs what it reads: one job
 * file per job shown. Neither loads zod nor the executor, so a short-lived command stays fast.
 *
 * A job whose executor is gone and that nobody has finished recording is shown as the files
 * say it is: a process that still runs is ACTIVE, one that ended is reported from its result file
 * (`recorded: false` until an executor on this directory records it), one never started stays
 * QUEUED with `orphaned: true` until a `submit`, `run` or `wait` on this directory adopts it.
 *
 * ### Usage
 * ```ts
 * import os from 'node:os';
 * import path from 'node:path';
 * import { LocalJobInspector } from '@exaworks/executors-local/inspect';
 *
 * const inspector = new LocalJobInspector(path.join(os.tmpdir(), 'exaworks-inspect-example'));
 * for (const job of inspector.list()) console.log(job.nativeId, job.state, job.exitCode);
 * ```
 * @module
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { JobState, JobStatusReason } from '@exaworks/jpsi-core';
import { ValidationError, checkPrivateDirectory, defaultWorkDirectory, isFinalState } from '@exaworks/jpsi-core/internal';
import { parseJobResult } from '@exaworks/launcher/job-result';
import { finalUpdate } from './outcome.js';
import { isAlive } from './proc.js';
import {
  isNativeId,
  listJobIds,
  localJobPaths,
  ownerAliveIn,
  readJobFile,
  exitedBeforeCancel,
  readOwnerFile,
  type JobFile,
  type LocalJobPaths,
} from './store.js';

/** A job as the work directory shows it. Times are ISO 8601. */
export interface LocalJobView {
  readonly nativeId: string;
  /** The submitting Job object's client-side id. */
  readonly jobId: string;
  readonly name: string;
  readonly executable: string;
  readonly state: JobState;
  /** When it entered `state`. */
  readonly time: string;
  readonly exitCode: number | null;
  readonly message: string | null;
  /** Why it ended, for programs (see jpsi-core's `JobStatusReason`); null if it exited on its own or runs. */
  readonly reason: JobStatusReason | null;
  readonly submittedAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** Where its standard output and error go (null: discarded). */
  readonly stdoutPath: string | null;
  readonly stderrPath: string | null;
  /** False when the state shown was worked out from the files but no executor has recorded it yet. */
  readonly recorded: boolean;
  /** True when no live executor tracks this unfinished job (the next submit/run/wait here adopts it). */
  readonly orphaned: boolean;
}

/** Read-only access to the jobs of one local work directory. */
export class LocalJobInspector {
  /** The work directory (resolved). */
  readonly workDirectory: string;

  /**
   * @param workDirectory the executor's work directory. @default `defaultWorkDirectory('local')`
   * @throws {@link @exaworks/jpsi-core!InsecureDirectoryError} if it exists and another user owns or can write it.
   */
  constructor(workDirectory?: string) {
    this.workDirectory = path.resolve(workDirectory ?? defaultWorkDirectory('local'));
    // What another user could have written here is not shown as this user's jobs.
    checkPrivateDirectory(this.workDirectory);
  }

  /** Native ids of the jobs here, oldest first (a directory listing; no job file is read). */
  ids(): string[] {
    return listJobIds(this.workDirectory);
  }

  /**
   * One job, from its own files only; undefined if there is no such job.
   * @throws {@link @exaworks/jpsi-core!ValidationError} if `nativeId` cannot be a local native id.
   */
  read(nativeId: string): LocalJobView | undefined {
    if (!isNativeId(nativeId)) {
      throw new ValidationError('native id', [
        { path: 'nativeId', message: `"${String(nativeId)}" is not a local executor native id` },
      ]);
    }
    const paths = localJobPaths(this.workDirectory, nativeId);
    const file = readJobFile(paths);
    return file ? this.#view(paths, file) : undefined;
  }

  /** Every job here, oldest first (unreadable records are left out). */
  list(): LocalJobView[] {
    const out: LocalJobView[] = [];
    for (const id of this.ids()) {
      try {
        const view = this.read(id);
        if (view) out.push(view);
      } catch {
        // unreadable record: an executor logs it; a viewer skips it
      }
    }
    return out;
  }

  #view(paths: LocalJobPaths, file: JobFile): LocalJobView {
    const { record, lines } = file;
    const spec = record.spec;
    const active = lines.find((l) => l.state === 'ACTIVE');
    const last = lines.at(-1);
    let state: JobState = last?.state ?? 'QUEUED';
    let time = last?.time ?? record.submittedAt;
    let exitCode = last?.exitCode ?? null;
    let message = last?.message ?? null;
    let reason = last?.reason ?? null;
    let recorded = true;
    let orphaned = false;
    if (!file.final && !ownerAliveIn(this.workDirectory, readOwnerFile(paths, record).owner)) {
      const identity =
        active?.pid !== undefined && active.startTime !== undefined
          ? { pid: active.pid, startTime: active.startTime }
          : undefined;
      if (identity && !isAlive(identity)) {
        // It ran and ended with nobody watching: say how, as the adopter will record it.
        const text = readText(paths.exitCode);
        const end = finalUpdate({
          result: text === undefined ? undefined : parseJobResult(text),
          canceled: existsSync(paths.cancel) && !exitedBeforeCancel(paths),
          timedOut: existsSync(paths.walltime),
          duration: spec.attributes?.duration === undefined ? 0 : Number(spec.attributes.duration),
          ran: true,
        });
        state = end.state;
        time = mtimeOf(paths.exitCode) ?? time;
        exitCode = end.exitCode ?? null;
        message = end.message ?? null;
        reason = end.reason ?? null;
        recorded = false;
      } else {
        orphaned = true;
        if (!identity && !file.starting)
          message = 'Its executor is gone; the next exaworks submit, run or wait on this work directory starts it.';
      }
    }
    return {
      nativeId: record.nativeId,
      jobId: record.jobId,
      name: spec.name ?? spec.executable,
      executable: spec.executable,
      state,
      time,
      exitCode,
      message,
      reason,
      submittedAt: record.submittedAt,
      startedAt: active?.time ?? null,
      endedAt: isFinalState(state) ? time : null,
      stdoutPath: spec.stdoutPath ?? null,
      stderrPath: spec.stderrPath ?? null,
      recorded,
      orphaned,
    };
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function mtimeOf(file: string): string | undefined {
  try {
    return statSync(file).mtime.toISOString();
  } catch {
    return undefined;
  }
}

/** What {@link cleanFinishedJobs} did. */
export interface CleanResult {
  /** Native ids whose files were removed. */
  readonly removed: string[];
  /** Unfinished jobs (queued, running, or not recorded final yet) that were left alone. */
  readonly unfinished: number;
}

/**
 * Removes the files of finished jobs (`<id>.*`: record, result, script, output files named
 * `<id>.out`/`<id>.err` in the work directory, adoption and cancel files). Only jobs whose final
 * state is recorded count as finished: a queued, running or unrecorded job is never touched.
 * @param olderThanSeconds only jobs that ended at least this long ago. @default 0 (every finished job)
 */
export function cleanFinishedJobs(workDirectory: string, olderThanSeconds = 0, now: Date = new Date()): CleanResult {
  const dir = path.resolve(workDirectory);
  const removed: string[] = [];
  let unfinished = 0;
  const cutoff = now.getTime() - olderThanSeconds * 1000;
  for (const id of listJobIds(dir)) {
    const paths = localJobPaths(dir, id);
    let file: JobFile | undefined;
    try {
      file = readJobFile(paths);
    } catch {
      continue; // unreadable: not ours to judge
    }
    if (!file?.final) {
      unfinished++;
      continue;
    }
    if (new Date(file.final.time).getTime() > cutoff) continue;
    // Output files go only if they are the defaults beside the record (named for this job).
    const outputs = [file.record.spec.stdoutPath, file.record.spec.stderrPath].filter(
      (f): f is string => f !== undefined && (f === `${paths.dir}/${id}.out` || f === `${paths.dir}/${id}.err`),
    );
    // The record goes last: a crash part-way leaves a finished record that the next clean removes.
    for (const f of [paths.exitCode, paths.script, paths.cancel, paths.unstarted, paths.owner, ...outputs])
      rmSync(f, { force: true });
    for (let g = 1; existsSync(`${paths.adoptPrefix}${g}`); g++) rmSync(`${paths.adoptPrefix}${g}`, { force: true });
    rmSync(paths.record, { force: true });
    removed.push(id);
  }
  return { removed, unfinished };
}
