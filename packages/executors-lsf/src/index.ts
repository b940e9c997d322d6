/**
 * `@exaworks/executors-lsf`: the PSI/J executor `lsf` for IBM Spectrum LSF. Jobs become `#BSUB`
 * batch scripts (`-n`, `-R "span[ptile=…]"`, `-W` in whole minutes, `-q`, `-P`, `-U` for a
 * reservation, `lsf.<option>` custom attributes as `-<option> value`), submitted with `bsub < script`
 * and tracked with one `bjobs -o "jobid stat exit_code exit_reason" -json -a` per poll for all
 * active jobs. `TERM_RUNLIMIT` (killed at the run limit) ends FAILED with `metadata.reason = 'walltime'`.
 *
 * ### Usage
 * ```ts fragment
 * import { getExecutor } from '@exaworks/jpsi-core';
 *
 * const executor = await getExecutor('lsf'); // loads this package
 * const job = await executor.submit({
 *   executable: '/bin/hostname',
 *   resources: { processCount: 8, processesPerNode: 4 },
 *   attributes: { duration: '20 min', account: 'abc123', customAttributes: { 'lsf.alloc_flags': 'smt4' } },
 *   launcher: 'mpirun',
 * });
 * console.log((await job.wait())?.state);
 * await executor.close();
 * ```
 * @module
 */
export { VERSION, createLsfExecutor, executorProvider } from './executor.js';
export { LSF_STATES, lsfCustomDirective, lsfJobInfo, lsfScheduler, parseLsfQuery, type LsfJobRecord } from './scheduler.js';

import type { BatchExecutorConfigInput } from '@exaworks/executors-batch';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('lsf', config)` takes the batch executors' configuration. */
  interface ExecutorConfigs {
    lsf: BatchExecutorConfigInput;
  }
}
