/** The implementation of `exaworks status`. @module */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { attachAll, printJobs, withExecutor } from '../session.js';

/** `exaworks status <nativeId...>`. */
export async function status(ctx: Context, _cmd: Command, ids: string[]): Promise<void> {
  await withExecutor(ctx, async (executor) => printJobs(ctx, await attachAll(executor, ids)));
}
