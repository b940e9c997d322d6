/**
 * The IBM Spectrum LSF scheduler adapter: `#BSUB` directives, `bsub < script`, one
 * `bjobs -o "…" -json -a` for all jobs, `bkill`, and LSF's STAT words.
 * @module
 */
import { BackendError, JobState, shellQuote, SubmitError, ValidationError, type CustomAttributeValue } from '@exaworks/jpsi-core';
import { formatMinutes } from '@exaworks/jpsi-core/internal';
import {
  firstLine,
  type CommandResult,
  type SchedulerAdapter,
  type SchedulerJobInfo,
  type StateMapping,
} from '@exaworks/executors-batch';

/** LSF job states (`STAT`) in PSI/J terms; `EXIT` is refined by `EXIT_REASON`. */
export const LSF_STATES: Readonly<Record<string, StateMapping>> = {
  PEND: { state: JobState.QUEUED },
  PROV: { state: JobState.QUEUED },
  PSUSP: { state: JobState.QUEUED },
  WAIT: { state: JobState.QUEUED },
  RUN: { state: JobState.ACTIVE },
  USUSP: { state: JobState.ACTIVE },
  SSUSP: { state: JobState.ACTIVE },
  UNKWN: { state: JobState.ACTIVE },
  ZOMBI: { state: JobState.ACTIVE },
  DONE: { state: JobState.COMPLETED },
  EXIT: { state: JobState.FAILED },
};

/** `EXIT_REASON` prefixes (LSF's TERM_* codes) that carry a machine-readable reason. */
const EXIT_REASONS: ReadonlyArray<readonly [RegExp, StateMapping]> = [
  [/^TERM_RUNLIMIT/, { state: JobState.FAILED, reason: 'walltime' }],
  [/^TERM_DEADLINE/, { state: JobState.FAILED, reason: 'deadline' }],
  [/^TERM_MEMLIMIT/, { state: JobState.FAILED, reason: 'out_of_memory' }],
  [/^TERM_PREEMPT/, { state: JobState.FAILED, reason: 'preempted' }],
  [/^TERM_(OWNER|ADMIN|FORCE_OWNER|FORCE_ADMIN)/, { state: JobState.CANCELED, reason: 'canceled' }],
];

/** The fields the query asks for. */
const QUERY_FIELDS = 'jobid stat exit_code exit_reason';

/** A custom attribute `lsf.<option>` as a directive body: `-<option> <value>` (`true` alone: the flag). */
export function lsfCustomDirective(key: string, value: CustomAttributeValue): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key) || value === false) {
    throw new ValidationError('job attributes', [
      {
        path: `attributes.customAttributes.lsf.${key}`,
        message: value === false ? 'false is not a bsub option value: leave the attribute out' : 'must name a bsub option',
      },
    ]);
  }
  return value === true ? `-${key}` : `-${key} ${shellQuote(String(value))}`;
}

/** The fields of one `bjobs -json` record that the adapter reads (LSF prints every value as a string). */
export interface LsfJobRecord {
  readonly JOBID?: string;
  readonly STAT?: string;
  readonly EXIT_CODE?: string;
  readonly EXIT_REASON?: string;
  readonly ERROR?: string;
}

