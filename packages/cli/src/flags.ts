/**
 * The options commands share, declared with commander alone (no validation here: that happens
 * when a command runs, in the modules it loads then).
 * @module
 */
import type { Command } from 'commander';
import type { ExecutorFlags } from './executor-config.js';
import type { JobFlags } from './options.js';

/** Options every command takes. */
export interface OutputFlags {
  json?: boolean;
  verbose?: boolean;
}

/** Output and executor options together: what a command that talks to an executor gets. */
export type CommandFlags = OutputFlags & ExecutorFlags;

/** The exit-code table shown in help. */
export const EXIT_CODES_HELP = `
Exit codes:
  0    success (run/wait: the job COMPLETED)
  N    run/wait: the job's own exit code (1..255)
  1    runtime failure: executor/backend error, unknown native id, or a job that
       FAILED or was CANCELED without an exit code of its own
  2    bad usage or invalid input (unknown flag, invalid spec, bad value,
       unknown executor or launcher name)
  124  wait --timeout ran out
  130  interrupted by Ctrl-C (run cancels its job first); 143 for SIGTERM, 129 for SIGHUP`;

/** The environment variables shown in help. */
export const ENV_HELP = `
Environment:
  EXAWORKS_LOG_LEVEL   debug|info|warn|error|silent: structured JSON logs on stderr
                       (default warn; --verbose means debug)
  EXAWORKS_WORK_DIR    base of executors' work directories (default ~/.exaworks/work)`;

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--json` and `--verbose`. */
export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print machine-readable JSON on stdout (errors as {"error": …})')
    .option('-v, --verbose', 'debug logs on stderr and stack traces for errors');
}

/** `--executor`, `--work-dir`, `--executor-config`. */
export function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option('-x, --executor <name>', 'executor to use', 'local')
    .option(
      '--work-dir <dir>',
      "executor's work directory (its workDirectory; default $EXAWORKS_WORK_DIR/<executor> or ~/.exaworks/work/<executor>)",
    )
    .option('--executor-config <file|json>', 'executor configuration: a JSON/YAML file or an inline JSON object');
}

/** The job options of `run` and `submit`. */
export function addJobOptions(cmd: Command): Command {
  return cmd
    .option('--spec <file>', 'job spec file (JSON or YAML; camelCase or psij-python form); flags override it')
    .option('-n, --name <name>', 'job name (default: the executable)')
    .option('-N, --nodes <n>', 'node count')
    .option('-p, --processes <n>', 'total process count')
    .option('--ppn <n>', 'processes per node')
    .option('--cores-per-process <n>', 'CPU cores per process')
    .option('--gpus-per-process <n>', 'GPUs per process')
    .option('--exclusive', 'use whole nodes exclusively')
    .option('--memory <size>', 'memory for the whole job: bytes, or K/M/G/T (powers of 1024), e.g. 4G, 512M')
    .option('-t, --duration <time>', 'walltime: "90 s", "1.5 h", "30" (minutes), "01:30:00", "1-12:00:00" (default 10 min)')
    .option('-q, --queue <name>', 'queue (partition)')
    .option('-A, --account <name>', 'account (project) to charge')
    .option('--reservation <id>', 'reservation')
    .option('--attr <key=value>', 'custom attribute, executor-prefixed (e.g. slurm.constraint=haswell); repeatable', collect)
    .option('-e, --env <NAME=VALUE>', 'environment variable for the job; repeatable', collect)
    .option('--no-inherit-env', "do not pass this shell's environment to the job")
    .option('-d, --directory <dir>', 'working directory of the job')
    .option('--stdin <file>', "file for the job's standard input")
    .option('--stdout <file>', "file for the job's standard output (%j: the native id)")
    .option('--stderr <file>', "file for the job's standard error (%j: the native id)")
    .option('-l, --launcher <name>', 'launcher: single, multiple, mpirun, srun, …')
    .option('--pre-launch <file>', 'shell script sourced before the job is launched')
    .option('--post-launch <file>', 'shell script sourced after the job ends');
}

/** Reads the job flags from a command, leaving out `--no-inherit-env` unless given. */
export function jobFlagsOf(cmd: Command, executable: string | undefined, args: string[] | undefined): JobFlags {
  const o = cmd.opts<JobFlags & Record<string, unknown>>();
  const flags: JobFlags = { ...o };
  if (executable !== undefined) flags.executable = executable;
  if (args !== undefined) flags.args = args;
  if (cmd.getOptionValueSource('inheritEnv') !== 'cli') delete flags.inheritEnv;
  return flags;
}
