/** `exaworks logs`: print or follow a job's output (read-only). @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `logs` on `program`. */
export function register(program: Command, io: CliIO): void {
  const logs = program
    .command('logs')
    .summary("print or follow a job's output")
    .description(
      "Print the job's standard output (or --stderr) from the file it writes to: <work dir>/<id>.out and .err for jobs from " +
        'exaworks submit, or the --stdout/--stderr file it was given. With -f, keep printing as it grows until the job ends. Only reads.',
    )
    .argument('<nativeId>', 'native id')
    .option('-f, --follow', 'keep printing new output until the job is in a final state')
    .option('--stderr', 'standard error instead of standard output')
    .option('--interval <ms>', 'with -f: milliseconds between looks at the file', '250');
  addExecutorOptions(logs);
  logs.option('-v, --verbose', 'debug logs on stderr and stack traces for errors');
  logs.addHelpText(
    'after',
    `
Examples:
  $ id=$(exaworks submit -- sh -c 'echo hi; sleep 5; echo bye')
  $ exaworks logs -f "$id"
  $ exaworks logs --stderr "$id"
${EXIT_CODES_HELP}`,
  );
  logs.action(lazyAction(io, async () => (await import('../actions/logs.js')).logs));
}
