/** The implementation of `exaworks info`. @module */
import { getRuntimeInfo, listExecutors, listLaunchers } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { formatInfo, toJsonText } from '../format.js';
import { CLI_VERSION } from '../version.js';

/** `exaworks info`. */
export async function info(ctx: Context): Promise<void> {
  const runtime = getRuntimeInfo();
  const executors = await listExecutors();
  const launchers = await listLaunchers().catch((err: unknown) => {
    ctx.logger.warn('could not list launchers', { error: err });
    return [] as string[];
  });
  // PATH launcher commands stay under `launchers` (as getRuntimeInfo has them); registry names under `registry`.
  if (ctx.json) ctx.out(toJsonText({ cli: CLI_VERSION, ...runtime, registry: { executors, launchers } }));
  else ctx.out(formatInfo(CLI_VERSION, runtime, executors, launchers));
}
