/**
 * The `exaworks` command-line program, built with commander. Every command writes through an
 * injected {@link CliIO}, so the whole program runs in-process in tests.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import {
  AbortedError,
  Job,
  JobState,
  ValidationError,
  createJobSpec,
  createLogger,
  getExecutor,
  getRuntimeInfo,
  isFinalState,
  isJobState,
  jobSpecToInput,
  jobSpecToPsijJson,
  listExecutors,
  listLaunchers,
  parseDuration,
  psijDerivedResources,
  readPackageVersion,
  formatClockDuration,
  type JobExecutor,
  type JobSpec,
  type Logger,
} from '@exaworks/jpsi-core';
import {
  CLEAR_LINE,
  ExitCode,
  errorToJson,
  exitCodeForError,
  exitCodeForJob,
  formatError,
  formatInfo,
  formatJobTable,
  formatStatusLine,
  formatBytes,
  toJsonText,
  type JobErrorJson,
  type JobJson,
} from './format.js';
import { processIO, type CliIO } from './io.js';
import { buildExecutorConfig, buildJobSpec, readSpecFile, type ExecutorFlags, type JobFlags } from './options.js';
import { FileFollower } from './tail.js';

/** The version of this CLI package. */
export const CLI_VERSION: string = readPackageVersion(new URL('../package.json', import.meta.url));

/** Options every command takes. */
interface OutputFlags {
  json?: boolean;
  verbose?: boolean;
}

type CommandFlags = OutputFlags & ExecutorFlags;

const EXIT_CODES_HELP = `
Exit codes:
  0    success (run/wait: the job COMPLETED)
  N    run/wait: the job's own exit code (1..255)
  1    runtime failure: executor/backend error, unknown native id, or a job that
       FAILED or was CANCELED without an exit code of its own
  2    bad usage or invalid input (unknown flag, invalid spec, bad value)
  124  wait --timeout ran out
  130  interrupted by Ctrl-C (run cancels its job first)`;

const ENV_HELP = `
Environment:
  EXAWORKS_LOG_LEVEL   debug|info|warn|error|silent: structured JSON logs on stderr
                       (default warn; --verbose means debug)
  EXAWORKS_WORK_DIR    base of executors' work directories (default ~/.exaworks/work)`;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print machine-readable JSON on stdout (errors as {"error": …})')
    .option('-v, --verbose', 'debug logs on stderr and stack traces for errors');
}

function addExecutorOptions(cmd: Command): Command {
  return cmd
    .option('-x, --executor <name>', 'executor to use', 'local')
    .option(
      '--work-dir <dir>',
      "executor's work directory (its workDirectory; default $EXAWORKS_WORK_DIR/<executor> or ~/.exaworks/work/<executor>)",
    )
    .option('--executor-config <file|json>', 'executor configuration: a JSON/YAML file or an inline JSON object');
}

function addJobOptions(cmd: Command): Command {
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
    .option('--stdout <file>', "file for the job's standard output")
    .option('--stderr <file>', "file for the job's standard error")
    .option('-l, --launcher <name>', 'launcher: single, multiple, mpirun, srun, …')
    .option('--pre-launch <file>', 'shell script sourced before the job is launched')
    .option('--post-launch <file>', 'shell script sourced after the job ends');
}

/** Reads the job flags from a command, leaving out `--no-inherit-env` unless given. */
function jobFlagsOf(cmd: Command, executable: string | undefined, args: string[] | undefined): JobFlags {
  const o = cmd.opts<JobFlags & Record<string, unknown>>();
  const flags: JobFlags = { ...o };
  if (executable !== undefined) flags.executable = executable;
  if (args !== undefined) flags.args = args;
  if (cmd.getOptionValueSource('inheritEnv') !== 'cli') delete flags.inheritEnv;
  return flags;
}

/** Per-command context: the IO, a logger, and the output mode. */
class Context {
  readonly logger: Logger;

  constructor(
    readonly io: CliIO,
    readonly flags: CommandFlags,
  ) {
    this.logger = createLogger({
      component: 'cli',
      ...(flags.verbose ? { level: 'debug' as const } : {}),
      write: (l) => io.stderr(l),
    });
  }

  get json(): boolean {
    return this.flags.json === true;
  }

