/**
 * The local executor's read-only side for commands that only look: its work directory opened
 * with `@exaworks/executors-local/inspect`, which never adopts or starts a job.
 * @module
 */
import { LocalJobInspector } from '@exaworks/executors-local/inspect';
import type { Context } from './context.js';

/** The work directory `--work-dir`/`--executor-config` name, if any (else the executor's default). */
export async function workDirectoryOf(ctx: Context): Promise<string | undefined> {
  const config = await ctx.executorConfig();
  return typeof config.workDirectory === 'string' ? config.workDirectory : undefined;
}

/** An inspector for the local executor's work directory; undefined for any other executor. */
export async function openInspector(ctx: Context): Promise<LocalJobInspector | undefined> {
  if (ctx.executorName !== 'local') return undefined;
  return new LocalJobInspector(await workDirectoryOf(ctx));
}
