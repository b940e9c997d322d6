/**
 * The `exaworks` command-line program, built with commander. Every command writes through an
 * injected {@link CliIO}, so the whole program runs in-process in tests.
 *
 * How commands are added (keep it this way: `exaworks --version` and `--help` must load
 * commander alone, and each command only what it uses):
 * - One module per command, `src/commands/<name>.ts`, exporting
 *   `register(program: Command, io: CliIO): void`. It declares the command, its options and help
 *   with commander only, and imports nothing heavier than `../flags.js`, `../action.js` and
 *   types (a test walks the static imports of `dist/bin.js` and fails on anything else).
 * - Its action is `lazyAction(io, async () => (await import('../actions/<name>.js')).<fn>)`:
 *   the implementation (jpsi-core, executors, yaml, …) is `import()`ed only when the command
 *   runs, and gets a {@link Context} (IO, logger, flags, `openExecutor()`), the commander
 *   command, and the positional arguments. Errors it throws are reported with their exit code.
 * - Add one line to `COMMANDS` below; the order there is the order in `--help`.
 * @module
 */
import { Command, CommanderError } from 'commander';
import * as cancel from './commands/cancel.js';
import * as clean from './commands/clean.js';
import * as dag from './commands/dag.js';
import * as hub from './commands/hub.js';
import * as info from './commands/info.js';
import * as list from './commands/list.js';
import * as logs from './commands/logs.js';
import * as run from './commands/run.js';
import * as spec from './commands/spec.js';
import * as status from './commands/status.js';
import * as submit from './commands/submit.js';
import * as wait from './commands/wait.js';
import { ExitCode } from './exit-codes.js';
import { ENV_HELP, EXIT_CODES_HELP } from './flags.js';
import { processIO, type CliIO } from './io.js';
import { CLI_VERSION } from './version.js';

export { CLI_VERSION };

/** A command module: registers one top-level command. */
interface CommandModule {
  register(program: Command, io: CliIO): void;
}

/** Every command, in help order. */
const COMMANDS: readonly CommandModule[] = [run, submit, status, logs, wait, cancel, list, clean, info, spec, dag, hub];

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
  $ exaworks logs --work-dir /tmp/w -f "$id"
  $ exaworks wait --work-dir /tmp/w --timeout 120 "$id"
  $ exaworks cancel --work-dir /tmp/w "$id"
  $ exaworks list --json
  $ exaworks clean --older-than 7d
  $ exaworks spec check job.yaml
  $ exaworks spec convert job.yaml --to json
  $ exaworks info
${EXIT_CODES_HELP}
${ENV_HELP}`,
    );
  // Subcommands inherit exitOverride and the output configuration set above.
  for (const command of COMMANDS) command.register(program, io);
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
    const { formatError } = await import('./format.js');
    full.stderr(formatError(err, argv.includes('--verbose') || argv.includes('-v')));
    return ExitCode.FAILURE;
  }
  return code;
}
