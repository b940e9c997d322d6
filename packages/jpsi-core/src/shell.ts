/**
 * The one shell-escaping function. Every launcher and submit-script generator quotes through it.
 * @module
 */

// Characters that never need quoting in POSIX sh, bash or dash.
// `=` is left out: a bare `A=b` in command position would be read as an assignment.
const SAFE = /^[A-Za-z0-9_@%+:,./-]+$/;

/**
 * Quotes one string so that POSIX `sh`/`bash` reads it back as exactly one word with exactly
 * these characters: no expansion, no globbing, no word splitting.
 *
 * Strategy: leave plain words alone; otherwise wrap in single quotes, where nothing is special,
 * and write each embedded `'` as `'\''` (close, escaped quote, reopen). NUL cannot be passed
 * through a shell or `execve` at all, so it is rejected.
 *
 * @throws TypeError if the string contains a NUL character.
 */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new TypeError('A shell word cannot contain a NUL character.');
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each word with {@link shellQuote} and joins them with spaces. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/** True if `name` is a valid POSIX environment variable name (letters, digits, `_`, not starting with a digit). */
export function isValidEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
