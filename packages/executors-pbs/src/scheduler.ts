/**
 * The PBS Pro / OpenPBS scheduler adapter: `#PBS` directives, `qsub`, one `qstat -f -F json -x`
 * for all jobs, `qdel`, and PBS's state letters.
 * @module
 */
import os from 'node:os';
import { BackendError, JobState, shellQuote, SubmitError, ValidationError, type CustomAttributeValue } from '@exaworks/jpsi-core';
import {
  firstLine,
  type CommandResult,
  type SchedulerAdapter,
  type SchedulerJobInfo,
  type StateMapping,
} from '@exaworks/executors-batch';

/**
 * PBS job states (`job_state`) in PSI/J terms. `F` (finished) and `X` (expired subjob) are refined
 * by `Exit_status`; `E` (exiting) is still ACTIVE because the exit status is not final yet.
 */
export const PBS_STATES: Readonly<Record<string, StateMapping>> = {
  B: { state: JobState.ACTIVE },
  E: { state: JobState.ACTIVE },
  R: { state: JobState.ACTIVE },
  H: { state: JobState.QUEUED },
  M: { state: JobState.QUEUED },
  Q: { state: JobState.QUEUED },
  S: { state: JobState.QUEUED },
  T: { state: JobState.QUEUED },
  U: { state: JobState.QUEUED },
  W: { state: JobState.QUEUED },
  F: { state: JobState.COMPLETED },
  X: { state: JobState.COMPLETED },
};

/** OpenPBS's JOB_EXEC_KILL_WALLTIME: the Exit_status of a job killed at its walltime. */
export const PBS_EXIT_WALLTIME = -29;

/** The substate of a finished job that was deleted (qdel), queued or running. */
export const PBS_SUBSTATE_TERMINATED = 91;

/** `H:MM:SS` with as many hours as needed (PBS takes no days field). */
export function pbsWalltime(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** A custom attribute `pbs.<option>` as a directive body: `-<option> <value>` (`true` alone: the flag). */
export function pbsCustomDirective(key: string, value: CustomAttributeValue): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) {
    throw new ValidationError('job attributes', [
      { path: `attributes.customAttributes.pbs.${key}`, message: 'must name a qsub option (letters, digits, _)' },
    ]);
  }
  if (value === false) {
    throw new ValidationError('job attributes', [
      { path: `attributes.customAttributes.pbs.${key}`, message: 'false is not a qsub option value: leave the attribute out' },
    ]);
  }
  return value === true ? `-${key}` : `-${key} ${shellQuote(String(value))}`;
}

/** The fields of one job entry of `qstat -f -F json` that the adapter reads. */
export interface PbsQstatJob {
  readonly job_state?: string;
  readonly Exit_status?: number;
  readonly substate?: number;
  readonly comment?: string;
  readonly Job_Owner?: string;
  /** `host:path` of the batch output. */
  readonly Output_Path?: string;
}

