/**
 * The typed event stream of a run and the summary it ends with.
 * @module
 */

/** Where a task is. Final states: `succeeded`, `failed`, `skipped`, `canceled`. */
export type TaskState = 'pending' | 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'skipped' | 'canceled';

/** The final states of a task. */
export const FINAL_TASK_STATES: readonly TaskState[] = ['succeeded', 'failed', 'skipped', 'canceled'];

/** One event of a run, in the order things happen. */
export type WorkflowEvent =
  | { readonly type: 'queued'; readonly task: string }
  | { readonly type: 'started'; readonly task: string; readonly attempt: number }
  /** A job was submitted (or re-attached after a resume) and has a native id. */
  | {
      readonly type: 'submitted';
      readonly task: string;
      readonly attempt: number;
      readonly nativeId: string;
      readonly attached: boolean;
    }
  | {
      readonly type: 'retried';
      readonly task: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: string;
    }
  /** `restored`: the result came from the journal of an earlier, interrupted run. */
  | { readonly type: 'succeeded'; readonly task: string; readonly attempt: number; readonly restored: boolean }
  | { readonly type: 'cached'; readonly task: string }
  | { readonly type: 'failed'; readonly task: string; readonly attempt: number; readonly error: string }
  /** `cause`: the upstream task whose failure (or the fail-fast stop) means this one cannot run. */
  | { readonly type: 'skipped'; readonly task: string; readonly cause: string }
  | { readonly type: 'canceled'; readonly task: string };

/** Receives every {@link WorkflowEvent}. */
export type WorkflowListener = (event: WorkflowEvent) => void;

/** How one task ended. */
export interface TaskOutcome {
  readonly name: string;
  readonly state: TaskState;
  /** Attempts started (0 for a task that never ran). */
  readonly attempts: number;
  /** The result (a function's return value; for a job `{ nativeId, exitCode, state }`). */
  readonly value?: unknown;
  /** The last error, for a failed task. */
  readonly error?: string;
  /** For a skipped task: why (an upstream task, or the fail-fast stop). */
  readonly cause?: string;
  /** For a job: the executor's native id of the last attempt. */
  readonly nativeId?: string;
  /** Whether the result was reused from the cache. */
  readonly cached: boolean;
  /** Whether the result was restored from the journal of an interrupted run. */
  readonly restored: boolean;
}

/** Counts of tasks per final state (plus cached, which are also counted as succeeded). */
export interface StateCounts {
  succeeded: number;
  failed: number;
  skipped: number;
  canceled: number;
  cached: number;
}

/** What {@link Workflow.run} returns. */
export interface RunSummary {
  /** True when every task succeeded. */
  readonly ok: boolean;
  /** Whether this run continued an interrupted one from its journal. */
  readonly resumed: boolean;
  /** Whether the run was interrupted by its `signal`. */
  readonly aborted: boolean;
  readonly total: number;
  readonly counts: Readonly<StateCounts>;
  readonly durationMs: number;
  /** Outcomes of the failed tasks, in definition order. */
  readonly failures: readonly TaskOutcome[];
  /** The outcome of one task by name. */
  outcome(name: string): TaskOutcome | undefined;
  /** Every outcome, in definition order. */
  outcomes(): IterableIterator<TaskOutcome>;
  /** The result of a succeeded task (undefined otherwise). */
  result<T = unknown>(name: string): T | undefined;
}