function readRecords(result: CommandResult, command: string): LsfJobRecord[] {
  if (result.exitCode !== 0) throw new BackendError(`${command} failed (exit status ${result.exitCode}): ${firstLine(result)}`);
  let doc: { RECORDS?: LsfJobRecord[] };
  try {
    doc = JSON.parse(result.stdout) as typeof doc;
  } catch (cause) {
    throw new BackendError(`${command} -json printed output that is not JSON: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(doc?.RECORDS)) throw new BackendError(`${command} -json printed no RECORDS list`);
  return doc.RECORDS;
}

/** What one `bjobs -json` record says, in PSI/J terms. */
export function lsfJobInfo(record: LsfJobRecord): SchedulerJobInfo {
  const nativeState = record.STAT ?? '?';
  const reasonText = record.EXIT_REASON && record.EXIT_REASON !== '-' ? record.EXIT_REASON : undefined;
  let mapped = LSF_STATES[nativeState] ?? { state: JobState.QUEUED };
  if (nativeState === 'EXIT' && reasonText) mapped = EXIT_REASONS.find(([re]) => re.test(reasonText))?.[1] ?? mapped;
  // LSF leaves EXIT_CODE empty for a DONE job.
  const code =
    record.EXIT_CODE && /^\d+$/.test(record.EXIT_CODE) ? Number(record.EXIT_CODE) : nativeState === 'DONE' ? 0 : undefined;
  return {
    state: mapped.state,
    nativeState,
    ...(reasonText ? { message: reasonText } : {}),
    ...(code !== undefined && mapped.state !== JobState.QUEUED && mapped.state !== JobState.ACTIVE ? { exitCode: code } : {}),
    ...(mapped.reason ? { reason: mapped.reason } : {}),
  };
}

/** Reads `bjobs -o "jobid stat exit_code exit_reason" -json -a` output; ids LSF no longer knows are left out. */
export function parseLsfQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
  const wanted = new Set(nativeIds);
  const out = new Map<string, SchedulerJobInfo>();
  for (const r of readRecords(result, 'bjobs')) {
    if (r.ERROR !== undefined || r.JOBID === undefined || !wanted.has(r.JOBID)) continue;
    out.set(r.JOBID, lsfJobInfo(r));
  }
  return out;
}

/** The LSF adapter for {@link @exaworks/executors-batch!BatchExecutor}. */
export const lsfScheduler: SchedulerAdapter = {
  name: 'lsf',
  directivePrefix: '#BSUB',
  environment: { jobId: 'LSB_JOBID', nodeFile: 'LSB_DJOB_HOSTFILE' },
  stateMap: LSF_STATES,

  directives({ spec, jobName, walltimeSeconds, schedulerOutput }) {
    const r = spec.resources;
    const a = spec.attributes;
    const out = [`-J ${jobName}`, `-n ${r.computedProcessCount}`, `-W ${formatMinutes(walltimeSeconds)}`];
    if (r.nodeCount !== undefined || r.processesPerNode !== undefined)
      out.push(`-R ${shellQuote(`span[ptile=${r.computedProcessesPerNode}]`)}`);
    if (r.cpuCoresPerProcess !== undefined) out.push(`-R ${shellQuote(`affinity[core(${r.cpuCoresPerProcess})]`)}`);
    if (r.gpuCoresPerProcess !== undefined)
      out.push(`-gpu ${shellQuote(`num=${r.gpuCoresPerProcess * r.computedProcessesPerNode}`)}`);
    if (r.memory !== undefined)
      out.push(`-R ${shellQuote(`rusage[mem=${Math.ceil(r.memory / r.computedProcessCount / 1048576)}MB]`)}`);
    if (r.exclusiveNodeUse) out.push('-x');
    if (a.queueName !== undefined) out.push(`-q ${shellQuote(a.queueName)}`);
    if (a.account !== undefined) out.push(`-P ${shellQuote(a.account)}`);
    if (a.reservationId !== undefined) out.push(`-U ${shellQuote(a.reservationId)}`);
    out.push(`-o ${shellQuote(schedulerOutput)}`, `-e ${shellQuote(schedulerOutput)}`);
    return out;
  },
  customDirective: lsfCustomDirective,

  // `bsub < script` is the form every LSF version reads #BSUB lines from; the path is an argument, not shell text.
  submitCommand: (scriptPath) => ({ argv: ['/bin/sh', '-c', 'exec bsub < "$1"', 'bsub', scriptPath] }),
  parseSubmit(result) {
    const m = /Job <(\d+)> is submitted/.exec(result.stdout);
    if (result.exitCode !== 0 || !m) throw new SubmitError(`LSF refused the job: ${firstLine(result)}`);
    return m[1]!;
  },

  queryCommand: (ids) => ({ argv: ['bjobs', '-o', QUERY_FIELDS, '-json', '-a', ...ids] }),
  parseQuery: parseLsfQuery,

  cancelCommand: (id) => ({ argv: ['bkill', id] }),
  parseCancel(result) {
    if (result.exitCode === 0) return true;
    if (/already finished|No matching job/i.test(`${result.stderr}${result.stdout}`)) return 'gone';
    return firstLine(result);
  },

  listCommand: () => ({ argv: ['bjobs', '-o', 'jobid', '-json', '-a'] }),
  parseList: (result) =>
    readRecords(result, 'bjobs')
      .filter((r) => r.ERROR === undefined && r.JOBID !== undefined)
      .map((r) => r.JOBID!),
};
