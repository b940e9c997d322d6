/**
 * Commands that hold an open executor: opening and always closing it, binding Job objects to
 * native ids, and printing job rows.
 * @module
 */
import { AbortedError, Job, ValidationError, type JobExecutor } from '@exaworks/jpsi-core';
import type { Context } from './context.js';
import { interruptedExitCode } from './exit-codes.js';

export { interruptedExitCode };
import { errorToJson, type JobErrorJson, type JobJson } from './format.js';
import { jobJson } from './job-json.js';
import { printRows } from './rows.js';

/** Runs a command body with error reporting and an open executor that is always closed. */
export async function withExecutor(
  ctx: Context,
  body: (executor: JobExecutor) => Promise<void>,
  local?: Record<string, unknown>,
): Promise<void> {
  let executor: JobExecutor | undefined;
  try {
    executor = await ctx.openExecutor(local);
    await body(executor);
  } catch (err) {
    if (err instanceof AbortedError && ctx.io.signal?.aborted) ctx.io.setExitCode(interruptedExitCode(ctx.io.signal));
    else ctx.fail(err);
  } finally {
    await executor?.close().catch((err: unknown) => ctx.logger.warn('closing the executor failed', { error: err }));
  }
}

/** Binds a fresh Job to each native id; ids the executor does not know come back as error rows. */
export async function attachAll(executor: JobExecutor, ids: readonly string[]): Promise<(Job | JobErrorJson)[]> {
  return Promise.all(
    ids.map(async (id) => {
      const job = new Job();
      try {
        await executor.attach(job, id);
        return job;
      } catch (err) {
        if (err instanceof ValidationError) throw err;
        return { nativeId: id, error: errorToJson(err) };
      }
    }),
  );
}

function rowOf(entry: Job | JobErrorJson): JobJson | JobErrorJson {
  return entry instanceof Job ? jobJson(entry) : entry;
}

/** Prints Job objects (and error rows). */
export function printJobs(ctx: Context, entries: readonly (Job | JobErrorJson)[]): void {
  printRows(ctx, entries.map(rowOf));
}
