/**
 * What the local executor keeps in memory per job.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import type { Job, JobSpec, LaunchCommand } from '@exaworks/jpsi-core';
import type { HeapItem } from '@exaworks/jpsi-core/internal';
import type { AgentInfo } from './spawner.js';
import type { JobRecord, LocalJobPaths, OwnerInfo } from './store.js';

export type Phase = 'queued' | 'starting' | 'running' | 'finishing' | 'done' | 'watching';

/** What the executor keeps in memory per job: small, since thousands may be queued. */
export interface Tracked extends HeapItem {
  readonly id: string;
  readonly job: Job;
  readonly spec: JobSpec;
  readonly cwd: string;
  readonly cores: number;
  readonly recordOwner: OwnerInfo;
  phase: Phase;
  /** True when this executor is responsible for starting, killing and finishing the job. */
  owned: boolean;
  child: ChildProcess | undefined;
  /** True while the spawn agent runs the job for this executor (the counterpart of `child`). */
  viaAgent: boolean;
  pid: number | undefined;
  startTime: string | undefined;
  activeAt: number | undefined;
  cancelRequested: boolean;
  timedOut: boolean;
  /** What the heap entry means when it comes due. */
  timer: 'walltime' | 'escalate';
  /** Status lines already replayed (for jobs watched through the log). */
  applied: number;
  /** The job script while the job waits to start (dropped once it runs); built only when needed. */
  script: string | undefined;
  /** The launch command and node file, kept to build the script late (a job the exec agent runs needs none). */
  launch: LaunchCommand | undefined;
  nodeFile: string | undefined;
  /** The exec agent that runs (or ran) the job, while its journal holds the job's end. */
  execAgent: AgentInfo | undefined;
  /** True while the exec agent runs the job for this executor. */
  viaExec: boolean;
  /** True once the script was written to `<id>.sh` (too long for argv, or `keepFiles`). */
  scriptFile: boolean;
  /**
   * True once no other process can decide this job any more: its STAGE_IN line was appended
   * and no cancel request was there after it (or the job is known to have run). Until then,
   * a final status goes through the O_EXCL `<id>.unstarted` decision.
   */
  spawnCleared: boolean;
  /** Taken over from a dead executor. */
  adopted: boolean;
  /** The job's files, computed when it starts (queued jobs do not keep them). */
  paths: LocalJobPaths | undefined;
  /** Adopted while its start is undecided (the dead owner's spawn agent may still start it): looked at again each poll. */
  deferred: boolean;
}

/** A new in-memory entry for job `id` (`owned`: this executor starts and finishes it; else it watches). */
export function newTracked(id: string, job: Job, spec: JobSpec, record: JobRecord, owned: boolean): Tracked {
  return {
    id,
    job,
    spec,
    cwd: record.cwd,
    cores: record.cores,
    recordOwner: record.owner,
    phase: owned ? 'queued' : 'watching',
    owned,
    child: undefined,
    viaAgent: false,
    pid: undefined,
    startTime: undefined,
    activeAt: undefined,
    cancelRequested: false,
    timedOut: false,
    timer: 'walltime',
    applied: 0,
    script: undefined,
    launch: undefined,
    nodeFile: undefined,
    execAgent: undefined,
    viaExec: false,
    scriptFile: false,
    spawnCleared: false,
    adopted: false,
    paths: undefined,
    deferred: false,
    deadline: 0,
    heapIndex: -1,
  };
}
