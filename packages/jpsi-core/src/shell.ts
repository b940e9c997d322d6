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
  if (!hasNoNul(word)) throw new TypeError('A shell word cannot contain a NUL character.');
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The one NUL rule: true if `s` has no NUL character. A NUL ends a C string, so it can pass
 * neither through `execve` (argv, environment) nor through a shell word: every schema that
 * takes such strings refines with this.
 */
export function hasNoNul(s: string): boolean {
  return !s.includes('\0');
}

/** Quotes each word with {@link shellQuote} and joins them with spaces. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/** A POSIX environment variable name: letters, digits and `_`, not starting with a digit (see {@link envNameProblem}). */
export const ENV_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True if `name` is a valid POSIX environment variable name (letters, digits, `_`, not starting with a digit). */
export function isValidEnvName(name: string): boolean {
  return ENV_NAME_PATTERN.test(name);
}

/**
 * Variables the job's shell (dash or bash) sets itself, refuses to change, or reads as it runs
 * the job script: a job given one would see the shell's value, the script abort (`OPTIND=x`),
 * or the script misread (`IFS`).
 */
const SHELL_OWNED: ReadonlySet<string> = new Set([
  'IFS',
  'OPTIND',
  'OPTARG',
  'PPID',
  'LINENO',
  'UID',
  'EUID',
  'GROUPS',
  'BASHPID',
  'BASHOPTS',
  'SHELLOPTS',
  'BASH_VERSINFO',
  'BASH_ARGC',
  'BASH_ARGV',
  'BASH_LINENO',
  'BASH_SOURCE',
  'BASH_SUBSHELL',
  'BASH_COMMAND',
  'BASH_REMATCH',
  'FUNCNAME',
  'PIPESTATUS',
  'DIRSTACK',
  'HISTCMD',
  'RANDOM',
  'SRANDOM',
  'SECONDS',
  'EPOCHSECONDS',
  'EPOCHREALTIME',
  'POSIXLY_CORRECT',
]);

/** Variables every job script sets for the job (`PSIJ_NODEFILE`: the node file). */
const SCRIPT_SET: ReadonlySet<string> = new Set(['PSIJ_NODEFILE', 'EXAWORKS_LAUNCH_FAILURE_FILE']);

/**
 * The one rule for the names of a job's environment variables: why `name` cannot be one, or
 * undefined if it can. A name must be a POSIX name; names the job's shell owns (`OPTIND`,
 * `PPID`, `UID`, `IFS`, …), names the job script sets (`PSIJ_NODEFILE`) and the script's own
 * (`_xw_*`) are refused rather than silently overridden. `PWD`, `OLDPWD`, `HOME` and the rest
 * are passed on as given.
 */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name)) return `"${name}" is not a variable name (letters, digits and _, not starting with a digit)`;
  if (name.startsWith('_xw_')) return `"${name}" is reserved: the job script uses names starting with _xw_`;
  if (SCRIPT_SET.has(name)) return `"${name}" is set by the job script itself for every job`;
  if (SHELL_OWNED.has(name))
    return `"${name}" belongs to the job's shell, which sets or reads it itself; it cannot be given to a job`;
  return undefined;
}

/**
 * True if `env` carries an exported bash function (`BASH_FUNC_name%%`, as Lmod's `module`). dash,
 * Debian's `/bin/sh`, drops such variables on the way to its children, so a process that must pass
 * them on runs under bash instead.
 */
export function environmentHasBashFunctions(env: NodeJS.ProcessEnv = process.env): boolean {
  for (const name in env) if (name.startsWith('BASH_FUNC_')) return true;
  return false;
}
