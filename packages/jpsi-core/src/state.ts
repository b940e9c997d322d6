/**
 * The nine PSI/J job states and the one state machine every executor goes through.
 * @module
 */

/** The PSI/J job states. Values are the PSI/J state names. */
export const JobState = {
  NEW: 'NEW',
  QUEUED: 'QUEUED',
  STAGE_IN: 'STAGE_IN',
  ACTIVE: 'ACTIVE',
  STAGE_OUT: 'STAGE_OUT',
  CLEANUP: 'CLEANUP',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
} as const;

/** A PSI/J job state name. */
export type JobState = (typeof JobState)[keyof typeof JobState];

/** Every state, in PSI/J order. */
export const JOB_STATES: readonly JobState[] = Object.freeze(Object.values(JobState));

const ORDER: Readonly<Record<JobState, number>> = {
  NEW: 0,
  QUEUED: 1,
  STAGE_IN: 2,
  ACTIVE: 3,
  STAGE_OUT: 4,
  CLEANUP: 5,
  COMPLETED: 6,
  FAILED: 6,
  CANCELED: 6,
};

// The unique predecessor used to fill in skipped states; FAILED and CANCELED have none.
const PREDECESSOR: Readonly<Partial<Record<JobState, JobState>>> = {
  QUEUED: 'NEW',
  STAGE_IN: 'QUEUED',
  ACTIVE: 'STAGE_IN',
  STAGE_OUT: 'ACTIVE',
  CLEANUP: 'STAGE_OUT',
  COMPLETED: 'CLEANUP',
};

/** True if `value` is one of the nine state names. */
export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && Object.hasOwn(ORDER, value);
}

/** The PSI/J order of a state: 0 for NEW up to 6 for the three final states. */
export function stateOrder(state: JobState): number {
  return ORDER[state];
}

/** True for COMPLETED, FAILED and CANCELED. */
export function isFinalState(state: JobState): boolean {
  return ORDER[state] === 6;
}

/**
 * The states a job moves through when its backend reports `next` while it is in `current`:
 * the skipped states on `next`'s chain of unique predecessors, then `next` itself.
 * Empty when the report must be ignored (same state, an earlier state, or `current` is final).
 */
export function statesToEnter(current: JobState, next: JobState): JobState[] {
  if (isFinalState(current) || ORDER[next] <= ORDER[current]) return [];
  const chain: JobState[] = [next];
  for (let p = PREDECESSOR[next]; p !== undefined && ORDER[p] > ORDER[current]; p = PREDECESSOR[p]) {
    chain.unshift(p);
  }
  return chain;
}

/**
 * Why a job ended the way it did, for programs (the `message` says it in words):
 * `walltime` (killed after exceeding its duration), `canceled` (a cancel request),
 * `launch-failed` (its script or program could not be started, or stage-in failed),
 * `lost` (its process ended while no executor tracked it and left no exit status).
 * Unset for a job that ran and exited on its own. New values may be added.
 */
export type JobStatusReason = 'walltime' | 'canceled' | 'launch-failed' | 'lost';

/** A job's status at one moment. Immutable. */
export interface JobStatus {
  /** The state. */
  readonly state: JobState;
  /** When the job entered this state. */
  readonly time: Date;
  /** Why, in words: set for failures of the machinery, cancellations and timeouts. */
  readonly message?: string;
  /** The job's exit code, once it has one. */
  readonly exitCode?: number;
  /** Machine-readable cause of a final state that is not the job's own exit (see {@link JobStatusReason}). */
  readonly reason?: JobStatusReason;
  /** Backend-specific details (e.g. the native state string). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** What an executor reports; the state machine adds `time` if absent. */
export interface JobStatusUpdate {
  readonly state: JobState;
  readonly time?: Date;
  readonly message?: string;
  readonly exitCode?: number;
  readonly reason?: JobStatusReason;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Applies an update to a current status through the state machine.
 * Returns the statuses to emit, in order (filled-in states first, the reported one last);
 * an empty array when the update is ignored. Filled-in states carry the update's time.
 */
export function advanceStatus(current: JobStatus, update: JobStatusUpdate): JobStatus[] {
  const states = statesToEnter(current.state, update.state);
  if (states.length === 0) return [];
  const time = update.time ?? new Date();
  return states.map((state, i) =>
    i === states.length - 1 ? freezeStatus({ ...update, state, time }) : freezeStatus({ state, time }),
  );
}

/** Makes a status object immutable, dropping undefined fields. */
export function freezeStatus(status: JobStatusUpdate & { time: Date }): JobStatus {
  const out: { -readonly [K in keyof JobStatus]: JobStatus[K] } = { state: status.state, time: status.time };
  if (status.message !== undefined) out.message = status.message;
  if (status.exitCode !== undefined) out.exitCode = status.exitCode;
  if (status.reason !== undefined) out.reason = status.reason;
  if (status.metadata !== undefined) out.metadata = Object.freeze({ ...status.metadata });
  return Object.freeze(out);
}

/** A JSON-safe form of a status, for persistence and `--json` output. */
export interface JobStatusJson {
  state: JobState;
  time: string;
  message?: string;
  exitCode?: number;
  reason?: JobStatusReason;
  metadata?: Record<string, unknown>;
}

/** Converts a status to its JSON-safe form. */
export function statusToJson(status: JobStatus): JobStatusJson {
  const out: JobStatusJson = { state: status.state, time: status.time.toISOString() };
  if (status.message !== undefined) out.message = status.message;
  if (status.exitCode !== undefined) out.exitCode = status.exitCode;
  if (status.reason !== undefined) out.reason = status.reason;
  if (status.metadata !== undefined) out.metadata = { ...status.metadata };
  return out;
}

/** Reads a status back from its JSON-safe form. */
export function statusFromJson(json: JobStatusJson): JobStatus {
  return freezeStatus({ ...json, time: new Date(json.time) });
}
