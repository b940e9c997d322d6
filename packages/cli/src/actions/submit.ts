/** The implementation of `exaworks submit`. @module */
import type { Command } from 'commander';
import path from 'node:path';
import { JobState, createJobSpec, jobSpecToInput, type JobSpec } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { jobFlagsOf } from '../flags.js';
import { toJsonText } from '../format.js';
import { jobJson } from '../job-json.js';
import { buildJobSpec } from '../options.js';
import { withExecutor } from '../session.js';

/**
 * Output a user can find later (as sbatch writes slurm-%j.out): stdout and stderr the spec does
 * not send anywhere go to `<workDirectory>/<native id>.out` and `.err`, beside the job's record.
 */
function withDefaultOutput(spec: JobSpec, workDirectory: string | undefined): JobSpec {
  if (workDirectory === undefined || (spec.stdoutPath !== undefined && spec.stderrPath !== undefined)) return spec;
  return createJobSpec({
    ...jobSpecToInput(spec),
    stdoutPath: spec.stdoutPath ?? path.join(workDirectory, '%j.out'),
    stderrPath: spec.stderrPath ?? path.join(workDirectory, '%j.err'),
  });
}

/** `exaworks submit [executable] [args...]`. */
export async function submit(ctx: Context, cmd: Command, executable: string | undefined, args: string[]): Promise<void> {
  let spec = await buildJobSpec(jobFlagsOf(cmd, executable, executable === undefined ? undefined : args), ctx.io.cwd);
  await withExecutor(ctx, async (executor) => {
    const signal = ctx.io.signal ? { signal: ctx.io.signal } : {};
    // Only the local executor is known to read %j (its native id) in output paths.
    if (executor.name === 'local') spec = withDefaultOutput(spec, executor.config.workDirectory);
    const job = await executor.submit(spec, signal);
    // The local executor runs jobs in detached processes: return once this one really started.
    if (executor.name === 'local') await job.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000, ...signal });
    ctx.logger.debug('submitted', { nativeId: job.nativeId, state: job.status.state });
    ctx.out(ctx.json ? toJsonText(jobJson(job)) : `${job.nativeId}\n`);
    if (job.status.state === JobState.FAILED || job.status.state === JobState.CANCELED) {
      if (!ctx.json)
        ctx.err(`exaworks: job ${job.nativeId} ${job.status.state}${job.status.message ? `: ${job.status.message}` : ''}\n`);
      ctx.io.setExitCode(ExitCode.FAILURE);
    }
  });
}
