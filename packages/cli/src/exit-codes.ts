/**
 * The CLI's exit codes, in a module of their own so the start-up path needs nothing else.
 * @module
 */

/** Exit codes of the CLI (besides `run`/`wait` passing on a job's own exit code). */
export const ExitCode = {
  /** Everything worked (for `run`/`wait`: the job completed). */
  OK: 0,
  /** A runtime failure: the executor or backend failed, a job was not found, a job failed without an exit code. */
  FAILURE: 1,
  /** Bad usage or invalid input (unknown flag, invalid spec, unknown executor or launcher name). */
  USAGE: 2,
  /** `wait --timeout` ran out before the jobs got there. */
  TIMEOUT: 124,
  /** Interrupted by Ctrl-C (SIGINT); `run` cancels its job first. SIGTERM and SIGHUP give 143 and 129. */
  INTERRUPTED: 130,
} as const;

/** Signal numbers of the signals `run` turns into a cancel (exit code 128 + n). */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** The exit code for an interruption by `signal` (a name such as `SIGTERM`): 128 + its number, 130 if unknown. */
export function exitCodeForSignal(signal: string | undefined): number {
  const n = signal === undefined ? undefined : SIGNAL_NUMBERS[signal];
  return n === undefined ? ExitCode.INTERRUPTED : 128 + n;
}

/** The exit code of a command stopped by the CLI's abort signal, whose reason names the signal. */
export function interruptedExitCode(signal: AbortSignal | undefined): number {
  const reason: unknown = signal?.reason;
  return exitCodeForSignal(reason instanceof Error ? reason.message : undefined);
}
