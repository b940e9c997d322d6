/**
 * The Cobalt scheduler adapter: `#COBALT` directives, `qsub`, one `qstat -l --header=JobId:State`
 * for all jobs, `qdel`. Cobalt forgets a job once it ends, so the job's end is read from the
 * `.cobaltlog` Cobalt writes into the work directory (`--debuglog`), one `grep` for all such jobs.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { BackendError, JobState, shellQuote, SubmitError, ValidationError, type CustomAttributeValue } from '@exaworks/jpsi-core';
import {
  firstLine,
  type CommandResult,
  type SchedulerAdapter,
  type SchedulerJobInfo,
  type StateMapping,
} from '@exaworks/executors-batch';

/** Cobalt job states (`qstat` State column) in PSI/J terms. */
export const COBALT_STATES: Readonly<Record<string, StateMapping>> = {
  queued: { state: JobState.QUEUED },
  user_hold: { state: JobState.QUEUED },
  admin_hold: { state: JobState.QUEUED },
  dep_hold: { state: JobState.QUEUED },
  maxrun_hold: { state: JobState.QUEUED },
  starting: { state: JobState.ACTIVE },
  running: { state: JobState.ACTIVE },
  exiting: { state: JobState.ACTIVE },
  // Being killed (qdel or walltime): not over until it leaves the queue.
  killing: { state: JobState.ACTIVE },
};

/** `HH:MM:SS` with as many hours as needed. */
function clock(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** A custom attribute `cobalt.<option>`: one letter → `-o value`, longer → `--option value`; `true` alone: the flag. */
export function cobaltCustomDirective(key: string, value: CustomAttributeValue): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(key) || value === false) {
    throw new ValidationError('job attributes', [
      {
        path: `attributes.customAttributes.cobalt.${key}`,
        message: value === false ? 'false is not a qsub option value: leave the attribute out' : 'must name a qsub option',
      },
    ]);
  }
  const flag = key.length === 1 ? `-${key}` : `--${key}`;
  return value === true ? flag : `${flag} ${shellQuote(String(value))}`;
}

/** Reads `qstat -l --header=JobId:State` output (`JobID: N` then an indented `State : word`). */
export function parseCobaltQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
  const out = new Map<string, SchedulerJobInfo>();
  // Cobalt's qstat exits 1 with no output when it knows none of the ids: they have all ended.
  if (result.exitCode === 1 && result.stdout.trim() === '' && result.stderr.trim() === '') return out;
  if (result.exitCode !== 0) throw new BackendError(`qstat failed (exit status ${result.exitCode}): ${firstLine(result)}`);
  const wanted = new Set(nativeIds);
  let current: string | undefined;
  for (const line of result.stdout.split('\n')) {
    const id = /^\s*JobID\s*:\s*(\d+)\s*$/i.exec(line);
    if (id) {
      current = id[1];
      continue;
    }
    const st = /^\s*State\s*:\s*(\S+)/i.exec(line);
    if (st && current !== undefined && wanted.has(current)) {
      const nativeState = st[1]!;
      out.set(current, { state: (COBALT_STATES[nativeState] ?? { state: JobState.QUEUED }).state, nativeState });
      current = undefined;
    }
  }
  return out;
}

/** What the last `Info:` line of a job's `.cobaltlog` says about its end, if it ended. */
export function cobaltLogInfo(line: string): SchedulerJobInfo | undefined {
  const code = /exit code of (\d+)/.exec(line);
  if (code) {
    const exitCode = Number(code[1]);
    return { state: exitCode === 0 ? JobState.COMPLETED : JobState.FAILED, nativeState: 'exited', exitCode };
  }
  if (/maximum execution time exceeded/i.test(line)) {
    return { state: JobState.FAILED, nativeState: 'killed', reason: 'walltime', message: 'maximum execution time exceeded' };
  }
  if (/deleted|qdel/i.test(line))
    return { state: JobState.CANCELED, nativeState: 'killed', reason: 'canceled', message: line.trim() };
  return undefined;
}

