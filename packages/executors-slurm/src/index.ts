/**
 * `@exaworks/executors-slurm`: the PSI/J executor for Slurm, registered as `slurm`. Jobs are
 * submitted with `sbatch`, tracked with one `squeue` per poll for all of them (and `sacct` for
 * jobs that left the queue, when accounting is on), canceled with `scancel`. Slurm's end states
 * (TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE) reach `status.metadata`
 * as `nativeState` and a machine-readable `reason`; a walltime kill is FAILED with
 * `reason: 'walltime'`. Everything else (the submit script, staging, tracking, attach) is
 * `@exaworks/executors-batch`.
 *
 * ### Usage
 * ```ts fragment
 * import { getExecutor } from '@exaworks/jpsi-core';
 *
 * const slurm = await getExecutor('slurm', { pollInterval: 2000 });
 * const job = await slurm.submit({
 *   executable: '/bin/hostname',
 *   launcher: 'srun',
 *   resources: { nodeCount: 2, processesPerNode: 4 },
 *   attributes: { duration: '00:10:00', queueName: 'debug', customAttributes: { 'slurm.constraint': 'haswell' } },
 * });
 * console.log((await job.wait())?.state);
 * await slurm.close();
 * ```
 * @module
 */
export { SlurmScheduler, SLURM_STATE_MAP, exitCodeFromWaitStatus, slurmTime, type SlurmSchedulerOptions } from './scheduler.js';
export {
  SlurmExecutorConfigSchema,
  VERSION,
  createSlurmExecutor,
  executorProvider,
  type SlurmExecutorConfig,
} from './executor.js';

import type { SlurmExecutorConfig } from './executor.js';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('slurm', config)` takes the Slurm executor's configuration. */
  interface ExecutorConfigs {
    slurm: SlurmExecutorConfig;
  }
}
