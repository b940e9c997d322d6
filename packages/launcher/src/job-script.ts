/**
 * The job script: the one shell script that runs a job's launch command with its directory,
 * environment, standard streams and pre/post-launch scripts, and records how it ended.
 * @module
 */
import path from 'node:path';
import { createJobSpec, LauncherError, shellJoin, shellQuote, type JobSpec, type LaunchCommand } from '@exaworks/jpsi-core';
import { isValidEnvName } from '@exaworks/jpsi-core/internal';
import { jobShell } from './basic.js';

import { jobSetupFailures } from './job-result.js';

export { jobSetupFailures, parseJobResult, type JobResult } from './job-result.js';

/** Files the job script reads and writes. */
export interface JobScriptFiles {
  /**
   * Where the script records how the job ended, as its last act: line 1 the exit code; an
   * optional line 2 a failure of the machinery (pre/post-launch script failed, directory
   * missing, launcher not found…), in words. Written by one `printf` redirected straight to the
   * file (a single `write` of a few bytes, no temp file and no `mv` process); a reader that
   * finds no final newline has caught it mid-write or after a kill (see {@link parseJobResult}).
   */
  readonly resultFile: string;
  /** stdout used when the spec names none. Default `/dev/null`, as psij-python does. */
  readonly stdout?: string;
  /** stderr used when the spec names none. Default `/dev/null`, as psij-python does. */
  readonly stderr?: string;
  /** Written to the job's environment as PSIJ_NODEFILE. */
  readonly nodeFile?: string;
  /**
   * Create the result file only if nothing is at its path yet (the shell's noclobber): a file or
   * symlink found there makes the write fail rather than be followed or overwritten; the job's
   * exit status still says how it ended. For executors that start each job once.
   * @default false (a batch job its scheduler requeues writes the file again)
   */
  readonly exclusiveResult?: boolean;
  /**
   * The job enforces its own walltime, with no executor alive: a watchdog in the job's process
   * group creates `marker` after `seconds`, sends SIGTERM to the group, and SIGKILL after
   * `graceSeconds`. It also turns any SIGTERM the group gets (a cancel) into a SIGKILL after
   * the grace period. The script must run as its own process group leader. Default: none.
   */
  readonly deadline?: { readonly seconds: number; readonly graceSeconds: number; readonly marker: string };
}

/** Seconds as `sleep` takes them (at most millisecond precision). */
function sleepArg(seconds: number): string {
  return String(Math.max(0, Math.round(seconds * 1000) / 1000));
}

/** The watchdog of {@link JobScriptFiles.deadline}: one subshell and one `sleep` beside the job. */
function watchdogLines(deadline: NonNullable<JobScriptFiles['deadline']>): string[] {
  const grace = `sleep ${sleepArg(deadline.graceSeconds)}; kill -s KILL -- -$$ 2>/dev/null; exit 0`;
  return [
    // A handler (not an ignore) for TERM, so the `sleep` it starts keeps default signals.
    `( trap 'kill "$_xw_s" 2>/dev/null; exit 0' USR1; trap ${shellQuote(`kill "$_xw_s" 2>/dev/null; ${grace}`)} TERM`,
    `  sleep ${sleepArg(deadline.seconds)} & _xw_s=$!`,
    `  wait "$_xw_s" && { : >${shellQuote(path.resolve(deadline.marker))}; kill -s TERM -- -$$; }`,
    '  wait ) </dev/null >/dev/null 2>&1 &',
    '_xw_wd=$!',
  ];
}

/**
 * `PATH` given to a job that does not inherit its environment and sets no `PATH` itself: without
 * one, launchers (`mpirun`, `srun`) and the daemons they start could not find their programs.
 */
export const CLEAN_ENVIRONMENT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const DEV_NULL = '/dev/null';

