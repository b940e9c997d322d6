/** The implementation of `exaworks list`. @module */
import type { Command } from 'commander';
import { Job } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { parseStateOption } from '../parse.js';
import { attachAll, printJobs, withExecutor } from '../session.js';

/** `exaworks list [--state S]`. */
export async function list(ctx: Context, cmd: Command): Promise<void> {
  const o = cmd.opts<{ state?: string }>();
  const only = o.state === undefined ? undefined : parseStateOption(o.state, 'list options');
  await withExecutor(ctx, async (executor) => {
    const entries = await attachAll(executor, await executor.list());
    printJobs(
      ctx,
      entries.filter((e) => only === undefined || (e instanceof Job && e.status.state === only)),
    );
  });
}
