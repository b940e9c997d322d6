/**
 * `@exaworks/executors-pbs`: the PSI/J executor `pbs` for PBS Pro, OpenPBS and classic Torque
 * (`flavour`, detected from `qstat --version` by default). Jobs become `#PBS`
 * batch scripts (`-l select=…:ncpus=…:mpiprocs=…`, `-l walltime=`, `-q`, `-A`, `-V` when the job
 * inherits the environment, `pbs.<option>` custom attributes as `-<option> value`), submitted with
 * `qsub` and tracked with one `qstat -f -F json -x` per poll for all active jobs (Torque:
 * `-l nodes=N:ppn=M` and one `qstat -f` in its text format). A job killed at its walltime
 * (`Exit_status` -29; Torque `exit_status` -11) ends FAILED with `metadata.reason = 'walltime'`.
 *
 * ### Usage
 * ```ts fragment
 * import { getExecutor } from '@exaworks/jpsi-core';
 *
 * const executor = await getExecutor('pbs', { pollInterval: 10_000, flavour: 'auto' }); // loads this package
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
export {
  VERSION,
  PbsExecutorConfigSchema,
  createPbsExecutor,
  detectPbsFlavour,
  executorProvider,
  pbsFlavourFromVersion,
  type PbsExecutorConfig,
  type PbsFlavour,
} from './executor.js';
export {
  TORQUE_EXIT_WALLTIME,
  TORQUE_STATES,
  parseTorqueFull,
  parseTorqueQuery,
  torqueJobInfo,
  torqueScheduler,
  type TorqueQstatJob,
} from './torque.js';
export {
  PBS_EXIT_WALLTIME,
  PBS_STATES,
  PBS_SUBSTATE_TERMINATED,
  parsePbsQuery,
  pbsCustomDirective,
  pbsJobInfo,
  pbsScheduler,
  pbsWalltime,
  stripHost,
  type PbsQstatJob,
} from './scheduler.js';

import type { PbsExecutorConfig } from './executor.js';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('pbs', config)` takes the batch executors' configuration and `flavour`. */
  interface ExecutorConfigs {
    pbs: PbsExecutorConfig;
  }
}