function readReport(result: CommandResult): Record<string, PbsQstatJob> {
  // 153: some of the ids are unknown (purged from history); the others are still reported.
  if (result.exitCode !== 0 && result.exitCode !== 153) {
    throw new BackendError(`qstat failed (exit status ${result.exitCode}): ${firstLine(result)}`);
  }
  if (result.stdout.trim() === '') {
    if (result.exitCode === 153) return {};
    throw new BackendError('qstat printed nothing');
  }
  let report: { Jobs?: Record<string, PbsQstatJob> };
  try {
    report = JSON.parse(result.stdout) as typeof report;
  } catch (cause) {
    throw new BackendError(`qstat -F json printed output that is not JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof report !== 'object' || report === null) throw new BackendError('qstat -F json printed no report object');
  return report.Jobs ?? {};
}

/** What one `qstat -f -F json` job entry says, in PSI/J terms. */
export function pbsJobInfo(entry: PbsQstatJob): SchedulerJobInfo {
  const nativeState = entry.job_state ?? '?';
  const mapped = PBS_STATES[nativeState] ?? { state: JobState.QUEUED };
  const message = entry.comment;
  const base = { nativeState, ...(message ? { message } : {}) };
  if (mapped.state !== JobState.COMPLETED) return { ...base, state: mapped.state };
  const es = entry.Exit_status;
  if (es === PBS_EXIT_WALLTIME || /walltime .* exceeded limit/i.test(message ?? '')) {
    return {
      ...base,
      state: JobState.FAILED,
      reason: 'walltime',
      ...(es !== undefined && es >= 0 ? { exitCode: es % 256 } : {}),
    };
  }
  // Substate 91: terminated by qdel (92 is a normal finish, 93 a failure).
  if (entry.substate === PBS_SUBSTATE_TERMINATED) {
    return {
      ...base,
      state: JobState.CANCELED,
      reason: 'canceled',
      ...(es !== undefined && es >= 0 ? { exitCode: es >= 256 ? 128 + es - 256 : es } : {}),
    };
  }
  if (es === undefined) {
    // Deleted before it ran: no exit status at all.
    return /deleted/i.test(message ?? '')
      ? { ...base, state: JobState.CANCELED, reason: 'canceled' }
      : { ...base, state: JobState.FAILED };
  }
  if (es < 0) return { ...base, state: JobState.FAILED, reason: 'scheduler_failed' };
  // 256 + N: killed by signal N (what a shell reports as 128 + N).
  const exitCode = es >= 256 ? 128 + (es - 256) : es;
  return { ...base, state: exitCode === 0 ? JobState.COMPLETED : JobState.FAILED, exitCode };
}

/** Reads `qstat -f -F json -x` output: one entry per job PBS still knows, matched to the asked ids. */
export function parsePbsQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
  const jobs = readReport(result);
  // PBS may print a longer server suffix than qsub did (`1.a` vs `1.a.example.org`): match on the sequence number too.
  const bySeq = new Map(Object.keys(jobs).map((id) => [id.split('.')[0]!, id]));
  const out = new Map<string, SchedulerJobInfo>();
  for (const id of nativeIds) {
    const key = id in jobs ? id : bySeq.get(id.split('.')[0]!);
    const entry = key === undefined ? undefined : jobs[key];
    if (entry) out.set(id, pbsJobInfo(entry));
  }
  return out;
}

/** The PBS Pro / OpenPBS adapter for {@link @exaworks/executors-batch!BatchExecutor}. */
export const pbsScheduler: SchedulerAdapter = {
  name: 'pbs',
  directivePrefix: '#PBS',
  environment: { jobId: 'PBS_JOBID', nodeFile: 'PBS_NODEFILE' },
  stateMap: PBS_STATES,

  directives({ spec, jobName, walltimeSeconds, schedulerOutput }) {
    const r = spec.resources;
    const a = spec.attributes;
    const ppn = r.computedProcessesPerNode;
    const chunk = [`select=${r.computedNodeCount}`, `ncpus=${ppn * (r.cpuCoresPerProcess ?? 1)}`, `mpiprocs=${ppn}`];
    if (r.gpuCoresPerProcess !== undefined) chunk.push(`ngpus=${ppn * r.gpuCoresPerProcess}`);
    if (r.memory !== undefined) chunk.push(`mem=${Math.ceil(r.memory / r.computedNodeCount / 1024)}kb`);
    const out = [`-N ${jobName}`, `-l ${chunk.join(':')}`, `-l walltime=${pbsWalltime(walltimeSeconds)}`];
    if (r.exclusiveNodeUse) out.push('-l place=scatter:excl');
    // PBS without -V starts jobs with only PBS_O_* variables; the job script applies the spec's own.
    if (spec.inheritEnvironment) out.push('-V');
    // A reservation is a queue of its own in PBS.
    if (a.reservationId !== undefined) out.push(`-q ${shellQuote(a.reservationId)}`);
    else if (a.queueName !== undefined) out.push(`-q ${shellQuote(a.queueName)}`);
    if (a.account !== undefined) out.push(`-A ${shellQuote(a.account)}`);
    out.push(`-o ${shellQuote(schedulerOutput)}`, '-j oe');
    return out;
  },
  customDirective: pbsCustomDirective,

  submitCommand: (scriptPath) => ({ argv: ['qsub', scriptPath] }),
  parseSubmit(result) {
    const id = result.stdout.trim().split(/\s+/).pop() ?? '';
    if (result.exitCode !== 0 || !/^\d+(\[\])?(\.[A-Za-z0-9_.-]+)?$/.test(id)) {
      throw new SubmitError(`PBS refused the job: ${firstLine(result)}`);
    }
    return id;
  },

  queryCommand: (ids) => ({ argv: ['qstat', '-f', '-F', 'json', '-x', ...ids] }),
  parseQuery: parsePbsQuery,

  cancelCommand: (id) => ({ argv: ['qdel', id] }),
  parseCancel(result) {
    if (result.exitCode === 0) return true;
    if (result.exitCode === 35 || /has finished|Unknown Job Id/i.test(result.stderr)) return 'gone';
    return firstLine(result);
  },

  listCommand: () => ({ argv: ['qstat', '-f', '-F', 'json', '-x'] }),
  parseList: (result) => ownJobs(result).map(([id]) => id),

  recoverCommand: () => ({ argv: ['qstat', '-f', '-F', 'json', '-x'] }),
  parseRecover: (result) => new Map(ownJobs(result).map(([id, j]) => [stripHost(j.Output_Path ?? ''), id])),
};

/** `host:/path` → `/path` (PBS prefixes output paths with the submit host). */
export function stripHost(p: string): string {
  return p.replace(/^[^/:]+:(?=\/)/, '');
}

function ownJobs(result: CommandResult): Array<[string, PbsQstatJob]> {
  const user = os.userInfo().username;
  return Object.entries(readReport(result)).filter(([, j]) => (j.Job_Owner ?? '').split('@')[0] === user);
}
