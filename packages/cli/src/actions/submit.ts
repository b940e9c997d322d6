/** The implementation of `exaworks submit`. @module */
import type { Command } from 'commander';
import { JobState } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { jobFlagsOf } from '../flags.js';
import { toJsonText } from '../format.js';
import { jobJson } from '../job-json.js';
import { buildJobSpec } from '../options.js';
import { withExecutor } from '../session.js';

/** `exaworks submit [executable] [args...]`. */
export async function submit(ctx: Context, cmd: Command, executable: string | undefined, args: string[]): Promise<void> {
  const spec = await buildJobSpec(jobFlagsOf(cmd, executable, executable === undefined ? undefined : args), ctx.io.cwd);
  await withExecutor(ctx, async (executor) => {
    const signal = ctx.io.signal ? { signal: ctx.io.signal } : {};
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