/** One line of text: the result file's line 2 is a single line. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function checkEnvNames(env: Readonly<Record<string, string>>, what: string): void {
  for (const name of Object.keys(env)) {
    if (!isValidEnvName(name)) throw new LauncherError(`${what} has an invalid environment variable name "${name}".`);
  }
}

/**
 * The job script (a complete shell script with its #! line) for a spec and its launch command.
 *
 * The script runs under the shell {@link jobShell} picks: `/bin/sh` (dash on Debian: fastest to
 * start) unless the spec has a pre- or post-launch script (written for bash) or inherits exported
 * bash functions, which dash would drop. Every word
 * taken from the spec or the launch command is quoted with `shellQuote`. Relative paths in
 * `files` are resolved against the current directory now; relative spec paths (stdin, stdout,
 * stderr, pre/post-launch) are relative to the job directory.
 *
 * @throws {@link @exaworks/jpsi-core!LauncherError} if the launch command is empty or an environment name is invalid.
 */
export function jobScriptFor(spec: JobSpec, launch: LaunchCommand, files: JobScriptFiles): string {
  const s = createJobSpec(spec);
  if (launch.argv.length === 0 || launch.argv[0] === '') throw new LauncherError('The launch command is empty.');
  checkEnvNames(launch.env, 'The launch command');
  checkEnvNames(s.environment, 'The job spec');
  const resultFile = path.resolve(files.resultFile);
  const nodeFile = files.nodeFile === undefined ? undefined : path.resolve(files.nodeFile);
  const shell = jobShell(s);

  // Launcher variables first, so that a spec that sets the same variable wins.
  const env: Record<string, string> = { ...launch.env, ...s.environment };
  if (nodeFile !== undefined) env.PSIJ_NODEFILE = nodeFile;
  // Where a launcher that reports its own failures writes them (see LaunchCommand.reportsFailures).
  const launchFailureFile = launch.reportsFailures ? `${resultFile}.launch` : undefined;
  if (launchFailureFile !== undefined) env.EXAWORKS_LAUNCH_FAILURE_FILE = launchFailureFile;

  const body: string[] = [];
  const fail = (code: string, message: string) => `_xw_finish ${code} ${shellQuote(oneLine(message))}`;
  body.push(
    // One printf is one write of a few bytes: no temp file and no `mv` process on the hot path.
    '# _xw_finish CODE [FAILURE]: write the result file (one printf, one write), then exit CODE.',
    '_xw_finish() {',
    // Private to its user (the job's own files keep the user's umask: this runs just before exit).
    '  umask 077',
    ...(files.exclusiveResult === true ? ['  set -C'] : []),
    ...(files.deadline !== undefined ? ['  kill -s USR1 "$_xw_wd" 2>/dev/null'] : []),
    `  if [ -n "$2" ]; then printf '%s\\n%s\\n' "$1" "$2"; else printf '%s\\n' "$1"; fi >${shellQuote(resultFile)}`,
    '  exit "$1"',
    '}',
  );
  if (files.deadline !== undefined) body.push(...watchdogLines(files.deadline));
  if (s.directory !== undefined) {
    body.push(`cd -- ${shellQuote(s.directory)} 2>/dev/null || ${fail('1', jobSetupFailures.directory(s.directory))}`);
  }
  // The variables are `export` lines of the script, which the local executor passes on stdin:
  // never in argv. A clean environment gets a PATH when the spec sets none.
  if (!s.inheritEnvironment && env.PATH === undefined) env.PATH = CLEAN_ENVIRONMENT_PATH;
  body.push(...exports(env));

  const stdin = s.stdinPath ?? '/dev/null';
  const stdout = s.stdoutPath ?? (files.stdout === undefined ? DEV_NULL : path.resolve(files.stdout));
  const stderr = s.stderrPath ?? (files.stderr === undefined ? DEV_NULL : path.resolve(files.stderr));
  // Open (and truncate) each stream once up front so that a bad path is reported as such
  // (/dev/null cannot be bad: skipping it saves work on every job that names no file).
  if (stdin !== DEV_NULL) body.push(`{ :; } 2>/dev/null <${shellQuote(stdin)} || ${fail('1', jobSetupFailures.stdin(stdin))}`);
  if (stdout !== DEV_NULL)
    body.push(`{ :; } 2>/dev/null >${shellQuote(stdout)} || ${fail('1', jobSetupFailures.stdout(stdout))}`);
  if (stderr !== stdout && stderr !== DEV_NULL)
    body.push(`{ :; } 2>/dev/null >${shellQuote(stderr)} || ${fail('1', jobSetupFailures.stderr(stderr))}`);

  const job: string[] = ['_xw_job() {'];
  const sourced = (kind: 'pre' | 'post', script: string) => [
    // A sourced script that calls `exit` (or trips its own `set -e`) must still leave a result.
    `  trap ${shellQuote(`_xw_finish 1 ${shellQuote(oneLine(`${kind}-launch script ${script} exited the job shell`))}`)} EXIT`,
    // bash runs the EXIT trap on a fatal signal too: a signal must kill the job, not record a failure.
    ...(['TERM', 'INT', 'HUP'] as const).map((sig) => `  trap 'trap - EXIT ${sig}; kill -s ${sig} $$' ${sig}`),
    // `.` searches PATH for a name without a slash; the spec means a file relative to the job directory.
    `  . ${shellQuote(script.includes('/') ? script : `./${script}`)}`,
    '  _xw_st=$?',
    '  trap - EXIT TERM INT HUP',
    // Options a sourced script turned on must not change how the rest of this script runs.
    '  set +e +u',
  ];
  if (s.preLaunch !== undefined) {
    job.push(
      ...sourced('pre', s.preLaunch),
      '  if [ "$_xw_st" -ne 0 ]; then',
      `    _xw_failure=${shellQuote(oneLine(`pre-launch script ${s.preLaunch} failed with exit status `))}"$_xw_st"'; the job was not launched'`,
      '    _xw_rc=$_xw_st',
      '    return',
      '  fi',
    );
  }
  job.push(`  ${shellJoin(launch.argv)}`, '  _xw_rc=$?');
  if (launchFailureFile !== undefined) {
    const f = shellQuote(launchFailureFile);
    job.push(
      // `read` is a builtin: no process unless the launcher actually reported something.
      `  if [ -s ${f} ]; then IFS= read -r _xw_failure <${f}; rm -f -- ${f}; fi`,
    );
  }
  job.push(
    `  if [ "$_xw_rc" -eq 127 ] && ! command -v -- ${shellQuote(launch.argv[0]!)} >/dev/null 2>&1; then`,
    `    _xw_failure=${shellQuote(oneLine(jobSetupFailures.notFound(launch.argv[0]!)))}`,
    '  fi',
  );
  if (s.postLaunch !== undefined) {
    job.push(
      ...sourced('post', s.postLaunch),
      '  if [ "$_xw_st" -ne 0 ]; then',
      `    _xw_failure=${shellQuote(oneLine(`post-launch script ${s.postLaunch} failed with exit status `))}"$_xw_st"`,
      '    if [ "$_xw_rc" -eq 0 ]; then _xw_rc=$_xw_st; fi',
      '  fi',
    );
  }
  job.push('}');
  body.push(...job);
  const errRedirect = stderr === stdout && stdout !== DEV_NULL ? '2>&1' : `2>>${shellQuote(stderr)}`;
  body.push(
    '_xw_rc=1',
    '_xw_failure=',
    `_xw_job <${shellQuote(stdin)} >>${shellQuote(stdout)} ${errRedirect}`,
    '_xw_finish "$_xw_rc" "$_xw_failure"',
  );

  const header = [`#!${shell}`, `# Job script generated by @exaworks/launcher for: ${oneLine(s.name)}`];
  if (s.inheritEnvironment) return `${[...header, ...body].join('\n')}\n`;

  // Clean environment: the whole job runs in a shell started by `env -i`, which reads its script
  // from a here-document on stdin: nothing of the environment is in any process's argv, where
  // every local user could read it with `ps`.
  const end = hereDocEnd(body);
  // "$0" "$@" pass the outer shell's name on, so a job started as `sh -c <script> <name>` or
  // `sh -s <name>` keeps <name> in its command line (the local executor finds its processes by it).
  return `${[...header, `exec /usr/bin/env -i ${shell} -s "$0" "$@" <<'${end}'`, ...body, end].join('\n')}\n`;
}

/** `export NAME='value'` lines, one per variable. */
function exports(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
}

/** A here-document delimiter that is no line of `lines` (a quoted value may hold any line). */
function hereDocEnd(lines: readonly string[]): string {
  const taken = new Set(lines.flatMap((l) => l.split('\n')));
  let end = '_XW_SCRIPT_END';
  for (let i = 1; taken.has(end); i++) end = `_XW_SCRIPT_END_${i}`;
  return end;
}
