/** The implementation of `exaworks submit`. @module */
import type { Command } from 'commander';
import path from 'node:path';
import {
  JobState,
  ValidationError,
  createJobSpec,
  jobSpecToInput,
  type Job,
  type JobExecutor,
  type JobSpec,
} from '@exaworks/jpsi-core';
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

/** A batch executor's extra entry point: hand over an existing script as-is (duck-typed: the CLI knows no executor package). */
interface ScriptSubmitter extends JobExecutor {
  submitScript(scriptPath: string, options?: { cwd?: string; signal?: AbortSignal }): Promise<Job>;
}

/** `exaworks submit --script FILE`: an existing batch script, tracked through the same Job API. */
async function submitScript(ctx: Context, script: string): Promise<void> {
  await withExecutor(ctx, async (executor) => {
    if (typeof (executor as Partial<ScriptSubmitter>).submitScript !== 'function') {
      throw new ValidationError('submit flags', [
        {
          path: 'script',
          message: `the ${executor.name} executor cannot take a batch script; use a batch executor such as slurm`,
        },
      ]);
    }
    const job = await (executor as ScriptSubmitter).submitScript(path.resolve(ctx.io.cwd, script), {
      cwd: ctx.io.cwd,
      ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
    });
    ctx.out(ctx.json ? toJsonText(jobJson(job)) : `${job.nativeId}\n`);
  });
}

/** `exaworks submit [executable] [args...]` or `exaworks submit --script FILE`. */
export async function submit(ctx: Context, cmd: Command, executable: string | undefined, args: string[]): Promise<void> {
  const { script, spec: specFile } = cmd.opts<{ script?: string; spec?: string }>();
  if (script !== undefined) {
    if (executable !== undefined || specFile !== undefined) {
      throw new ValidationError('submit flags', [
        { path: 'script', message: 'give either --script or a job (executable or --spec), not both' },
      ]);
    }
    return submitScript(ctx, script);
  }
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