  out(text: string): void {
    this.io.stdout(text);
  }

  err(text: string): void {
    this.io.stderr(text);
  }

  /** Reports an error (text or JSON) and sets the exit code it calls for. */
  fail(err: unknown): void {
    if (this.json) this.out(toJsonText({ error: errorToJson(err) }));
    else this.err(formatError(err, this.flags.verbose === true));
    this.io.setExitCode(exitCodeForError(err));
  }

  async openExecutor(): Promise<JobExecutor> {
    const name = this.flags.executor ?? 'local';
    const config = await buildExecutorConfig(this.flags, this.io.cwd);
    const level = this.flags.verbose ? { level: 'debug' as const } : {};
    config.logger = createLogger({ component: `executor:${name}`, ...level, write: (l) => this.io.stderr(l) });
    this.logger.debug('opening executor', { executor: name, workDirectory: config.workDirectory });
    return getExecutor(name, config);
  }
}

/** Runs a command body with error reporting and an open executor that is always closed. */
async function withExecutor(ctx: Context, body: (executor: JobExecutor) => Promise<void>): Promise<void> {
  let executor: JobExecutor | undefined;
  try {
    executor = await ctx.openExecutor();
    await body(executor);
  } catch (err) {
    if (err instanceof AbortedError && ctx.io.signal?.aborted) ctx.io.setExitCode(ExitCode.INTERRUPTED);
    else ctx.fail(err);
  } finally {
    await executor?.close().catch((err: unknown) => ctx.logger.warn('closing the executor failed', { error: err }));
  }
}

/** Binds a fresh Job to each native id; ids the executor does not know come back as error rows. */
async function attachAll(executor: JobExecutor, ids: readonly string[]): Promise<(Job | JobErrorJson)[]> {
  return Promise.all(
    ids.map(async (id) => {
      const job = new Job();
      try {
        await executor.attach(job, id);
        return job;
      } catch (err) {
        if (err instanceof ValidationError) throw err;
        return { nativeId: id, error: errorToJson(err) };
      }
    }),
  );
}

function rowOf(entry: Job | JobErrorJson): JobJson | JobErrorJson {
  return entry instanceof Job ? entry.toJSON() : entry;
}

function printJobs(ctx: Context, entries: readonly (Job | JobErrorJson)[]): void {
  const rows = entries.map(rowOf);
  if (ctx.json) ctx.out(toJsonText(rows));
  else if (rows.length === 0) ctx.err('no jobs\n');
  else ctx.out(formatJobTable(rows));
  if (rows.some((r) => 'error' in r)) ctx.io.setExitCode(ExitCode.FAILURE);
}

/** The live status of `run`: redrawn in place on a TTY, one line per state change otherwise. */
class StatusLine {
  #shown = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #start = Date.now();

  constructor(
    private readonly io: CliIO,
    private readonly job: Job,
    private readonly enabled: boolean,
  ) {}

  start(): void {
    if (!this.enabled) return;
    this.job.onStatus(() => this.changed());
    // Elapsed time ticks on a terminal only; plain logs get a line per state change.
    if (this.io.stderrIsTTY) {
      this.#timer = setInterval(() => this.draw(), 1000).unref();
      this.draw();
    }
  }

  private text(): string {
    return `exaworks: ${formatStatusLine(this.job.toJSON(), Date.now() - this.#start)}`;
  }

  private changed(): void {
    if (this.io.stderrIsTTY) this.draw();
    // The final line waits for stop(), so it comes after the last of the job's own output.
    else if (!isFinalState(this.job.status.state)) this.io.stderr(`${this.text()}\n`);
  }

  draw(): void {
    if (!this.enabled || !this.io.stderrIsTTY) return;
    this.io.stderr(`${CLEAR_LINE}${this.text()}`);
    this.#shown = true;
  }

