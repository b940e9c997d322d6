/**
 * The JSON of a job as `status`, `list`, `wait`, `cancel` and `run --json` print it.
 * @module
 */
import type { Job, JobStatus } from '@exaworks/jpsi-core';
import { isFinalState } from '@exaworks/jpsi-core/internal';
import type { JobJson } from './format.js';

function timeOf(history: readonly JobStatus[], pick: (s: JobStatus) => boolean): string | null {
  return history.find(pick)?.time.toISOString() ?? null;
}

/** An output path as the executor resolved it (`%j` is the native id). */
function withId(file: string | undefined, nativeId: string | undefined): string | null {
  if (file === undefined) return null;
  return nativeId === undefined ? file : file.replaceAll('%j', nativeId);
}

/** A Job object as a row: `Job.toJSON()` plus its submit, start and end times, reason and output files. */
export function jobJson(job: Job): JobJson {
  const history = job.history;
  return {
    ...job.toJSON(),
    submittedAt: timeOf(history, (s) => s.state === 'QUEUED'),
    startedAt: timeOf(history, (s) => s.state === 'ACTIVE'),
    endedAt: timeOf(history, (s) => isFinalState(s.state)),
    reason: job.status.reason ?? null,
    stdout: withId(job.spec?.stdoutPath, job.nativeId),
    stderr: withId(job.spec?.stderrPath, job.nativeId),
  };
}
