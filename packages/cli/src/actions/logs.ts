/** The implementation of `exaworks logs`: read-only. @module */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { JobNotFoundError, StorageError, ValidationError, isFinalState } from '@exaworks/jpsi-core/internal';
import type { Context } from '../context.js';
import { interruptedExitCode } from '../exit-codes.js';
import { openInspector } from '../local.js';
import { FileFollower } from '../tail.js';

interface LogsFlags {
  follow?: boolean;
  stderr?: boolean;
  interval: string;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `exaworks logs [-f] [--stderr] <nativeId>`. */
export async function logs(ctx: Context, cmd: Command, id: string): Promise<void> {
  const o = cmd.opts<LogsFlags>();
  const interval = Number(o.interval);
  if (!Number.isInteger(interval) || interval < 1) {
    throw new ValidationError('logs options', [
      { path: 'interval', message: `"${o.interval}" is not a whole number of milliseconds (from --interval)` },
    ]);
  }
  const inspector = await openInspector(ctx);
  if (!inspector) {
    throw new ValidationError('logs options', [
      {
        path: 'executor',
        message: `logs reads the local executor's work directory; for "${ctx.executorName}" see its own output files`,
      },
    ]);
  }
  const view = inspector.read(id);
  if (!view) throw new JobNotFoundError(id, 'local');
  const stream = o.stderr ? 'stderr' : 'stdout';
  const file = o.stderr ? view.stderrPath : view.stdoutPath;
  if (file === null) {
    throw new StorageError(
      `Job ${id} kept no standard ${o.stderr ? 'error' : 'output'}: it was submitted without --${stream} through the API, which discards it.`,
    );
  }
  const follower = new FileFollower(file, (chunk) => ctx.io.stdout(chunk));
  const signal = ctx.io.signal;
  if (o.follow) {
    for (;;) {
      await follower.poll();
      const now = inspector.read(id);
      if (!now || isFinalState(now.state) || signal?.aborted) break;
      await pause(interval, signal);
    }
  }
  // The rest of the file: what came after the last look, or all of it without -f.
  await follower.close();
  if (!existsSync(file)) ctx.err(`exaworks: ${file} does not exist (not written yet, or removed)\n`);
  if (signal?.aborted) ctx.io.setExitCode(interruptedExitCode(signal));
}
