/**
 * How a job that stopped running ended, from the facts left behind: the one rule, used by the
 * executor when it records the end and by the read-only inspector when nobody has yet.
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { JobSpec, JobStatusReason, JobStatusUpdate } from '@exaworks/jpsi-core';
import { JobState } from '@exaworks/jpsi-core/internal';
import type { JobResult } from '@exaworks/launcher/job-result';

/** What is known about a job whose process is gone. */
export interface EndFacts {
  /** The job script's result file, parsed (undefined: none, or torn). */
  readonly result: JobResult | undefined;
  /** A cancel request was made. */
  readonly canceled: boolean;
  /** The executor killed it for exceeding its walltime. */
  readonly timedOut: boolean;
  /** Its walltime in seconds (for the message). */
  readonly duration: number;
  /** How the script process itself ended, when the executor saw it end. */
  readonly exit?: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined;
  /** True if it is known to have run (false: the executor died while starting it). */
  readonly ran: boolean;
}

/** The final status update for a job that stopped running. */
export function finalUpdate(f: EndFacts): JobStatusUpdate & { reason?: JobStatusReason } {
  const { result, exit } = f;
  if (f.canceled) {
    return result
      ? { state: JobState.CANCELED, message: 'Canceled.', exitCode: result.exitCode, reason: 'canceled' }
      : { state: JobState.CANCELED, message: 'Canceled.', reason: 'canceled' };
  }
  if (f.timedOut) {
    return {
      state: JobState.FAILED,
      message: `The job exceeded its walltime of ${f.duration} s and was killed.`,
      reason: 'walltime',
    };
  }
  if (result) {
    const ok = result.exitCode === 0 && result.failure === undefined;
    return {
      state: ok ? JobState.COMPLETED : JobState.FAILED,
      exitCode: result.exitCode,
      // A failure line is the job script's machinery (directory, launcher, pre/post-launch), not the program.
      ...(result.failure !== undefined ? { message: result.failure, reason: 'launch-failed' as const } : {}),
    };
  }
  if (exit) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
    return {
      state: JobState.FAILED,
      message: `The job script ${how} without recording the job's exit status.`,
      ...(exit.code !== null ? { exitCode: exit.code } : {}),
      reason: 'lost',
    };
  }
  if (f.ran) {
    return {
      state: JobState.FAILED,
      message: "The job's exit status was lost: its process ended while no executor was tracking it and left no result.",
      reason: 'lost',
    };
  }
  return {
    state: JobState.FAILED,
    message:
      'The executor died while starting this job: it may have run, but no process or result of it was found, so its exit status was lost. It was not run again.',
    reason: 'lost',
  };
}

/** The exit code of a job whose program succeeded but whose stage-out failed. */
export const STAGE_OUT_FAILED_EXIT_CODE = 1;

/** The QUEUED status message that carries a job's warnings (none without warnings). */
export function queuedMessage(warnings: readonly string[] | undefined): { message?: string } {
  return warnings !== undefined && warnings.length > 0 ? { message: `Warning: ${warnings.join('; ')}.` } : {};
}

/**
 * For a job run through a launcher (`mpirun`, `srun`, …) that failed without a word: the end of
 * its standard error file, where the launcher writes its own error (Open MPI's "not enough
 * slots", a missing executable). Undefined for `single`, or when stderr went nowhere readable.
 */
export function launcherError(spec: JobSpec, exitCode: number): string | undefined {
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
