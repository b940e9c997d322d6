/**
 * `@exaworks/executors-batch`: the shared base of the PSI/J batch-scheduler executors (Slurm, PBS,
 * LSF, Cobalt, Flux). It is not an executor itself and registers nothing: a scheduler package
 * implements {@link SchedulerAdapter} (directives, submit/query/cancel/list commands and their
 * parsers, its state map) and wraps it in a {@link BatchExecutor}.
 *
 * ### Usage
 * ```ts fragment
 * import { BatchExecutor, type SchedulerAdapter } from '@exaworks/executors-batch';
 *
 * declare const adapter: SchedulerAdapter; // e.g. the Slurm one from @exaworks/executors-slurm
 * const executor = new BatchExecutor(adapter, { pollIntervalMs: 2000 }, '0.1.0');
 * const job = await executor.submit({ executable: '/bin/hostname', resources: { nodeCount: 2 } });
 * console.log((await job.wait())?.state);
 * await executor.close();
 * ```
 * @module
 */
export type {
  CommandResult,
  DirectiveContext,
  SchedulerAdapter,
  SchedulerCommand,
  SchedulerEndReason,
  SchedulerEnvironment,
  SchedulerJobInfo,
  StateMapping,
} from './scheduler.js';
export {
  batchJobFiles,
  directivesFor,
  prepareScripts,
  schedulerJobName,
  submitScriptFor,
  type BatchJobFiles,
  type PreparedScripts,
  type SubmitScriptInput,
} from './script.js';
export {
  BatchExecutor,
  BatchExecutorConfigSchema,
  type BatchExecutorConfig,
  type BatchExecutorConfigInput,
  type BatchFinalStatus,
  type BatchJobRecord,
  type BatchListEntry,
  type SubmitScriptOptions,
  type TrackingInfo,
} from './executor.js';
export { firstLine, runCommand, type RunCommandOptions } from './commands.js';
export { isNativeId } from './ids.js';
