/**
 * The Slurm executor: a {@link BatchExecutor} over {@link SlurmScheduler}, registered as `slurm`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseWith, type ExecutorProvider } from '@exaworks/jpsi-core';
import { BatchExecutor, BatchExecutorConfigSchema } from '@exaworks/executors-batch';
import { SlurmScheduler } from './scheduler.js';

/** The package version, reported as `executor.version`. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Configuration of the Slurm executor: every batch executor option, plus `accounting`. */
export const SlurmExecutorConfigSchema = z.strictObject({
  ...BatchExecutorConfigSchema.shape,
  /**
   * Ask `sacct` about jobs that left `squeue`: `true`, `false`, or `auto` (stop once Slurm says
   * accounting storage is disabled). @default 'auto'
   */
  accounting: z.union([z.boolean(), z.literal('auto')], { error: 'accounting must be true, false or "auto"' }).optional(),
});

/** Configuration of the Slurm executor as given. */
export type SlurmExecutorConfig = z.input<typeof SlurmExecutorConfigSchema>;

/**
 * Creates a Slurm executor. Slurm's commands are found on PATH and read `SLURM_CONF` as usual.
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export function createSlurmExecutor(config: SlurmExecutorConfig = {}): BatchExecutor {
  const { accounting, ...rest } = parseWith(SlurmExecutorConfigSchema, config ?? {}, 'slurm executor config');
  return new BatchExecutor(new SlurmScheduler(accounting === undefined ? {} : { accounting }), rest, VERSION);
}

/** Registry entry: `getExecutor('slurm', config)` creates a Slurm executor. */
export const executorProvider: ExecutorProvider = {
  name: 'slurm',
  create: (config?: unknown) => createSlurmExecutor((config ?? {}) as SlurmExecutorConfig),
};
