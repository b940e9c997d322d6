/** The implementation of `exaworks status`: read-only. @module */
import type { Command } from 'commander';
import { JobNotFoundError, ValidationError } from '@exaworks/jpsi-core/internal';
import type { Context } from '../context.js';
import { errorToJson, type JobErrorJson, type JobJson } from '../format.js';
import { openInspector } from '../local.js';
import { printRows, rowFromView } from '../rows.js';

/** `exaworks status <nativeId...>`. */
export async function status(ctx: Context, _cmd: Command, ids: string[]): Promise<void> {
  const inspector = await openInspector(ctx);
  if (!inspector) {
    // Another executor: its own attach is the only way to ask it.
    const { attachAll, printJobs, withExecutor } = await import('../session.js');
    await withExecutor(ctx, async (executor) => printJobs(ctx, await attachAll(executor, ids)));
    return;
  }
  const rows = ids.map((id): JobJson | JobErrorJson => {
    try {
      const view = inspector.read(id);
      return view ? rowFromView(view) : { nativeId: id, error: errorToJson(new JobNotFoundError(id, 'local')) };
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      return { nativeId: id, error: errorToJson(err) };
    }
  });
  printRows(ctx, rows);
}
