/** `exaworks cancel`: cancel jobs. @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `cancel` on `program`. */
export function register(program: Command, io: CliIO): void {
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
  cancel.action(lazyAction(io, async () => (await import('../actions/cancel.js')).cancel));
}
