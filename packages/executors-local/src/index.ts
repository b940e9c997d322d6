/**
 * `@exaworks/executors-local`: the embedded default PSI/J executor. Jobs run as detached process
 * groups on this machine, at most `maxCores` cores at once in FIFO order, with walltimes,
 * cancellation (from any process), staging, and a work directory that survives crashes of the
 * executor: another executor on the same directory adopts its jobs.
 *
 * ### Usage
 * ```ts
 * import { createLocalExecutor } from '@exaworks/executors-local';
 *
 * const executor = createLocalExecutor({ maxCores: 4 });
 * const job = await executor.submit({ executable: '/bin/echo', arguments: ['hello'] });
 * const status = await job.wait();
 * console.log(status?.state, status?.exitCode); // COMPLETED 0
 * await executor.close();
 * ```
 * Or by name, through the registry: `await getExecutor('local', { maxCores: 4 })`.
 * @module
 */
export {
  LOCAL_HONOURED_ATTRIBUTES,
  LocalExecutorConfigSchema,
  VERSION,
  coresFor,
  type LocalExecutorConfig,
  type LocalExecutorConfigInput,
} from './config.js';
export { LocalExecutor, createLocalExecutor, executorProvider } from './executor.js';
export { LocalJobInspector, cleanFinishedJobs, type CleanResult, type LocalJobView } from './inspect.js';

import type { LocalExecutorConfigInput } from './config.js';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('local', config)` takes the local executor's configuration. */
  interface ExecutorConfigs {
    local: LocalExecutorConfigInput;
  }
}