/** Reads `grep -H Info: <id>.cobaltlog …` output: the last Info line of each job's log. */
export function parseCobaltLogs(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
  // grep: 0 found, 1 nothing found, 2 some file missing (the others are still printed).
  if (result.exitCode > 2) throw new BackendError(`reading Cobalt job logs failed: ${firstLine(result)}`);
  const last = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const m = /^(\d+)\.cobaltlog:(.*)$/.exec(line);
    if (m && m[2]!.includes('Info:')) last.set(m[1]!, m[2]!);
  }
  const out = new Map<string, SchedulerJobInfo>();
  for (const id of nativeIds) {
    const info = last.has(id) ? cobaltLogInfo(last.get(id)!) : undefined;
    if (info) out.set(id, info);
  }
  return out;
}

/**
 * A Cobalt adapter for {@link @exaworks/executors-batch!BatchExecutor}. Cobalt's commands run with
 * the executor's work directory as their working directory, where `--debuglog` puts each job's log.
 */
export const cobaltScheduler: SchedulerAdapter = {
  name: 'cobalt',
  directivePrefix: '#COBALT',
  environment: { jobId: 'COBALT_JOBID', nodeFile: 'COBALT_NODEFILE' },
  stateMap: COBALT_STATES,

  directives({ spec, jobName, walltimeSeconds, schedulerOutput, workDirectory }) {
    const r = spec.resources;
    const a = spec.attributes;
    const out = [
      `--jobname ${jobName}`,
      `-t ${clock(walltimeSeconds)}`,
      `-n ${r.computedNodeCount}`,
      `--proccount ${r.computedProcessCount}`,
    ];
    if (a.reservationId !== undefined) out.push(`-q ${shellQuote(a.reservationId)}`);
    else if (a.queueName !== undefined) out.push(`-q ${shellQuote(a.queueName)}`);
    if (a.account !== undefined) out.push(`-A ${shellQuote(a.account)}`);
    // Cobalt replaces $jobid itself; the log is what tells how a job ended once qstat forgets it.
    out.push(
      `-o ${shellQuote(schedulerOutput)}`,
      `-e ${shellQuote(schedulerOutput)}`,
      `--debuglog ${shellQuote(path.join(workDirectory, '$jobid.cobaltlog'))}`,
    );
    return out;
  },
  customDirective: cobaltCustomDirective,

  submitCommand: (scriptPath) => ({ argv: ['qsub', scriptPath] }),
  parseSubmit(result) {
    const id = result.stdout.trim().split(/\s+/).pop() ?? '';
    if (result.exitCode !== 0 || !/^\d+$/.test(id)) throw new SubmitError(`Cobalt refused the job: ${firstLine(result)}`);
    return id;
  },

  queryCommand: (ids) => ({ argv: ['qstat', '-l', '--header=JobId:State', ...ids] }),
  parseQuery: parseCobaltQuery,
  historyCommand: (ids) => ({ argv: ['grep', '-H', '-s', 'Info:', '--', ...ids.map((id) => `${id}.cobaltlog`)] }),
  parseHistory: parseCobaltLogs,

  cancelCommand: (id) => ({ argv: ['qdel', id] }),
  parseCancel: (result) => (result.exitCode === 0 ? true : firstLine(result)),

  // Running and queued jobs from qstat; ended ones from the logs Cobalt left in the work directory.
  listCommand: () => ({
    argv: [
      '/bin/sh',
      '-c',
      'qstat -l --header=JobId -u "$1"; ls -1 2>/dev/null | grep "^[0-9]*\\.cobaltlog$"; exit 0',
      'qstat',
      os.userInfo().username,
    ],
  }),
  parseList(result) {
    const ids = new Set<string>();
    for (const line of result.stdout.split('\n')) {
      const m = /^\s*JobID\s*:\s*(\d+)\s*$/i.exec(line) ?? /^(\d+)\.cobaltlog$/.exec(line.trim());
      if (m) ids.add(m[1]!);
    }
    return [...ids];
  },
};
