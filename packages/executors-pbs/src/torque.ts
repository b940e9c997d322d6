/**
 * The classic Torque flavour of the PBS adapter: the same `#PBS` directives except resources
 * (`-l nodes=N:ppn=M`), `qstat -f` in its text format (`Job Id:` blocks, `key = value` lines,
 * long values continued on tab-indented lines), Torque's state letters with `C` (completed) and
 * `exit_status` (-11 for a walltime kill, 256 + N for signal N).
 * @module
 */
import os from 'node:os';
import { BackendError, JobState, shellQuote, SubmitError } from '@exaworks/jpsi-core';
import {
  firstLine,
  type CommandResult,
  type SchedulerAdapter,
  type SchedulerJobInfo,
  type StateMapping,
} from '@exaworks/executors-batch';
import { pbsCustomDirective, pbsWalltime, stripHost } from './scheduler.js';

/**
 * Torque job states in PSI/J terms. `C` (completed) is refined by `exit_status`; `E` (exiting)
 * is still ACTIVE because the exit status is not final yet.
 */
export const TORQUE_STATES: Readonly<Record<string, StateMapping>> = {
  Q: { state: JobState.QUEUED },
  H: { state: JobState.QUEUED },
  W: { state: JobState.QUEUED },
  T: { state: JobState.QUEUED },
  S: { state: JobState.QUEUED },
  R: { state: JobState.ACTIVE },
  E: { state: JobState.ACTIVE },
  C: { state: JobState.COMPLETED },
};

/** Torque's JOB_EXEC_OVERLIMIT_WT: the `exit_status` of a job killed at its walltime. */
export const TORQUE_EXIT_WALLTIME = -11;

/** One job of `qstat -f` text output: attribute name (`Resource_List.walltime`) → value. */
export type TorqueQstatJob = Readonly<Record<string, string>>;

/**
 * Reads Torque's `qstat -f` text: `Job Id: <id>` starts a job, `    name = value` an attribute,
 * a line starting with a tab continues the previous value.
 * @throws {@link @exaworks/jpsi-core!BackendError} for a line that fits none of these.
 */
export function parseTorqueFull(text: string): Map<string, TorqueQstatJob> {
  const jobs = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const head = /^Job Id:\s*(\S+)\s*$/.exec(line);
    if (head) {
      current = {};
      jobs.set(head[1]!, current);
      last = undefined;
    } else if (line.startsWith('\t') && current && last !== undefined) {
      current[last] += line.slice(1);
    } else {
      const kv = /^\s+([A-Za-z_][\w.]*) = ?(.*)$/.exec(line);
      if (!kv || !current) throw new BackendError(`qstat -f printed a line that is not Torque's format: ${line}`);
      last = kv[1]!;
      current[last] = kv[2]!;
    }
  }
  return jobs;
}

/** What one Torque `qstat -f` job says, in PSI/J terms. */
export function torqueJobInfo(entry: TorqueQstatJob): SchedulerJobInfo {
  const nativeState = entry.job_state ?? '?';
  const mapped = TORQUE_STATES[nativeState] ?? { state: JobState.QUEUED };
  const message = entry.comment;
  const base = { nativeState, ...(message ? { message } : {}) };
  if (mapped.state !== JobState.COMPLETED) return { ...base, state: mapped.state };
  const raw = entry.exit_status;
  if (raw === undefined || !/^-?\d+$/.test(raw.trim())) {
    // Completed without an exit status: deleted before it ran, or never started. Torque does not
    // say which; the executor's own cancel marker tells a cancel apart.
    return { ...base, state: JobState.FAILED, message: message ?? 'Torque reports the job completed without an exit status' };
  }
  const es = Number(raw);
  if (es === TORQUE_EXIT_WALLTIME) return { ...base, state: JobState.FAILED, reason: 'walltime' };
  if (es < 0) return { ...base, state: JobState.FAILED, reason: 'scheduler_failed' };
  // 256 + N: killed by signal N (what a shell reports as 128 + N).
  const exitCode = es >= 256 ? 128 + (es - 256) : es;
  return { ...base, state: exitCode === 0 ? JobState.COMPLETED : JobState.FAILED, exitCode };
}

