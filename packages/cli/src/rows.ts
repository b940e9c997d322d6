/**
 * Printing job rows (table or `--json`), and the rows of the local executor's read-only view.
 * Zod-free: `status` and `list` print through here without loading an executor.
 * @module
 */
import type { LocalJobView } from '@exaworks/executors-local/inspect';
import type { Context } from './context.js';
import { ExitCode } from './exit-codes.js';
import { formatJobTable, toJsonText, type JobErrorJson, type JobJson } from './format.js';

/** Prints job rows (table or JSON); an error row makes the exit code 1. */
export function printRows(ctx: Context, rows: readonly (JobJson | JobErrorJson)[]): void {
  if (ctx.json) ctx.out(toJsonText(rows));
  else if (rows.length === 0) ctx.err('no jobs\n');
  else ctx.out(formatJobTable(rows));
  if (rows.some((r) => 'error' in r)) ctx.io.setExitCode(ExitCode.FAILURE);
}

/** A local job as read from its work directory, in the shape of every other job row. */
export function rowFromView(v: LocalJobView): JobJson {
  return {
    id: v.jobId,
    nativeId: v.nativeId,
    executor: 'local',
    name: v.name,
    state: v.state,
    exitCode: v.exitCode,
    message: v.message,
    time: v.time,
    submittedAt: v.submittedAt,
    startedAt: v.startedAt,
    endedAt: v.endedAt,
    reason: v.reason,
    stdout: v.stdoutPath,
    stderr: v.stderrPath,
  };
}
