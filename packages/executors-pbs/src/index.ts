/**
 * `@exaworks/executors-pbs`: the PSI/J executor `pbs` for PBS Pro and OpenPBS. Jobs become `#PBS`
 * batch scripts (`-l select=…:ncpus=…:mpiprocs=…`, `-l walltime=`, `-q`, `-A`, `-V` when the job
 * inherits the environment, `pbs.<option>` custom attributes as `-<option> value`), submitted with
 * `qsub` and tracked with one `qstat -f -F json -x` per poll for all active jobs. A job killed at its
 * walltime (`Exit_status` -29) ends FAILED with `metadata.reason = 'walltime'`.
 *
 * ### Usage
 * ```ts fragment
 * import { getExecutor } from '@exaworks/jpsi-core';
 *
 * const executor = await getExecutor('pbs', { pollInterval: 10_000 }); // loads this package
 * const job = await executor.submit({
 *   executable: '/bin/hostname',
 *   resources: { nodeCount: 2, processesPerNode: 4 },
 *   attributes: { duration: '30 min', queueName: 'workq', customAttributes: { 'pbs.l': 'filesystems=home' } },
 *   launcher: 'mpirun',
 * });
 * console.log((await job.wait())?.state);
 * await executor.close();
 * ```
 * @module
 */
export { VERSION, createPbsExecutor, executorProvider } from './executor.js';
export {
  PBS_EXIT_WALLTIME,
  PBS_STATES,
  PBS_SUBSTATE_TERMINATED,
  parsePbsQuery,
  pbsCustomDirective,
  pbsJobInfo,
  pbsScheduler,
  pbsWalltime,
  type PbsQstatJob,
} from './scheduler.js';

import type { BatchExecutorConfigInput } from '@exaworks/executors-batch';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('pbs', config)` takes the batch executors' configuration. */
  interface ExecutorConfigs {
    pbs: BatchExecutorConfigInput;
  }
}