function readFull(result: CommandResult): Map<string, TorqueQstatJob> {
  // 153: some ids are unknown (purged after keep_completed); the others are still printed.
  if (result.exitCode !== 0 && result.exitCode !== 153) {
    throw new BackendError(`qstat failed (exit status ${result.exitCode}): ${firstLine(result)}`);
  }
  return parseTorqueFull(result.stdout);
}

/** Reads Torque's `qstat -f ids…` output, matched to the asked ids (by sequence number if the server suffix differs). */
export function parseTorqueQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
  const jobs = readFull(result);
  const bySeq = new Map([...jobs.keys()].map((id) => [id.split('.')[0]!, id]));
  const out = new Map<string, SchedulerJobInfo>();
  for (const id of nativeIds) {
    const key = jobs.has(id) ? id : bySeq.get(id.split('.')[0]!);
    const entry = key === undefined ? undefined : jobs.get(key);
    if (entry) out.set(id, torqueJobInfo(entry));
  }
  return out;
}

const ownJobs = (jobs: Map<string, TorqueQstatJob>) => {
  const user = os.userInfo().username;
  return [...jobs].filter(([, j]) => (j.Job_Owner ?? '').split('@')[0] === user);
};

/** The classic Torque adapter for {@link @exaworks/executors-batch!BatchExecutor} (registry name `pbs`). */
export const torqueScheduler: SchedulerAdapter = {
  name: 'pbs',
  directivePrefix: '#PBS',
  environment: { jobId: 'PBS_JOBID', nodeFile: 'PBS_NODEFILE' },
  stateMap: TORQUE_STATES,

  directives({ spec, jobName, walltimeSeconds, schedulerOutput }) {
    const r = spec.resources;
    const a = spec.attributes;
    const ppn = r.computedProcessesPerNode * (r.cpuCoresPerProcess ?? 1);
    let nodes = `nodes=${r.computedNodeCount}:ppn=${ppn}`;
    if (r.gpuCoresPerProcess !== undefined) nodes += `:gpus=${r.computedProcessesPerNode * r.gpuCoresPerProcess}`;
    const out = [`-N ${jobName}`, `-l ${nodes}`, `-l walltime=${pbsWalltime(walltimeSeconds)}`];
    if (r.memory !== undefined) out.push(`-l mem=${Math.ceil(r.memory / 1024)}kb`);
    if (r.exclusiveNodeUse) out.push('-n');
    if (spec.inheritEnvironment) out.push('-V');
    if (a.reservationId !== undefined) out.push(`-W x=ADVRES:${shellQuote(a.reservationId)}`);
    if (a.queueName !== undefined) out.push(`-q ${shellQuote(a.queueName)}`);
    if (a.account !== undefined) out.push(`-A ${shellQuote(a.account)}`);
    out.push(`-o ${shellQuote(schedulerOutput)}`, '-j oe');
    return out;
  },
  customDirective: pbsCustomDirective,

  submitCommand: (scriptPath) => ({ argv: ['qsub', scriptPath] }),
  parseSubmit(result) {
    const id = result.stdout.trim().split(/\s+/).pop() ?? '';
    if (result.exitCode !== 0 || !/^\d+(\[\])?(\.[A-Za-z0-9_.-]+)?$/.test(id)) {
      throw new SubmitError(`Torque refused the job: ${firstLine(result)}`);
    }
    return id;
  },

  queryCommand: (ids) => ({ argv: ['qstat', '-f', ...ids] }),
  parseQuery: parseTorqueQuery,

  cancelCommand: (id) => ({ argv: ['qdel', id] }),
  parseCancel(result) {
    if (result.exitCode === 0) return true;
    if (/Unknown Job Id|Invalid state for job - COMPLETE/i.test(result.stderr)) return 'gone';
    return firstLine(result);
  },

  listCommand: () => ({ argv: ['qstat', '-f'] }),
  parseList: (result) => ownJobs(readFull(result)).map(([id]) => id),

  recoverCommand: () => ({ argv: ['qstat', '-f'] }),
  parseRecover: (result) => new Map(ownJobs(readFull(result)).map(([id, j]) => [stripHost(j.Output_Path ?? ''), id])),
};
