/**
 * The `pbs` executor: a {@link @exaworks/executors-batch!BatchExecutor} over {@link pbsScheduler}.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ExecutorProvider } from '@exaworks/jpsi-core';
import { BatchExecutor, type BatchExecutorConfigInput } from '@exaworks/executors-batch';
import { pbsScheduler } from './scheduler.js';

/** This package's version. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Creates a PBS Pro / OpenPBS executor (`qsub`, `qstat`, `qdel` must be on PATH).
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export function createPbsExecutor(config: BatchExecutorConfigInput = {}): BatchExecutor {
  return new BatchExecutor(pbsScheduler, config, VERSION);
}

/** Registry entry: `getExecutor('pbs', config)` creates a PBS executor. */
export const executorProvider: ExecutorProvider = {
  name: 'pbs',
  create: (config?: unknown) => createPbsExecutor((config ?? {}) as BatchExecutorConfigInput),
};
