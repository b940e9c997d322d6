/**
 * Options of workflows and tasks, their zod schemas, and the errors the engine throws.
 * @module
 */
import {
  ErrorCode,
  ExaworksError,
  type ExaworksErrorOptions,
  type JobExecutor,
  parseDuration,
  parseWith,
} from '@exaworks/jpsi-core';
import { z } from 'zod';

/** What happens to the rest of the workflow when a task fails (after its retries). */
export type FailurePolicy = 'fail-fast' | 'continue';

/** A reference to a task: its name or the future returned when it was defined. */
export type TaskRef = string | { readonly name: string };

/** Exponential backoff between retries: `min(maxMs, initialMs · factor^(attempt-1))`, times a random factor in `[1 - jitter, 1]`. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. @default 1000 */
  initialMs?: number;
  /** Growth per retry. @default 2 */
  factor?: number;
  /** Upper bound of one delay, in milliseconds. @default 60000 */
  maxMs?: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = full jitter). @default 0.5 */
  jitter?: number;
}

/** Options of {@link Workflow.task} and {@link Workflow.job}. */
export interface TaskOptions {
  /** Tasks that must succeed before this one starts; their results become its inputs. */
  after?: readonly TaskRef[];
  /** Extra attempts after a failure. @default 0 (or the workflow's `retries`) */
  retries?: number;
  /** Time limit of one attempt: milliseconds, or a duration string such as `"90 s"` or `"00:05:00"`. */
  timeout?: number | string;
  /** Reuse the result of an earlier successful run with the same definition and inputs (needs the workflow's `cache`). @default false */
  cache?: boolean;
  /** Overrides the workflow's failure policy for this task. */
  onFailure?: FailurePolicy;
  /** Overrides the workflow's backoff for this task. */
  backoff?: BackoffOptions;
}

/** Options of the {@link Workflow} constructor. */
export interface WorkflowOptions {
  /** Runs the workflow's jobs (any JobExecutor). Needed only if the workflow has jobs. */
  executor?: JobExecutor;
  /**
   * Path of the durable journal (JSON lines). With a journal, every state change is recorded and a
   * later `run()` with the same journal resumes: finished tasks are not run again and jobs still
   * running are re-attached. Without one, the workflow lives in memory only.
   */
  journal?: string;
  /** `fsync` the journal after every batch of records (survives power loss, not only a killed process). @default false */
  fsync?: boolean;
  /** Most tasks running at once (jobs and functions together). @default 64 */
  concurrency?: number;
  /** @default 'fail-fast' */
  onFailure?: FailurePolicy;
  /** Default retries of every task. @default 0 */
  retries?: number;
  /** Default backoff of every task. */
  backoff?: BackoffOptions;
  /** Path of the result cache shared across runs (JSON lines), used by tasks with `cache: true`. */
  cache?: string;
  /** Identifies this workflow in its journal; a journal written by a workflow of another name is refused. @default 'workflow' */
  name?: string;
}

/** Options of {@link Workflow.run}. */
export interface RunOptions {
  /** Cancels running tasks (jobs through their executor) and ends the run with those tasks CANCELED. */
  signal?: AbortSignal;
}

/** The rule for task names (one regex, used by the schema and by the fast check). */
const NAME_RULE = /^[^\s"`]{1,200}$/;
const NAME = z
  .string({ error: 'must be a string' })
  .min(1, 'cannot be empty')
  .max(200, 'at most 200 characters')
  .regex(NAME_RULE, 'letters, digits and punctuation, without spaces or quotes');
const NAME_HOLDER = z.object({ name: NAME });

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && v > 0) return v;
    ctx.addIssue({ code: 'custom', message: 'must be a positive number of milliseconds' });
    return z.NEVER;
  }
  const parsed = parseDuration(v);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.seconds * 1000;
});

export const BackoffSchema = z.strictObject({
  initialMs: z.number().min(0, 'must be 0 or more').optional(),
  factor: z.number().min(1, 'must be 1 or more').optional(),
  maxMs: z.number().min(0, 'must be 0 or more').optional(),
  jitter: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
});

const policy = z.enum(['fail-fast', 'continue'], { error: 'must be "fail-fast" or "continue"' });
const ref = z.union([NAME, z.object({ name: NAME })], { error: 'must be a task name or a task future' });

export const TaskOptionsSchema = z.strictObject({
  after: z.array(ref, { error: 'must be an array of task names or futures' }).optional(),
  retries: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
  timeout: duration.optional(),
  cache: z.boolean({ error: 'must be true or false' }).optional(),
  onFailure: policy.optional(),
  backoff: BackoffSchema.optional(),
});

export const WorkflowOptionsSchema = z.strictObject({
  executor: z
    .custom<JobExecutor>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        ['submit', 'attach', 'cancel', 'list'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
      'must be a JobExecutor (submit, attach, cancel, list)',
    )
    .optional(),
  journal: z.string().min(1, 'cannot be empty').optional(),
  fsync: z.boolean().optional(),
  concurrency: z.number().int('must be a whole number').min(1, 'must be 1 or more').optional(),
  onFailure: policy.optional(),
  retries: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
  backoff: BackoffSchema.optional(),
  cache: z.string().min(1, 'cannot be empty').optional(),
  name: NAME.optional(),
});

export const RunOptionsSchema = z.strictObject({
  signal: z.instanceof(AbortSignal, { error: 'must be an AbortSignal' }).optional(),
});

/** Whether `name` is a valid task name (the schema's own rule, without a zod pass). */
export function isTaskName(name: unknown): name is string {
  return typeof name === 'string' && NAME_RULE.test(name);
}

/** Validates a task name. */
export function checkName(name: unknown, subject: string): string {
  // Defining a million tasks must not cost a million zod parses for the common, valid case.
  if (isTaskName(name)) return name;
  return parseWith(NAME_HOLDER, { name }, subject).name;
}

/** Parsed task options. */
export type ParsedTaskOptions = z.output<typeof TaskOptionsSchema>;

/** Thrown (and recorded as a task's error) when a task or job fails. */
export class TaskFailedError extends ExaworksError {
  constructor(
    readonly task: string,
    message: string,
    options: ExaworksErrorOptions = {},
  ) {
    super(ErrorCode.TASK_FAILED, message, options);
  }
}

/** Recorded as a task's error when one attempt runs past its `timeout`. */
export class TaskTimeoutError extends ExaworksError {
  constructor(
    readonly task: string,
    readonly timeoutMs: number,
  ) {
    super(ErrorCode.TIMEOUT, `Task "${task}" did not finish within ${timeoutMs} ms.`);
  }
}

/** Thrown when a workflow cannot run as defined or its journal does not fit it. */
export class WorkflowError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.WORKFLOW, message, options);
  }
}
