/**
 * `@exaworks/executors-flux`: the PSI/J executor `flux` for Flux, through its command-line tools.
 * Jobs become batch scripts with `# flux:` directives (`-N`, `-n`, `-c`, `-g`, `-t <seconds>s`,
 * `--queue`, `--bank`, `flux.<option>` custom attributes), submitted with `flux batch` and tracked
 * with one `flux jobs --format=…` per poll for all active jobs. Result `TIMEOUT` ends FAILED with
 * `metadata.reason = 'walltime'`.
 *
 * ### Usage
 * ```ts fragment
 * import { getExecutor } from '@exaworks/jpsi-core';
 *
 * const executor = await getExecutor('flux'); // loads this package; `flux` must be on PATH
 * const job = await executor.submit({
 *   executable: '/bin/hostname',
 *   resources: { nodeCount: 1, processCount: 4 },
 *   attributes: { duration: '10 min', queueName: 'pdebug' },
 * });
 * console.log((await job.wait())?.state);
 * await executor.close();
 * ```
 * @module
 */
export { VERSION, createFluxExecutor, executorProvider } from './executor.js';
export { FLUX_STATES, fluxCustomDirective, fluxId, fluxJobInfo, fluxScheduler, parseFluxQuery } from './scheduler.js';

import type { BatchExecutorConfigInput } from '@exaworks/executors-batch';

declare module '@exaworks/jpsi-core' {
  /** `getExecutor('flux', config)` takes the batch executors' configuration. */
  interface ExecutorConfigs {
    flux: BatchExecutorConfigInput;
  }
}
