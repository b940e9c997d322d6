/** The implementation of `exaworks hub`. @module */
import path from 'node:path';
import { createLogger } from '@exaworks/jpsi-core/internal';
import type { Command } from 'commander';
import type { Context } from '../context.js';

interface HubFlags {
  host: string;
  port: string;
  secretFile?: string;
  secretEnv?: string;
  tlsCert?: string;
  tlsKey?: string;
  verbose?: boolean;
}

/** `exaworks hub`: serves until the command's signal (SIGINT/SIGTERM/SIGHUP) aborts, then exits 0. */
export async function hub(ctx: Context, cmd: Command): Promise<void> {
  const flags = cmd.opts<HubFlags>();
  const { io } = ctx;
  const { runHub } = await import('@exaworks/messaging');
  const resolve = (file: string | undefined) => (file === undefined ? undefined : path.resolve(io.cwd, file));
  const logger = createLogger({ component: 'hub', level: flags.verbose ? 'debug' : 'info', write: (l) => io.stderr(l) });
  const options = {
    host: flags.host,
    port: Number(flags.port),
    ...(flags.secretFile !== undefined ? { secretFile: resolve(flags.secretFile) } : {}),
    ...(flags.secretEnv !== undefined ? { secretEnv: flags.secretEnv } : {}),
    ...(flags.tlsCert !== undefined ? { tlsCert: resolve(flags.tlsCert) } : {}),
    ...(flags.tlsKey !== undefined ? { tlsKey: resolve(flags.tlsKey) } : {}),
  };
  // A stop signal is the normal end of a hub, not an interruption: exit 0.
  await runHub(options, { ...(io.signal ? { signal: io.signal } : {}), logger });
}
