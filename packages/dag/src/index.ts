/**
 * `@exaworks/dag`: a durable dependency-graph engine over any PSI/J JobExecutor.
 *
 * A workflow is a graph of jobs (run by any executor: local, a batch scheduler, a pilot) and
 * in-process functions. It runs with as much parallelism as `concurrency` allows, retries with
 * backoff, times out, caches, and — with a journal — resumes after the process running it is
 * killed, without running a finished task again or resubmitting a job that is still running.
 *
 * @example
 * ```ts
 * import os from 'node:os';
 * import path from 'node:path';
 * import { Workflow } from '@exaworks/dag';
 *
 * const wf = new Workflow({ journal: path.join(os.tmpdir(), `dag-example-${process.pid}.jsonl`) });
 * const square = wf.fn('square', (x: number) => x * x);
 * const sum = wf.fn('sum', (xs: number[]) => xs.reduce((a, b) => a + b, 0));
 * const total = sum([1, 2, 3].map((x) => square(x)));
 * const summary = await wf.run();
 * console.log(summary.ok, summary.result(total.name)); // true 14
 * ```
 * @module
 */
export type {
  RunSummary,
  StateCounts,
  TaskOutcome,
  TaskState,
  WorkflowEvent,
  WorkflowListener,
} from './events.js';
export {
  type BackoffOptions,
  type FailurePolicy,
  type RunOptions,
  TaskFailedError,
  type TaskOptions,
  TaskTimeoutError,
  type TaskRef,
  WorkflowError,
  type WorkflowOptions,
} from './options.js';
export {
  type FutureArg,
  type FutureArgs,
  type JobResult,
  type JobSpecSource,
  SUBMIT_KEY_ENV,
  type TaskContext,
  type TaskFunction,
  TaskFuture,
  Workflow,
} from './workflow.js';
export {
  type ExpandedJob,
  type FileWorkflowOptions,
  type LoadedWorkflow,
  loadWorkflowFile,
  parseWorkflowFile,
  type WorkflowFile,
  WorkflowFileJobSchema,
  WorkflowFileSchema,
  workflowFromFile,
  workflowJsonSchema,
} from './file.js';
export { type GraphFormat, type GraphNode, renderGraph } from './render.js';
export { type RestoredRun, type RestoredTask, restoreRun, type WorkflowRecord } from './journal-records.js';
