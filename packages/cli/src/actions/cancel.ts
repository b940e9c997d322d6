/** The implementation of `exaworks cancel`. @module */
import type { Command } from 'commander';
import { Job } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { attachAll, printJobs, withExecutor } from '../session.js';

/** `exaworks cancel <nativeId...>`. */
export async function cancel(ctx: Context, _cmd: Command, ids: string[]): Promise<void> {
  await withExecutor(
    ctx,
    async (executor) => {
      const entries = await attachAll(executor, ids);
      for (const e of entries) {
        if (!(e instanceof Job)) continue;
        await executor.cancel(e);
        // Show where the cancel landed; a backend may take a moment to confirm.
        await e.wait({ timeout: 5_000, ...(ctx.io.signal ? { signal: ctx.io.signal } : {}) });
      }
      printJobs(ctx, entries);
      // Canceling starts nothing: no recovery of other orphans, and an orphan is decided, not run.
    },
    { recover: false, adopt: false },
  );
}
