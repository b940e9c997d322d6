/**
 * Reading back a job script's result file. Dependency-free, and exported on its own subpath
 * (`@exaworks/launcher/job-result`) so read-only tools can tell how a job ended without
 * loading the launchers (and their schemas).
 * @module
 */

/** How a job ended, read back from a result file. */
export interface JobResult {
  /** The launch command's exit code (128 + N when it was killed by signal N). */
  readonly exitCode: number;
  /** Set when the machinery (not the user's program) failed. */
  readonly failure?: string;
}

/**
 * Parses a result file's text: line 1 the exit code, optional line 2 a machinery failure.
 * Returns undefined for empty, torn (no final newline) or malformed text.
 */
export function parseJobResult(text: string): JobResult | undefined {
  if (!text.endsWith('\n')) return undefined;
  const lines = text.slice(0, -1).split('\n');
  if (lines.length > 2) return undefined;
  const [code, failure] = lines;
  if (code === undefined || !/^\d{1,10}$/.test(code)) return undefined;
  const exitCode = Number(code);
  return failure === undefined || failure === '' ? { exitCode } : { exitCode, failure };
}

/**
 * How a job's machinery failures are worded (line 2 of its result): by the job script, and by
 * whatever else sets a job up the same way (the local executor's exec agent), so both read alike.
 */
export const jobSetupFailures = {
  /** The job's directory cannot be entered. */
  directory: (dir: string): string => `job directory does not exist or is not accessible: ${dir}`,
  /** Its stdin file cannot be opened for reading. */
  stdin: (file: string): string => `cannot read the job's stdin file: ${file}`,
  /** Its stdout file cannot be opened for writing. */
  stdout: (file: string): string => `cannot write the job's stdout file: ${file}`,
  /** Its stderr file cannot be opened for writing. */
  stderr: (file: string): string => `cannot write the job's stderr file: ${file}`,
  /** The launch command's program is not on the job's PATH. */
  notFound: (program: string): string => `program not found: ${program}`,
} as const;
