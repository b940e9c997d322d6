/**
 * Where the CLI writes and what it knows of its surroundings, injected so the whole program runs
 * in-process in tests and embedders.
 * @module
 */

/** Writes text (or raw job output bytes) to a stream. */
export type Writer = (chunk: string | Uint8Array) => void;

/** The CLI's surroundings. Every field has a process default (see {@link processIO}). */
export interface CliIO {
  /** Standard output: results (native ids, tables, JSON) and `run`'s job stdout. */
  stdout: Writer;
  /** Standard error: status lines, errors, logs and `run`'s job stderr. */
  stderr: Writer;
  /** Whether stderr is a terminal (the status line of `run` then redraws in place). */
  stderrIsTTY: boolean;
  /** Directory that relative paths are resolved against. */
  cwd: string;
  /** Aborted on Ctrl-C: `run` cancels its job, waits stop; the command then exits 130. */
  signal?: AbortSignal;
  /** Sets the process exit code (default: `process.exitCode`). */
  setExitCode: (code: number) => void;
}

/** The real process's surroundings. */
export function processIO(signal?: AbortSignal): CliIO {
  const io: CliIO = {
    stdout: (chunk) => void process.stdout.write(chunk),
    stderr: (chunk) => void process.stderr.write(chunk),
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
  if (signal) io.signal = signal;
  return io;
}
