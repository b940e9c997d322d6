/**
 * The `cobalt` executor: a {@link @exaworks/executors-batch!BatchExecutor} over {@link cobaltScheduler}.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ExecutorProvider } from '@exaworks/jpsi-core';
import { BatchExecutor, type BatchExecutorConfigInput } from '@exaworks/executors-batch';
import { cobaltScheduler } from './scheduler.js';

/** This package's version. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Creates a Cobalt executor (`qsub`, `qstat`, `qdel` must be on PATH).
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export function createCobaltExecutor(config: BatchExecutorConfigInput = {}): BatchExecutor {
  return new BatchExecutor(cobaltScheduler, config, VERSION);
}

/** Registry entry: `getExecutor('cobalt', config)` creates a Cobalt executor. */
export const executorProvider: ExecutorProvider = {
  name: 'cobalt',
  create: (config?: unknown) => createCobaltExecutor((config ?? {}) as BatchExecutorConfigInput),
};
