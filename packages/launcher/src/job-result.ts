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
