/**
 * The `flux` executor: a {@link @exaworks/executors-batch!BatchExecutor} over {@link fluxScheduler}.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ExecutorProvider } from '@exaworks/jpsi-core';
import { BatchExecutor, type BatchExecutorConfigInput } from '@exaworks/executors-batch';
import { fluxScheduler } from './scheduler.js';

/** This package's version. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Creates a Flux executor (the `flux` command must be on PATH).
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export function createFluxExecutor(config: BatchExecutorConfigInput = {}): BatchExecutor {
  return new BatchExecutor(fluxScheduler, config, VERSION);
}

/** Registry entry: `getExecutor('flux', config)` creates a Flux executor. */
export const executorProvider: ExecutorProvider = {
  name: 'flux',
  create: (config?: unknown) => createFluxExecutor((config ?? {}) as BatchExecutorConfigInput),
};
