/** `exaworks wait`: wait for jobs to end (or reach a state). @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `wait` on `program`. */
export function register(program: Command, io: CliIO): void {
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
  wait.action(lazyAction(io, async () => (await import('../actions/wait.js')).wait));
}