  /** Removes the line before other output is written below it. */
  clear(): void {
    if (this.#shown) this.io.stderr(CLEAR_LINE);
    this.#shown = false;
  }

  /** Leaves the final status as a permanent line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (!this.enabled) return;
    this.clear();
    if (this.io.stderrIsTTY || isFinalState(this.job.status.state)) this.io.stderr(`${this.text()}\n`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface RunFlags extends CommandFlags {
  quiet?: boolean;
}

async function runCommand(ctx: Context, flags: RunFlags, jobFlags: JobFlags): Promise<void> {
  const { io } = ctx;
  let capture: string | undefined;
  // Validate before touching any executor, so bad input is a usage error (exit 2) whatever the backend.
  let spec: JobSpec = await buildJobSpec(jobFlags, io.cwd);
  await withExecutor(ctx, async (executor) => {
    // Output the spec does not send to a file is captured and shown live (not in --json mode).
    if (!ctx.json && (spec.stdoutPath === undefined || spec.stderrPath === undefined)) {
      capture = await mkdtemp(path.join(os.tmpdir(), 'exaworks-run-'));
      spec = createJobSpec({
        ...jobSpecToInput(spec),
        stdoutPath: spec.stdoutPath ?? path.join(capture, 'stdout'),
        stderrPath: spec.stderrPath ?? path.join(capture, 'stderr'),
      });
    }
    const job = new Job(spec);
    const status = new StatusLine(io, job, !ctx.json && flags.quiet !== true);
    const followers: FileFollower[] = [];
    if (capture) {
      const around = [() => status.clear(), () => status.draw()] as const;
      if (jobFlags.stdout === undefined && spec.stdoutPath?.startsWith(capture))
        followers.push(new FileFollower(spec.stdoutPath, io.stdout, ...around));
      if (jobFlags.stderr === undefined && spec.stderrPath?.startsWith(capture))
        followers.push(new FileFollower(spec.stderrPath, io.stderr, ...around));
    }
    status.start();
    ctx.logger.debug('submitting', { executor: executor.name, executable: spec.executable });
    let interrupted = false;
    try {
      await executor.submit(job, io.signal ? { signal: io.signal } : {});
      ctx.logger.debug('submitted', { nativeId: job.nativeId });
      let done = false;
      const poller = (async () => {
        while (!done) {
          await Promise.all(followers.map((f) => f.poll()));
          await sleep(100);
        }
      })();
      try {
        await job.wait(io.signal ? { signal: io.signal } : {});
      } catch (err) {
        if (!(err instanceof AbortedError)) throw err;
        interrupted = true;
      } finally {
        done = true;
        await poller;
      }
    } catch (err) {
      if (err instanceof AbortedError && io.signal?.aborted) interrupted = true;
      else {
        status.stop();
        throw err;
      }
    }
    if (interrupted) {
      if (job.nativeId !== undefined && !isFinalState(job.status.state)) {
        status.clear();
        if (!ctx.json) io.stderr(`exaworks: interrupted; canceling job ${job.nativeId}\n`);
        try {
          await executor.cancel(job);
          await job.wait({ timeout: 10_000 });
        } catch (err) {
          ctx.logger.warn('cancel after interrupt failed', { error: err });
        }
      }
    }
    await Promise.all(followers.map((f) => f.close()));
    status.stop();
    if (ctx.json) ctx.out(toJsonText(job.toJSON()));
    io.setExitCode(interrupted ? ExitCode.INTERRUPTED : exitCodeForJob(job.status.state, job.status.exitCode));
  });
  if (capture) await rm(capture, { recursive: true, force: true }).catch(() => undefined);
}

/** A batch executor's extra entry point: hand over an existing script as-is (duck-typed: the CLI knows no executor package). */
interface ScriptSubmitter extends JobExecutor {
  submitScript(scriptPath: string, options?: { cwd?: string; signal?: AbortSignal }): Promise<Job>;
}

async function submitScriptCommand(ctx: Context, script: string, jobFlags: JobFlags): Promise<void> {
  if (jobFlags.executable !== undefined || jobFlags.spec !== undefined) {
    throw new ValidationError('submit flags', [
      { path: 'script', message: 'give either --script or a job (executable or --spec), not both' },
    ]);
  }
  await withExecutor(ctx, async (executor) => {
    if (typeof (executor as Partial<ScriptSubmitter>).submitScript !== 'function') {
      throw new ValidationError('submit flags', [
        {
          path: 'script',
          message: `the ${executor.name} executor cannot take a batch script; use a batch executor such as slurm`,
        },
      ]);
    }
    const job = await (executor as ScriptSubmitter).submitScript(path.resolve(ctx.io.cwd, script), {
      cwd: ctx.io.cwd,
      ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
    });
    ctx.out(ctx.json ? toJsonText(job.toJSON()) : `${job.nativeId}\n`);
  });
}

async function submitCommand(ctx: Context, jobFlags: JobFlags, script?: string): Promise<void> {
  if (script !== undefined) return submitScriptCommand(ctx, script, jobFlags);
  const spec = await buildJobSpec(jobFlags, ctx.io.cwd);
  await withExecutor(ctx, async (executor) => {
    const signal = ctx.io.signal ? { signal: ctx.io.signal } : {};
    const job = await executor.submit(spec, signal);
    // The local executor runs jobs in detached processes: return once this one really started.
    if (executor.name === 'local') await job.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000, ...signal });
    ctx.logger.debug('submitted', { nativeId: job.nativeId, state: job.status.state });
    ctx.out(ctx.json ? toJsonText(job.toJSON()) : `${job.nativeId}\n`);
    if (job.status.state === JobState.FAILED || job.status.state === JobState.CANCELED) {
      if (!ctx.json)
        ctx.err(`exaworks: job ${job.nativeId} ${job.status.state}${job.status.message ? `: ${job.status.message}` : ''}\n`);
      ctx.io.setExitCode(ExitCode.FAILURE);
    }
  });
}

