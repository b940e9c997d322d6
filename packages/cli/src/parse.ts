/**
 * Parsers of command options that are not job flags (`--timeout`, `--state`, `--older-than`).
 * Zod-free, so read-only commands can use them.
 * @module
 */
import { JobState, ValidationError, isJobState, parseDuration } from '@exaworks/jpsi-core/internal';

function seconds(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const d = parseDuration(trimmed);
  return 'seconds' in d ? d.seconds : Number.NaN;
}

/** Parses `--timeout`: a plain number is seconds; otherwise any duration format. */
export function parseTimeoutSeconds(text: string): number {
  const s = seconds(text);
  if (!Number.isFinite(s) || s < 0) {
    throw new ValidationError('wait options', [
      { path: 'timeout', message: `"${text}" is not a number of seconds (from --timeout)` },
    ]);
  }
  return s;
}

/** Parses `--older-than` with jpsi-core's duration parser: "7d", "12 h", "90 min", "1-00:00:00" (a bare number is minutes). */
export function parseAgeSeconds(text: string): number {
  const d = parseDuration(text.trim());
  if (!('seconds' in d)) {
    throw new ValidationError('clean options', [
      { path: 'olderThan', message: `"${text}" is not an age, e.g. 7d, 12h, 30min, 1-00:00:00: ${d.error} (from --older-than)` },
    ]);
  }
  return d.seconds;
}

/** Parses `--state`: a PSI/J state name, any case. */
export function parseStateOption(text: string, subject = 'wait options'): JobState {
  const upper = text.trim().toUpperCase();
  if (!isJobState(upper)) {
    throw new ValidationError(subject, [
      { path: 'state', message: `"${text}" is not a job state (one of ${Object.values(JobState).join(', ')}) (from --state)` },
    ]);
  }
  return upper;
}
