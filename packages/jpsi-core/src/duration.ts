/**
 * The one duration parser and formatter: PSI/J (psij-python) formats in and out, plus the
 * `[D-]HH:MM:SS` form batch schedulers use. Durations are carried as seconds.
 * @module
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
};

/**
 * The longest duration accepted: 365 days. Longer ones are typing mistakes (`1e308 s`), would
 * overflow the timers that enforce them, and no batch scheduler grants them.
 */
export const MAX_DURATION_SECONDS = 365 * 86400;

/** The result for `seconds`: an error unless it is more than zero and at most {@link MAX_DURATION_SECONDS}. */
function bounded(seconds: number): { seconds: number } | { error: string } {
  if (!(seconds > 0)) return { error: 'must be longer than zero' };
  if (!(seconds <= MAX_DURATION_SECONDS)) return { error: `must be at most 365 days (${MAX_DURATION_SECONDS} s)` };
  return { seconds };
}

const WITH_UNIT = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)$/i;
const CLOCK = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/;

/**
 * Parses a duration to seconds, or returns a reason it cannot be parsed.
 *
 * Accepted: a number of seconds; `"<number> <unit>"` (s, m, h, d and their long forms; e.g.
 * psij-python's own `"5400.0 s"`); `"MM"` (minutes, as psij and Slurm read a bare number);
 * `"HH:MM"`; `"HH:MM:SS"`; `"D-HH[:MM[:SS]]"`. At most {@link MAX_DURATION_SECONDS} (365 days).
 */
export function parseDuration(input: string | number): { seconds: number } | { error: string } {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input > 0 ? bounded(input) : { error: 'must be a positive number of seconds' };
  }
  const text = input.trim();
  const unit = WITH_UNIT.exec(text);
  if (unit) {
    const factor = UNIT_SECONDS[unit[2]!.toLowerCase()];
    if (factor === undefined) return { error: `unknown unit "${unit[2]}" (use s, m, h or d)` };
    return bounded(Number(unit[1]) * factor);
  }
  const clock = CLOCK.exec(text);
  if (clock) {
    const [, days, a, b, c] = clock;
    let seconds: number;
    if (days !== undefined) {
      // Slurm: D-HH, D-HH:MM, D-HH:MM:SS
      seconds = Number(days) * 86400 + Number(a) * 3600 + Number(b ?? 0) * 60 + Number(c ?? 0);
    } else if (c !== undefined) seconds = Number(a) * 3600 + Number(b) * 60 + Number(c);
    else if (b !== undefined) seconds = Number(a) * 3600 + Number(b) * 60;
    else seconds = Number(a) * 60;
    return bounded(seconds);
  }
  return { error: `"${input}" is not a duration (examples: "90 s", "1.5 h", "30", "01:30:00", "1-12:00:00")` };
}

/** The psij-python JSON form: total seconds with at least one decimal and ` s`, e.g. `"5400.0 s"`. */
export function formatPsijDuration(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds.toFixed(1) : String(seconds)} s`;
}

/** `[D-]HH:MM:SS`, rounded up to whole seconds (what Slurm, PBS and LSF accept). */
export function formatClockDuration(seconds: number): string {
  let s = Math.ceil(seconds);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const clock = [hh, mm, ss].map((n) => String(n).padStart(2, '0')).join(':');
  return days > 0 ? `${days}-${clock}` : clock;
}

/** Whole minutes, rounded up (for schedulers that take minutes). */
export function formatMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}
