/**
 * The Flux scheduler adapter, through Flux's command-line tools: `# flux:` directives,
 * `flux batch`, one `flux jobs --format` for all jobs, `flux cancel`. Ids are used in F58 with an
 * ASCII `f` (`FLUX_F58_FORCE_ASCII`), which every Flux command accepts; ids as Flux prints them by
 * default (`ƒ…`) are accepted too and turned into that form.
 * @module
 */
import { BackendError, JobState, shellQuote, SubmitError, ValidationError, type CustomAttributeValue } from '@exaworks/jpsi-core';
import {
  firstLine,
  type CommandResult,
  type SchedulerAdapter,
  type SchedulerJobInfo,
  type StateMapping,
} from '@exaworks/executors-batch';

/** Flux job states (`{state}`) and, for INACTIVE jobs, results (`{result}`) in PSI/J terms. */
export const FLUX_STATES: Readonly<Record<string, StateMapping>> = {
  NEW: { state: JobState.QUEUED },
  DEPEND: { state: JobState.QUEUED },
  PRIORITY: { state: JobState.QUEUED },
  SCHED: { state: JobState.QUEUED },
  RUN: { state: JobState.ACTIVE },
  CLEANUP: { state: JobState.ACTIVE },
  COMPLETED: { state: JobState.COMPLETED },
  FAILED: { state: JobState.FAILED },
  CANCELED: { state: JobState.CANCELED, reason: 'canceled' },
  TIMEOUT: { state: JobState.FAILED, reason: 'walltime' },
};

/** Every command runs with this, so ids print as `fXXXX` rather than `ƒXXXX`. */
const ASCII = { FLUX_F58_FORCE_ASCII: '1' } as const;
const QUERY_FORMAT = '{id.f58}|{state}|{result}|{returncode}|{exception.type}|{exception.note}';

/** An id as Flux prints it (`ƒ2bB3uJ9d` by default, `f2bB3uJ9d` in ASCII) in the ASCII form the adapter uses. */
export function fluxId(text: string): string {
  return text.trim().replace(/^ƒ/, 'f');
}

/** A custom attribute `flux.<option>`: one letter → `-o value`, longer → `--option=value`; `true` alone: the flag. */
export function fluxCustomDirective(key: string, value: CustomAttributeValue): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(key) || value === false) {
    throw new ValidationError('job attributes', [
      {
        path: `attributes.customAttributes.flux.${key}`,
        message:
          value === false ? 'false is not a flux batch option value: leave the attribute out' : 'must name a flux batch option',
      },
    ]);
  }
  if (value === true) return key.length === 1 ? `-${key}` : `--${key}`;
  return key.length === 1 ? `-${key} ${shellQuote(String(value))}` : `--${key}=${shellQuote(String(value))}`;
}

/** What one `flux jobs` line (in the query's format) says, in PSI/J terms. */
export function fluxJobInfo(
  state: string,
  result: string,
  returncode: string,
  exceptionType: string,
  note: string,
): SchedulerJobInfo {
  const nativeState = state === 'INACTIVE' && result !== '' ? result : state;
  const mapped = FLUX_STATES[nativeState] ?? { state: state === 'INACTIVE' ? JobState.FAILED : JobState.QUEUED };
  const message = [exceptionType && `exception ${exceptionType}`, note].filter(Boolean).join(': ');
  const final = state === 'INACTIVE';
  return {
    state: mapped.state,
    nativeState,
    ...(message ? { message } : {}),
    ...(final && /^-?\d+$/.test(returncode) ? { exitCode: Number(returncode) } : {}),
    ...(mapped.reason ? { reason: mapped.reason } : {}),
  };
}

