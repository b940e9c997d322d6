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
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { JobState, JobStatusReason } from '@exaworks/jpsi-core';
import {
  ValidationError,
  checkPrivateDirectory,
  defaultWorkDirectory,
  isFinalState,
  readJournal,
  writeFileExclusiveSync,
} from '@exaworks/jpsi-core/internal';
import { parseJobResult } from '@exaworks/launcher/job-result';
import { finalUpdate } from './outcome.js';
import { execEndedBefore, execResult, readExecAgentJournal } from './exec-agent.js';
import { isAlive } from './proc.js';
import {
  LocalJobReader,
  exitedBeforeCancel,
  isNativeId,
  journalPath,
  localJobPaths,
  ownerAliveIn,
  readOwnerFile,
  type JobFile,
  type JournalEntry,
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
  readonly #reader: LocalJobReader;

  /**
   * @param workDirectory the executor's work directory. @default `defaultWorkDirectory('local')`
   * @throws {@link @exaworks/jpsi-core!InsecureDirectoryError} if it exists and another user owns or can write it.
   */
  constructor(workDirectory?: string) {
    this.workDirectory = path.resolve(workDirectory ?? defaultWorkDirectory('local'));
    // What another user could have written here is not shown as this user's jobs.
    checkPrivateDirectory(this.workDirectory);
    this.#reader = new LocalJobReader(this.workDirectory);
  }

  /** Native ids of the jobs here, oldest first (from the journals). */
  ids(): string[] {
    return this.#reader.ids();
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
    const file = this.#reader.read(nativeId);
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
      // A job of an exec agent: its pid and its end are in the agent's journal (no result file).
      const agent = file.spawn?.spawn === 'exec' ? file.spawn.agent : undefined;
      const entry = agent ? readExecAgentJournal(agent.journal, record.nativeId) : undefined;
      const identity =
        active?.pid !== undefined && active.startTime !== undefined
          ? { pid: active.pid, startTime: active.startTime }
          : entry?.pid !== undefined && entry.startTime !== undefined
            ? { pid: entry.pid, startTime: entry.startTime }
            : undefined;
      // Gone, but its agent has yet to journal how it ended: still shown as running.
      const ending = agent !== undefined && entry?.status === undefined && isAlive(agent);
      // Ended: its process is gone (and its end journaled, if an agent ran it), or its agent never got it running.
      if ((identity && !isAlive(identity) && !ending) || entry?.status !== undefined) {
        // It ran and ended with nobody watching: say how, as the adopter will record it.
        const text = entry ? undefined : readText(paths.exitCode);
        const result = entry?.status !== undefined ? execResult(entry) : text === undefined ? undefined : parseJobResult(text);
        const beforeCancel = entry ? execEndedBefore(entry, mtimeMs(paths.cancel)) : exitedBeforeCancel(paths);
        const end = finalUpdate({
          result,
          canceled: existsSync(paths.cancel) && !beforeCancel,
          timedOut: existsSync(paths.walltime),
          duration: spec.attributes?.duration === undefined ? 0 : Number(spec.attributes.duration),
          ran: true,
        });
        state = end.state;
        time = entry?.endedAt !== undefined ? new Date(entry.endedAt).toISOString() : (mtimeOf(paths.exitCode) ?? time);
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

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
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
 * Removes finished jobs: their lines from the journals (each journal rewritten whole, then
 * renamed over the old one, so a reader sees one or the other) and their files (`<id>.*`: result,
 * script, output files named `<id>.out`/`<id>.err` in the work directory, adoption and cancel
 * files). Only jobs whose final state is recorded count as finished: a queued, running or
 * unrecorded job is never touched, and neither is a job whose journal a live executor still
 * writes (it is counted in `unfinished` until that executor closes).
 * @param olderThanSeconds only jobs that ended at least this long ago. @default 0 (every finished job)
 */
export function cleanFinishedJobs(workDirectory: string, olderThanSeconds = 0, now: Date = new Date()): CleanResult {
  const dir = path.resolve(workDirectory);
  const reader = new LocalJobReader(dir);
  const removed: string[] = [];
  let unfinished = 0;
  const cutoff = now.getTime() - olderThanSeconds * 1000;
  const writable = new Map<string, boolean>();
  // Only a journal no live executor appends to may be rewritten.
  const canRewrite = (tag: string): boolean => {
    let ok = writable.get(tag);
    if (ok === undefined) {
      const writer = reader.writerOf(tag);
      ok = writer === undefined || !ownerAliveIn(dir, writer);
      writable.set(tag, ok);
    }
    return ok;
  };
  const files = new Map<string, JobFile>();
  for (const id of reader.ids()) {
    let file: JobFile | undefined;
    try {
      file = reader.read(id);
    } catch {
      continue; // unreadable: not ours to judge
    }
    if (!file) continue;
    if (!file.final || !reader.journalsOf(id, file.record).every(canRewrite)) {
      unfinished++;
      continue;
    }
    if (new Date(file.final.time).getTime() > cutoff) continue;
    files.set(id, file);
  }
  if (files.size === 0) return { removed, unfinished };
  // The journals first: a crash part-way leaves per-job files of jobs no journal names, which the next clean ignores.
  for (const tag of reader.tags()) {
    if (!canRewrite(tag)) continue;
    rewriteJournal(journalPath(dir, tag), (entry) => {
      const id = (entry as { id?: unknown }).id ?? (entry as { nativeId?: unknown }).nativeId;
      return typeof id !== 'string' || !files.has(id);
    });
  }
  for (const [id, file] of files) {
    const paths = localJobPaths(dir, id);
    // Output files go only if they are the defaults beside the record (named for this job).
    const outputs = [file.record.spec.stdoutPath, file.record.spec.stderrPath].filter(
      (f): f is string => f !== undefined && (f === `${paths.dir}/${id}.out` || f === `${paths.dir}/${id}.err`),
    );
    for (const f of [paths.exitCode, paths.script, paths.cancel, paths.unstarted, paths.owner, paths.walltime, ...outputs])
      rmSync(f, { force: true });
    for (let g = 1; existsSync(`${paths.adoptPrefix}${g}`); g++) rmSync(`${paths.adoptPrefix}${g}`, { force: true });
    removed.push(id);
  }
  return { removed, unfinished };
}

/** Rewrites a journal with the entries `keep` accepts; removes it when only its header would be left. */
function rewriteJournal(file: string, keep: (entry: JournalEntry) => boolean): void {
  const { records } = readJournal<JournalEntry>(file);
  const kept = records.filter((e) => e === null || typeof e !== 'object' || keep(e));
  if (kept.length === records.length) return;
  const isHeader = (e: JournalEntry) => (e as { journal?: unknown }).journal !== undefined;
  if (kept.every(isHeader)) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileExclusiveSync(tmp, kept.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600, fsync: true });
  renameSync(tmp, file);
}
