/**
 * `@exaworks/executors-cobalt`: the PSI/J executor `cobalt` for Cobalt (ALCF). Jobs become
 * `#COBALT` batch scripts (`-n` nodes, `--proccount`, `-t HH:MM:SS`, `-q`, `-A`, `cobalt.<option>`
 * custom attributes), submitted with `qsub` and tracked with one `qstat -l --header=JobId:State`
 * per poll for all active jobs. Cobalt forgets a job when it ends, so its end (exit code, walltime
 * kill, deletion) is read from the `.cobaltlog` Cobalt writes into the work directory.
 *
 * ### Usage
 * ```ts fragment
 * import { getExecutor } from '@exaworks/jpsi-core';
 *
 * const executor = await getExecutor('cobalt'); // loads this package
 * const job = await executor.submit({
 *   executable: '/bin/hostname',
 *   resources: { nodeCount: 2 },
 *   attributes: { duration: '1 h', queueName: 'debug-cache-quad', account: 'MyProject' },
 * });
 * console.log((await job.wait())?.state);
 * await executor.close();
 * ```
 * @module
 */
export { VERSION, createCobaltExecutor, executorProvider } from './executor.js';
export {
  COBALT_STATES,
  cobaltCustomDirective,
  cobaltLogInfo,
  cobaltScheduler,
  parseCobaltLogs,
  parseCobaltQuery,
} from './scheduler.js';

import type { BatchExecutorConfigInput } from '@exaworks/executors-batch';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('cobalt', config)` takes the batch executors' configuration. */
  interface ExecutorConfigs {
    cobalt: BatchExecutorConfigInput;
  }
}
