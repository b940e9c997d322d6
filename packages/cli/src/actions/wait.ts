/** The implementation of `exaworks wait`. @module */
import type { Command } from 'commander';
import { Job, JobState, isFinalState } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import type { CommandFlags } from '../flags.js';
import { exitCodeForJob } from '../format.js';
import { parseStateOption, parseTimeoutSeconds } from '../parse.js';
import { attachAll, printJobs, withExecutor } from '../session.js';

interface WaitFlags extends CommandFlags {
  timeout?: string;
  state?: string;
}

/** `exaworks wait <nativeId...>`. */
export async function wait(ctx: Context, cmd: Command, ids: string[]): Promise<void> {
  const flags = cmd.opts<WaitFlags>();
  const timeoutSeconds = flags.timeout === undefined ? undefined : parseTimeoutSeconds(flags.timeout);
  const target = flags.state === undefined ? undefined : parseStateOption(flags.state);
  await withExecutor(ctx, async (executor) => {
    const entries = await attachAll(executor, ids);
    const deadline = timeoutSeconds === undefined ? undefined : Date.now() + timeoutSeconds * 1000;
    const results = await Promise.all(
      entries.map(async (e) => {
        if (!(e instanceof Job)) return true;
        const options = {
          ...(deadline !== undefined ? { timeout: Math.max(0, deadline - Date.now()) } : {}),
          ...(target !== undefined ? { targetStates: [target] } : {}),
          ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
        };
        return (await e.wait(options)) !== undefined;
      }),
    );
    printJobs(ctx, entries);
    const jobs = entries.filter((e): e is Job => e instanceof Job);
    if (entries.some((e) => !(e instanceof Job))) ctx.io.setExitCode(ExitCode.FAILURE);
    else if (results.includes(false)) {
      if (!ctx.json) ctx.err(`exaworks: timed out after ${timeoutSeconds} s\n`);
      ctx.io.setExitCode(ExitCode.TIMEOUT);
    } else {
      // Waiting for a state: reaching it (or later) is success unless the job ended badly.
      const bad = jobs.find(
        (j) => isFinalState(j.status.state) && j.status.state !== JobState.COMPLETED && j.status.state !== target,
      );
      ctx.io.setExitCode(bad ? exitCodeForJob(bad.status.state, bad.status.exitCode) : ExitCode.OK);
    }
  });
}