/** Reads `flux jobs --no-header --format='{id.f58}|{state}|{result}|…'` output. */
export function parseFluxQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
  // Exit 1 is fine when the only complaints are ids Flux no longer knows (purged): the rest is printed.
  const complaints = result.stderr.split('\n').filter((l) => l.trim() !== '');
  if (result.exitCode !== 0 && (complaints.length === 0 || !complaints.every((l) => /not found|unknown/i.test(l)))) {
    throw new BackendError(`flux jobs failed (exit status ${result.exitCode}): ${firstLine(result)}`);
  }
  const wanted = new Set(nativeIds);
  const out = new Map<string, SchedulerJobInfo>();
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [id, state, res, rc, exc, note] = line.split('|');
    if (id === undefined || state === undefined) throw new BackendError(`flux jobs printed a line it was not asked for: ${line}`);
    const key = fluxId(id);
    if (wanted.has(key)) out.set(key, fluxJobInfo(state.trim(), res ?? '', rc ?? '', exc ?? '', note ?? ''));
  }
  return out;
}

/** `<n>s`: Flux Standard Duration in seconds (a bare number would mean minutes). */
const fsd = (seconds: number) => `${Math.max(1, Math.ceil(seconds))}s`;

/** The Flux adapter for {@link @exaworks/executors-batch!BatchExecutor}. */
export const fluxScheduler: SchedulerAdapter = {
  name: 'flux',
  directivePrefix: '# flux:',
  environment: { jobId: 'FLUX_JOB_ID' },
  stateMap: FLUX_STATES,

  directives({ spec, jobName, walltimeSeconds, schedulerOutput }) {
    const r = spec.resources;
    const a = spec.attributes;
    const out = [
      `--job-name=${jobName}`,
      `-N ${r.computedNodeCount}`,
      `-n ${r.computedProcessCount}`,
      `-t ${fsd(walltimeSeconds)}`,
    ];
    if (r.cpuCoresPerProcess !== undefined) out.push(`-c ${r.cpuCoresPerProcess}`);
    if (r.gpuCoresPerProcess !== undefined) out.push(`-g ${r.gpuCoresPerProcess}`);
    if (r.exclusiveNodeUse) out.push('--exclusive');
    if (a.queueName !== undefined) out.push(`--queue=${shellQuote(a.queueName)}`);
    if (a.account !== undefined) out.push(`--bank=${shellQuote(a.account)}`);
    if (a.reservationId !== undefined) {
      throw new SubmitError('Flux has no reservations: remove attributes.reservationId (or use a queue).');
    }
    out.push(`--output=${shellQuote(schedulerOutput)}`, `--error=${shellQuote(schedulerOutput)}`);
    return out;
  },
  customDirective: fluxCustomDirective,

  submitCommand: (scriptPath) => ({ argv: ['flux', 'batch', scriptPath], env: ASCII }),
  parseSubmit(result) {
    const id = fluxId(result.stdout.trim().split('\n').pop() ?? '');
    if (result.exitCode !== 0 || !/^f[1-9A-HJ-NP-Za-km-z]+$/.test(id))
      throw new SubmitError(`Flux refused the job: ${firstLine(result)}`);
    return id;
  },

  queryCommand: (ids) => ({ argv: ['flux', 'jobs', '--no-header', `--format=${QUERY_FORMAT}`, ...ids], env: ASCII }),
  parseQuery: parseFluxQuery,

  canonicalId: fluxId,

  cancelCommand: (id) => ({ argv: ['flux', 'cancel', id], env: ASCII }),
  parseCancel(result) {
    if (result.exitCode === 0) return true;
    if (/inactive|unknown|not found/i.test(result.stderr)) return 'gone';
    return firstLine(result);
  },

  listCommand: () => ({ argv: ['flux', 'jobs', '-a', '--no-header', '--format={id.f58}'], env: ASCII }),
  parseList(result) {
    if (result.exitCode !== 0) throw new BackendError(`flux jobs failed (exit status ${result.exitCode}): ${firstLine(result)}`);
    return result.stdout
      .split('\n')
      .map(fluxId)
      .filter((l) => l !== '');
  },
};
