/** The implementation of `exaworks list`: read-only. @module */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { openInspector } from '../local.js';
import { parseStateOption } from '../parse.js';
import { printRows, rowFromView } from '../rows.js';

/** `exaworks list [--state S]`. */
export async function list(ctx: Context, cmd: Command): Promise<void> {
  const o = cmd.opts<{ state?: string }>();
  const only = o.state === undefined ? undefined : parseStateOption(o.state, 'list options');
  const inspector = await openInspector(ctx);
  if (!inspector) {
    const { Job } = await import('@exaworks/jpsi-core');
    const { attachAll, printJobs, withExecutor } = await import('../session.js');
    await withExecutor(ctx, async (executor) => {
      const entries = await attachAll(executor, await executor.list());
      printJobs(
        ctx,
        entries.filter((e) => only === undefined || (e instanceof Job && e.status.state === only)),
      );
    });
    return;
  }
  printRows(
    ctx,
    inspector
      .list()
      .filter((v) => only === undefined || v.state === only)
      .map(rowFromView),
  );
}