/** Parses `--timeout`: a plain number is seconds; otherwise any duration format. */
export function parseTimeoutSeconds(text: string): number {
  const trimmed = text.trim();
  const seconds = /^\d+(\.\d+)?$/.test(trimmed)
    ? Number(trimmed)
    : (() => {
        const d = parseDuration(trimmed);
        return 'seconds' in d ? d.seconds : Number.NaN;
      })();
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ValidationError('wait options', [
      { path: 'timeout', message: `"${text}" is not a number of seconds (from --timeout)` },
    ]);
  }
  return seconds;
}

/** Parses `--state`: a PSI/J state name, any case. */
export function parseStateOption(text: string): JobState {
  const upper = text.trim().toUpperCase();
  if (!isJobState(upper)) {
    throw new ValidationError('wait options', [
      { path: 'state', message: `"${text}" is not a job state (one of ${Object.values(JobState).join(', ')}) (from --state)` },
    ]);
  }
  return upper;
}

interface WaitFlags extends CommandFlags {
  timeout?: string;
  state?: string;
}

async function waitCommand(ctx: Context, ids: string[], flags: WaitFlags): Promise<void> {
  const timeoutSeconds = flags.timeout === undefined ? undefined : parseTimeoutSeconds(flags.timeout);
  const target = flags.state === undefined ? undefined : parseStateOption(flags.state);
  await withExecutor(ctx, async (executor) => {
    const entries = await attachAll(executor, ids);
    const deadline = timeoutSeconds === undefined ? undefined : Date.now() + timeoutSeconds * 1000;
    const results = await Promise.all(
      entries.map(async (e) => {
        if (!(e instanceof Job)) return true;
        const options = {
          ...(deadline !== undefined ? { timeout: Math.max(0, deadline - Date.now()) } : {}),
          ...(target !== undefined ? { targetStates: [target] } : {}),
          ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
        };
        return (await e.wait(options)) !== undefined;
      }),
    );
    printJobs(ctx, entries);
    const jobs = entries.filter((e): e is Job => e instanceof Job);
    if (entries.some((e) => !(e instanceof Job))) ctx.io.setExitCode(ExitCode.FAILURE);
    else if (results.includes(false)) {
      if (!ctx.json) ctx.err(`exaworks: timed out after ${timeoutSeconds} s\n`);
      ctx.io.setExitCode(ExitCode.TIMEOUT);
    } else {
      // Waiting for a state: reaching it (or later) is success unless the job ended badly.
      const bad = jobs.find(
        (j) => isFinalState(j.status.state) && j.status.state !== JobState.COMPLETED && j.status.state !== target,
      );
      ctx.io.setExitCode(bad ? exitCodeForJob(bad.status.state, bad.status.exitCode) : ExitCode.OK);
    }
  });
}

interface SpecCheckFlags extends OutputFlags {}

