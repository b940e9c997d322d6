/**
 * What the CLI prints: job tables, the live status line, errors (text and JSON), runtime info.
 * Pure functions of their inputs, so they are tested without processes.
 * @module
 */
import type { Job, JobState, JobStatusReason, RuntimeInfo } from '@exaworks/jpsi-core';
import { ErrorCode, ExaworksError, ValidationError, isFinalState } from '@exaworks/jpsi-core/internal';
import { ExitCode } from './exit-codes.js';

export { ExitCode };

/**
 * One row of `status`/`list`/`wait`/`cancel` (and `run --json`): what `Job.toJSON()` carries,
 * plus times and files. Times are ISO 8601 strings; `null` when the job has not got there.
 */
export interface JobJson extends ReturnType<Job['toJSON']> {
  /** When the executor accepted the job. */
  submittedAt: string | null;
  /** When its process started (ACTIVE). */
  startedAt: string | null;
  /** When it reached its final state. */
  endedAt: string | null;
  /** Why it ended, for programs: `walltime`, `canceled`, `launch-failed`, `lost` (null: it exited on its own). */
  reason: JobStatusReason | null;
  /** The file its standard output goes to (null: discarded). */
  stdout: string | null;
  /** The file its standard error goes to (null: discarded). */
  stderr: string | null;
}

/** A row for a native id that could not be read (unknown id, unreadable state). */
export interface JobErrorJson {
  nativeId: string;
  error: ErrorJson;
}

/** The JSON form of an error, as printed with `--json`. */
export interface ErrorJson {
  name: string;
  code: string;
  message: string;
  issues?: readonly { path: string; message: string }[];
}

/**
 * The process exit code that stands for a finished job: its own exit code when it has one in
 * 0..255 (non-zero for a FAILED job even if it reports 0), else 0 for COMPLETED and 1 otherwise.
 */
export function exitCodeForJob(state: JobState, exitCode: number | null | undefined): number {
  if (state === 'COMPLETED') return ExitCode.OK;
  if (exitCode !== null && exitCode !== undefined && Number.isInteger(exitCode) && exitCode > 0 && exitCode <= 255)
    return exitCode;
  return ExitCode.FAILURE;
}

const USAGE_CODES: ReadonlySet<string> = new Set([ErrorCode.VALIDATION, ErrorCode.UNKNOWN_EXECUTOR, ErrorCode.UNKNOWN_LAUNCHER]);

/** The exit code for an error: 2 for invalid input (a bad value, an unknown executor or launcher name), 1 for everything else. */
export function exitCodeForError(err: unknown): number {
  return err instanceof ExaworksError && USAGE_CODES.has(err.code) ? ExitCode.USAGE : ExitCode.FAILURE;
}

/** An error as a JSON object (`--json` mode). Unexpected errors get code `EXAWORKS_INTERNAL`. */
export function errorToJson(err: unknown): ErrorJson {
  if (err instanceof ExaworksError) return err.toJSON();
  if (err instanceof Error) return { name: err.name, code: ErrorCode.INTERNAL, message: err.message };
  return { name: 'Error', code: ErrorCode.INTERNAL, message: String(err) };
}

/**
 * An error as text for stderr: for a ValidationError one line per field, otherwise the message
 * and code. The stack (and causes) only when `verbose`.
 */
export function formatError(err: unknown, verbose = false): string {
  const lines: string[] = [];
  if (err instanceof ValidationError) {
    lines.push(`error: invalid ${err.subject}:`);
    for (const issue of err.issues) lines.push(`  ${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`);
  } else if (err instanceof ExaworksError) {
    lines.push(`error: ${err.message} [${err.code}]`);
  } else if (err instanceof Error) {
    lines.push(`error: ${err.message} [${ErrorCode.INTERNAL}]`);
  } else {
    lines.push(`error: ${String(err)}`);
  }
  if (verbose) {
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
      lines.push(depth === 0 ? (e.stack ?? '') : `caused by: ${e.stack ?? e.message}`);
    }
  } else if (!(err instanceof ExaworksError)) {
    lines.push('(run with --verbose for details)');
  }
  return `${lines.join('\n')}\n`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

/** Lays out rows as aligned columns with a header (last column not padded). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** The job table of `status`, `list`, `wait` and `cancel`: native id, state, exit code, name, message. */
export function formatJobTable(rows: readonly (ReturnType<Job['toJSON']> | JobErrorJson)[]): string {
  return formatTable(
    ['NATIVE ID', 'STATE', 'EXIT', 'NAME', 'MESSAGE'],
    rows.map((r) =>
      'error' in r
        ? [r.nativeId, 'ERROR', '-', '-', r.error.message]
        : [r.nativeId ?? '-', r.state, r.exitCode === null ? '-' : String(r.exitCode), r.name ?? '-', oneLine(r.message ?? '')],
    ),
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** `[H:]MM:SS` for an elapsed time. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** The one-line status of `run`: `job <id> <STATE> [exit N] <elapsed> [message]`. */
export function formatStatusLine(job: Pick<JobJson, 'nativeId' | 'state' | 'exitCode' | 'message'>, elapsedMs: number): string {
  const parts = [`job ${job.nativeId ?? '(submitting)'}`, job.state];
  if (job.exitCode !== null) parts.push(`exit ${job.exitCode}`);
  if (!isFinalState(job.state) || elapsedMs > 0) parts.push(formatElapsed(elapsedMs));
  if (job.message) parts.push(`(${oneLine(job.message)})`);
  return parts.join(' ');
}

/** ANSI: carriage return and erase line, to redraw a status line in place on a TTY. */
export const CLEAR_LINE = '\r\x1b[2K';

/** Formats a byte count the way people read memory sizes (`16.0 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[i]}`;
}

/** The human form of `exaworks info`. */
export function formatInfo(
  cliVersion: string,
  info: RuntimeInfo,
  executors: readonly string[],
  launchers: readonly string[],
): string {
  const out: string[] = [];
  out.push(`exaworks ${cliVersion}`);
  out.push('');
  out.push('Packages:');
  if (info.packages.length === 0) out.push('  (none found)');
  for (const p of info.packages) out.push(`  ${pad(p.name, 28)} ${p.version}`);
  out.push('');
  out.push('System:');
  out.push(`  node       ${info.node.version} (${info.node.execPath})`);
  out.push(`  os         ${info.os.platform} ${info.os.release} ${info.os.arch} (${info.os.hostname})`);
  out.push(`  cpus       ${info.cpus}`);
  out.push(`  memory     ${formatBytes(info.memoryBytes)}`);
  out.push('');
  out.push('Schedulers on PATH:');
  for (const [name, where] of Object.entries(info.schedulers)) out.push(`  ${pad(name, 10)} ${where ?? '-'}`);
  out.push('');
  out.push('Launchers on PATH:');
  for (const [name, where] of Object.entries(info.launchers)) out.push(`  ${pad(name, 10)} ${where ?? '-'}`);
  out.push('');
  out.push(`Executors: ${executors.length ? executors.join(', ') : '(none)'}`);
  out.push(`Launchers: ${launchers.length ? launchers.join(', ') : '(none)'}`);
  return `${out.join('\n')}\n`;
}

/** Pretty JSON with a trailing newline. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
