/** `exaworks status`: show the state of jobs (read-only). @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `status` on `program`. */
export function register(program: Command, io: CliIO): void {
  const status = program
    .command('status')
    .summary('show the state of jobs')
    .description(
      'Show the current state, exit code, name and message of jobs by native id. Only reads: it never starts or adopts a job.',
    )
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
  status.action(lazyAction(io, async () => (await import('../actions/status.js')).status));
}