function describeSpec(spec: JobSpec): string {
  const r = spec.resources;
  const a = spec.attributes;
  const lines: [string, string][] = [
    ['executable', spec.executable],
    ['arguments', spec.arguments.length ? JSON.stringify(spec.arguments) : '-'],
    ['name', spec.name],
    ['directory', spec.directory ?? '-'],
    ['nodes', String(r.computedNodeCount)],
    ['processes', String(r.computedProcessCount)],
    ['processes/node', String(r.computedProcessesPerNode)],
    ['cores/process', r.cpuCoresPerProcess === undefined ? '-' : String(r.cpuCoresPerProcess)],
    ['gpus/process', r.gpuCoresPerProcess === undefined ? '-' : String(r.gpuCoresPerProcess)],
    ['exclusive', r.exclusiveNodeUse ? 'yes' : 'no'],
    ['memory', r.memory === undefined ? '-' : `${r.memory} bytes (${formatBytes(r.memory)})`],
    ['duration', `${a.duration} s (${formatClockDuration(a.duration)})`],
    ['queue', a.queueName ?? '-'],
    ['account', a.account ?? '-'],
    ['reservation', a.reservationId ?? '-'],
    ['launcher', spec.launcher ?? '(executor default)'],
  ];
  for (const [k, v] of Object.entries(a.customAttributes)) lines.push([`attr ${k}`, String(v)]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}\n`).join('');
}

function handle(ctx: () => Context, body: (ctx: Context) => Promise<void>): Promise<void> {
  const c = ctx();
  return body(c).catch((err: unknown) => c.fail(err));
}

/**
 * Builds the `exaworks` program. Commands write through `io` (default: the real process) and set
 * its exit code; commander's own exits (help, version, usage errors) throw `CommanderError`
 * because `exitOverride` is on. Use {@link runCli} to get an exit code back.
 */
export function createProgram(io: CliIO = processIO()): Command {
  const program = new Command('exaworks');
  program
    .description('Run and manage jobs through PSI/J executors (the ExaWorks SDK command line).')
    .version(CLI_VERSION, '-V, --version', 'print the CLI version')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .addHelpText(
      'after',
      `
Examples:
  $ exaworks run -- /bin/echo hello            run a job and wait; exits with its exit code
  $ exaworks run -p 4 --launcher mpirun ./sim  4 MPI processes
  $ id=$(exaworks submit --work-dir /tmp/w -- sleep 60)
  $ exaworks status --work-dir /tmp/w "$id"
  $ exaworks wait --work-dir /tmp/w --timeout 120 "$id"
  $ exaworks cancel --work-dir /tmp/w "$id"
  $ exaworks list --json
  $ exaworks spec check job.yaml
  $ exaworks spec convert job.yaml --to json
  $ exaworks info
${EXIT_CODES_HELP}
${ENV_HELP}`,
    );

  const ctxOf = (cmd: Command) => () => new Context(io, cmd.opts<CommandFlags>());

  // run
  const run = program
    .command('run')
    .summary('run a job and wait for it, showing its output and state')
    .description(
      'Submit a job, show its state live on stderr and its output on stdout/stderr, wait for it to end, and exit with its exit code. ' +
        'Options after the executable belong to the job. Ctrl-C cancels the job (exit 130).',
    )
    .argument('[executable]', 'program to run (or give --spec)')
    .argument('[args...]', 'its arguments')
    .passThroughOptions();
  addJobOptions(run);
  addExecutorOptions(run);
  addOutputOptions(run);
  run.option('--quiet', 'no status line (job output still shown)');
  run.addHelpText(
    'after',
    `
Output: unless --stdout/--stderr name files, the job's standard output is copied to this
command's stdout and its standard error to stderr as the job writes them. With --json
only the final job JSON is printed; give --stdout/--stderr to keep the job's output
(the local executor discards output that no file is named for).

Examples:
  $ exaworks run -- /bin/echo hello
  $ exaworks run --nodes 2 --ppn 4 --duration 1h --queue debug --launcher mpirun -- ./a.out -i in.dat
  $ exaworks run --env OMP_NUM_THREADS=8 --memory 4G --stdout out.txt ./sim
  $ exaworks run --spec job.yaml --duration 00:30:00     # flags override the file
  $ exaworks run --json -- /bin/false; echo $?           # {"nativeId":…,"state":"FAILED","exitCode":1,…}  1
${EXIT_CODES_HELP}`,
  );
  run.action((executable: string | undefined, args: string[], _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), (ctx) =>
      runCommand(ctx, cmd.opts<RunFlags>(), jobFlagsOf(cmd, executable, executable === undefined ? undefined : args)),
    ),
  );

  // submit
  const submit = program
    .command('submit')
    .summary('submit a job and print its native id')
    .description(
      'Submit a job and print its native id once the executor has accepted it (for the local executor: once it has started). The job keeps running after this command exits.',
    )
    .argument('[executable]', 'program to run (or give --spec)')
    .argument('[args...]', 'its arguments')
    .passThroughOptions();
  addJobOptions(submit);
  submit.option('--script <file>', 'hand an existing batch script to a batch executor as-is (e.g. --executor slurm)');
  addExecutorOptions(submit);
  addOutputOptions(submit);
  submit.addHelpText(
    'after',
    `
Examples:
  $ id=$(exaworks submit -- sleep 600)
  $ exaworks submit --json --spec job.json      # {"nativeId": "...", "state": "ACTIVE", ...}
  $ exaworks submit --executor slurm --script job.sh   # an existing batch script, as-is
${EXIT_CODES_HELP}`,
  );
  submit.action((executable: string | undefined, args: string[], _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), (ctx) =>
      submitCommand(
        ctx,
        jobFlagsOf(cmd, executable, executable === undefined ? undefined : args),
        cmd.opts<{ script?: string }>().script,
      ),
    ),
  );

  // status
  const status = program
    .command('status')
    .summary('show the state of jobs')
    .description('Show the current state, exit code, name and message of jobs by native id.')
    .argument('<nativeId...>', 'native ids (from submit or list)');
  addExecutorOptions(status);
  addOutputOptions(status);
  status.addHelpText(
    'after',
    `
Examples:
  $ exaworks status 1a2b3c
  $ exaworks status --json 1a2b3c 4d5e6f | jq '.[].state'
${EXIT_CODES_HELP}`,
  );
  status.action((ids: string[], _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), (ctx) => withExecutor(ctx, async (executor) => printJobs(ctx, await attachAll(executor, ids)))),
  );

  // wait
  const wait = program
    .command('wait')
    .summary('wait for jobs to end (or reach a state)')
    .description(
      'Wait until every job is in a final state (or in --state or later), print their states, and exit with the exit code of the first job that did not complete.',
    )
    .argument('<nativeId...>', 'native ids')
    .option('--timeout <seconds>', 'give up after this many seconds (exit 124)')
    .option('--state <state>', 'wait for this state (e.g. ACTIVE) or a later one instead of the end');
  addExecutorOptions(wait);
  addOutputOptions(wait);
  wait.addHelpText(
    'after',
    `
Examples:
  $ exaworks wait 1a2b3c; echo $?                 # the job's exit code
  $ exaworks wait --state ACTIVE --timeout 60 1a2b3c
${EXIT_CODES_HELP}`,
  );
  wait.action((ids: string[], _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), (ctx) => waitCommand(ctx, ids, cmd.opts<WaitFlags>())),
  );

  // cancel
  const cancel = program
    .command('cancel')
    .summary('cancel jobs')
    .description('Cancel jobs by native id and print their states. Canceling a job that already ended does nothing.')
    .argument('<nativeId...>', 'native ids');
  addExecutorOptions(cancel);
  addOutputOptions(cancel);
  cancel.addHelpText(
    'after',
    `
Examples:
  $ exaworks cancel 1a2b3c
${EXIT_CODES_HELP}`,
  );
  cancel.action((ids: string[], _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), (ctx) =>
      withExecutor(ctx, async (executor) => {
        const entries = await attachAll(executor, ids);
        for (const e of entries) {
          if (!(e instanceof Job)) continue;
          await executor.cancel(e);
          // Show where the cancel landed; a backend may take a moment to confirm.
          await e.wait({ timeout: 5_000, ...(ctx.io.signal ? { signal: ctx.io.signal } : {}) });
        }
        printJobs(ctx, entries);
      }),
    ),
  );

  // list
  const list = program
    .command('list')
    .summary('list the jobs an executor knows')
    .description(
      'List the native ids an executor knows (for local: the jobs in its work directory) with their state, exit code and name.',
    )
    .option('--state <state>', 'only jobs in this state');
  addExecutorOptions(list);
  addOutputOptions(list);
  list.addHelpText(
    'after',
    `
Examples:
  $ exaworks list
  $ exaworks list --state ACTIVE --json
${EXIT_CODES_HELP}`,
  );
  list.action((_opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), async (ctx) => {
      const o = cmd.opts<{ state?: string }>();
      const only = o.state === undefined ? undefined : parseStateOption(o.state);
      await withExecutor(ctx, async (executor) => {
        const entries = await attachAll(executor, await executor.list());
        printJobs(
          ctx,
          entries.filter((e) => only === undefined || (e instanceof Job && e.status.state === only)),
        );
      });
    }),
  );

  // info
  const info = program
    .command('info')
    .summary('show installed packages, executors and the system')
    .description(
      'Show the installed @exaworks packages and versions, Node, OS, CPUs, schedulers and launchers on PATH, and the available executors and launchers.',
    );
  addOutputOptions(info);
  info.addHelpText(
    'after',
    `
Examples:
  $ exaworks info
  $ exaworks info --json | jq .registry.executors`,
  );
  info.action((_opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), async (ctx) => {
      const runtime = getRuntimeInfo();
      const executors = await listExecutors();
      const launchers = await listLaunchers().catch((err: unknown) => {
        ctx.logger.warn('could not list launchers', { error: err });
        return [] as string[];
      });
      // PATH launcher commands stay under `launchers` (as getRuntimeInfo has them); registry names under `registry`.
      if (ctx.json) ctx.out(toJsonText({ cli: CLI_VERSION, ...runtime, registry: { executors, launchers } }));
      else ctx.out(formatInfo(CLI_VERSION, runtime, executors, launchers));
    }),
  );

  // spec
  const spec = program
    .command('spec')
    .summary('check and convert job spec files')
    .description('Check and convert job spec files (JSON or YAML; camelCase or psij-python form).');
  const check = spec
    .command('check')
    .description('Validate a spec file; print OK and the derived resources, or every error with its field path (exit 2).')
    .argument('<file>', 'spec file');
  addOutputOptions(check);
  check.addHelpText(
    'after',
    `
Examples:
  $ exaworks spec check job.yaml
  $ exaworks spec check --json psij-job.json`,
  );
  check.action((file: string, _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), async (ctx) => {
      const flags = cmd.opts<SpecCheckFlags>();
      const parsed = await readSpecFile(path.resolve(io.cwd, file));
      if (flags.json)
        ctx.out(toJsonText({ ok: true, file, spec: jobSpecToPsijJson(parsed), derived: psijDerivedResources(parsed) }));
      else ctx.out(`OK ${file}\n${describeSpec(parsed)}`);
    }),
  );
  const convert = spec
    .command('convert')
    .description(
      "Print a spec file as psij-python-compatible JSON (what psij-python's JSONSerializer reads and writes), or as YAML of the same document.",
    )
    .argument('<file>', 'spec file')
    .addOption(new Option('--to <format>', 'output format').choices(['json', 'yaml']).default('json'));
  addOutputOptions(convert);
  convert.addHelpText(
    'after',
    `
Examples:
  $ exaworks spec convert job.yaml --to json > job.json
  $ exaworks spec convert psij-job.json --to yaml`,
  );
  convert.action((file: string, _opts: unknown, cmd: Command) =>
    handle(ctxOf(cmd), async (ctx) => {
      const o = cmd.opts<{ to: 'json' | 'yaml' }>();
      const doc = jobSpecToPsijJson(await readSpecFile(path.resolve(io.cwd, file)));
      ctx.out(o.to === 'yaml' ? toYaml(doc) : toJsonText(doc));
    }),
  );

  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script name) and resolves to its exit code.
 * Nothing is written to the real process unless `io` says so.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  let code = 0;
  const full: CliIO = { ...processIO(), ...io, setExitCode: (c) => (code = c) };
  const program = createProgram(full);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    full.stderr(formatError(err, argv.includes('--verbose') || argv.includes('-v')));
    return ExitCode.FAILURE;
  }
  return code;
}
