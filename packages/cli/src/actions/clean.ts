/** The implementation of `exaworks clean`. @module */
import type { Command } from 'commander';
import { cleanFinishedJobs } from '@exaworks/executors-local/inspect';
import { ValidationError } from '@exaworks/jpsi-core/internal';
import type { Context } from '../context.js';
import { toJsonText } from '../format.js';
import { openInspector } from '../local.js';
import { parseAgeSeconds } from '../parse.js';

/** `exaworks clean [--older-than AGE]`. */
export async function clean(ctx: Context, cmd: Command): Promise<void> {
  const o = cmd.opts<{ olderThan?: string }>();
  const age = o.olderThan === undefined ? 0 : parseAgeSeconds(o.olderThan);
  const inspector = await openInspector(ctx);
  if (!inspector) {
    throw new ValidationError('clean options', [
      { path: 'executor', message: `clean works on the local executor's work directory, not "${ctx.executorName}"` },
    ]);
  }
  const result = cleanFinishedJobs(inspector.workDirectory, age);
  if (ctx.json) ctx.out(toJsonText(result));
  else
    ctx.err(
      `exaworks: removed ${result.removed.length} finished job${result.removed.length === 1 ? '' : 's'}` +
        `${result.unfinished ? `; ${result.unfinished} unfinished left alone` : ''} (${inspector.workDirectory})\n`,
    );
}
