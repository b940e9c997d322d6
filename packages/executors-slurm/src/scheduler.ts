/**
 * The Slurm scheduler adapter: `#SBATCH` directives, `sbatch --parsable`, one `squeue` for all
 * jobs, `sacct` for jobs gone from the queue when accounting is on, `scancel`, and the state map.
 * @module
 */
import { BackendError, JobState, SubmitError, type CustomAttributeValue } from '@exaworks/jpsi-core';
import {
  firstLine,
  type CommandResult,
  type DirectiveContext,
  type SchedulerAdapter,
  type SchedulerCommand,
  type SchedulerJobInfo,
  type StateMapping,
} from '@exaworks/executors-batch';

/**
 * Slurm job states (long names, as `squeue -O State` and `sacct` print them) in PSI/J terms.
 * The failure states carry a machine-readable reason into `status.metadata.reason`.
 */
export const SLURM_STATE_MAP: Readonly<Record<string, StateMapping>> = Object.freeze({
  PENDING: { state: JobState.QUEUED },
  CONFIGURING: { state: JobState.QUEUED },
  REQUEUED: { state: JobState.QUEUED },
  REQUEUE_FED: { state: JobState.QUEUED },
  REQUEUE_HOLD: { state: JobState.QUEUED },
  RESV_DEL_HOLD: { state: JobState.QUEUED },
  RUNNING: { state: JobState.ACTIVE },
  COMPLETING: { state: JobState.ACTIVE },
  RESIZING: { state: JobState.ACTIVE },
  SIGNALING: { state: JobState.ACTIVE },
  STAGE_OUT: { state: JobState.ACTIVE },
  STOPPED: { state: JobState.ACTIVE },
  SUSPENDED: { state: JobState.ACTIVE },
  COMPLETED: { state: JobState.COMPLETED },
  CANCELLED: { state: JobState.CANCELED, reason: 'canceled' },
  FAILED: { state: JobState.FAILED },
  TIMEOUT: { state: JobState.FAILED, reason: 'walltime' },
  NODE_FAIL: { state: JobState.FAILED, reason: 'node_fail' },
  PREEMPTED: { state: JobState.FAILED, reason: 'preempted' },
  OUT_OF_MEMORY: { state: JobState.FAILED, reason: 'out_of_memory' },
  BOOT_FAIL: { state: JobState.FAILED, reason: 'boot_fail' },
  DEADLINE: { state: JobState.FAILED, reason: 'deadline' },
  SPECIAL_EXIT: { state: JobState.FAILED },
  REVOKED: { state: JobState.FAILED, reason: 'revoked' },
});

/** Options of {@link SlurmScheduler}. */
export interface SlurmSchedulerOptions {
  /** Ask `sacct` about jobs gone from `squeue`; `auto` stops asking once Slurm says accounting is disabled. @default 'auto' */
  readonly accounting?: boolean | 'auto';
}

