/**
 * The `lsf` executor: a {@link @exaworks/executors-batch!BatchExecutor} over {@link lsfScheduler}.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ExecutorProvider } from '@exaworks/jpsi-core';
import { BatchExecutor, type BatchExecutorConfigInput } from '@exaworks/executors-batch';
import { lsfScheduler } from './scheduler.js';

/** This package's version. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Creates an LSF executor (`bsub`, `bjobs`, `bkill` must be on PATH).
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export function createLsfExecutor(config: BatchExecutorConfigInput = {}): BatchExecutor {
  return new BatchExecutor(lsfScheduler, config, VERSION);
}

/** Registry entry: `getExecutor('lsf', config)` creates an LSF executor. */
export const executorProvider: ExecutorProvider = {
  name: 'lsf',
  create: (config?: unknown) => createLsfExecutor((config ?? {}) as BatchExecutorConfigInput),
};
