/**
 * The one rule for the native ids a batch executor accepts (from a user, a scheduler) and uses in
 * file names: what schedulers print — Slurm `123` and `123_4`, PBS `12.server` and `12[3].server`,
 * LSF and Cobalt numbers, Flux F58 `ƒ2bB3uJ9d` (or `f2bB3uJ9d` in ASCII).
 * @module
 */

// Letters, digits, `_ - [ ]`, `.` (not first: a name starting with a dot would be a hidden file) and Flux's `ƒ`.
const NATIVE_ID = /^[A-Za-z0-9_\-[\]ƒ][A-Za-z0-9._\-[\]ƒ]{0,254}$/u;

/** Whether `text` is a well-formed native id (see the module comment for the characters allowed). */
export function isNativeId(text: unknown): text is string {
  return typeof text === 'string' && NATIVE_ID.test(text);
}