/** `H:MM:SS` for `--time` (Slurm rounds up to whole minutes). */
export function slurmTime(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`;
}

/** A directive value: bare when plain, double-quoted (Slurm's directive parser honours them) when it has blanks. */
function value(v: string): string {
  if (!/\s/.test(v)) return v;
  if (v.includes('"'))
    throw new SubmitError(`A Slurm directive value cannot hold both blanks and double quotes: ${JSON.stringify(v)}.`);
  return `"${v}"`;
}

/** The exit code in a wait status as `squeue -O exit_code` prints it (code << 8 | signal). */
export function exitCodeFromWaitStatus(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

const SEP = '|';
// JobID, State and the raw wait status fit; Reason last, since it is free text.
const QUERY_FORMAT = `JobID:${SEP},State:${SEP},exit_code:${SEP},Reason:400`;

/** The Slurm adapter of `@exaworks/executors-batch`. */
export class SlurmScheduler implements SchedulerAdapter {
  readonly name = 'slurm';
  readonly directivePrefix = '#SBATCH';
  readonly stateMap = SLURM_STATE_MAP;
  readonly environment = {
    jobId: 'SLURM_JOB_ID',
    // Slurm writes no host file: expand the node list once per task slot (SLURM_TASKS_PER_NODE is like "2(x3),1").
    nodeFileScript: [
      // One plain host name needs no scontrol process.
      'case "${SLURM_JOB_NODELIST:-}" in',
      '  *[[,]*) _xw_hosts=($(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null)) ;;',
      '  *) _xw_hosts=(${SLURM_JOB_NODELIST:-$HOSTNAME}) ;;',
      'esac',
      '_xw_i=0',
      'for _xw_p in ${SLURM_TASKS_PER_NODE//,/ }; do',
      '  if [[ $_xw_p =~ ^([0-9]+)\\(x([0-9]+)\\)$ ]]; then _xw_n=${BASH_REMATCH[1]}; _xw_r=${BASH_REMATCH[2]}; else _xw_n=$_xw_p; _xw_r=1; fi',
      '  for ((_xw_k = 0; _xw_k < _xw_r; _xw_k++)); do',
      '    for ((_xw_j = 0; _xw_j < _xw_n; _xw_j++)); do echo "${_xw_hosts[_xw_i]:-$HOSTNAME}"; done',
      '    _xw_i=$((_xw_i + 1))',
      '  done',
      'done >"$_xw_nodefile"',
    ].join('\n'),
  } as const;
  #accounting: boolean | 'auto';

  constructor(options: SlurmSchedulerOptions = {}) {
    this.#accounting = options.accounting ?? 'auto';
  }

  directives(c: DirectiveContext): string[] {
    const r = c.spec.resources;
    const a = c.spec.attributes;
    const out = [
      `--job-name=${c.jobName}`,
      `--output=${value(c.schedulerOutput)}`,
      `--error=${value(c.schedulerOutput)}`,
      `--time=${slurmTime(c.walltimeSeconds)}`,
      `--nodes=${r.computedNodeCount}`,
      `--ntasks=${r.computedProcessCount}`,
    ];
    if (r.processesPerNode !== undefined || r.nodeCount !== undefined)
      out.push(`--ntasks-per-node=${r.computedProcessesPerNode}`);
    if (r.cpuCoresPerProcess !== undefined) out.push(`--cpus-per-task=${r.cpuCoresPerProcess}`);
    if (r.gpuCoresPerProcess !== undefined) out.push(`--gpus-per-task=${r.gpuCoresPerProcess}`);
    if (r.exclusiveNodeUse) out.push('--exclusive');
    // PSI/J's memory is for the whole job; Slurm's --mem is per node.
    if (r.memory !== undefined) out.push(`--mem=${Math.ceil(r.memory / r.computedNodeCount / 1024 / 1024)}M`);
    if (a.queueName !== undefined) out.push(`--partition=${value(a.queueName)}`);
    if (a.account !== undefined) out.push(`--account=${value(a.account)}`);
    if (a.reservationId !== undefined) out.push(`--reservation=${value(a.reservationId)}`);
    return out;
  }

  /** `constraint: "haswell"` → `--constraint=haswell`; `true` → `--key`; a one-letter key → `-k value`. */
  customDirective(key: string, v: CustomAttributeValue): string {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(key)) {
      throw new SubmitError(`slurm.${key} is not a valid Slurm option name (letters, digits, _ and -).`);
    }
    const flag = key.length === 1 ? `-${key}` : `--${key}`;
    if (v === true) return flag;
    return key.length === 1 ? `${flag} ${value(String(v))}` : `${flag}=${value(String(v))}`;
  }

  submitCommand(scriptPath: string): SchedulerCommand {
    return { argv: ['sbatch', '--parsable', scriptPath] };
  }

  /** `123` or `123;cluster` on stdout; on refusal, Slurm's `error:` lines become the SubmitError's message. */
  parseSubmit(result: CommandResult): string {
    const id = result.stdout.trim().split('\n').at(-1)?.split(';')[0]?.trim() ?? '';
    if (result.exitCode === 0 && /^\d+(_\d+)?$/.test(id)) return id;
    const errors = result.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const said = errors.filter((l) => /error/i.test(l));
    const message = (said.length > 0 ? said : errors).join('; ') || `sbatch exited with status ${result.exitCode}`;
    throw new SubmitError(`Slurm refused the job: ${message}`);
  }

  /** `squeue --me -t all` (this user's jobs, finished ones included for MinJobAge): one command whatever the count. */
  queryCommand(_nativeIds: readonly string[]): SchedulerCommand {
    return { argv: ['squeue', '--me', '-h', '-t', 'all', '-O', QUERY_FORMAT] };
  }

  parseQuery(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
    if (result.exitCode !== 0) throw new BackendError(`squeue failed: ${firstLine(result)}`);
    const wanted = new Set(nativeIds);
    const out = new Map<string, SchedulerJobInfo>();
    for (const line of result.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const [id, state, status, ...reason] = line.split(SEP).map((f) => f.trim());
      if (id === undefined || state === undefined || !wanted.has(id)) continue;
      const raw = Number(status);
      out.set(id, this.#info(state, reason.join(SEP), Number.isInteger(raw) ? exitCodeFromWaitStatus(raw) : undefined));
    }
    return out;
  }

  historyCommand(nativeIds: readonly string[]): SchedulerCommand | undefined {
    if (this.#accounting === false) return undefined;
    return { argv: ['sacct', '-n', '-X', '-P', '-j', nativeIds.join(','), '-o', 'JobID,State,ExitCode,Reason'] };
  }

  parseHistory(result: CommandResult, nativeIds: readonly string[]): Map<string, SchedulerJobInfo> {
    if (/accounting storage is disabled/i.test(`${result.stdout}\n${result.stderr}`)) {
      if (this.#accounting === 'auto') this.#accounting = false;
      throw new BackendError('Slurm accounting storage is disabled: sacct has no records.');
    }
    if (result.exitCode !== 0) throw new BackendError(`sacct failed: ${firstLine(result)}`);
    const wanted = new Set(nativeIds);
    const out = new Map<string, SchedulerJobInfo>();
    for (const line of result.stdout.split('\n')) {
      const [id, state, exit, ...reason] = line.trim().split('|');
      if (id === undefined || state === undefined || !wanted.has(id)) continue;
      // sacct prints "CANCELLED by 1000" and ExitCode as "code:signal".
      const [code, signal] = (exit ?? '').split(':').map(Number);
      const exitCode = signal ? 128 + signal : Number.isInteger(code) ? code : undefined;
      out.set(id, this.#info(state.split(' ')[0]!, reason.join('|'), exitCode));
    }
    return out;
  }

  cancelCommand(nativeId: string): SchedulerCommand {
    return { argv: ['scancel', nativeId] };
  }

  parseCancel(result: CommandResult): true | 'gone' | string {
    if (result.exitCode === 0) return true;
    if (/invalid job id|already complet/i.test(result.stderr)) return 'gone';
    return `scancel: ${firstLine(result)}`;
  }

  listCommand(): SchedulerCommand {
    return { argv: ['squeue', '--me', '-h', '-t', 'all', '-O', 'JobID'] };
  }

  parseList(result: CommandResult): string[] {
    if (result.exitCode !== 0) throw new BackendError(`squeue failed: ${firstLine(result)}`);
    return result.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  }

  /** This user's jobs with their batch output path (`StdOut` is printed in full, unpadded). */
  recoverCommand(): SchedulerCommand {
    return { argv: ['squeue', '--me', '-h', '-t', 'all', '-O', `JobID:${SEP},StdOut:${SEP}`] };
  }

  parseRecover(result: CommandResult): Map<string, string> {
    if (result.exitCode !== 0) throw new BackendError(`squeue failed: ${firstLine(result)}`);
    const out = new Map<string, string>();
    for (const line of result.stdout.split('\n')) {
      const at = line.indexOf(SEP);
      if (at <= 0) continue;
      // A path may hold the separator itself: only the last one closes the field.
      const stdout = line.slice(at + 1).replace(/\|\s*$/, '');
      out.set(stdout, line.slice(0, at).trim());
    }
    return out;
  }

  #info(nativeState: string, reason: string, exitCode: number | undefined): SchedulerJobInfo {
    // An unknown word: a job Slurm still lists is not over, so it is not turned into an end.
    const mapped = SLURM_STATE_MAP[nativeState] ?? { state: JobState.QUEUED };
    const message = reason !== '' && reason !== 'None' ? reason : undefined;
    return {
      state: mapped.state,
      nativeState,
      ...(message ? { message } : {}),
      ...(exitCode !== undefined && mapped.state !== JobState.QUEUED && mapped.state !== JobState.ACTIVE ? { exitCode } : {}),
      ...(mapped.reason ? { reason: mapped.reason } : {}),
    };
  }
}
